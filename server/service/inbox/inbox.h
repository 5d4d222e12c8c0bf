// File: server/service/inbox/inbox.h
//
// Follows and per-member inboxes. Other services notify inside their own
// mutations (NotifyMembers), after choosing recipients who may read the
// content; InboxService reads an inbox back and checks each item again
// against the reader's current rights (the InboxItem read rule), so that an
// item never outlives the right to read what it points to.
//
// Thread-safe: the functions are stateless; InboxService holds a borrowed
// Store, which must outlive it.
#ifndef COHORTE_SERVER_SERVICE_INBOX_INBOX_H_
#define COHORTE_SERVER_SERVICE_INBOX_INBOX_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cohorte/v1/inbox.pb.h"
#include "server/service/access/principal.h"
#include "storage/store.h"

namespace cohorte::service {

// Inside a mutation: members (`members/{m}`) who follow `target`.
absl::StatusOr<std::vector<std::string>> FollowersOf(const storage::Txn& txn,
                                                     absl::string_view target);

// Inside a mutation: one inbox item per recipient, of the kind given, as a
// copy of `item` (name, kind and create_time are set here; the actor gets
// none). Item ids are a per-member sequence ("i" + 16 digits), so they say
// nothing of other members' activity.
absl::Status NotifyMembers(
    storage::Txn& txn,
    const std::map<std::string, v1::InboxItem::Kind>& recipients,
    const v1::InboxItem& item);

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

#endif  // COHORTE_SERVER_SERVICE_INBOX_INBOX_H_
