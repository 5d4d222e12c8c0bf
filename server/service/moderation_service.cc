#include "server/service/moderation_service.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cohorte/v1/exchanges.pb.h"
#include "cohorte/v1/groups.pb.h"
#include "cohorte/v1/reports.pb.h"
#include "server/service/audit.h"
#include "server/service/entities.h"
#include "server/service/errors.h"
#include "server/service/group_service.h"
#include "server/service/inbox.h"
#include "server/service/limits.h"
#include "server/service/mutations.h"
#include "server/service/policy.h"
#include "server/service/report_service.h"
#include "server/service/validation.h"
#include "storage/codec.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace cohorte::service {
namespace {

using storage::EntityKind;
using storage::Table;
using storage::Txn;
using v1::ContentFlag;

bool IsMessage(absl::string_view target) {
  return ParseNestedName("target", target,
                         {"cohorts", "groups", "exchanges", "messages"})
      .ok();
}

// OK if `caller` moderates `target` (see the file comment); PERMISSION_DENIED
// otherwise, whether or not it exists.
absl::Status AuthorizeModeration(const storage::Store& store,
                                 const Principal& caller,
                                 absl::string_view target) {
  const absl::Status denied =
      PermissionDenied(absl::StrCat("moderate ", target.substr(0, 200)));
  if (!MayReadResource(store, caller, target).ok()) return denied;
  const std::string cohort(CohortOf(target));
  if (IsMessage(target)) {
    const std::string group(target.substr(0, target.find("/exchanges/")));
    absl::StatusOr<v1::PeerGroup> g = LoadGroupForContent(store, caller, group);
    if (!g.ok()) return denied;
    const bool facilitator =
        std::find(g->facilitators().begin(), g->facilitators().end(),
                  caller.member) != g->facilitators().end();
    return facilitator || Coordinates(caller, cohort) ? absl::OkStatus()
                                                      : denied;
  }
  if (Coordinates(caller, cohort)) return absl::OkStatus();
  absl::StatusOr<v1::ExperienceReport> r =
      ReadEntity<v1::ExperienceReport>(store, EntityKind::kReport, target);
  if (r.ok() && r->visibility() == v1::GROUP) {
    v1::PeerGroup g;
    if (store
            .GetProto(Table::kEntities,
                      storage::EntityKey(EntityKind::kGroup, r->group()), &g)
            .ok() &&
        std::find(g.facilitators().begin(), g.facilitators().end(),
                  caller.member) != g.facilitators().end()) {
      return absl::OkStatus();
    }
  }
  return denied;
}

absl::Status CheckTarget(absl::string_view target) {
  if (IsMessage(target) ||
      ParseCohortChildName("target", target, "reports").ok()) {
    return absl::OkStatus();
  }
  return InvalidField("target", "must be a message or an experience report");
}

// Inside a mutation: resolves the open flags of `target`; returns how many.
absl::StatusOr<int> ResolveFlags(Txn& txn, absl::string_view target) {
  std::vector<ContentFlag> open;
  absl::Status decode_error;
  COHORTE_RETURN_IF_ERROR(txn.Scan(
      Table::kEntities,
      storage::CollectionPrefix(EntityKind::kFlag, CohortOf(target), "flags"),
      [&](absl::string_view, absl::string_view value) {
        ContentFlag f;
        decode_error = storage::DecodeValue(value, &f);
        if (!decode_error.ok()) return false;
        if (f.target() == target && f.state() == ContentFlag::OPEN) {
          open.push_back(std::move(f));
        }
        return true;
      }));
  COHORTE_RETURN_IF_ERROR(decode_error);
  for (ContentFlag& f : open) {
    f.set_state(ContentFlag::RESOLVED);
    SaveEntity(txn, EntityKind::kFlag, f);
  }
  return static_cast<int>(open.size());
}

// Inside a mutation: sets `target` hidden (with `reason`) or shown; the
// audit log gets the change without any content.
absl::StatusOr<v1::HideContentResponse> SetHidden(Txn& txn,
                                                  const Principal& caller,
                                                  absl::string_view target,
                                                  bool hidden,
                                                  absl::string_view reason) {
  AuditLog audit(caller.actor(), hidden ? "HideContent" : "UnhideContent");
  auto wrong_state = [&] {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition, kReasonWrongState,
        absl::StrCat(target, hidden ? " is already hidden" : " is not hidden"));
  };
  if (IsMessage(target)) {
    COHORTE_ASSIGN_OR_RETURN(
        v1::Message m,
        LoadEntity<v1::Message>(txn, EntityKind::kMessage, target));
    if (m.hidden() == hidden) return wrong_state();
    // The audit log's readers need not be the group's: no content in it.
    v1::Message before_view, after_view;
    before_view.set_name(m.name());
    before_view.set_hidden(m.hidden());
    before_view.set_hidden_reason(m.hidden_reason());
    m.set_hidden(hidden);
    m.set_hidden_reason(hidden ? std::string(reason) : "");
    SaveEntity(txn, EntityKind::kMessage, m);
    after_view.set_name(m.name());
    after_view.set_hidden(m.hidden());
    after_view.set_hidden_reason(m.hidden_reason());
    audit.Change(target, &before_view, &after_view);
  } else {
    COHORTE_ASSIGN_OR_RETURN(
        v1::ExperienceReport r,
        LoadEntity<v1::ExperienceReport>(txn, EntityKind::kReport, target));
    if (r.hidden() == hidden) return wrong_state();
    // The audit log's readers need not be the report's: no content in it.
    v1::ExperienceReport before_view, after_view;
    before_view.set_name(r.name());
    before_view.set_hidden(r.hidden());
    before_view.set_hidden_reason(r.hidden_reason());
    r.set_hidden(hidden);
    r.set_hidden_reason(hidden ? std::string(reason) : "");
    SaveEntity(txn, EntityKind::kReport, r);
    after_view.set_name(r.name());
    after_view.set_hidden(r.hidden());
    after_view.set_hidden_reason(r.hidden_reason());
    audit.Change(target, &before_view, &after_view);
  }
  audit.Touch(CohortOf(target));
  audit.Write(txn);
  v1::HideContentResponse response;
  response.set_target(std::string(target));
  if (hidden) {
    COHORTE_ASSIGN_OR_RETURN(int resolved, ResolveFlags(txn, target));
    response.set_resolved_flags(resolved);
  }
  return response;
}

}  // namespace

absl::StatusOr<ContentFlag> ModerationService::FlagContent(
    const Principal& caller, const v1::FlagContentRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("parent", req.parent(), "cohorts").status());
  const ContentFlag& in = req.flag();
  COHORTE_RETURN_IF_ERROR(CheckTarget(in.target()));
  if (CohortOf(in.target()) != req.parent()) {
    return InvalidField("flag.target",
                        absl::StrCat("is not in ", req.parent()));
  }
  if (caller.service || !MayReadResource(store_, caller, in.target()).ok()) {
    return PermissionDenied(
        absl::StrCat("flag ", in.target(),
                     ": it does not exist or is not readable by "
                     "the caller"));
  }
  if (in.reason() == ContentFlag::REASON_UNSPECIFIED ||
      !ContentFlag::Reason_IsValid(in.reason())) {
    return InvalidField("flag.reason", "is required");
  }
  COHORTE_RETURN_IF_ERROR(CheckText("flag.note", in.note(), 0,
                                    kMaxFlagNoteChars, TextKind::kMultiLine));
  return CommitForResponse<ContentFlag>(
      store_, caller, "FlagContent", req, /*request_id=*/"",
      [&](Txn& txn) -> absl::StatusOr<ContentFlag> {
        ContentFlag f;
        f.set_name(absl::StrCat(req.parent(), "/flags/", GenerateId("flag-")));
        f.set_target(in.target());
        f.set_reason(in.reason());
        f.set_note(in.note());
        f.set_reporter(caller.member);
        f.set_state(ContentFlag::OPEN);
        *f.mutable_create_time() = ToTimestamp(txn.commit_time());
        SaveEntity(txn, EntityKind::kFlag, f);
        return f;
      });
}

absl::StatusOr<v1::ListFlagsResponse> ModerationService::ListFlags(
    const Principal& caller, const v1::ListFlagsRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("parent", req.parent(), "cohorts").status());
  if (!caller.authenticated() || caller.service ||
      !ParticipatesIn(caller, req.parent())) {
    return PermissionDenied(
        absl::StrCat("read the moderation queue of ", req.parent()));
  }
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  v1::ListFlagsResponse response;
  COHORTE_ASSIGN_OR_RETURN(
      *response.mutable_next_page_token(),
      ScanPage<ContentFlag>(
          store_,
          storage::CollectionPrefix(EntityKind::kFlag, req.parent(), "flags"),
          page,
          [&](ContentFlag& f) {
            if (f.state() != ContentFlag::OPEN && !req.show_resolved()) {
              return false;
            }
            return AuthorizeModeration(store_, caller, f.target()).ok();
          },
          response.mutable_flags()));
  return response;
}

absl::StatusOr<v1::HideContentResponse> ModerationService::HideContent(
    const Principal& caller, const v1::HideContentRequest& req) {
  COHORTE_RETURN_IF_ERROR(CheckTarget(req.target()));
  COHORTE_RETURN_IF_ERROR(AuthorizeModeration(store_, caller, req.target()));
  COHORTE_RETURN_IF_ERROR(CheckText(
      "reason", req.reason(), 1, kMaxHiddenReasonChars, TextKind::kSingleLine));
  return CommitForResponse<v1::HideContentResponse>(
      store_, caller, "HideContent", req, /*request_id=*/"", [&](Txn& txn) {
        return SetHidden(txn, caller, req.target(), true, req.reason());
      });
}

absl::StatusOr<v1::HideContentResponse> ModerationService::UnhideContent(
    const Principal& caller, const v1::UnhideContentRequest& req) {
  COHORTE_RETURN_IF_ERROR(CheckTarget(req.target()));
  COHORTE_RETURN_IF_ERROR(AuthorizeModeration(store_, caller, req.target()));
  return CommitForResponse<v1::HideContentResponse>(
      store_, caller, "UnhideContent", req, /*request_id=*/"", [&](Txn& txn) {
        return SetHidden(txn, caller, req.target(), false, "");
      });
}

absl::StatusOr<ContentFlag> ModerationService::DismissFlag(
    const Principal& caller, const v1::DismissFlagRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseCohortChildName("name", req.name(), "flags").status());
  absl::StatusOr<ContentFlag> current =
      ReadEntity<ContentFlag>(store_, EntityKind::kFlag, req.name());
  if (!current.ok() ||
      !AuthorizeModeration(store_, caller, current->target()).ok()) {
    return PermissionDenied(absl::StrCat("dismiss ", req.name()));
  }
  return CommitForResponse<ContentFlag>(
      store_, caller, "DismissFlag", req, /*request_id=*/"",
      [&](Txn& txn) -> absl::StatusOr<ContentFlag> {
        COHORTE_ASSIGN_OR_RETURN(
            ContentFlag f,
            LoadEntity<ContentFlag>(txn, EntityKind::kFlag, req.name()));
        if (f.state() != ContentFlag::OPEN) {
          return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                                 kReasonWrongState,
                                 absl::StrCat(f.name(), " is not open"));
        }
        f.set_state(ContentFlag::RESOLVED);
        SaveEntity(txn, EntityKind::kFlag, f);
        return f;
      });
}

}  // namespace cohorte::service
