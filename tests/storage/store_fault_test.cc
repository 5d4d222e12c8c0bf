// Storage faults: a fault-injecting RocksDB FileSystem fails the WAL's
// appends or syncs, table files (flushes and compactions) or every write,
// with ENOSPC or EIO. Each time the store answers without aborting, keeps
// serving reads, acknowledges nothing it did not persist, and writes again
// by itself once the fault is cleared.

#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/rocksdb_status.h"
#include "storage/store.h"
#include "tests/storage/fault_file_system.h"
#include "tests/testing/raw_access.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace cohorte::storage {
namespace {

using ::cohorte::storage::testing::Error;
using ::cohorte::storage::testing::Fault;
using ::cohorte::storage::testing::FaultFileSystem;
using ::cohorte::storage::testing::FileKind;
using ::cohorte::storage::testing::Operation;
using ::cohorte::storage::testing::RawAccess;
using ::cohorte::testing::IsOk;
using ::cohorte::testing::StatusIs;

Mutation PutMutation(const std::string& key, size_t value_size = 1024) {
  Mutation m;
  m.actor = "members/test";
  m.method = "Put";
  m.apply = [key, value_size](Txn& txn) -> absl::StatusOr<std::string> {
    txn.PutIndex(key, std::string(value_size, 'v'));
    return key;
  };
  return m;
}

struct FaultCase {
  const char* name;
  Fault fault;
  absl::StatusCode code;
  absl::string_view reason;
};

// Test names and failure messages show the case's name.
void PrintTo(const FaultCase& c, std::ostream* os) { *os << c.name; }

class StoreFaultTest : public ::testing::TestWithParam<FaultCase> {
 protected:
  void SetUp() override {
    fs_ = std::make_shared<FaultFileSystem>(rocksdb::FileSystem::Default());
    OpenStore(fs_);
  }

  void OpenStore(std::shared_ptr<rocksdb::FileSystem> fs) {
    store_.reset();
    StoreOptions options;
    options.path = dir_.path() + "/db";
    options.write_buffer_size = 64 * 1024;
    options.recovery_interval = absl::Milliseconds(5);
    options.file_system = std::move(fs);
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
  }

  // Commits `key`; remembers it if acknowledged.
  absl::Status Put(const std::string& key) {
    absl::StatusOr<CommitResult> r = store_->Commit(PutMutation(key));
    if (r.ok()) {
      absl::MutexLock lock(&mu_);
      acknowledged_.insert(key);
    }
    return r.status();
  }

  // Commits fresh keys until one is acknowledged or `timeout` passes.
  absl::Status PutUntilAcknowledged(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    absl::Status last;
    for (int i = 0; absl::Now() < deadline; ++i) {
      last = Put(absl::StrCat("after/", i));
      if (last.ok()) return last;
    }
    return last;
  }

  // Reopens without faults: every acknowledged key is there and the
  // change log has exactly one record per revision, with no gap.
  void ExpectEveryAcknowledgedWriteKept() {
    OpenStore(nullptr);
    absl::MutexLock lock(&mu_);  // no writer is left; the analysis asks
    for (const std::string& key : acknowledged_) {
      std::string value;
      EXPECT_THAT(
          RawAccess::Committed(*store_).Get(Table::kIndexes, key, &value),
          IsOk())
          << key;
    }
    absl::StatusOr<std::vector<v1::ChangeRecord>> changes =
        RawAccess::ReadChanges(*store_, 1, 1 << 20);
    ASSERT_THAT(changes, IsOk());
    ASSERT_EQ(static_cast<int64_t>(changes->size()), store_->revision());
    for (size_t i = 0; i < changes->size(); ++i) {
      ASSERT_EQ((*changes)[i].revision(), static_cast<int64_t>(i + 1));
    }
    EXPECT_GE(store_->revision(), static_cast<int64_t>(acknowledged_.size()));
  }

  ::cohorte::testing::TempDir dir_;
  std::shared_ptr<FaultFileSystem> fs_;
  std::unique_ptr<Store> store_;
  absl::Mutex mu_;
  std::set<std::string> acknowledged_ ABSL_GUARDED_BY(mu_);
};

TEST_P(StoreFaultTest, FailsCleanlyServesReadsAndRecoversWhenTheFaultClears) {
  const FaultCase& c = GetParam();
  for (int i = 0; i < 20; ++i)
    ASSERT_THAT(Put(absl::StrCat("before/", i)), IsOk());

  fs_->Inject(c.fault);
  // A table fault shows once a flush runs: write until the store refuses.
  absl::Status failed;
  for (int i = 0; i < 2000 && failed.ok(); ++i) {
    failed = Put(absl::StrCat("during/", i));
  }
  EXPECT_THAT(failed, StatusIs(c.code, c.reason));
  EXPECT_THAT(store_->write_status(), StatusIs(c.code, c.reason));
  // The store keeps refusing (never appending to the failed WAL), and
  // keeps answering reads.
  for (int i = 0; i < 20; ++i) {
    EXPECT_THAT(Put(absl::StrCat("refused/", i)), StatusIs(c.code));
  }
  std::string value;
  EXPECT_THAT(
      RawAccess::Committed(*store_).Get(Table::kIndexes, "before/7", &value),
      IsOk());
  EXPECT_GT(fs_->failures(), 0);

  fs_->Clear();
  EXPECT_THAT(PutUntilAcknowledged(absl::Seconds(20)), IsOk());
  EXPECT_THAT(store_->write_status(), IsOk());
  for (int i = 0; i < 100; ++i)
    ASSERT_THAT(Put(absl::StrCat("later/", i)), IsOk());
  EXPECT_THAT(
      RawAccess::Committed(*store_).Get(Table::kIndexes, "later/99", &value),
      IsOk());

  ExpectEveryAcknowledgedWriteKept();
}

TEST_P(StoreFaultTest,
       ConcurrentWritersThroughTheFaultLoseNothingAcknowledged) {
  const FaultCase& c = GetParam();
  std::atomic<bool> stop{false};
  std::atomic<int> refused{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        absl::Status s = Put(absl::StrCat("w", t, "/", i));
        if (!s.ok()) {
          EXPECT_THAT(s, StatusIs(c.code));
          ++refused;
        }
      }
    });
  }
  // Let some writes through, then the fault, then clear it.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (store_->revision() < 200 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  fs_->Inject(c.fault);
  while (refused.load() < 50 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  fs_->Clear();
  const int64_t cleared_at = store_->revision();
  while (store_->revision() < cleared_at + 200 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  stop = true;
  for (std::thread& w : writers) w.join();
  EXPECT_GE(refused.load(), 50);
  EXPECT_GE(store_->revision(), cleared_at + 200);

  ExpectEveryAcknowledgedWriteKept();
}

TEST_P(StoreFaultTest, NestedReadsGoOnWhileTheStoreReopens) {
  const FaultCase& c = GetParam();
  for (int i = 0; i < 50; ++i) ASSERT_THAT(Put(absl::StrCat("k/", i)), IsOk());
  std::atomic<bool> stop{false};
  std::atomic<int> nested_reads{0};
  // A scan whose visit reads again, as the service's index walks do.
  std::thread reader([&] {
    while (!stop.load()) {
      const View& committed = RawAccess::Committed(*store_);
      absl::Status s = committed.Scan(
          Table::kIndexes, "k/", "",
          [&](absl::string_view key, absl::string_view) {
            std::string value;
            if (committed.Get(Table::kIndexes, key, &value).ok()) {
              ++nested_reads;
            }
            return true;
          });
      // Only while a reopen's read-only fallback is also impossible.
      if (!s.ok()) {
        EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable));
      }
    }
  });
  fs_->Inject(c.fault);
  absl::Status failed;
  for (int i = 0; i < 2000 && failed.ok(); ++i) {
    failed = Put(absl::StrCat("during/", i));
  }
  EXPECT_THAT(failed, StatusIs(c.code));
  // Reads go on while writes are stopped, and again once the store has
  // reopened (not only those made before the fault).
  auto reads_progress = [&] {
    const int from = nested_reads.load();
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (nested_reads.load() <= from + 50 && absl::Now() < deadline) {
      std::this_thread::yield();
    }
    return nested_reads.load() > from + 50;
  };
  EXPECT_TRUE(reads_progress()) << "reads stopped during the fault";
  fs_->Clear();
  EXPECT_THAT(PutUntilAcknowledged(absl::Seconds(20)), IsOk());
  EXPECT_TRUE(reads_progress()) << "reads stopped after the reopen";
  stop = true;
  reader.join();
}

INSTANTIATE_TEST_SUITE_P(
    Faults, StoreFaultTest,
    ::testing::Values(
        FaultCase{"WalAppendNoSpace",
                  {FileKind::kWal, Operation::kAppend, Error::kNoSpace},
                  absl::StatusCode::kResourceExhausted,
                  kReasonStorageFull},
        FaultCase{"WalSyncNoSpace",
                  {FileKind::kWal, Operation::kSync, Error::kNoSpace},
                  absl::StatusCode::kResourceExhausted,
                  kReasonStorageFull},
        FaultCase{"WalAppendIoError",
                  {FileKind::kWal, Operation::kAppend, Error::kIoError},
                  absl::StatusCode::kUnavailable,
                  kReasonStorageUnavailable},
        FaultCase{"WalSyncIoError",
                  {FileKind::kWal, Operation::kSync, Error::kIoError},
                  absl::StatusCode::kUnavailable,
                  kReasonStorageUnavailable},
        FaultCase{"FlushNoSpace",
                  {FileKind::kTable, Operation::kAnyWrite, Error::kNoSpace},
                  absl::StatusCode::kResourceExhausted,
                  kReasonStorageFull},
        FaultCase{"FlushIoError",
                  {FileKind::kTable, Operation::kAnyWrite, Error::kIoError},
                  absl::StatusCode::kUnavailable,
                  kReasonStorageUnavailable},
        FaultCase{"DiskFullEverywhere",
                  {FileKind::kAny, Operation::kAnyWrite, Error::kNoSpace},
                  absl::StatusCode::kResourceExhausted,
                  kReasonStorageFull},
        FaultCase{"ReadOnlyFileSystem",
                  {FileKind::kAny, Operation::kAnyWrite, Error::kReadOnly},
                  absl::StatusCode::kUnavailable,
                  kReasonStorageUnavailable}),
    [](const ::testing::TestParamInfo<FaultCase>& info) {
      return std::string(info.param.name);
    });

TEST(StoreFaultOpenTest, OpenOnAFullDiskFailsWithoutCreatingOrAborting) {
  ::cohorte::testing::TempDir dir;
  auto fs = std::make_shared<FaultFileSystem>(rocksdb::FileSystem::Default());
  StoreOptions options;
  options.path = dir.path() + "/db";
  options.write_buffer_size = 64 * 1024;
  options.file_system = fs;
  {
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    ASSERT_THAT(store, IsOk());
    for (int i = 0; i < 50; ++i) {
      ASSERT_THAT((*store)->Commit(PutMutation(absl::StrCat("k", i))), IsOk());
    }
  }
  fs->Inject({FileKind::kAny, Operation::kAnyWrite, Error::kNoSpace});
  EXPECT_THAT(
      Store::Open(options),
      StatusIs(absl::StatusCode::kResourceExhausted, kReasonStorageFull));
  fs->Clear();
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
  ASSERT_THAT(store, IsOk());
  EXPECT_EQ((*store)->revision(), 50);
}

}  // namespace
}  // namespace cohorte::storage

namespace cohorte::storage {
namespace {

// CommitAsync answers only what is fsynced: while the WAL's sync fails,
// every callback gets the error, and after the fault clears what it
// acknowledged is kept.
TEST(StoreAsyncFaultTest, AsyncCommitsAreAnsweredWithTheSyncsFailure) {
  ::cohorte::testing::TempDir dir;
  auto fs = std::make_shared<FaultFileSystem>(rocksdb::FileSystem::Default());
  StoreOptions options;
  options.path = dir.path() + "/db";
  options.recovery_interval = absl::Milliseconds(5);
  options.file_system = fs;
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
  ASSERT_THAT(store, IsOk());

  fs->Inject({FileKind::kWal, Operation::kSync, Error::kIoError});
  std::vector<absl::Status> answers;
  for (int i = 0; i < 5; ++i) {
    (*store)->CommitAsync(
        PutMutation(absl::StrCat("during/", i)),
        [&](absl::StatusOr<CommitResult> r) { answers.push_back(r.status()); });
  }
  ASSERT_EQ(answers.size(), 5u);  // alone, each CommitAsync led its own
  for (const absl::Status& a : answers) {
    EXPECT_THAT(a, StatusIs(absl::StatusCode::kUnavailable));
  }

  fs->Clear();
  absl::Status acknowledged;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  int tries = 0;
  do {
    (*store)->CommitAsync(
        PutMutation(absl::StrCat("after/", tries++)),
        [&](absl::StatusOr<CommitResult> r) { acknowledged = r.status(); });
  } while (!acknowledged.ok() && absl::Now() < deadline);
  ASSERT_THAT(acknowledged, IsOk());
  const std::string last = absl::StrCat("after/", tries - 1);
  store->reset();
  options.file_system = nullptr;
  store = Store::Open(options);
  ASSERT_THAT(store, IsOk());
  std::string value;
  EXPECT_THAT(RawAccess::Committed(**store).Get(Table::kIndexes, last, &value),
              IsOk());
}

}  // namespace
}  // namespace cohorte::storage
