#include "storage/backup.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/utilities/backup_engine.h"
#include "storage/rocksdb_status.h"
#include "storage/status_macros.h"

namespace cohorte::storage {
namespace {

rocksdb::BackupEngineOptions EngineOptions(const std::string& dir) {
  rocksdb::BackupEngineOptions options(dir);
  // Every file of a backup is fsynced before the backup counts.
  options.sync = true;
  // Table files shared between backups, named by their checksum and
  // session, so two stores' files never collide.
  options.share_table_files = true;
  options.share_files_with_checksum = true;
  return options;
}

// Makes `dir` and its parents; a directory it makes is its owner's only,
// since backups hold everything, closed groups included.
absl::Status MakeDirectories(const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::create_directories(dir, ec)) {
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
  }
  if (ec) {
    return absl::UnavailableError(absl::StrCat(
        "cannot make the backup directory ", dir, ": ", ec.message()));
  }
  return absl::OkStatus();
}

BackupInfo FromEngineInfo(const rocksdb::BackupInfo& info) {
  BackupInfo out;
  out.id = info.backup_id;
  out.create_time = absl::FromUnixSeconds(info.timestamp);
  out.size_bytes = info.size;
  out.file_count = info.number_files;
  // A backup made by something else has no (or other) metadata: shown with
  // an empty one rather than refused.
  if (!out.metadata.ParseFromString(info.app_metadata)) out.metadata.Clear();
  return out;
}

absl::Status NoBackup(uint32_t id) {
  return absl::NotFoundError(absl::StrCat("no backup ", id));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Backups>> Backups::Open(
    const BackupOptions& options) {
  if (options.dir.empty()) {
    return absl::InvalidArgumentError("the backup directory is not set");
  }
  COHORTE_RETURN_IF_ERROR(MakeDirectories(options.dir));
  auto backups = std::unique_ptr<Backups>(new Backups(options));
  rocksdb::BackupEngine* engine = nullptr;
  COHORTE_RETURN_IF_ERROR(FromRocksDb(
      rocksdb::BackupEngine::Open(rocksdb::Env::Default(),
                                  EngineOptions(options.dir), &engine),
      absl::StrCat("opening the backup directory ", options.dir)));
  absl::MutexLock lock(&backups->mu_);
  backups->engine_.reset(engine);
  return backups;
}

Backups::Backups(const BackupOptions& options) : options_(options) {}

Backups::~Backups() = default;

absl::StatusOr<BackupInfo> Backups::Create(Store& store) {
  absl::MutexLock lock(&mu_);
  v1::BackupMetadata metadata;
  metadata.set_instance_id(store.instance_id());
  metadata.set_epoch(store.epoch());
  *metadata.mutable_create_time() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
          absl::ToUnixNanos(absl::Now()));
  rocksdb::BackupID id = 0;
  {
    // The database cannot be reopened under the engine meanwhile.
    ReopenLock::Reader reading(&store.db_lock_);
    if (store.db_ == nullptr || !store.write_status().ok()) {
      return absl::UnavailableError(
          "the store is recovering from a storage fault; back up later");
    }
    // Read under the lock: every revision up to it is acknowledged, hence
    // in the WAL the engine copies.
    metadata.set_revision(store.revision());
    // No record chunks are flushed meanwhile (see Store::record_flush_mu_):
    // uploads pause, other writes go on.
    absl::WriterMutexLock no_chunk_flush(&store.record_flush_mu_);
    rocksdb::CreateBackupOptions create;
    // The live WAL is copied as it stands: no flush, no pause of writes.
    create.flush_before_backup = false;
    COHORTE_RETURN_IF_ERROR(FromRocksDb(
        engine_->CreateNewBackupWithMetadata(create, store.db_.get(),
                                             metadata.SerializeAsString(), &id),
        absl::StrCat("backing up to ", options_.dir)));
  }
  COHORTE_RETURN_IF_ERROR(FromRocksDb(
      engine_->PurgeOldBackups(std::max(options_.keep, 1)),
      absl::StrCat("deleting backups beyond the newest ", options_.keep)));
  return InfoLocked(id);
}

absl::StatusOr<BackupInfo> Backups::InfoLocked(uint32_t id) {
  rocksdb::BackupInfo info;
  rocksdb::Status s = engine_->GetBackupInfo(id, &info);
  if (s.IsNotFound()) return NoBackup(id);
  COHORTE_RETURN_IF_ERROR(FromRocksDb(s, "reading a backup's information"));
  return FromEngineInfo(info);
}

absl::StatusOr<std::vector<BackupInfo>> Backups::List() {
  absl::MutexLock lock(&mu_);
  std::vector<rocksdb::BackupInfo> infos;
  engine_->GetBackupInfo(&infos);
  std::vector<BackupInfo> out;
  out.reserve(infos.size());
  for (const rocksdb::BackupInfo& info : infos) {
    out.push_back(FromEngineInfo(info));
  }
  std::sort(
      out.begin(), out.end(),
      [](const BackupInfo& a, const BackupInfo& b) { return a.id < b.id; });
  return out;
}

absl::StatusOr<BackupInfo> Backups::Verify(uint32_t id) {
  absl::MutexLock lock(&mu_);
  COHORTE_ASSIGN_OR_RETURN(BackupInfo info, InfoLocked(id));
  rocksdb::IOStatus s =
      engine_->VerifyBackup(id, /*verify_with_checksum=*/true);
  if (s.IsNotFound() || s.IsCorruption()) {
    // A file is missing or differs: the backup is damaged, not absent.
    return absl::DataLossError(
        absl::StrCat("backup ", id, " is damaged: ", s.ToString()));
  }
  COHORTE_RETURN_IF_ERROR(
      FromRocksDb(s, absl::StrCat("verifying backup ", id)));
  return info;
}

absl::Status Backups::Delete(uint32_t id) {
  absl::MutexLock lock(&mu_);
  COHORTE_RETURN_IF_ERROR(InfoLocked(id).status());
  return FromRocksDb(engine_->DeleteBackup(id),
                     absl::StrCat("deleting backup ", id));
}

absl::StatusOr<RestoreResult> RestoreBackup(const RestoreOptions& options) {
  std::error_code ec;
  if (std::filesystem::exists(options.store_path, ec) &&
      !std::filesystem::is_empty(options.store_path, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat(options.store_path,
                     " is not empty; refusing to restore "
                     "over it"));
  }
  if (!std::filesystem::is_directory(options.backup_dir, ec)) {
    return absl::NotFoundError(
        absl::StrCat("no backup directory ", options.backup_dir));
  }
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  COHORTE_RETURN_IF_ERROR(FromRocksDb(
      rocksdb::BackupEngineReadOnly::Open(
          rocksdb::Env::Default(), EngineOptions(options.backup_dir), &raw),
      absl::StrCat("opening the backup directory ", options.backup_dir)));
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine(raw);

  std::vector<rocksdb::BackupInfo> infos;
  engine->GetBackupInfo(&infos);
  if (infos.empty()) {
    return absl::NotFoundError(
        absl::StrCat(options.backup_dir, " holds no backup"));
  }
  RestoreResult result;
  result.backup_id = options.backup_id;
  if (result.backup_id == 0) {
    for (const rocksdb::BackupInfo& info : infos) {
      result.backup_id = std::max(result.backup_id, info.backup_id);
    }
  }
  // Past every epoch the directory knows: a later backup may have been
  // taken after an earlier restore or recovery.
  int64_t newest_epoch = options.min_epoch;
  bool found = false;
  for (const rocksdb::BackupInfo& info : infos) {
    const BackupInfo backup = FromEngineInfo(info);
    newest_epoch = std::max(newest_epoch, backup.metadata.epoch());
    if (backup.id == result.backup_id) {
      found = true;
      result.backup_epoch = backup.metadata.epoch();
    }
  }
  if (!found) return NoBackup(result.backup_id);

  absl::Status restored =
      FromRocksDb(engine->RestoreDBFromBackup(
                      result.backup_id, options.store_path, options.store_path),
                  absl::StrCat("restoring backup ", result.backup_id, " into ",
                               options.store_path));
  if (restored.ok()) {
    StoreOptions store_options;
    store_options.path = options.store_path;
    store_options.create_if_missing = false;
    store_options.restored = true;
    store_options.restored_min_epoch = newest_epoch;
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(store_options);
    if (store.ok()) {
      result.instance_id = (*store)->instance_id();
      result.epoch = (*store)->epoch();
      result.revision = (*store)->revision();
      return result;
    }
    restored = store.status();
  }
  // The directory was empty: what is there now is an unusable half.
  for (const auto& entry :
       std::filesystem::directory_iterator(options.store_path, ec)) {
    std::filesystem::remove_all(entry.path(), ec);
  }
  return restored;
}

}  // namespace cohorte::storage
