// File: storage/backup.h
//
// Backups: online, consistent backups of a Store in a directory of their
// own, with RocksDB's BackupEngine. A backup is taken while the store
// serves reads and writes: the engine pins the store's live table files
// and copies them with the write-ahead log as it stands, so the backup is
// the state of one instant, holding every write acknowledged before the
// backup began (Commit returns only after its WAL write is fsynced). Table
// files are shared between backups (each is copied once) and checked by
// size and CRC32C at restore and by VerifyBackup.
//
// RestoreBackup, offline, makes a store directory from a backup and bumps
// the instance's epoch, keeping its instance id: whoever follows the
// change log learns that revisions may have gone backwards.
//
// The backup directory is nowhere inside the store's directory (cohorted
// checks its flags); it can be copied elsewhere with rsync (README,
// "Operations").
//
// Thread-safety: every method of Backups is safe from many threads; calls
// run one at a time (a Create in progress makes the others wait).
//
//   COHORTE_ASSIGN_OR_RETURN(std::unique_ptr<Backups> backups,
//                            Backups::Open({.dir = "/srv/cohorte-backups"}));
//   COHORTE_ASSIGN_OR_RETURN(BackupInfo info, backups->Create(*store));
#ifndef COHORTE_STORAGE_BACKUP_H_
#define COHORTE_STORAGE_BACKUP_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cohorte/storage/v1/records.pb.h"
#include "storage/store.h"

namespace rocksdb {
class BackupEngine;
}  // namespace rocksdb

namespace cohorte::storage {

struct BackupOptions {
  // The backup directory; made (with its parents) if missing, mode 0700.
  std::string dir;
  // After each Create, only the newest `keep` backups stay (at least 1).
  int keep = 7;
};

// One backup in the directory.
struct BackupInfo {
  // Numbered from 1, in order of creation; never reused.
  uint32_t id = 0;
  absl::Time create_time;
  // The bytes of its files (files shared with other backups included) and
  // how many they are.
  uint64_t size_bytes = 0;
  uint32_t file_count = 0;
  // Instance, epoch and revision of the store it was taken of.
  v1::BackupMetadata metadata;
};

class Backups {
 public:
  // Opens the backup directory `options.dir`, making it if missing.
  // INVALID_ARGUMENT: dir is empty. UNAVAILABLE: it cannot be made or read.
  // DATA_LOSS: its metadata is corrupt.
  static absl::StatusOr<std::unique_ptr<Backups>> Open(
      const BackupOptions& options);

  Backups(const Backups&) = delete;
  Backups& operator=(const Backups&) = delete;
  ~Backups();

  const std::string& dir() const { return options_.dir; }

  // Backs up `store` now, while it goes on serving, then deletes the
  // backups beyond the newest options.keep. Returns the new backup. Every
  // revision committed before the call is in it. RESOURCE_EXHAUSTED: the
  // backup disk is full. UNAVAILABLE: an I/O error, or the store is
  // recovering from a storage fault. Nothing is left of a failed backup.
  absl::StatusOr<BackupInfo> Create(Store& store);

  // Every backup, oldest first.
  absl::StatusOr<std::vector<BackupInfo>> List();

  // Reads every file of backup `id` and checks its size and checksum.
  // Returns the backup if it is intact. NOT_FOUND: no backup `id`.
  // DATA_LOSS: a file is missing, of the wrong size or corrupt (the
  // message names it).
  absl::StatusOr<BackupInfo> Verify(uint32_t id);

  // Deletes backup `id` and the files no other backup shares. NOT_FOUND:
  // no backup `id`.
  absl::Status Delete(uint32_t id);

 private:
  explicit Backups(const BackupOptions& options);
  absl::StatusOr<BackupInfo> InfoLocked(uint32_t id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const BackupOptions options_;

  // State below is protected by mu_ (BackupEngine is not thread-safe).
  absl::Mutex mu_;
  std::unique_ptr<rocksdb::BackupEngine> engine_ ABSL_GUARDED_BY(mu_);
};

struct RestoreOptions {
  // The backup directory.
  std::string backup_dir;
  // The backup to restore; 0 for the newest.
  uint32_t backup_id = 0;
  // The store directory to make. REQUIRES: missing or empty.
  std::string store_path;
  // The restored epoch is also above this: the epoch of the store the
  // restore replaces, if any.
  int64_t min_epoch = 0;
};

struct RestoreResult {
  uint32_t backup_id = 0;
  std::string instance_id;
  // The epoch recorded in the backup, and the restored store's.
  int64_t backup_epoch = 0;
  int64_t epoch = 0;
  // The restored store's last revision.
  int64_t revision = 0;
};

// Makes a store at options.store_path from a backup, then opens it once to
// bump its epoch past every epoch the backup directory knows of (this
// backup's and any later one's) and options.min_epoch, keeping the
// instance id. Offline: no
// process may use store_path. FAILED_PRECONDITION: store_path holds
// something. NOT_FOUND: the directory holds no backup, or no backup
// `backup_id`. DATA_LOSS: the backup's files are corrupt (nothing usable is
// left at store_path). UNAVAILABLE: an I/O error.
absl::StatusOr<RestoreResult> RestoreBackup(const RestoreOptions& options);

}  // namespace cohorte::storage

#endif  // COHORTE_STORAGE_BACKUP_H_
