#include "server/service/inbox/inbox.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cohorte/v1/exchanges.pb.h"
#include "cohorte/v1/territories.pb.h"
#include "server/service/access/commit.h"
#include "server/service/access/policy.h"
#include "server/service/access/reader.h"
#include "server/service/core/entities.h"
#include "server/service/core/errors.h"
#include "server/service/core/validation.h"
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

// OK if `caller` may follow `target`: read the exchange or the group's
// content, or the territory.
absl::Status MayFollow(const Reader& reader, absl::string_view target) {
  if (ParseNestedName("target", target, {"cohorts", "groups"}).ok()) {
    return reader.GroupForContent(target).status();
  }
  if (ParseNestedName("target", target, {"cohorts", "groups", "exchanges"})
          .ok()) {
    return reader.Get<v1::Exchange>(target).status();
  }
  if (ParseNestedName("target", target, {"cohorts", "territories"}).ok()) {
    return reader.Get<v1::Territory>(target).status();
  }
  return InvalidField("target", "must be an exchange, a group or a territory");
}

}  // namespace

// What these writes return is the caller's own: the target they named, a
// count of their own items.
template <>
struct Presenter<v1::FollowResponse> {
  static absl::StatusOr<v1::FollowResponse> Present(const Reader&,
                                                    v1::FollowResponse r) {
    return r;
  }
};
template <>
struct Presenter<v1::MarkInboxReadResponse> {
  static absl::StatusOr<v1::MarkInboxReadResponse> Present(
      const Reader&, v1::MarkInboxReadResponse r) {
    return r;
  }
};

absl::StatusOr<std::vector<std::string>> FollowersOf(const Txn& txn,
                                                     absl::string_view target) {
  std::vector<std::string> members;
  const std::string prefix =
      storage::IndexKey(IndexKind::kFollowerByTarget, Joined(target, ""));
  COHORTE_RETURN_IF_ERROR(
      txn.ScanCollection(prefix, [&](absl::string_view key, absl::string_view) {
        members.emplace_back(key.substr(prefix.size()));
        return true;
      }));
  return members;
}

absl::Status NotifyMembers(
    Txn& txn, const std::map<std::string, InboxItem::Kind>& recipients,
    const InboxItem& item) {
  for (const auto& [member, kind] : recipients) {
    if (member == item.actor()) continue;
    const std::string prefix =
        storage::CollectionPrefixOf<InboxItem>(member, "inbox");
    COHORTE_ASSIGN_OR_RETURN(int64_t seq, NextSequence(txn, prefix, "i"));
    InboxItem copy = item;
    copy.set_name(
        absl::StrCat(member, "/inbox/", storage::WideSequenceId("i", 16, seq)));
    copy.set_kind(kind);
    copy.set_read(false);
    *copy.mutable_create_time() = ToTimestamp(txn.commit_time());
    txn.PutEntity(copy);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ListInboxResponse> InboxService::ListInbox(
    const Principal& caller, const v1::ListInboxRequest& req) {
  COHORTE_RETURN_IF_ERROR(MembersOnly(caller));
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  const std::string prefix =
      storage::CollectionPrefixOf<v1::InboxItem>(caller.member, "inbox");
  v1::ListInboxResponse response;
  const Reader reader(store_, caller);
  COHORTE_ASSIGN_OR_RETURN(
      *response.mutable_next_page_token(),
      reader.List<InboxItem>(
          prefix, page,
          [&](InboxItem& item) { return !req.unread_only() || !item.read(); },
          response.mutable_items(), /*reverse=*/true));
  COHORTE_ASSIGN_OR_RETURN(
      int unread,
      reader.Count<InboxItem>(
          prefix, [](const InboxItem& item) { return !item.read(); },
          kMaxInboxBatch, /*reverse=*/true));
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
  return CommitForResponse<v1::MarkInboxReadResponse>(
      store_, caller, "MarkInboxRead", req, /*request_id=*/"",
      [&](Txn& txn, [[maybe_unused]] const Reader& reader)
          -> absl::StatusOr<v1::MarkInboxReadResponse> {
        std::vector<std::string> targets = names;
        if (req.all()) {
          COHORTE_RETURN_IF_ERROR(reader.ForEach<InboxItem>(
              storage::CollectionPrefixOf<InboxItem>(caller.member, "inbox"),
              [&](const InboxItem& item) {
                if (!item.read()) targets.push_back(item.name());
                return targets.size() < 10 * kMaxInboxBatch;
              }));
        }
        v1::MarkInboxReadResponse response;
        for (const std::string& name : targets) {
          absl::StatusOr<InboxItem> item = reader.Load<InboxItem>(name);
          if (absl::IsPermissionDenied(item.status())) continue;
          COHORTE_RETURN_IF_ERROR(item.status());
          if (item->read()) continue;
          item->set_read(true);
          txn.PutEntity(*item);
          response.set_marked(response.marked() + 1);
        }
        return response;
      });
}

absl::StatusOr<v1::FollowResponse> InboxService::Follow(
    const Principal& caller, const v1::FollowRequest& req) {
  COHORTE_RETURN_IF_ERROR(MembersOnly(caller));
  return CommitForResponse<v1::FollowResponse>(
      store_, caller, "Follow", req, /*request_id=*/"",
      [&](Txn& txn, [[maybe_unused]] const Reader& reader)
          -> absl::StatusOr<v1::FollowResponse> {
        COHORTE_RETURN_IF_ERROR(MayFollow(reader, req.target()));
        txn.PutIndex(storage::IndexKey(IndexKind::kFollowerByTarget,
                                       Joined(req.target(), caller.member)),
                     "");
        txn.PutIndex(storage::IndexKey(IndexKind::kFollowByMember,
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
      [&](Txn& txn, [[maybe_unused]] const Reader& reader)
          -> absl::StatusOr<v1::FollowResponse> {
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
        txn.DeleteIndex(by_member);
        txn.DeleteIndex(storage::IndexKey(IndexKind::kFollowerByTarget,
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
  COHORTE_ASSIGN_OR_RETURN(std::vector<std::string> targets,
                           Reader(store_, caller).OwnFollows());
  for (std::string& t : targets) response.add_targets(std::move(t));
  return response;
}

}  // namespace cohorte::service
