// File: server/service/core/entities.h
//
// The shared mechanics of API resources stored as protos in the entities
// table: load with a NOT_FOUND that names the resource, save with a fresh
// etag and update_time plus a change-log entry, compare etags. Every
// resource proto has `name`, `update_time` and `etag` fields. Thread-safe
// (stateless); Txn rules apply.
#ifndef COHORTE_SERVER_SERVICE_CORE_ENTITIES_H_
#define COHORTE_SERVER_SERVICE_CORE_ENTITIES_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cohorte/v1/members.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/core/errors.h"
#include "server/service/core/pagination.h"
#include "server/service/core/validation.h"
#include "storage/codec.h"
#include "storage/entity_types.h"
#include "storage/keys.h"
#include "storage/status_macros.h"
#include "storage/store.h"

namespace cohorte::service {

inline google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      absl::ToUnixNanos(t));
}

inline absl::Status NotFound(absl::string_view name) {
  return ErrorWithReason(absl::StatusCode::kNotFound, kReasonNotFound,
                         absl::StrCat(name, " does not exist"));
}

inline absl::Status AlreadyExists(absl::string_view name) {
  return ErrorWithReason(absl::StatusCode::kAlreadyExists, kReasonAlreadyExists,
                         absl::StrCat(name, " already exists"));
}

// OK if `requested` is empty or equals `current`; ABORTED (ETAG_MISMATCH).
inline absl::Status CheckEtag(absl::string_view name, absl::string_view current,
                              absl::string_view requested) {
  if (requested.empty() || requested == current) return absl::OkStatus();
  return ErrorWithReason(
      absl::StatusCode::kAborted, kReasonEtagMismatch,
      absl::StrCat("etag: ", name, " has changed (etag is now ", current,
                   "); read it again"));
}

// Reads entity `name` of type T inside a mutation, unchecked (a write's
// own bookkeeping; what a caller sees goes through the Reader); NOT_FOUND
// names it.
template <typename T>
absl::StatusOr<T> LoadEntity(const storage::Txn& txn, absl::string_view name) {
  T entity;
  absl::Status s = txn.GetEntity<T>(name, &entity);
  if (absl::IsNotFound(s)) return NotFound(name);
  COHORTE_RETURN_IF_ERROR(s);
  return entity;
}

// The etag after `etag`: etags are per-resource versions ("1" at
// creation, one more at each write), so that they reveal nothing about
// other resources. Data written before kept the revision of its last write
// as etag; the next write goes on from it.
std::string NextEtag(absl::string_view etag);

// Stamps `entity` with the mutation's time and its next etag.
template <typename T>
void StampEntity(storage::Txn& txn, T& entity) {
  *entity.mutable_update_time() = ToTimestamp(txn.commit_time());
  entity.set_etag(NextEtag(entity.etag()));
}

// Stamps `entity` (StampEntity), writes it and records it in the change
// log (Txn::PutEntity).
template <typename T>
void SaveEntity(storage::Txn& txn, T& entity) {
  StampEntity(txn, entity);
  txn.PutEntity(entity);
}

// Like SaveEntity for a new entity: also sets create_time, and etag "1".
template <typename T>
void CreateEntity(storage::Txn& txn, T& entity) {
  *entity.mutable_create_time() = ToTimestamp(txn.commit_time());
  entity.clear_etag();
  SaveEntity(txn, entity);
}

// Like CreateEntity for an entity named by this mutation from a sequence
// past every existing id (a message numbered after its exchange's
// count): written without reading whether it exists (Txn::PutNewEntity).
template <typename T>
void CreateSequencedEntity(storage::Txn& txn, T& entity) {
  *entity.mutable_create_time() = ToTimestamp(txn.commit_time());
  entity.clear_etag();
  StampEntity(txn, entity);
  txn.PutNewEntity(entity);
}

// The number after the last sequence id (storage::SequenceId) under the
// collection `prefix` (a CollectionPrefixOf key), at least `floor`: ids of
// a collection numbered in creation order.
absl::StatusOr<int64_t> NextSequence(const storage::Txn& txn,
                                     absl::string_view prefix,
                                     absl::string_view id_prefix);

// Inside a mutation: the next value of the counter `name` (an index entry,
// never shown to a caller), which it stores. A counter not yet stored
// starts after `initial()` (what older data already used).
absl::StatusOr<int64_t> NextCounter(
    storage::Txn& txn, absl::string_view name,
    const std::function<absl::StatusOr<int64_t>()>& initial);

// Inside a mutation: the members `keep` keeps (fan-out and college
// membership; not a caller-facing read).
absl::StatusOr<std::vector<v1::Member>> ScanMembers(
    const storage::Txn& txn,
    const std::function<bool(const v1::Member&)>& keep);

// Inside a mutation: every name of `names` is
// `cohorts/{c}/<collection>/{id}` with `cohorts/{c}` = `cohort`, and, when
// `must_exist`, an entity of `kind` that exists. INVALID_ARGUMENT naming
// `field` ("X is not a <what> of <cohort>") otherwise.
absl::Status CheckCohortLinks(
    const storage::Txn& txn, absl::string_view field,
    const google::protobuf::RepeatedPtrField<std::string>& names,
    absl::string_view collection, absl::string_view what,
    absl::string_view cohort,
    const std::function<absl::StatusOr<bool>(absl::string_view)>& exists);

// CheckCohortLinks where each name must be an existing entity of type T.
template <typename T>
absl::Status CheckCohortLinksExist(
    const storage::Txn& txn, absl::string_view field,
    const google::protobuf::RepeatedPtrField<std::string>& names,
    absl::string_view collection, absl::string_view what,
    absl::string_view cohort) {
  return CheckCohortLinks(
      txn, field, names, collection, what, cohort,
      [&](absl::string_view name) { return txn.EntityExists<T>(name); });
}

// A generated id: `prefix` + 10 random hex digits.
std::string GenerateId(absl::string_view prefix);

// Where a List call starts: the effective page size, the fingerprint of the
// request's other fields, and the key to continue after.
struct PageStart {
  int size = 0;
  uint64_t query = 0;
  std::string after;
};

// Validates `page_size` and `page_token` of `request` (AIP-158).
absl::StatusOr<PageStart> StartPage(const google::protobuf::Message& request,
                                    int page_size,
                                    absl::string_view page_token);

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_CORE_ENTITIES_H_
