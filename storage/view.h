// File: storage/view.h
//
// View: a readable state of the store — either the committed state
// (Store::committed) or the state a mutation sees inside Store::Commit (a
// Txn: committed state plus the group's writes so far). The read gate of
// the service layer (server/service/access/reader.h) is built on a View, so
// that one set of read rules serves reads of committed state and the checks
// and responses of writes alike.
//
// CommittedReadKey is the passkey to the committed state: its constructor
// is private, and the classes it befriends below are the whole list of code
// that may read committed state directly. Everything a caller reads goes
// through the gate; authentication reads a token before there is a caller.
// Adding a friend here is a design review, not a convenience.
//
// Thread-safety: a committed View is safe from many threads; a Txn is used
// by one mutation at a time.
#ifndef COHORTE_STORAGE_VIEW_H_
#define COHORTE_STORAGE_VIEW_H_

#include <functional>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message_lite.h"
#include "storage/codec.h"
#include "storage/entity_types.h"

namespace cohorte::service {
class Reader;
class Authenticator;
}  // namespace cohorte::service

namespace cohorte::storage {

namespace testing {
class RawAccess;
}  // namespace testing

class Store;

// The column families. Their names (in store.cc) are persisted: never
// rename or renumber one.
enum class Table {
  kMeta = 0,          // instance identity and revision counter
  kEntities = 1,      // resources, keyed by kind tag + resource name
  kIndexes = 2,       // secondary indexes and uniqueness claims
  kChangelog = 3,     // one ChangeRecord per revision
  kRequests = 4,      // idempotency records of request_ids
  kRecordChunks = 5,  // the bytes of shared records' versions and uploads
};
inline constexpr int kTableCount = 6;

using ScanVisitor =
    std::function<bool(absl::string_view key, absl::string_view value)>;

class View {
 public:
  virtual ~View() = default;

  // OK and `*value` set if `key` exists, NOT_FOUND if not.
  virtual absl::Status Get(Table table, absl::string_view key,
                           std::string* value) const = 0;
  // Calls `visit` for each key starting with `prefix` in key order, from
  // just after `start_after` (or the first key if empty), until `visit`
  // returns false.
  virtual absl::Status Scan(Table table, absl::string_view prefix,
                            absl::string_view start_after,
                            const ScanVisitor& visit) const = 0;
  // Like Scan, backwards: from just before `start_before` (or the last key
  // starting with `prefix` if empty) down to the first.
  virtual absl::Status ScanReverse(Table table, absl::string_view prefix,
                                   absl::string_view start_before,
                                   const ScanVisitor& visit) const = 0;

  // Get then DecodeValue. NOT_FOUND if absent, DATA_LOSS if undecodable.
  // (The store's views answer entities from its EntityCache when they can.)
  virtual absl::Status GetProto(Table table, absl::string_view key,
                                google::protobuf::MessageLite* message) const {
    std::string value;
    absl::Status s = Get(table, key, &value);
    if (!s.ok()) return s;
    return DecodeValue(value, message);
  }
  // True if `key` exists; errors other than NOT_FOUND are returned.
  absl::StatusOr<bool> Exists(Table table, absl::string_view key) const {
    std::string value;
    absl::Status s = Get(table, key, &value);
    if (s.ok()) return true;
    if (absl::IsNotFound(s)) return false;
    return s;
  }

  // The entity of type T named `name`: NOT_FOUND if absent, DATA_LOSS if
  // undecodable.
  template <typename T>
  absl::Status GetEntity(absl::string_view name, T* entity) const {
    return GetProto(Table::kEntities, EntityKeyOf<T>(name), entity);
  }
  template <typename T>
  absl::StatusOr<bool> EntityExists(absl::string_view name) const {
    return Exists(Table::kEntities, EntityKeyOf<T>(name));
  }
};

// The passkey of Store::committed and Store::ReadChanges (see the file
// comment).
class CommittedReadKey {
 private:
  // User-provided, not `= default`: a class whose only constructor is
  // defaulted is an aggregate in C++17, and `{}` would make a key anywhere.
  CommittedReadKey() {}
  friend class ::cohorte::service::Reader;
  friend class ::cohorte::service::Authenticator;
  friend class ::cohorte::storage::Store;
#ifdef COHORTE_TESTING
  // Tests check what was written underneath the gate; only test targets
  // define COHORTE_TESTING.
  friend class ::cohorte::storage::testing::RawAccess;
#endif
};
static_assert(!std::is_aggregate_v<CommittedReadKey>,
              "a CommittedReadKey must not be made by aggregate init");
static_assert(!std::is_default_constructible_v<CommittedReadKey>,
              "only the classes CommittedReadKey befriends make one");

}  // namespace cohorte::storage

#endif  // COHORTE_STORAGE_VIEW_H_
