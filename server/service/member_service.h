// File: server/service/member_service.h
//
// MemberService: reading members. The structure issue adds colleges,
// delegations and invitations. No gRPC. Thread-safe; `store` must outlive
// it.
#ifndef COHORTE_SERVER_SERVICE_MEMBER_SERVICE_H_
#define COHORTE_SERVER_SERVICE_MEMBER_SERVICE_H_

#include "absl/status/statusor.h"
#include "cohorte/v1/members.pb.h"
#include "server/service/principal.h"
#include "storage/store.h"

namespace cohorte::service {

class MemberService {
 public:
  explicit MemberService(storage::Store* store) : store_(*store) {}
  MemberService(const MemberService&) = delete;
  MemberService& operator=(const MemberService&) = delete;

  // `members/me` is the caller. PERMISSION_DENIED for another member unless
  // the caller is an admin (whether or not that member exists); NOT_FOUND.
  absl::StatusOr<v1::Member> GetMember(const Principal& caller,
                                       const v1::GetMemberRequest& req);

 private:
  storage::Store& store_;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_MEMBER_SERVICE_H_
