// File: server/service/identity/invitation_service.h
//
// InvitationService: a coordinator invites a person by e-mail into a cohort
// (as a delegation member of one of its territories, or as an ally); the
// invitation's one-time secret is exchanged, with no other credential, for
// a new member and their first personal token. The coordinator never sees
// that token. Invitations expire, can be revoked, and are used once; only
// the SHA-256 of a secret is stored. Every change is in the audit log.
// No gRPC. Thread-safe; `store` must outlive it.
#ifndef COHORTE_SERVER_SERVICE_IDENTITY_INVITATION_SERVICE_H_
#define COHORTE_SERVER_SERVICE_IDENTITY_INVITATION_SERVICE_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cohorte/v1/invitations.pb.h"
#include "server/service/access/principal.h"
#include "server/service/inbox/fan_out.h"
#include "storage/store.h"

namespace cohorte::service {

inline constexpr absl::string_view kInvitationSecretPrefix = "inv_";

class InvitationService {
 public:
  // Sets the fan-out's audience of GROUP_READER_ADDED (a member who joins
  // a college group by accepting is announced through it); `store` and
  // `fan_out` must outlive it.
  InvitationService(storage::Store* store, NotificationFanOut* fan_out);
  InvitationService(const InvitationService&) = delete;
  InvitationService& operator=(const InvitationService&) = delete;

  // The administrator and the cohort's coordinators (role COORDINATOR: the
  // administrator only). ALREADY_EXISTS if a member has the e-mail or a
  // pending invitation goes to it; INVALID_ARGUMENT naming the field for a
  // bad e-mail, role, college, territory or expiry. With `validate_only`,
  // the same answers and nothing written (the mutation is rolled back, no
  // revision used): OK holds the invitation as it would be, without name
  // or secret.
  absl::StatusOr<v1::CreateInvitationResponse> CreateInvitation(
      const Principal& caller, const v1::CreateInvitationRequest& req);
  absl::StatusOr<v1::Invitation> GetInvitation(
      const Principal& caller, const v1::GetInvitationRequest& req);
  absl::StatusOr<v1::ListInvitationsResponse> ListInvitations(
      const Principal& caller, const v1::ListInvitationsRequest& req);
  // FAILED_PRECONDITION (WRONG_STATE) unless pending.
  absl::StatusOr<v1::Invitation> RevokeInvitation(
      const Principal& caller, const v1::RevokeInvitationRequest& req);
  // Needs no principal. NOT_FOUND (INVITATION_UNKNOWN) for an unknown
  // secret; FAILED_PRECONDITION with INVITATION_EXPIRED, INVITATION_REVOKED
  // or INVITATION_USED; ALREADY_EXISTS if the e-mail was taken since;
  // INVALID_ARGUMENT naming the field for bad names.
  absl::StatusOr<v1::AcceptInvitationResponse> AcceptInvitation(
      const v1::AcceptInvitationRequest& req);

 private:
  // CreateInvitation; with validate_only, CANCELLED kValidatedOnly once
  // every check passed (the store rolls back on any error).
  absl::StatusOr<v1::CreateInvitationResponse> Create(
      const Principal& caller, const v1::CreateInvitationRequest& req);

  storage::Store& store_;
  NotificationFanOut& fan_out_;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_IDENTITY_INVITATION_SERVICE_H_
