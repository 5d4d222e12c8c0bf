// RecordService::CollectGarbage: expired uploads, purged records, freed
// contents and the deletion of their chunks.
//
// Crash safety: nothing is deleted while anything refers to it. A content's
// reference count changes in the same commit as the versions referring to
// it; when it reaches zero, that commit removes the content's record and
// marks its blob as garbage (kRecordGarbage). Only then are the blob's
// chunks deleted (Store::DeleteRecordChunks, one fsynced range deletion),
// and only after that is the mark removed. A crash before the deletion
// leaves the mark, a crash after it leaves a mark over nothing: either way
// the next pass deletes (again) and removes the mark.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/service/core/entities.h"
#include "server/service/records/record_service.h"
#include "server/service/records/record_store.h"
#include "storage/codec.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace cohorte::service {
namespace {

using storage::Txn;
using storage::v1::UploadRecord;

// Items handled per pass and kind, so that one pass stays short.
constexpr int kGarbageBatch = 100;

constexpr char kActor[] = "cohorted";

// Commits `apply` as the garbage collector.
absl::Status CommitAsCollector(storage::Store& store, absl::string_view method,
                               std::function<absl::Status(Txn&)> apply) {
  storage::Mutation m;
  m.actor = kActor;
  m.method = std::string(method);
  m.apply = [&](Txn& txn) -> absl::StatusOr<std::string> {
    COHORTE_RETURN_IF_ERROR(apply(txn));
    return std::string();
  };
  return store.Commit(std::move(m)).status();
}

}  // namespace

absl::StatusOr<RecordGarbageStats> RecordService::CollectGarbage(
    absl::Time now) {
  RecordGarbageStats stats;
  const int64_t now_seconds = absl::ToUnixSeconds(now);

  // Upload sessions past their expiry: an active one's bytes are garbage
  // and its size goes back to the cohort's quota; a completed one's bytes
  // became (or were a copy of) its version's content when it completed.
  COHORTE_ASSIGN_OR_RETURN(
      std::vector<std::string> uploads,
      store_.DueInTimeQueue(storage::IndexKind::kUploadByExpiry, now_seconds,
                            kGarbageBatch));
  for (const std::string& name : uploads) {
    COHORTE_RETURN_IF_ERROR(CommitAsCollector(
        store_, "ExpireUpload", [&](Txn& txn) -> absl::Status {
          UploadRecord u;
          absl::Status s = txn.GetEntity<UploadRecord>(name, &u);
          if (!s.ok() && !absl::IsNotFound(s)) return s;
          if (s.ok()) {
            if (u.upload().state() == v1::Upload::ACTIVE) {
              MarkBlobGarbage(txn, u.blob());
              COHORTE_RETURN_IF_ERROR(AddCohortRecordBytes(
                  txn, CohortOf(name), -u.upload().size_bytes()));
            }
            txn.DeleteEntity<UploadRecord>(name);
            txn.DeleteIndex(storage::TimeQueueKey(
                storage::IndexKind::kUploadByExpiry,
                u.upload().expire_time().seconds(), name));
          }
          return absl::OkStatus();
        }));
    ++stats.expired_uploads;
  }

  // Records deleted long enough ago: purged with their versions and
  // uploads; each version releases its content.
  COHORTE_ASSIGN_OR_RETURN(
      std::vector<std::string> records,
      store_.DueInTimeQueue(storage::IndexKind::kRecordByPurgeTime, now_seconds,
                            kGarbageBatch));
  for (const std::string& name : records) {
    int freed = 0;
    COHORTE_RETURN_IF_ERROR(
        CommitAsCollector(store_, "PurgeRecord", [&](Txn& txn) -> absl::Status {
          freed = 0;
          v1::Record r;
          absl::Status s = txn.GetEntity<v1::Record>(name, &r);
          if (!s.ok() && !absl::IsNotFound(s)) return s;
          if (s.ok() && !r.has_delete_time()) return absl::OkStatus();
          std::vector<v1::RecordVersion> versions;
          absl::Status bad;
          COHORTE_RETURN_IF_ERROR(txn.Scan(
              storage::Table::kEntities,
              storage::CollectionPrefixOf<v1::RecordVersion>(name, "versions"),
              [&](absl::string_view, absl::string_view value) {
                bad = storage::DecodeValue(value, &versions.emplace_back());
                return bad.ok();
              }));
          COHORTE_RETURN_IF_ERROR(bad);
          int64_t bytes = 0;
          for (const v1::RecordVersion& v : versions) {
            bool content_freed = false;
            COHORTE_RETURN_IF_ERROR(
                ReleaseContent(txn, v.sha256(), &content_freed));
            freed += content_freed ? 1 : 0;
            bytes += v.size_bytes();
            txn.DeleteEntity<v1::RecordVersion>(v.name());
            txn.DeleteIndex(VersionByContentKey(v.sha256(), v.name()));
          }
          std::vector<UploadRecord> open;
          COHORTE_RETURN_IF_ERROR(txn.Scan(
              storage::Table::kEntities,
              storage::CollectionPrefixOf<UploadRecord>(name, "uploads"),
              [&](absl::string_view, absl::string_view value) {
                bad = storage::DecodeValue(value, &open.emplace_back());
                return bad.ok();
              }));
          COHORTE_RETURN_IF_ERROR(bad);
          for (const UploadRecord& u : open) {
            if (u.upload().state() == v1::Upload::ACTIVE) {
              MarkBlobGarbage(txn, u.blob());
              bytes += u.upload().size_bytes();
            }
            txn.DeleteEntity<UploadRecord>(u.name());
            txn.DeleteIndex(storage::TimeQueueKey(
                storage::IndexKind::kUploadByExpiry,
                u.upload().expire_time().seconds(), u.name()));
          }
          COHORTE_RETURN_IF_ERROR(
              AddCohortRecordBytes(txn, CohortOf(name), -bytes));
          if (s.ok()) txn.DeleteEntity<v1::Record>(name);
          txn.DeleteIndex(storage::TimeQueueKey(
              storage::IndexKind::kRecordByPurgeTime,
              r.delete_time().seconds() + kRecordPurgeDays * 86400, name));
          return absl::OkStatus();
        }));
    ++stats.purged_records;
    stats.freed_contents += freed;
  }

  // The chunks of every blob marked as garbage, then the mark.
  COHORTE_ASSIGN_OR_RETURN(std::vector<uint64_t> blobs,
                           store_.RecordGarbageBlobs(kGarbageBatch));
  for (uint64_t blob : blobs) {
    COHORTE_RETURN_IF_ERROR(store_.DeleteRecordChunks(blob));
    COHORTE_RETURN_IF_ERROR(CommitAsCollector(
        store_, "DeleteRecordChunks", [&](Txn& txn) -> absl::Status {
          txn.DeleteIndex(
              storage::IndexKey(storage::IndexKind::kRecordGarbage,
                                storage::EncodeUint64BigEndian(blob)));
          return absl::OkStatus();
        }));
    ++stats.deleted_blobs;
  }
  return stats;
}

}  // namespace cohorte::service
