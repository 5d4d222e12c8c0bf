// File: server/service/access/reader.h
//
// Reader: the read gate. Every read of stored data on a caller's behalf goes
// through one Reader, made from a View (the committed state, or a
// mutation's Txn) and the caller's Principal. Each stored type has its read
// rule declared once, as a specialization of ReadRule<T> (rules.h): whether
// this caller may see an entity, and how it is presented to them (e-mails,
// hidden bodies, group member lists, token hashes). A type without a rule
// cannot be read through the gate: ReadRule<T> is incomplete and Get<T>
// does not compile; rules.cc checks at compile time that every type of
// storage::AllEntityTypes has one.
//
// One answer for "absent" and "not yours" (AIP-211): Get answers
// PERMISSION_DENIED with the same message whether the entity does not exist
// or the caller may not see it. Lists apply the rule before the caller's
// filter, and what the rule refuses is neither returned nor counted.
//
// Only Reader (and the Authenticator) hold the key to the store's committed
// state (storage/view.h), so a service cannot read it for a caller any
// other way. Inside a mutation, Reader::InTxn re-reads the caller's member
// record from the transaction, so a check made through it is atomic with
// the mutation's writes (a member removed from a group in the same commit
// group cannot post).
//
// Thread-compatible: one Reader per call; it caches groups it has loaded.
#ifndef COHORTE_SERVER_SERVICE_ACCESS_READER_H_
#define COHORTE_SERVER_SERVICE_ACCESS_READER_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "server/service/access/feed.h"
#include "server/service/access/principal.h"
#include "server/service/access/rules.h"
#include "server/service/core/entities.h"
#include "server/service/core/errors.h"
#include "storage/codec.h"
#include "storage/entity_types.h"
#include "storage/status_macros.h"
#include "storage/store.h"
#include "storage/view.h"

namespace cohorte::service {

class Reader {
 public:
  // Reads the committed state as `caller`.
  Reader(const storage::Store& store, Principal caller);
  // Reads `txn`'s view as `caller`, whose member record (college,
  // delegations, role) is re-read from `txn` (as given if the mutation is
  // creating it).
  // UNAUTHENTICATED if `check_credential` and the caller's token is revoked
  // or expired as the transaction sees it.
  static absl::StatusOr<Reader> InTxn(const storage::Txn& txn,
                                      const Principal& caller,
                                      bool check_credential = true);

  // What InTxn(txn, caller, /*check_credential=*/false) gives once the
  // mutation has written, for the mutation that began with
  // `before` = InTxn(txn, caller), the reader of the same caller over the
  // same `txn`: the caller's member record is re-read only if the
  // transaction may have written it (Txn::MayHaveWrittenEntity); otherwise
  // it is the one `before` resolved. Never shares `before`'s cached groups,
  // which the writes may have changed.
  static absl::StatusOr<Reader> AfterWrites(const storage::Txn& txn,
                                            const Reader& before);

  // Reads `txn`'s view as `member` would: for a write choosing whom to
  // notify (an inbox item goes only to who may read what it announces).
  static Reader AsMember(const storage::Txn& txn, const v1::Member& member) {
    return Reader(txn, Principal::FromMember(member, ""));
  }

  const Principal& caller() const { return caller_; }

  // The entity `name` of type T as the caller may see it. PERMISSION_DENIED
  // unless its rule lets the caller see it; the same for an absent entity,
  // unless the caller could see any entity of that name (then NOT_FOUND).
  template <typename T>
  absl::StatusOr<T> Get(absl::string_view name) const {
    COHORTE_ASSIGN_OR_RETURN(T entity, Load<T>(name));
    return ReadRule<T>::Present(*this, std::move(entity));
  }

  // Like Get, with one answer for "absent" and "not the caller's to see":
  // nullopt (so it tells nothing Get would not). Other errors as Get's.
  // For a read whose absence is normal (a marker not yet written), without
  // building Get's PERMISSION_DENIED.
  template <typename T>
  absl::StatusOr<std::optional<T>> Find(absl::string_view name) const {
    T entity;
    absl::Status s = view_.GetEntity<T>(name, &entity);
    if (absl::IsNotFound(s)) return std::nullopt;
    COHORTE_RETURN_IF_ERROR(s);
    if (!ReadRule<T>::MaySee(*this, name, entity)) return std::nullopt;
    return ReadRule<T>::Present(*this, std::move(entity));
  }

  // Like Get, without the presentation: the stored form, for a write that
  // changes it. What a write returns is presented through Present (see
  // core/commit.h), never this.
  template <typename T>
  absl::StatusOr<T> Load(absl::string_view name) const {
    T entity;
    absl::Status s = view_.GetEntity<T>(name, &entity);
    if (absl::IsNotFound(s)) {
      if (ReadRule<T>::MayKnowAbsent(*this, name)) return NotFound(name);
      return Denied(name);
    }
    COHORTE_RETURN_IF_ERROR(s);
    if (!ReadRule<T>::MaySee(*this, name, entity)) return Denied(name);
    return entity;
  }

  // Whether the caller may see `entity`, stored as `name`.
  template <typename T>
  bool MaySee(absl::string_view name, const T& entity) const {
    return ReadRule<T>::MaySee(*this, name, entity);
  }
  // `entity` as the caller may see it, or PERMISSION_DENIED.
  template <typename T>
  absl::StatusOr<T> Present(absl::string_view name, T entity) const {
    if (!ReadRule<T>::MaySee(*this, name, entity)) return Denied(name);
    return ReadRule<T>::Present(*this, std::move(entity));
  }
  template <typename T>
  absl::StatusOr<T> Present(T entity) const {
    const std::string name = entity.name();
    return Present(name, std::move(entity));
  }

  // The next page of the collection under `prefix` (CollectionPrefixOf<T>),
  // in key order or reverse key order: each entity the rule lets through is
  // presented, then passed to `keep` (the caller's filter), which returns
  // whether to return it. Returns the next page token, empty at the end.
  template <typename T>
  absl::StatusOr<std::string> List(absl::string_view prefix,
                                   const PageStart& page,
                                   const std::function<bool(T&)>& keep,
                                   google::protobuf::RepeatedPtrField<T>* out,
                                   bool reverse = false) const {
    std::string last_key;
    bool more = false;
    absl::Status error;
    auto visit = [&](absl::string_view key, absl::string_view value) {
      T entity;
      error = storage::DecodeValue(value, &entity);
      if (!error.ok()) return false;
      if (!ReadRule<T>::MaySee(*this, storage::EntityNameFromKey(key),
                               entity)) {
        return true;
      }
      entity = ReadRule<T>::Present(*this, std::move(entity));
      if (!keep(entity)) return true;
      if (out->size() == page.size) {
        more = true;
        return false;
      }
      *out->Add() = std::move(entity);
      last_key = std::string(key);
      return true;
    };
    COHORTE_RETURN_IF_ERROR(
        reverse
            ? view_.ScanReverse(storage::Table::kEntities, prefix, page.after,
                                visit)
            : view_.Scan(storage::Table::kEntities, prefix, page.after, visit));
    COHORTE_RETURN_IF_ERROR(error);
    return more ? EncodePageToken(page.query, last_key) : std::string();
  }

  // Counts the entities under `prefix` that the rule lets through and
  // `keep` keeps, up to `limit`.
  template <typename T>
  absl::StatusOr<int> Count(absl::string_view prefix,
                            const std::function<bool(const T&)>& keep,
                            int limit, bool reverse = false) const {
    int count = 0;
    absl::Status error;
    auto visit = [&](absl::string_view key, absl::string_view value) {
      T entity;
      error = storage::DecodeValue(value, &entity);
      if (!error.ok()) return false;
      if (ReadRule<T>::MaySee(*this, storage::EntityNameFromKey(key), entity) &&
          keep(entity)) {
        ++count;
      }
      return count < limit;
    };
    COHORTE_RETURN_IF_ERROR(
        reverse
            ? view_.ScanReverse(storage::Table::kEntities, prefix, "", visit)
            : view_.Scan(storage::Table::kEntities, prefix, "", visit));
    COHORTE_RETURN_IF_ERROR(error);
    return count;
  }

  // Calls `visit` with each entity under `prefix` that the rule lets
  // through, presented, until it returns false.
  template <typename T>
  absl::Status ForEach(absl::string_view prefix,
                       const std::function<bool(const T&)>& visit) const {
    absl::Status error;
    COHORTE_RETURN_IF_ERROR(view_.Scan(
        storage::Table::kEntities, prefix, "",
        [&](absl::string_view key, absl::string_view value) {
          T entity;
          error = storage::DecodeValue(value, &entity);
          if (!error.ok()) return false;
          if (!ReadRule<T>::MaySee(*this, storage::EntityNameFromKey(key),
                                   entity)) {
            return true;
          }
          return visit(ReadRule<T>::Present(*this, std::move(entity)));
        }));
    return error;
  }

  // A page of the entities of type T named by the values of the index
  // entries under `index_prefix` (e.g. a cohort's audit events), each
  // through T's rule. The page token carries the index key.
  template <typename T>
  absl::StatusOr<std::string> ListIndexed(
      absl::string_view index_prefix, const PageStart& page,
      google::protobuf::RepeatedPtrField<T>* out) const {
    std::string last_key;
    bool more = false;
    absl::Status error;
    COHORTE_RETURN_IF_ERROR(
        view_.Scan(storage::Table::kIndexes, index_prefix, page.after,
                   [&](absl::string_view key, absl::string_view name) {
                     absl::StatusOr<T> entity = Get<T>(name);
                     if (!entity.ok()) {
                       if (!absl::IsPermissionDenied(entity.status())) {
                         error = entity.status();
                         return false;
                       }
                       return true;
                     }
                     if (out->size() == page.size) {
                       more = true;
                       return false;
                     }
                     *out->Add() = *std::move(entity);
                     last_key = std::string(key);
                     return true;
                   }));
    COHORTE_RETURN_IF_ERROR(error);
    return more ? EncodePageToken(page.query, last_key) : std::string();
  }

  // OK if the caller may read the resource named `name`, whatever its type
  // (found from the name's pattern); PERMISSION_DENIED otherwise, whether or
  // not it exists.
  absl::Status MayRead(absl::string_view name) const;

  // The group `name` for reading or writing its content (exchanges,
  // messages): PERMISSION_DENIED unless the caller is one of its members,
  // whether or not it exists.
  absl::StatusOr<v1::PeerGroup> GroupForContent(absl::string_view name) const;

  // The committed changes from `from_revision` on (at most `limit` records
  // read), as the caller may see them: each change goes through the read
  // rule of its entity kind, applied to the logged resource and presented;
  // a change the caller may not see is left out, and a record left empty is
  // left out. The one way to read the change log on a caller's behalf:
  // the change feed, search indexing and sync are built on it.
  // REQUIRES: a Reader over the committed state.
  absl::StatusOr<std::vector<storage::v1::ChangeRecord>> VisibleChanges(
      int64_t from_revision, int limit) const;

  // ---- The change feed (feed.h; defined in feed.cc) ----

  // `caller` as the committed state sees them now, for a long-lived call
  // (a Watch) that keeps presenting with them: the member's current
  // college, delegations and role. UNAUTHENTICATED (TOKEN_INVALID) if
  // their token was revoked, has expired, or was rotated after
  // `authenticated_at`.
  static absl::StatusOr<Principal> CurrentCaller(const storage::Store& store,
                                                 const Principal& caller,
                                                 absl::Time authenticated_at,
                                                 absl::Time now);

  // Reads at most `max_records` change-log records from `from_revision`
  // to `upto`, once, into a slice only a Reader can present (to any number
  // of callers). Never past the store's committed revision (a record
  // written but not yet acknowledged is not read). OUT_OF_RANGE if
  // `from_revision` was compacted away.
  //
  // Present a slice only with a Reader whose caller and groups were read
  // after `upto` was taken (as the committed revision): rights are then
  // never older than a change they are applied to — a member removed from
  // a group at revision R never sees what is said there after R.
  static absl::StatusOr<std::shared_ptr<const LogSlice>> ReadLog(
      const storage::Store& store, int64_t from_revision, int max_records,
      int64_t upto);

  // Presents the records of `slice` after page->reached, in revision order:
  // appends the events the caller may see and `filter` selects to
  // page->events (each with its cursor's revision: its own for the last
  // event of a revision, the one before for the others) and moves
  // page->reached to each record looked at. Stops before a record once
  // page->events holds `max_events` (a page ends at a revision boundary).
  // REQUIRES: a Reader over the committed state.
  absl::Status PresentLog(const LogSlice& slice, const FeedFilter& filter,
                          int max_events, FeedPage* page) const;

  // Up to `max_bytes` of the content of record version `version` from
  // byte `offset`, as pieces of the stored chunks in order (the first cut
  // to start at `offset`, the last to end by `max_bytes`; none at the end
  // of the content), if the caller may read the version (PERMISSION_DENIED
  // as Get otherwise). OUT_OF_RANGE past the end; DATA_LOSS if the bytes
  // are missing; UNAVAILABLE (CONTENT_AT_HOME) if still at their home (a
  // LAZY link's). With `max_bytes` 0, only whether they are here: no chunk
  // is read.
  absl::StatusOr<std::vector<std::string>> ReadVersionContent(
      absl::string_view version, int64_t offset, int64_t max_bytes) const;

  // The targets the caller follows (their own follows only).
  absl::StatusOr<std::vector<std::string>> OwnFollows() const;

  // The one denial of the gate.
  static absl::Status Denied(absl::string_view name) {
    return PermissionDenied(
        absl::StrCat("read ", name.substr(0, 300),
                     ": it does not exist or the caller may not read it"));
  }

 private:
  template <typename T>
  friend struct ReadRule;

  Reader(const storage::View& view, Principal caller)
      : view_(view), caller_(std::move(caller)) {}
  Reader(const storage::Store* store, const storage::View& view,
         Principal caller)
      : store_(store), view_(view), caller_(std::move(caller)) {}

  // PresentLog for one change of entity type T.
  template <typename T>
  absl::Status PresentFeedChange(const storage::v1::ChangeRecord& record,
                                 const storage::v1::Change& change,
                                 const FeedFilter& filter,
                                 std::vector<v1::ChangeEvent>* out) const;
  template <typename... T>
  absl::Status PresentFeedChangeOf(const storage::v1::ChangeRecord& record,
                                   const storage::v1::Change& change,
                                   const FeedFilter& filter,
                                   std::vector<v1::ChangeEvent>* out,
                                   std::tuple<T...>*) const;

  // For the rules: the stored group `name`, or nullptr if absent. Cached.
  const v1::PeerGroup* Group(absl::string_view name) const;
  // For the rules: whether the caller is a member of group `name`.
  bool InGroup(absl::string_view name) const;

  const storage::Store* store_ = nullptr;  // set over committed state
  const storage::View& view_;
  Principal caller_;
  mutable std::map<std::string, std::unique_ptr<v1::PeerGroup>> groups_;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_ACCESS_READER_H_
