// File: server/service/inbox.h
//
// Follows and per-member inboxes. Other services notify inside their own
// mutations (NotifyMembers), after choosing recipients who may read the
// content; InboxService reads an inbox back and checks each item again
// against the reader's current rights (MayReadResource), so that an item
// never outlives the right to read what it points to.
//
// Thread-safe: the functions are stateless; InboxService holds a borrowed
// Store, which must outlive it.
#ifndef COHORTE_SERVER_SERVICE_INBOX_H_
#define COHORTE_SERVER_SERVICE_INBOX_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cohorte/v1/inbox.pb.h"
#include "server/service/principal.h"
#include "storage/store.h"

namespace cohorte::service {

// Members (`members/{m}`) who follow `target`, from committed state.
absl::StatusOr<std::vector<std::string>> FollowersOf(
    const storage::Store& store, absl::string_view target);

// Inside a mutation: one inbox item per recipient, of the kind given, as a
// copy of `item` (name, kind and create_time are set here). `recipients`
// maps `members/{m}` to the kind of item they get.
void NotifyMembers(storage::Txn& txn,
                   const std::map<std::string, v1::InboxItem::Kind>& recipients,
                   const v1::InboxItem& item);

// OK if `caller` may read `resource` now (a message, an experience report
// or a session); PERMISSION_DENIED or NOT_FOUND otherwise. Defined in
// readability.cc, next to the rules it applies.
absl::Status MayReadResource(const storage::Store& store,
                             const Principal& caller,
                             absl::string_view resource);

class InboxService {
 public:
  explicit InboxService(storage::Store* store) : store_(*store) {}
  InboxService(const InboxService&) = delete;
  InboxService& operator=(const InboxService&) = delete;

  // The caller's items, newest first, those they may no longer read left
  // out (and not counted). PERMISSION_DENIED for a service token.
  absl::StatusOr<v1::ListInboxResponse> ListInbox(
      const Principal& caller, const v1::ListInboxRequest& req);
  // INVALID_ARGUMENT (items) for another member's item or more than 1000.
  absl::StatusOr<v1::MarkInboxReadResponse> MarkInboxRead(
      const Principal& caller, const v1::MarkInboxReadRequest& req);
  // The target must be readable by the caller (PERMISSION_DENIED
  // otherwise, whether or not it exists).
  absl::StatusOr<v1::FollowResponse> Follow(const Principal& caller,
                                            const v1::FollowRequest& req);
  absl::StatusOr<v1::FollowResponse> Unfollow(const Principal& caller,
                                              const v1::FollowRequest& req);
  absl::StatusOr<v1::ListFollowsResponse> ListFollows(
      const Principal& caller, const v1::ListFollowsRequest& req);

 private:
  storage::Store& store_;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_INBOX_H_
