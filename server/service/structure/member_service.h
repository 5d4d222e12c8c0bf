// File: server/service/structure/member_service.h
//
// MemberService: the people of the instance, their college, role,
// delegations and served cohorts, and their personal tokens. What a caller
// sees of another member follows policy.h (e-mail only for self, admin and
// coordinators of a shared cohort). No gRPC. Thread-safe; `store` must
// outlive it.
#ifndef COHORTE_SERVER_SERVICE_STRUCTURE_MEMBER_SERVICE_H_
#define COHORTE_SERVER_SERVICE_STRUCTURE_MEMBER_SERVICE_H_

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "cohorte/v1/members.pb.h"
#include "server/service/access/principal.h"
#include "server/service/inbox/fan_out.h"
#include "storage/store.h"

namespace cohorte::service {

// OK if `email` looks like an address: local@domain.tld, ASCII, no spaces,
// at most kMaxEmailLength.
absl::Status CheckEmail(absl::string_view field, absl::string_view email);

// The checks of a complete member: formats, limits, and that college,
// delegations and cohorts fit the role. INVALID_ARGUMENT names the field
// as `member.<field>`.
absl::Status CheckMemberFields(const v1::Member& member);

// Inside a mutation: claims `email` (case-insensitively) for member `name`;
// ALREADY_EXISTS if another member holds it.
absl::Status ClaimMemberEmail(storage::Txn& txn, absl::string_view email,
                              absl::string_view name);

// Inside a mutation: whether a member holds `email` (true on read errors,
// so that callers refuse rather than duplicate).
bool EmailTaken(const storage::Txn& txn, absl::string_view email);

class MemberService {
 public:
  // Sets the fan-out's audience of GROUP_READER_ADDED (a member who joins
  // a college group is announced through it); `store` and `fan_out` must
  // outlive it.
  MemberService(storage::Store* store, NotificationFanOut* fan_out);
  MemberService(const MemberService&) = delete;
  MemberService& operator=(const MemberService&) = delete;

  // ALREADY_EXISTS if the id or the e-mail is taken. Delegations must name
  // existing territories, cohorts existing cohorts.
  absl::StatusOr<v1::Member> CreateMember(const Principal& caller,
                                          const v1::CreateMemberRequest& req);
  // `members/me` is the caller. Another member the caller may not see is
  // PERMISSION_DENIED whether or not it exists.
  absl::StatusOr<v1::Member> GetMember(const Principal& caller,
                                       const v1::GetMemberRequest& req);
  // Only the members the caller may see.
  absl::StatusOr<v1::ListMembersResponse> ListMembers(
      const Principal& caller, const v1::ListMembersRequest& req);
  absl::StatusOr<v1::Member> UpdateMember(const Principal& caller,
                                          const v1::UpdateMemberRequest& req);
  // The secret is in the response only; request_id is refused, since
  // replaying would mean storing the secret.
  absl::StatusOr<v1::CreateTokenResponse> CreateToken(
      const Principal& caller, const v1::CreateTokenRequest& req);

 private:
  storage::Store& store_;
  NotificationFanOut& fan_out_;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_STRUCTURE_MEMBER_SERVICE_H_
