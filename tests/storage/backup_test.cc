// Backups of a store that goes on writing hold every write acknowledged
// before they began; retention keeps the newest; verification finds a
// damaged file; a restore refuses a non-empty target, keeps the instance
// id and bumps the epoch past every epoch the backup directory knows.

#include "storage/backup.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "tests/testing/raw_access.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace cohorte::storage {
namespace {

namespace fs = std::filesystem;
using ::cohorte::testing::IsOk;
using ::cohorte::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Writes index key `key` (value: the key again) at the next revision.
Mutation PutMutation(const std::string& key) {
  Mutation m;
  m.actor = "members/test";
  m.method = "Put";
  m.apply = [key](Txn& txn) -> absl::StatusOr<std::string> {
    txn.PutIndex(key, key);
    return key;
  };
  return m;
}

// Key of the write that gets revision `revision` in these tests.
std::string KeyOf(int64_t revision) { return absl::StrCat("k", revision); }

class BackupTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> OpenStore(const std::string& path) {
    StoreOptions options;
    options.path = path;
    // Tiny memtables: flushes happen while the backup runs.
    options.write_buffer_size = 64 << 10;
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    EXPECT_THAT(store, IsOk());
    return store.ok() ? *std::move(store) : nullptr;
  }
  std::unique_ptr<Backups> OpenBackups(int keep) {
    absl::StatusOr<std::unique_ptr<Backups>> backups =
        Backups::Open({.dir = backup_dir_, .keep = keep});
    EXPECT_THAT(backups, IsOk());
    return backups.ok() ? *std::move(backups) : nullptr;
  }
  absl::StatusOr<RestoreResult> Restore(const std::string& to,
                                        uint32_t id = 0) {
    return RestoreBackup(
        {.backup_dir = backup_dir_, .backup_id = id, .store_path = to});
  }
  // Commits the writes of revisions store->revision()+1 .. `to`.
  void WriteUpTo(Store& store, int64_t to) {
    for (int64_t r = store.revision() + 1; r <= to; ++r) {
      ASSERT_THAT(store.Commit(PutMutation(KeyOf(r))), IsOk());
    }
  }

  ::cohorte::testing::TempDir dir_;
  const std::string store_path_ = dir_.path() + "/store";
  const std::string backup_dir_ = dir_.path() + "/backups";
};

TEST_F(BackupTest, BackupTakenWhileWritingHoldsEveryAcknowledgedWrite) {
  std::unique_ptr<Store> store = OpenStore(store_path_);
  std::unique_ptr<Backups> backups = OpenBackups(/*keep=*/3);
  ASSERT_NE(store, nullptr);
  ASSERT_NE(backups, nullptr);
  WriteUpTo(*store, 500);

  std::atomic<bool> stop{false};
  std::thread writer([&] {
    while (!stop.load()) {
      const int64_t next = store->revision() + 1;
      if (!store->Commit(PutMutation(KeyOf(next))).ok()) return;
    }
  });
  const int64_t acknowledged = store->revision();
  absl::StatusOr<BackupInfo> info = backups->Create(*store);
  // On a loaded machine the writer may not have run yet: it commits once
  // more after `acknowledged` before it is stopped (or the test fails
  // below at the deadline).
  store->WaitForRevision(acknowledged, absl::Now() + absl::Seconds(60));
  stop.store(true);
  writer.join();
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(info->id, 1u);
  EXPECT_GE(info->metadata.revision(), acknowledged);
  EXPECT_EQ(info->metadata.instance_id(), store->instance_id());
  EXPECT_EQ(info->metadata.epoch(), 1);
  const std::string instance_id = store->instance_id();
  const int64_t written = store->revision();
  ASSERT_GT(written, acknowledged);
  store.reset();  // as after a crash: the restore uses the backup only

  const std::string restored_path = dir_.path() + "/restored";
  absl::StatusOr<RestoreResult> restored = Restore(restored_path);
  ASSERT_THAT(restored, IsOk());
  EXPECT_EQ(restored->backup_id, 1u);
  EXPECT_EQ(restored->instance_id, instance_id);
  EXPECT_EQ(restored->backup_epoch, 1);
  EXPECT_EQ(restored->epoch, 2);
  EXPECT_GE(restored->revision, info->metadata.revision());
  EXPECT_LE(restored->revision, written);

  std::unique_ptr<Store> reopened = OpenStore(restored_path);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->epoch(), 2);
  EXPECT_EQ(reopened->instance_id(), instance_id);
  EXPECT_EQ(reopened->revision(), restored->revision);
  // Every write up to the restored revision, and nothing after it.
  const View& view = testing::RawAccess::Committed(*reopened);
  for (int64_t r = 1; r <= written; ++r) {
    std::string value;
    absl::Status got = view.Get(Table::kIndexes, KeyOf(r), &value);
    if (r <= restored->revision) {
      ASSERT_THAT(got, IsOk()) << "revision " << r;
    } else {
      ASSERT_THAT(got, StatusIs(absl::StatusCode::kNotFound))
          << "revision " << r;
    }
  }
  // The restored store takes writes.
  WriteUpTo(*reopened, reopened->revision() + 1);
}

TEST_F(BackupTest, ABackupWithoutAWalRestores) {
  std::unique_ptr<Store> store = OpenStore(store_path_);
  ASSERT_NE(store, nullptr);
  WriteUpTo(*store, 5);
  // Reopening flushes what the WAL held: the live WAL is empty, and the
  // engine leaves an empty WAL out of the backup.
  store.reset();
  store = OpenStore(store_path_);
  ASSERT_NE(store, nullptr);
  std::unique_ptr<Backups> backups = OpenBackups(/*keep=*/1);
  ASSERT_NE(backups, nullptr);
  ASSERT_THAT(backups->Create(*store), IsOk());
  for (const auto& entry : fs::directory_iterator(backup_dir_ + "/private/1")) {
    EXPECT_NE(entry.path().extension(), ".log") << entry.path();
  }
  absl::StatusOr<RestoreResult> restored = Restore(dir_.path() + "/restored");
  ASSERT_THAT(restored, IsOk());
  EXPECT_EQ(restored->revision, 5);
  EXPECT_EQ(restored->epoch, 2);
}

TEST_F(BackupTest, RetentionKeepsTheNewestBackups) {
  std::unique_ptr<Store> store = OpenStore(store_path_);
  std::unique_ptr<Backups> backups = OpenBackups(/*keep=*/2);
  ASSERT_NE(backups, nullptr);
  for (int i = 1; i <= 3; ++i) {
    WriteUpTo(*store, 10 * i);
    ASSERT_THAT(backups->Create(*store), IsOk());
  }
  absl::StatusOr<std::vector<BackupInfo>> list = backups->List();
  ASSERT_THAT(list, IsOk());
  std::vector<uint32_t> ids;
  std::vector<int64_t> revisions;
  for (const BackupInfo& info : *list) {
    ids.push_back(info.id);
    revisions.push_back(info.metadata.revision());
  }
  EXPECT_THAT(ids, ElementsAre(2u, 3u));
  EXPECT_THAT(revisions, ElementsAre(20, 30));
}

TEST_F(BackupTest, VerifyFindsADamagedFileAndDeleteRemovesABackup) {
  std::unique_ptr<Store> store = OpenStore(store_path_);
  std::unique_ptr<Backups> backups = OpenBackups(/*keep=*/5);
  ASSERT_NE(backups, nullptr);
  WriteUpTo(*store, 2000);  // some in table files, not only in the WAL
  ASSERT_THAT(backups->Create(*store), IsOk());
  WriteUpTo(*store, 2001);
  ASSERT_THAT(backups->Create(*store), IsOk());
  EXPECT_THAT(backups->Verify(1), IsOk());
  EXPECT_THAT(backups->Verify(7), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(backups->Delete(7), StatusIs(absl::StatusCode::kNotFound));

  // Flip one byte in the middle of each of backup 2's own files (the WAL
  // copy and the metadata files are in private/2).
  int damaged = 0;
  for (const auto& entry :
       fs::recursive_directory_iterator(backup_dir_ + "/private/2")) {
    if (!entry.is_regular_file() || entry.file_size() < 16) continue;
    std::fstream file(entry.path(),
                      std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(static_cast<std::streamoff>(entry.file_size() / 2));
    const char c = static_cast<char>(file.get());
    file.seekp(static_cast<std::streamoff>(entry.file_size() / 2));
    file.put(static_cast<char>(c ^ 0x5a));
    ++damaged;
  }
  ASSERT_GT(damaged, 0);
  absl::Status damage = backups->Verify(2).status();
  EXPECT_THAT(damage, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(std::string(damage.message()), HasSubstr("backup 2"));

  EXPECT_THAT(backups->Delete(2), IsOk());
  EXPECT_THAT(backups->Verify(2), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(backups->Verify(1), IsOk());
}

TEST_F(BackupTest, RestoreRefusesATargetThatHoldsSomething) {
  std::unique_ptr<Store> store = OpenStore(store_path_);
  std::unique_ptr<Backups> backups = OpenBackups(/*keep=*/1);
  ASSERT_NE(backups, nullptr);
  WriteUpTo(*store, 3);
  ASSERT_THAT(backups->Create(*store), IsOk());
  const std::string target = dir_.path() + "/target";
  fs::create_directory(target);
  std::ofstream(target + "/precious") << "keep me";
  absl::Status refused = Restore(target).status();
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(refused.message()), HasSubstr("not empty"));
  EXPECT_TRUE(fs::exists(target + "/precious"));
  absl::Status absent = Restore(dir_.path() + "/other", /*id=*/9).status();
  EXPECT_THAT(absent, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(std::string(absent.message()), HasSubstr("no backup 9"));
  EXPECT_FALSE(fs::exists(dir_.path() + "/other/CURRENT"));
}

TEST_F(BackupTest, RestoreBumpsTheEpochPastEveryEpochTheBackupsKnow) {
  std::unique_ptr<Store> store = OpenStore(store_path_);
  std::unique_ptr<Backups> backups = OpenBackups(/*keep=*/5);
  ASSERT_NE(backups, nullptr);
  WriteUpTo(*store, 3);
  ASSERT_THAT(backups->Create(*store), IsOk());  // backup 1, epoch 1
  store.reset();

  // The instance is restored (epoch 2), then backed up again.
  const std::string second = dir_.path() + "/second";
  ASSERT_THAT(Restore(second), IsOk());
  store = OpenStore(second);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->epoch(), 2);
  ASSERT_THAT(backups->Create(*store), IsOk());  // backup 2, epoch 2
  store.reset();

  // Going back to backup 1 is yet another history: epoch 3, not 2.
  absl::StatusOr<RestoreResult> third =
      Restore(dir_.path() + "/third", /*id=*/1);
  ASSERT_THAT(third, IsOk());
  EXPECT_EQ(third->backup_epoch, 1);
  EXPECT_EQ(third->epoch, 3);
  EXPECT_EQ(third->revision, 3);
}

}  // namespace
}  // namespace cohorte::storage
