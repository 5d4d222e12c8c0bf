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

// Maps `status` to the most specific absl code, prefixing the message with
// `context` (what the store was doing):
//   NotFound → NOT_FOUND, Corruption → DATA_LOSS, InvalidArgument →
//   INVALID_ARGUMENT, Busy/TimedOut/TryAgain → ABORTED, NotSupported →
//   UNIMPLEMENTED, a held LOCK file → FAILED_PRECONDITION, other IOError and
//   ShutdownInProgress → UNAVAILABLE, anything else → INTERNAL.
absl::Status FromRocksDb(const rocksdb::Status& status,
                         absl::string_view context);

}  // namespace cohorte::storage

#endif  // COHORTE_STORAGE_ROCKSDB_STATUS_H_
