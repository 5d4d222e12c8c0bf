// File: server/service/content/moderation_service.h
//
// ModerationService: flags on messages and experience reports, the
// moderation queue, hiding and showing content again. A moderator of a
// message is a facilitator of its group or a coordinator of its cohort who
// is a member of the group; of a report, a coordinator of its cohort who
// may read it (or a facilitator of its group, for GROUP visibility).
// Nobody sees a flag on content they cannot read, and hiding writes no
// content into the audit log. No gRPC. Thread-safe; `store` must outlive
// it.
#ifndef COHORTE_SERVER_SERVICE_CONTENT_MODERATION_SERVICE_H_
#define COHORTE_SERVER_SERVICE_CONTENT_MODERATION_SERVICE_H_

#include "absl/status/statusor.h"
#include "cohorte/v1/moderation.pb.h"
#include "server/service/access/principal.h"
#include "storage/store.h"

namespace cohorte::service {

class ModerationService {
 public:
  explicit ModerationService(storage::Store* store) : store_(*store) {}
  ModerationService(const ModerationService&) = delete;
  ModerationService& operator=(const ModerationService&) = delete;

  // PERMISSION_DENIED if the caller may not read the target (whether or
  // not it exists); INVALID_ARGUMENT naming the field for a target of
  // another cohort, a missing reason or a long note; FAILED_PRECONDITION
  // (reason NO_MODERATOR), nothing written, when nobody may moderate the
  // target (a college group without a facilitator: its cohort's
  // coordinators are not members and never read it), so the flagger knows
  // the flag would reach nobody.
  absl::StatusOr<v1::ContentFlag> FlagContent(
      const Principal& caller, const v1::FlagContentRequest& req);
  absl::StatusOr<v1::ListFlagsResponse> ListFlags(
      const Principal& caller, const v1::ListFlagsRequest& req);
  // PERMISSION_DENIED unless the caller moderates the target;
  // FAILED_PRECONDITION (WRONG_STATE) if already hidden (or, to unhide,
  // not hidden).
  absl::StatusOr<v1::HideContentResponse> HideContent(
      const Principal& caller, const v1::HideContentRequest& req);
  absl::StatusOr<v1::HideContentResponse> UnhideContent(
      const Principal& caller, const v1::UnhideContentRequest& req);
  absl::StatusOr<v1::ContentFlag> DismissFlag(
      const Principal& caller, const v1::DismissFlagRequest& req);

 private:
  storage::Store& store_;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_CONTENT_MODERATION_SERVICE_H_
