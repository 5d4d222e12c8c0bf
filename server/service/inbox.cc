#include "server/service/inbox.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cohorte/v1/exchanges.pb.h"
#include "cohorte/v1/territories.pb.h"
#include "server/service/entities.h"
#include "server/service/errors.h"
#include "server/service/group_service.h"
#include "server/service/mutations.h"
#include "server/service/policy.h"
#include "server/service/validation.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace cohorte::service {
namespace {

using storage::EntityKind;
using storage::IndexKind;
using storage::Table;
using storage::Txn;
using v1::InboxItem;

// The most items MarkInboxRead takes, and the most unread ones counted.
constexpr int kMaxInboxBatch = 1000;

std::string Joined(absl::string_view a, absl::string_view b) {
  std::string key(a);
  key.push_back('\0');
  key.append(b.data(), b.size());
  return key;
}

absl::Status MembersOnly(const Principal& caller) {
  if (caller.authenticated() && !caller.service) return absl::OkStatus();
  return ErrorWithReason(absl::StatusCode::kPermissionDenied,
                         kReasonPermissionDenied,
                         "an inbox belongs to a member; a service token has "
                         "none");
}

// OK if `caller` may follow `target`: read the exchange or group, or the
// territory's cohort.
absl::Status MayFollow(const storage::Store& store, const Principal& caller,
                       absl::string_view target) {
  if (ParseNestedName("target", target, {"cohorts", "groups"}).ok()) {
    return LoadGroupForContent(store, caller, target).status();
  }
  absl::StatusOr<std::string> group =
      ParseNestedName("target", target, {"cohorts", "groups", "exchanges"});
  if (group.ok()) {
    COHORTE_RETURN_IF_ERROR(
        LoadGroupForContent(store, caller, *group).status());
    return ReadEntity<v1::Exchange>(store, EntityKind::kExchange, target)
        .status();
  }
  absl::StatusOr<std::string> cohort =
      ParseNestedName("target", target, {"cohorts", "territories"});
  if (cohort.ok()) {
    COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kTerritory,
                                      Action::kRead, CohortScope(*cohort)));
    return ReadEntity<v1::Territory>(store, EntityKind::kTerritory, target)
        .status();
  }
  return InvalidField("target", "must be an exchange, a group or a territory");
}

}  // namespace

absl::StatusOr<std::vector<std::string>> FollowersOf(
    const storage::Store& store, absl::string_view target) {
  std::vector<std::string> members;
  const std::string prefix =
      storage::IndexKey(IndexKind::kFollowerByTarget, Joined(target, ""));
  COHORTE_RETURN_IF_ERROR(
      store.Scan(Table::kIndexes, prefix, "",
                 [&](absl::string_view key, absl::string_view) {
                   members.emplace_back(key.substr(prefix.size()));
                   return true;
                 }));
  return members;
}

void NotifyMembers(Txn& txn,
                   const std::map<std::string, InboxItem::Kind>& recipients,
                   const InboxItem& item) {
  for (const auto& [member, kind] : recipients) {
    if (member == item.actor()) continue;
    InboxItem copy = item;
    copy.set_name(absl::StrFormat("%s/inbox/i%016d", member, txn.revision()));
    copy.set_kind(kind);
    copy.set_read(false);
    *copy.mutable_create_time() = ToTimestamp(txn.commit_time());
    txn.PutProto(Table::kEntities,
                 storage::EntityKey(EntityKind::kInboxItem, copy.name()), copy);
  }
}

absl::StatusOr<v1::ListInboxResponse> InboxService::ListInbox(
    const Principal& caller, const v1::ListInboxRequest& req) {
  COHORTE_RETURN_IF_ERROR(MembersOnly(caller));
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  const std::string prefix =
      storage::CollectionPrefix(EntityKind::kInboxItem, caller.member, "inbox");
  v1::ListInboxResponse response;
  auto readable = [&](const InboxItem& item) {
    return MayReadResource(store_, caller, item.resource()).ok();
  };
  COHORTE_ASSIGN_OR_RETURN(*response.mutable_next_page_token(),
                           ScanPage<InboxItem>(
                               store_, prefix, page,
                               [&](InboxItem& item) {
                                 return (!req.unread_only() || !item.read()) &&
                                        readable(item);
                               },
                               response.mutable_items(), /*reverse=*/true));
  int unread = 0;
  absl::Status decode_error;
  COHORTE_RETURN_IF_ERROR(
      store_.ScanReverse(Table::kEntities, prefix, "",
                         [&](absl::string_view, absl::string_view value) {
                           InboxItem item;
                           decode_error = storage::DecodeValue(value, &item);
                           if (!decode_error.ok()) return false;
                           if (!item.read() && readable(item)) ++unread;
                           return unread < kMaxInboxBatch;
                         }));
  COHORTE_RETURN_IF_ERROR(decode_error);
  response.set_unread_count(unread);
  return response;
}

absl::StatusOr<v1::MarkInboxReadResponse> InboxService::MarkInboxRead(
    const Principal& caller, const v1::MarkInboxReadRequest& req) {
  COHORTE_RETURN_IF_ERROR(MembersOnly(caller));
  if (req.items_size() > kMaxInboxBatch) {
    return InvalidField("items",
                        absl::StrCat("has more than ", kMaxInboxBatch));
  }
  if (req.all() == !req.items().empty()) {
    return InvalidField("items", "give either items or all");
  }
  const std::string own_prefix = absl::StrCat(caller.member, "/inbox/");
  std::vector<std::string> names;
  for (const std::string& name : req.items()) {
    if (!absl::StartsWith(name, own_prefix)) {
      return InvalidField("items",
                          absl::StrCat(name, " is not in the caller's inbox"));
    }
    names.push_back(name);
  }
  if (req.all()) {
    absl::Status decode_error;
    COHORTE_RETURN_IF_ERROR(
        store_.Scan(Table::kEntities,
                    storage::CollectionPrefix(EntityKind::kInboxItem,
                                              caller.member, "inbox"),
                    "", [&](absl::string_view, absl::string_view value) {
                      InboxItem item;
                      decode_error = storage::DecodeValue(value, &item);
                      if (!decode_error.ok()) return false;
                      if (!item.read()) names.push_back(item.name());
                      return names.size() < 10 * kMaxInboxBatch;
                    }));
    COHORTE_RETURN_IF_ERROR(decode_error);
  }
  return CommitForResponse<v1::MarkInboxReadResponse>(
      store_, caller, "MarkInboxRead", req, /*request_id=*/"",
      [&](Txn& txn) -> absl::StatusOr<v1::MarkInboxReadResponse> {
        v1::MarkInboxReadResponse response;
        for (const std::string& name : names) {
          InboxItem item;
          const std::string key =
              storage::EntityKey(EntityKind::kInboxItem, name);
          absl::Status s = txn.GetProto(Table::kEntities, key, &item);
          if (absl::IsNotFound(s)) continue;
          COHORTE_RETURN_IF_ERROR(s);
          if (item.read()) continue;
          item.set_read(true);
          txn.PutProto(Table::kEntities, key, item);
          response.set_marked(response.marked() + 1);
        }
        return response;
      });
}

absl::StatusOr<v1::FollowResponse> InboxService::Follow(
    const Principal& caller, const v1::FollowRequest& req) {
  COHORTE_RETURN_IF_ERROR(MembersOnly(caller));
  COHORTE_RETURN_IF_ERROR(MayFollow(store_, caller, req.target()));
  return CommitForResponse<v1::FollowResponse>(
      store_, caller, "Follow", req, /*request_id=*/"",
      [&](Txn& txn) -> absl::StatusOr<v1::FollowResponse> {
        txn.Put(Table::kIndexes,
                storage::IndexKey(IndexKind::kFollowerByTarget,
                                  Joined(req.target(), caller.member)),
                "");
        txn.Put(Table::kIndexes,
                storage::IndexKey(IndexKind::kFollowByMember,
                                  Joined(caller.member, req.target())),
                "");
        v1::FollowResponse response;
        response.set_target(req.target());
        return response;
      });
}

absl::StatusOr<v1::FollowResponse> InboxService::Unfollow(
    const Principal& caller, const v1::FollowRequest& req) {
  COHORTE_RETURN_IF_ERROR(MembersOnly(caller));
  return CommitForResponse<v1::FollowResponse>(
      store_, caller, "Unfollow", req, /*request_id=*/"",
      [&](Txn& txn) -> absl::StatusOr<v1::FollowResponse> {
        const std::string by_member = storage::IndexKey(
            IndexKind::kFollowByMember, Joined(caller.member, req.target()));
        COHORTE_ASSIGN_OR_RETURN(bool followed,
                                 txn.Exists(Table::kIndexes, by_member));
        if (!followed) {
          return ErrorWithReason(
              absl::StatusCode::kNotFound, kReasonNotFound,
              absl::StrCat("target: the caller does not follow ",
                           req.target().substr(0, 200)));
        }
        txn.Delete(Table::kIndexes, by_member);
        txn.Delete(Table::kIndexes,
                   storage::IndexKey(IndexKind::kFollowerByTarget,
                                     Joined(req.target(), caller.member)));
        v1::FollowResponse response;
        response.set_target(req.target());
        return response;
      });
}

absl::StatusOr<v1::ListFollowsResponse> InboxService::ListFollows(
    const Principal& caller, const v1::ListFollowsRequest&) {
  COHORTE_RETURN_IF_ERROR(MembersOnly(caller));
  v1::ListFollowsResponse response;
  const std::string prefix =
      storage::IndexKey(IndexKind::kFollowByMember, Joined(caller.member, ""));
  COHORTE_RETURN_IF_ERROR(store_.Scan(
      Table::kIndexes, prefix, "",
      [&](absl::string_view key, absl::string_view) {
        response.add_targets(std::string(key.substr(prefix.size())));
        return true;
      }));
  return response;
}

}  // namespace cohorte::service
