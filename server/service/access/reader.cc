#include "server/service/access/reader.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/access/policy.h"

namespace cohorte::service {

Reader::Reader(const storage::Store& store, Principal caller)
    : Reader(&store, store.committed(storage::CommittedReadKey()),
             std::move(caller)) {}

namespace {

// Presents `change`'s resource through the rule of T if its kind is T's;
// sets `*matched`, and returns whether the reader may see it.
template <typename T>
bool PresentChangeAs(const Reader& reader, storage::v1::Change& change,
                     bool* matched) {
  if (*matched || change.entity_kind() !=
                      static_cast<uint32_t>(storage::EntityTraits<T>::kKind)) {
    return true;
  }
  *matched = true;
  if (change.kind() == storage::v1::Change::DELETE) {
    return reader.MayRead(change.resource_name()).ok();
  }
  T entity;
  if (!change.resource().UnpackTo(&entity)) {
    // A link is logged in its API form, without its token.
    storage::v1::LinkRecord link;
    if (change.resource().UnpackTo(link.mutable_link())) {
      return reader.MaySee(change.resource_name(), link);
    }
    // A webhook is logged in its API form, without its secret.
    storage::v1::WebhookRecord webhook;
    if (change.resource().UnpackTo(webhook.mutable_webhook())) {
      return reader.MaySee(change.resource_name(), webhook);
    }
    // A token is logged in its API form, without its hash.
    v1::Token token;
    if (!change.resource().UnpackTo(&token)) return false;
    storage::v1::TokenRecord record;
    record.set_member(token.member());
    record.set_kind(token.kind());
    return reader.MaySee(change.resource_name(), record);
  }
  absl::StatusOr<T> shown = reader.Present(change.resource_name(), entity);
  if (!shown.ok()) return false;
  change.mutable_resource()->PackFrom(*shown);
  return true;
}

template <typename... T>
bool PresentChange(const Reader& reader, storage::v1::Change& change,
                   std::tuple<T...>*) {
  bool matched = false;
  const bool ok = (PresentChangeAs<T>(reader, change, &matched) && ...);
  return matched && ok;  // a kind without a type is never shown
}

}  // namespace

absl::StatusOr<std::vector<storage::v1::ChangeRecord>> Reader::VisibleChanges(
    int64_t from_revision, int limit) const {
  if (store_ == nullptr) {
    return absl::InternalError("VisibleChanges needs the committed state");
  }
  COHORTE_ASSIGN_OR_RETURN(
      std::vector<storage::v1::ChangeRecord> records,
      store_->ReadChanges(storage::CommittedReadKey(), from_revision, limit));
  std::vector<storage::v1::ChangeRecord> out;
  for (storage::v1::ChangeRecord& record : records) {
    storage::v1::ChangeRecord shown = record;
    shown.clear_changes();
    for (storage::v1::Change& change : *record.mutable_changes()) {
      if (PresentChange(*this, change,
                        static_cast<storage::AllEntityTypes*>(nullptr))) {
        *shown.add_changes() = std::move(change);
      }
    }
    if (shown.changes_size() > 0) out.push_back(std::move(shown));
  }
  return out;
}

absl::StatusOr<Principal> Reader::CurrentCaller(const storage::Store& store,
                                                const Principal& caller,
                                                absl::Time authenticated_at,
                                                absl::Time now) {
  const storage::View& view = store.committed(storage::CommittedReadKey());
  if (absl::StartsWith(caller.token, "tokens/")) {
    storage::v1::TokenRecord token;
    absl::Status ts =
        view.GetEntity<storage::v1::TokenRecord>(caller.token, &token);
    if (!ts.ok() && !absl::IsNotFound(ts)) return ts;
    auto at = [](const google::protobuf::Timestamp& t) {
      return absl::FromUnixNanos(
          google::protobuf::util::TimeUtil::TimestampToNanoseconds(t));
    };
    if (ts.ok() &&
        (token.has_revoke_time() ||
         (token.has_expire_time() && at(token.expire_time()) <= now) ||
         (token.has_rotate_time() &&
          at(token.rotate_time()) > authenticated_at))) {
      return ErrorWithReason(absl::StatusCode::kUnauthenticated,
                             kReasonTokenInvalid,
                             "the token was revoked, rotated or has expired");
    }
  }
  if (caller.service || caller.member.empty()) return caller;
  v1::Member member;
  absl::Status s = view.GetEntity<v1::Member>(caller.member, &member);
  if (absl::IsNotFound(s)) return caller;
  COHORTE_RETURN_IF_ERROR(s);
  return Principal::FromMember(member, caller.token);
}

absl::StatusOr<Reader> Reader::InTxn(const storage::Txn& txn,
                                     const Principal& caller,
                                     bool check_credential) {
  // The credential, as the transaction sees it: a token revoked or expired
  // since the call was authenticated writes nothing.
  if (check_credential && !caller.token.empty() &&
      absl::StartsWith(caller.token, "tokens/")) {
    storage::v1::TokenRecord token;
    absl::Status ts =
        txn.GetEntity<storage::v1::TokenRecord>(caller.token, &token);
    if (ts.ok() &&
        (token.has_revoke_time() ||
         (token.has_expire_time() &&
          google::protobuf::util::TimeUtil::TimestampToNanoseconds(
              token.expire_time()) <= absl::ToUnixNanos(txn.commit_time())))) {
      return ErrorWithReason(absl::StatusCode::kUnauthenticated,
                             kReasonTokenInvalid,
                             "the token was revoked or has expired");
    }
    if (!ts.ok() && !absl::IsNotFound(ts)) return ts;
  }
  if (caller.service || caller.member.empty()) return Reader(txn, caller);
  v1::Member member;
  absl::Status s = txn.GetEntity<v1::Member>(caller.member, &member);
  // Not (yet) a member: one being created by this very mutation (an
  // invitation's acceptance). Members are never deleted.
  if (absl::IsNotFound(s)) return Reader(txn, caller);
  COHORTE_RETURN_IF_ERROR(s);
  return Reader(txn, Principal::FromMember(member, caller.token));
}

absl::StatusOr<Reader> Reader::AfterWrites(const storage::Txn& txn,
                                           const Reader& before) {
  // `before.caller()` is the caller as InTxn resolved them: the same
  // member name and token (FromMember), or the caller as given (a
  // service, or a member the transaction had not stored).
  const Principal& caller = before.caller();
  if (caller.service || caller.member.empty() ||
      !txn.MayHaveWrittenEntity<v1::Member>(caller.member)) {
    return Reader(txn, caller);
  }
  return InTxn(txn, caller, /*check_credential=*/false);
}

const v1::PeerGroup* Reader::Group(absl::string_view name) const {
  auto it = groups_.find(std::string(name));
  if (it != groups_.end()) return it->second.get();
  auto group = std::make_unique<v1::PeerGroup>();
  if (!view_.GetEntity<v1::PeerGroup>(name, group.get()).ok()) group.reset();
  return groups_.emplace(std::string(name), std::move(group))
      .first->second.get();
}

bool Reader::InGroup(absl::string_view name) const {
  const v1::PeerGroup* group = Group(name);
  return group != nullptr && IsGroupMember(caller_, *group);
}

absl::StatusOr<v1::PeerGroup> Reader::GroupForContent(
    absl::string_view name) const {
  const v1::PeerGroup* group = Group(name);
  if (group == nullptr || !IsGroupMember(caller_, *group)) {
    return PermissionDenied(
        absl::StrCat("read ", name.substr(0, 300),
                     ": it does not exist or is closed to its members"));
  }
  return *group;
}

absl::Status Reader::MayRead(absl::string_view name) const {
  const std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() < 2 || parts.size() % 2 != 0) return Denied(name);
  const absl::string_view collection = parts[parts.size() - 2];
  auto ok = [](const auto& s) { return s.status(); };
  if (collection == "cohorts") return ok(Load<v1::Cohort>(name));
  if (collection == "members") return ok(Load<v1::Member>(name));
  if (collection == "tokens") return ok(Load<storage::v1::TokenRecord>(name));
  if (collection == "territories") return ok(Load<v1::Territory>(name));
  if (collection == "groups") return ok(Load<v1::PeerGroup>(name));
  if (collection == "chantiers") return ok(Load<v1::Chantier>(name));
  if (collection == "invitations") return ok(Load<v1::Invitation>(name));
  if (collection == "auditEvents") return ok(Load<v1::AuditEvent>(name));
  if (collection == "exchanges") return ok(Load<v1::Exchange>(name));
  if (collection == "messages") return ok(Load<v1::Message>(name));
  if (collection == "inbox") return ok(Load<v1::InboxItem>(name));
  if (collection == "reports") return ok(Load<v1::ExperienceReport>(name));
  if (collection == "sessions") return ok(Load<v1::Session>(name));
  if (collection == "registrations") return ok(Load<v1::Registration>(name));
  if (collection == "flags") return ok(Load<v1::ContentFlag>(name));
  if (collection == "webhooks") {
    return ok(Load<storage::v1::WebhookRecord>(name));
  }
  if (collection == "deliveries") return ok(Load<v1::WebhookDelivery>(name));
  if (collection == "links") return ok(Load<storage::v1::LinkRecord>(name));
  if (collection == "records") return ok(Load<v1::Record>(name));
  if (collection == "versions") return ok(Load<v1::RecordVersion>(name));
  if (collection == "uploads") {
    return ok(Load<storage::v1::UploadRecord>(name));
  }
  return Denied(name);
}

absl::StatusOr<std::vector<std::string>> Reader::ReadVersionContent(
    absl::string_view version, int64_t offset, int64_t max_bytes) const {
  COHORTE_ASSIGN_OR_RETURN(v1::RecordVersion v,
                           Load<v1::RecordVersion>(version));
  if (offset < 0 || offset > v.size_bytes()) {
    return ErrorWithReason(
        absl::StatusCode::kOutOfRange, kReasonFieldInvalid,
        absl::StrCat("read_offset: ", offset, " is past the end of ", version,
                     " (", v.size_bytes(), " bytes)"));
  }
  std::vector<std::string> pieces;
  if (offset == v.size_bytes()) return pieces;
  storage::v1::RecordContentRecord content;
  absl::Status s = view_.GetProto(
      storage::Table::kIndexes,
      storage::IndexKey(storage::IndexKind::kRecordContent, v.sha256()),
      &content);
  if (absl::IsNotFound(s)) {
    return absl::DataLossError(
        absl::StrCat("the content of ", version, " is missing"));
  }
  COHORTE_RETURN_IF_ERROR(s);
  if (content.at_home()) {
    return ErrorWithReason(
        absl::StatusCode::kUnavailable, kReasonContentAtHome,
        absl::StrCat("the content of ", version,
                     " is still at its home instance (a link that copies "
                     "contents on first download): try again"));
  }
  if (max_bytes <= 0) return pieces;  // the content is here
  const std::string prefix = storage::RecordChunkPrefix(content.blob());
  const int64_t end = std::min(v.size_bytes(), offset + max_bytes);
  int64_t at = offset;  // the next byte wanted
  std::string last_key;
  bool gap = false;
  // Takes what a chunk at `start` holds from `at`; false once done.
  auto take = [&](absl::string_view key, absl::string_view value) {
    uint64_t blob = 0;
    int64_t start = 0;
    if (!storage::ParseRecordChunkKey(key, &blob, &start) || start > at ||
        start + static_cast<int64_t>(value.size()) <= at) {
      gap = true;
      return false;
    }
    const absl::string_view part =
        value.substr(at - start, static_cast<size_t>(std::min<int64_t>(
                                     end - at, start + value.size() - at)));
    pieces.emplace_back(part);
    at += static_cast<int64_t>(part.size());
    last_key = std::string(key);
    return at < end;
  };
  // Forward from the first chunk starting at or after `offset` (a download
  // asks for whole chunks after its first read: one pass, each block read
  // once); if that chunk does not start at `offset`, the one that holds
  // `offset` is the last one starting before it, then the ones after it.
  bool aligned = false;
  COHORTE_RETURN_IF_ERROR(view_.Scan(
      storage::Table::kRecordChunks, prefix,
      offset == 0 ? std::string()
                  : storage::RecordChunkKey(content.blob(), offset - 1),
      [&](absl::string_view key, absl::string_view value) {
        if (!aligned) {
          uint64_t blob = 0;
          int64_t start = 0;
          if (!storage::ParseRecordChunkKey(key, &blob, &start) ||
              start != offset) {
            return false;
          }
          aligned = true;
        }
        return take(key, value);
      }));
  if (!aligned) {
    COHORTE_RETURN_IF_ERROR(
        view_.ScanReverse(storage::Table::kRecordChunks, prefix,
                          storage::RecordChunkKey(content.blob(), offset + 1),
                          [&](absl::string_view key, absl::string_view value) {
                            take(key, value);
                            return false;
                          }));
    if (!gap && !pieces.empty() && at < end) {
      COHORTE_RETURN_IF_ERROR(
          view_.Scan(storage::Table::kRecordChunks, prefix, last_key, take));
    }
  }
  if (gap || at < end) {
    return absl::DataLossError(
        absl::StrCat("the content of ", version, " is missing at byte ", at));
  }
  return pieces;
}

absl::StatusOr<std::vector<std::string>> Reader::OwnFollows() const {
  std::vector<std::string> targets;
  if (caller_.service || caller_.member.empty()) return targets;
  std::string prefix =
      storage::IndexKey(storage::IndexKind::kFollowByMember, caller_.member);
  prefix.push_back('\0');
  COHORTE_RETURN_IF_ERROR(
      view_.Scan(storage::Table::kIndexes, prefix, "",
                 [&](absl::string_view key, absl::string_view) {
                   targets.emplace_back(key.substr(prefix.size()));
                   return true;
                 }));
  return targets;
}

}  // namespace cohorte::service
