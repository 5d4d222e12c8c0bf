// File: tests/storage/fault_file_system.h
//
// FaultFileSystem wraps a RocksDB FileSystem and fails chosen operations on
// chosen kinds of files until the fault is cleared: ENOSPC or EIO on the
// WAL's appends or syncs, on table files (flushes, compactions), on the
// MANIFEST, or on every write (a filesystem turned read-only). Failed calls
// write nothing. It can also hold the WAL's syncs (a commit's fsync kept in
// flight) until the test releases them. Thread-safe: RocksDB's threads call it
// while a test changes the fault.
//
//   auto fs =
//   std::make_shared<FaultFileSystem>(rocksdb::FileSystem::Default());
//   fs->Inject({FileKind::kWal, Operation::kSync, Error::kNoSpace});
//   ... writes fail ...
//   fs->Clear();
#ifndef COHORTE_TESTS_STORAGE_FAULT_FILE_SYSTEM_H_
#define COHORTE_TESTS_STORAGE_FAULT_FILE_SYSTEM_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "rocksdb/file_system.h"
#include "rocksdb/io_status.h"

namespace cohorte::storage::testing {

enum class FileKind { kWal, kTable, kManifest, kAny };
enum class Operation { kAppend, kSync, kCreate, kAnyWrite };
enum class Error { kNoSpace, kIoError, kReadOnly };

struct Fault {
  FileKind files = FileKind::kAny;
  Operation operation = Operation::kAnyWrite;
  Error error = Error::kNoSpace;
};

class FaultFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit FaultFileSystem(std::shared_ptr<rocksdb::FileSystem> target)
      : rocksdb::FileSystemWrapper(std::move(target)) {}

  const char* Name() const override { return "FaultFileSystem"; }

  // From now on, the operations `fault` names fail until Clear().
  void Inject(const Fault& fault) {
    absl::MutexLock lock(&mu_);
    fault_ = fault;
    active_ = true;
  }
  void Clear() {
    absl::MutexLock lock(&mu_);
    active_ = false;
  }
  // From now on, every sync of a WAL file waits, before its fault check,
  // until ReleaseWalSyncs(): a commit's fsync held in flight.
  void HoldWalSyncs() {
    absl::MutexLock lock(&mu_);
    holding_ = true;
  }
  void ReleaseWalSyncs() {
    absl::MutexLock lock(&mu_);
    holding_ = false;
  }
  // Waits until a WAL sync is held, or until `deadline`; true if one is.
  bool AwaitHeldWalSync(absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithDeadline(
        absl::Condition(
            +[](int* held) { return *held > 0; }, &held_syncs_),
        deadline);
  }

  // How many operations failed since construction.
  int failures() const { return failures_.load(); }

  // The error `operation` on `fname` gets now, OK if none.
  rocksdb::IOStatus Check(const std::string& fname, Operation operation) {
    absl::MutexLock lock(&mu_);
    if (operation == Operation::kSync && absl::EndsWith(fname, ".log")) {
      ++held_syncs_;
      mu_.Await(absl::Condition(
          +[](bool* holding) { return !*holding; }, &holding_));
      --held_syncs_;
    }
    if (!active_ || !Matches(fname, operation)) return rocksdb::IOStatus::OK();
    ++failures_;
    switch (fault_.error) {
      case Error::kNoSpace:
        return rocksdb::IOStatus::NoSpace("injected", fname);
      case Error::kIoError:
        return rocksdb::IOStatus::IOError("injected EIO", fname);
      case Error::kReadOnly:
        return rocksdb::IOStatus::IOError("injected read-only file system",
                                          fname);
    }
    return rocksdb::IOStatus::OK();
  }

  rocksdb::IOStatus NewWritableFile(const std::string& fname,
                                    const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = Check(fname, Operation::kCreate);
    if (!s.ok()) return s;
    std::unique_ptr<rocksdb::FSWritableFile> file;
    s = target()->NewWritableFile(fname, options, &file, dbg);
    if (s.ok()) r->reset(new File(this, fname, std::move(file)));
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(
      const std::string& fname, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* r,
      rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = Check(fname, Operation::kCreate);
    if (!s.ok()) return s;
    std::unique_ptr<rocksdb::FSWritableFile> file;
    s = target()->ReopenWritableFile(fname, options, &file, dbg);
    if (s.ok()) r->reset(new File(this, fname, std::move(file)));
    return s;
  }
  rocksdb::IOStatus ReuseWritableFile(
      const std::string& fname, const std::string& old_fname,
      const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* r,
      rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = Check(fname, Operation::kCreate);
    if (!s.ok()) return s;
    std::unique_ptr<rocksdb::FSWritableFile> file;
    s = target()->ReuseWritableFile(fname, old_fname, options, &file, dbg);
    if (s.ok()) r->reset(new File(this, fname, std::move(file)));
    return s;
  }
  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& dst,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = Check(dst, Operation::kCreate);
    if (!s.ok()) return s;
    return target()->RenameFile(src, dst, options, dbg);
  }

 private:
  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(FaultFileSystem* fs, std::string fname,
         std::unique_ptr<rocksdb::FSWritableFile> target)
        : rocksdb::FSWritableFileOwnerWrapper(std::move(target)),
          fs_(fs),
          fname_(std::move(fname)) {}

    rocksdb::IOStatus Append(const rocksdb::Slice& data,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = fs_->Check(fname_, Operation::kAppend);
      return s.ok() ? target()->Append(data, options, dbg) : s;
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data,
                             const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = fs_->Check(fname_, Operation::kAppend);
      return s.ok() ? target()->Append(data, options, info, dbg) : s;
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data,
                                       uint64_t offset,
                                       const rocksdb::IOOptions& options,
                                       rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = fs_->Check(fname_, Operation::kAppend);
      return s.ok() ? target()->PositionedAppend(data, offset, options, dbg)
                    : s;
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = fs_->Check(fname_, Operation::kSync);
      return s.ok() ? target()->Sync(options, dbg) : s;
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                            rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = fs_->Check(fname_, Operation::kSync);
      return s.ok() ? target()->Fsync(options, dbg) : s;
    }
    rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t nbytes,
                                const rocksdb::IOOptions& options,
                                rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = fs_->Check(fname_, Operation::kSync);
      return s.ok() ? target()->RangeSync(offset, nbytes, options, dbg) : s;
    }

   private:
    FaultFileSystem* const fs_;
    const std::string fname_;
  };

  bool Matches(const std::string& fname, Operation operation) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (fault_.operation != Operation::kAnyWrite &&
        fault_.operation != operation) {
      return false;
    }
    switch (fault_.files) {
      case FileKind::kWal:
        return absl::EndsWith(fname, ".log");
      case FileKind::kTable:
        return absl::EndsWith(fname, ".sst");
      case FileKind::kManifest:
        return absl::StrContains(fname, "MANIFEST-");
      case FileKind::kAny:
        return true;
    }
    return false;
  }

  absl::Mutex mu_;
  bool active_ ABSL_GUARDED_BY(mu_) = false;
  bool holding_ ABSL_GUARDED_BY(mu_) = false;
  int held_syncs_ ABSL_GUARDED_BY(mu_) = 0;
  Fault fault_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> failures_{0};
};

}  // namespace cohorte::storage::testing

#endif  // COHORTE_TESTS_STORAGE_FAULT_FILE_SYSTEM_H_
