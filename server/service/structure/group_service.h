// File: server/service/structure/group_service.h
//
// GroupService: the closed peer groups of a cohort. The four COLLEGE groups
// are made with the cohort (PutCollegeGroups) and their membership is
// computed from members' college and delegations at each read; other
// groups list their members. Who may see a group's members (and, later,
// its content) is decided by IsGroupMember (policy.h) and nothing else.
// No gRPC. Thread-safe; `store` must outlive it.
#ifndef COHORTE_SERVER_SERVICE_STRUCTURE_GROUP_SERVICE_H_
#define COHORTE_SERVER_SERVICE_STRUCTURE_GROUP_SERVICE_H_

#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "cohorte/v1/groups.pb.h"
#include "cohorte/v1/members.pb.h"
#include "server/service/access/principal.h"
#include "server/service/audit/audit.h"
#include "server/service/inbox/fan_out.h"
#include "storage/store.h"

namespace cohorte::service {

// Writes the four COLLEGE groups of `cohort` (`cohorts/{c}`) in `txn`:
// groups `elus`, `agents`, `etat-territorial`, `acteurs-socio-economiques`,
// and records each in `audit` when it is not null.
void PutCollegeGroups(storage::Txn& txn, absl::string_view cohort,
                      AuditLog* audit);

// Inside a mutation: announces to the members of `group` (as it is after
// the mutation) that each of `readers` now reads it (inbox items
// GROUP_READER_ADDED; a reader is not told of themself). `how` says why.
absl::Status AnnounceNewReaders(storage::Txn& txn, const v1::PeerGroup& group,
                                const std::set<std::string>& readers,
                                absl::string_view how, absl::string_view actor);

// Inside a mutation: schedules the announcement of `after` (a member
// created, changed, or who accepted an invitation; `before` null if new) to
// the members of each college group of their cohorts that they now read and
// did not before: one NotificationFanOut job per such group (item
// GROUP_READER_ADDED, subject `after`), delivered after the mutation
// commits, in batches, to whoever reads the group then
// (GroupReaderAudience). A college spans a whole cohort: announcing inside
// the mutation would hold the group commit for it (and made adding
// delegation members one by one quadratic inside the commits). The caller
// runs NotificationFanOut::DeliverPending after its commit.
absl::Status AnnounceCollegeReader(storage::Txn& txn, const v1::Member* before,
                                   const v1::Member& after,
                                   absl::string_view actor);

// The fan-out audience of GROUP_READER_ADDED (NotificationFanOut::Audience):
// the members who read the group item.resource() as the transaction stands
// (IsGroupMember), but the new reader (item.subject()) themself. NOT_FOUND
// if the group is gone.
absl::StatusOr<NotificationFanOut::MemberFilter> GroupReaderAudience(
    const storage::Txn& txn, const v1::InboxItem& item);

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

#endif  // COHORTE_SERVER_SERVICE_STRUCTURE_GROUP_SERVICE_H_
