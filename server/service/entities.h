// File: server/service/entities.h
//
// The shared mechanics of API resources stored as protos in the entities
// table: load with a NOT_FOUND that names the resource, save with a fresh
// etag and update_time plus a change-log entry, compare etags. Every
// resource proto has `name`, `update_time` and `etag` fields. Thread-safe
// (stateless); Txn rules apply.
#ifndef COHORTE_SERVER_SERVICE_ENTITIES_H_
#define COHORTE_SERVER_SERVICE_ENTITIES_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/errors.h"
#include "server/service/pagination.h"
#include "server/service/validation.h"
#include "storage/codec.h"
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

// Reads `name` of `kind` inside a mutation; NOT_FOUND names it.
template <typename T>
absl::StatusOr<T> LoadEntity(const storage::Txn& txn, storage::EntityKind kind,
                             absl::string_view name) {
  T entity;
  absl::Status s = txn.GetProto(storage::Table::kEntities,
                                storage::EntityKey(kind, name), &entity);
  if (absl::IsNotFound(s)) return NotFound(name);
  COHORTE_RETURN_IF_ERROR(s);
  return entity;
}

// Reads committed `name` of `kind`; NOT_FOUND names it.
template <typename T>
absl::StatusOr<T> ReadEntity(const storage::Store& store,
                             storage::EntityKind kind, absl::string_view name) {
  T entity;
  absl::Status s = store.GetProto(storage::Table::kEntities,
                                  storage::EntityKey(kind, name), &entity);
  if (absl::IsNotFound(s)) return NotFound(name);
  COHORTE_RETURN_IF_ERROR(s);
  return entity;
}

// Stamps `entity` with the mutation's time and etag (its revision), writes
// it and records it in the change log.
template <typename T>
void SaveEntity(storage::Txn& txn, storage::EntityKind kind, T& entity) {
  *entity.mutable_update_time() = ToTimestamp(txn.commit_time());
  entity.set_etag(absl::StrCat(txn.revision()));
  txn.PutProto(storage::Table::kEntities,
               storage::EntityKey(kind, entity.name()), entity);
  txn.RecordPut(entity.name(), entity);
}

// Like SaveEntity for a new entity: also sets create_time.
template <typename T>
void CreateEntity(storage::Txn& txn, storage::EntityKind kind, T& entity) {
  *entity.mutable_create_time() = ToTimestamp(txn.commit_time());
  SaveEntity(txn, kind, entity);
}

// Inside a mutation: every name of `names` is
// `cohorts/{c}/<collection>/{id}` with `cohorts/{c}` = `cohort`, and, when
// `must_exist`, an entity of `kind` that exists. INVALID_ARGUMENT naming
// `field` ("X is not a <what> of <cohort>") otherwise.
absl::Status CheckCohortLinks(
    const storage::Txn& txn, absl::string_view field,
    const google::protobuf::RepeatedPtrField<std::string>& names,
    absl::string_view collection, absl::string_view what,
    absl::string_view cohort, storage::EntityKind kind, bool must_exist);

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

// Fills `out` with the next page of entities under `prefix`, in key order
// (or reverse key order when `reverse`): each is decoded and passed to
// `keep`, which may redact it and returns whether the caller may see it
// (what it refuses is never counted). Returns the next page token, empty
// at the end.
template <typename T>
absl::StatusOr<std::string> ScanPage(const storage::Store& store,
                                     absl::string_view prefix,
                                     const PageStart& page,
                                     const std::function<bool(T&)>& keep,
                                     google::protobuf::RepeatedPtrField<T>* out,
                                     bool reverse = false) {
  std::string last_key;
  bool more = false;
  absl::Status decode_error;
  auto scan = reverse ? &storage::Store::ScanReverse : &storage::Store::Scan;
  COHORTE_RETURN_IF_ERROR(
      (store.*scan)(storage::Table::kEntities, prefix, page.after,
                    [&](absl::string_view key, absl::string_view value) {
                      T entity;
                      decode_error = storage::DecodeValue(value, &entity);
                      if (!decode_error.ok()) return false;
                      if (!keep(entity)) return true;
                      if (out->size() == page.size) {
                        more = true;
                        return false;
                      }
                      *out->Add() = std::move(entity);
                      last_key = std::string(key);
                      return true;
                    }));
  COHORTE_RETURN_IF_ERROR(decode_error);
  return more ? EncodePageToken(page.query, last_key) : std::string();
}

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_ENTITIES_H_
