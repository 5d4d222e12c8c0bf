// File: server/service/group_service.h
//
// GroupService: the closed peer groups of a cohort. The four COLLEGE groups
// are made with the cohort (PutCollegeGroups) and their membership is
// computed from members' college and delegations at each read; other
// groups list their members. Who may see a group's members (and, later,
// its content) is decided by IsGroupMember (policy.h) and nothing else.
// No gRPC. Thread-safe; `store` must outlive it.
#ifndef COHORTE_SERVER_SERVICE_GROUP_SERVICE_H_
#define COHORTE_SERVER_SERVICE_GROUP_SERVICE_H_

#include "absl/status/statusor.h"
#include "cohorte/v1/groups.pb.h"
#include "server/service/audit.h"
#include "server/service/principal.h"
#include "storage/store.h"

namespace cohorte::service {

// Writes the four COLLEGE groups of `cohort` (`cohorts/{c}`) in `txn`:
// groups `elus`, `agents`, `etat-territorial`, `acteurs-socio-economiques`,
// and records each in `audit` when it is not null.
void PutCollegeGroups(storage::Txn& txn, absl::string_view cohort,
                      AuditLog* audit);

// The group `name` (`cohorts/{c}/groups/{g}`), for reading or writing its
// content as `caller`: PERMISSION_DENIED unless the caller is a member of
// it (for callers outside the cohort whether or not it exists); NOT_FOUND
// for a participant naming a missing group. The one gate of every read of
// a closed group's content.
absl::StatusOr<v1::PeerGroup> LoadGroupForContent(const storage::Store& store,
                                                  const Principal& caller,
                                                  absl::string_view name);

class GroupService {
 public:
  explicit GroupService(storage::Store* store) : store_(*store) {}
  GroupService(const GroupService&) = delete;
  GroupService& operator=(const GroupService&) = delete;

  // Kind GEOGRAPHIC, THEMATIC or DELEGATION (with an existing territory of
  // the cohort). Members and facilitators must take part in the cohort and
  // not be administrators.
  absl::StatusOr<v1::PeerGroup> CreateGroup(const Principal& caller,
                                            const v1::CreateGroupRequest& req);
  // `members` is cleared unless the caller is a member of the group.
  absl::StatusOr<v1::PeerGroup> GetGroup(const Principal& caller,
                                         const v1::GetGroupRequest& req);
  absl::StatusOr<v1::ListGroupsResponse> ListGroups(
      const Principal& caller, const v1::ListGroupsRequest& req);
  // Members of a COLLEGE group cannot be set (they follow colleges);
  // facilitators can.
  absl::StatusOr<v1::PeerGroup> SetGroupMembers(
      const Principal& caller, const v1::SetGroupMembersRequest& req);
  // PERMISSION_DENIED unless the caller is a member of the group.
  absl::StatusOr<v1::ListGroupMembersResponse> ListGroupMembers(
      const Principal& caller, const v1::ListGroupMembersRequest& req);

 private:
  storage::Store& store_;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_GROUP_SERVICE_H_
