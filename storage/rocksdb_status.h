// File: storage/rocksdb_status.h
//
// The one place where RocksDB errors become absl::Status. Nothing outside
// storage/ sees a rocksdb::Status.
#ifndef COHORTE_STORAGE_ROCKSDB_STATUS_H_
#define COHORTE_STORAGE_ROCKSDB_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rocksdb/status.h"

namespace cohorte::storage {

// Reasons (google.rpc.ErrorInfo, domain "cohorte.v1") of storage faults.
// The API's contract: never change their spelling.
inline constexpr absl::string_view kReasonStorageFull = "STORAGE_FULL";
inline constexpr absl::string_view kReasonStorageUnavailable =
    "STORAGE_UNAVAILABLE";
inline constexpr absl::string_view kReasonStorageCorrupt = "STORAGE_CORRUPT";

// Maps `status` to the most specific absl code, prefixing the message with
// `context` (what the store was doing):
//   NotFound → NOT_FOUND, Corruption → DATA_LOSS (reason STORAGE_CORRUPT),
//   InvalidArgument → INVALID_ARGUMENT, Busy/TimedOut/TryAgain → ABORTED,
//   NotSupported → UNIMPLEMENTED, a held LOCK file → FAILED_PRECONDITION,
//   an IOError for a full disk (ENOSPC) → RESOURCE_EXHAUSTED (reason
//   STORAGE_FULL), other IOError → UNAVAILABLE (reason STORAGE_UNAVAILABLE),
//   ShutdownInProgress → UNAVAILABLE, anything else → INTERNAL.
absl::Status FromRocksDb(const rocksdb::Status& status,
                         absl::string_view context);

// `status` with `prefix` before its message, keeping its code and payloads.
absl::Status PrefixMessage(const absl::Status& status,
                           absl::string_view prefix);

}  // namespace cohorte::storage

#endif  // COHORTE_STORAGE_ROCKSDB_STATUS_H_
