// File: server/service/records/record_store.h
//
// The bookkeeping of shared records' content inside a mutation, shared by
// the record service's files: contents by SHA-256 with their reference
// counts, blobs marked as garbage, the cohort's byte count, the queues of
// expiring uploads and records to purge (key grammar in storage/FORMAT.md).
// None of it is shown to a caller. Thread-compatible (a Txn's rules).
#ifndef COHORTE_SERVER_SERVICE_RECORDS_RECORD_STORE_H_
#define COHORTE_SERVER_SERVICE_RECORDS_RECORD_STORE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cohorte/storage/v1/records.pb.h"
#include "server/service/access/principal.h"
#include "storage/store.h"

namespace cohorte::service {

// OK if `caller` may write shared records of `cohort` (create records,
// upload versions): a member taking part in it, not the administrator, not
// a service token. PERMISSION_DENIED naming `what` otherwise.
absl::Status AuthorizeRecordWriter(const Principal& caller,
                                   absl::string_view cohort,
                                   absl::string_view what);

// `cohorts/{c}/records/{r}` of a record, version or upload name.
absl::string_view RecordNameOf(absl::string_view name);

// The content record of `sha256`: NOT_FOUND if none. One `at_home` has
// no bytes here (a LAZY link's, content_intake.h).
absl::StatusOr<storage::v1::RecordContentRecord> LoadContent(
    const storage::Txn& txn, absl::string_view sha256);
void SaveContent(storage::Txn& txn, absl::string_view sha256,
                 const storage::v1::RecordContentRecord& content);

// One version fewer refers to `sha256`; at none, the content is removed
// and its blob marked as garbage. Sets `*freed` when it was.
absl::Status ReleaseContent(storage::Txn& txn, absl::string_view sha256,
                            bool* freed);

// The index entry saying that record version `version` holds the content
// `sha256` (kVersionByContent), and the prefix of every such entry of
// `sha256`: how StartUpload finds a version holding an announced content
// that the caller may read (the proof shortcut).
std::string VersionByContentKey(absl::string_view sha256,
                                absl::string_view version);
std::string VersionByContentPrefix(absl::string_view sha256);

// Marks `blob`'s chunks for deletion by the garbage collector.
void MarkBlobGarbage(storage::Txn& txn, uint64_t blob);

// The bytes counted against `cohort`'s quota, and adds `delta` to them.
absl::StatusOr<int64_t> CohortRecordBytes(const storage::Txn& txn,
                                          absl::string_view cohort);
absl::Status AddCohortRecordBytes(storage::Txn& txn, absl::string_view cohort,
                                  int64_t delta);

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_RECORDS_RECORD_STORE_H_
