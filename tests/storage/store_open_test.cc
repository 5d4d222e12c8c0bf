// Start-up refuses to guess: a new store is made only in a missing or empty
// directory; a directory that holds anything else must be a complete store
// (CURRENT, a WAL, the column families, the instance record), and a WAL
// corrupt before its last record stops Open; a torn last record (a crash
// in the middle of a write) is dropped as normal.

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/store.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace cohorte::storage {
namespace {

namespace fs = std::filesystem;
using ::cohorte::testing::IsOk;
using ::cohorte::testing::StatusIs;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;

Mutation PutMutation(const std::string& key) {
  Mutation m;
  m.actor = "members/test";
  m.method = "Put";
  m.apply = [key](Txn& txn) -> absl::StatusOr<std::string> {
    txn.PutIndex(key, std::string(200, 'v'));
    return key;
  };
  return m;
}

class StoreOpenTest : public ::testing::Test {
 protected:
  StoreOptions Options(bool create_if_missing) const {
    StoreOptions options;
    options.path = path_;
    options.create_if_missing = create_if_missing;
    return options;
  }

  // Makes a store with `revisions` committed revisions, all in its WAL.
  void MakeStore(int revisions) {
    absl::StatusOr<std::unique_ptr<Store>> store =
        Store::Open(Options(/*create_if_missing=*/true));
    ASSERT_THAT(store, IsOk());
    for (int i = 0; i < revisions; ++i) {
      ASSERT_THAT((*store)->Commit(PutMutation(absl::StrCat("k", i))), IsOk());
    }
  }

  std::vector<fs::path> Wals() const {
    std::vector<fs::path> wals;
    for (const auto& e : fs::directory_iterator(path_)) {
      if (e.path().extension() == ".log") wals.push_back(e.path());
    }
    std::sort(wals.begin(), wals.end());
    return wals;
  }

  ::cohorte::testing::TempDir dir_;
  const std::string path_ = dir_.path() + "/store";
};

TEST_F(StoreOpenTest, NewStoreIsMadeOnlyInAMissingOrEmptyDirectory) {
  EXPECT_THAT(Store::Open(Options(/*create_if_missing=*/false)),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_FALSE(fs::exists(path_));
  fs::create_directory(path_);
  EXPECT_THAT(Store::Open(Options(/*create_if_missing=*/false)),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_TRUE(fs::is_empty(path_));
  absl::StatusOr<std::unique_ptr<Store>> store =
      Store::Open(Options(/*create_if_missing=*/true));
  ASSERT_THAT(store, IsOk());
  EXPECT_EQ((*store)->revision(), 0);
}

TEST_F(StoreOpenTest, ExistingStoreOpensWithoutCreate) {
  MakeStore(/*revisions=*/10);
  absl::StatusOr<std::unique_ptr<Store>> store =
      Store::Open(Options(/*create_if_missing=*/false));
  ASSERT_THAT(store, IsOk());
  EXPECT_EQ((*store)->revision(), 10);
}

TEST_F(StoreOpenTest, MissingCurrentIsRefusedEvenWithCreateAndNothingIsMade) {
  MakeStore(/*revisions=*/10);
  fs::remove(path_ + "/CURRENT");
  for (int attempt = 0; attempt < 2; ++attempt) {  // as systemd restarts it
    absl::StatusOr<std::unique_ptr<Store>> store =
        Store::Open(Options(/*create_if_missing=*/true));
    EXPECT_THAT(store, StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(std::string(store.status().message()), HasSubstr("CURRENT"));
    EXPECT_FALSE(fs::exists(path_ + "/CURRENT"));
  }
}

TEST_F(StoreOpenTest, MissingWalIsRefused) {
  MakeStore(/*revisions=*/10);
  for (const fs::path& wal : Wals()) fs::remove(wal);
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<std::unique_ptr<Store>> store =
        Store::Open(Options(/*create_if_missing=*/true));
    EXPECT_THAT(store, StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(std::string(store.status().message()),
                HasSubstr("write-ahead log"));
  }
}

TEST_F(StoreOpenTest, AnotherRocksDbIsNotTakenForAStore) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, path_, &db).ok());
  rocksdb::WriteOptions sync;
  sync.sync = true;
  ASSERT_TRUE(db->Put(sync, "some", "data").ok());
  delete db;
  EXPECT_THAT(Store::Open(Options(/*create_if_missing=*/true)),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(StoreOpenTest, StoreWithoutItsInstanceRecordIsRefused) {
  // Our column families, but no instance record: a first start that died
  // before writing it, or a tampered store.
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const char* name :
       {"default", "meta", "entities", "indexes", "changelog", "requests"}) {
    families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, path_, families, &handles, &db).ok());
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  }
  delete db;
  absl::StatusOr<std::unique_ptr<Store>> store =
      Store::Open(Options(/*create_if_missing=*/true));
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(std::string(store.status().message()),
              HasSubstr("instance record"));
}

TEST_F(StoreOpenTest, CorruptionBeforeTheEndOfTheWalIsRefusedNamingWhatIsLost) {
  MakeStore(/*revisions=*/1000);
  std::vector<fs::path> wals = Wals();
  ASSERT_FALSE(wals.empty());
  const fs::path wal = wals.back();
  {
    std::fstream f(wal, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(wal) / 2));
    const std::string garbage(64, '\x5a');
    f.write(garbage.data(), garbage.size());
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<std::unique_ptr<Store>> store =
        Store::Open(Options(/*create_if_missing=*/false));
    ASSERT_THAT(store, StatusIs(absl::StatusCode::kDataLoss));
    const std::string message(store.status().message());
    EXPECT_THAT(message, HasSubstr(wal.filename().string()));
    // The garbage is halfway through 1000 revisions.
    EXPECT_THAT(message,
                ContainsRegex("revisions after [1-9][0-9][0-9] would be lost"));
  }
}

TEST_F(StoreOpenTest, AcceptedWalLossKeepsTheLogsRecoversAndBumpsTheEpoch) {
  MakeStore(/*revisions=*/1000);
  const fs::path wal = Wals().back();
  {
    std::fstream f(wal, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(wal) / 2));
    const std::string garbage(64, '\x5a');
    f.write(garbage.data(), garbage.size());
  }
  const uintmax_t corrupt_size = fs::file_size(wal);
  StoreOptions options = Options(/*create_if_missing=*/false);
  options.wal_copy_dir = dir_.path() + "/kept";
  int64_t recovered = 0;
  {
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    ASSERT_THAT(store, IsOk());
    EXPECT_TRUE((*store)->dropped_wal_tail());
    EXPECT_EQ((*store)->epoch(), 2);
    recovered = (*store)->revision();
    EXPECT_GT(recovered, 100);
    EXPECT_LT(recovered, 1000);
  }
  // The logs as they were are kept, byte for byte.
  EXPECT_EQ(fs::file_size(dir_.path() + "/kept/" + wal.filename().string()),
            corrupt_size);
  // From now on the store opens as usual, in its new epoch.
  absl::StatusOr<std::unique_ptr<Store>> store =
      Store::Open(Options(/*create_if_missing=*/false));
  ASSERT_THAT(store, IsOk());
  EXPECT_FALSE((*store)->dropped_wal_tail());
  EXPECT_EQ((*store)->epoch(), 2);
  EXPECT_EQ((*store)->revision(), recovered);
  EXPECT_EQ((*store)->Commit(PutMutation("next"))->revision, recovered + 1);
}

TEST_F(StoreOpenTest, CorruptionOutsideTheWalIsRefusedEvenWhenLossIsAccepted) {
  MakeStore(/*revisions=*/10);
  std::ofstream(path_ + "/CURRENT", std::ios::trunc) << "garbage";
  absl::StatusOr<std::unique_ptr<Store>> store =
      Store::Open(Options(/*create_if_missing=*/false));
  ASSERT_THAT(store, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(std::string(store.status().message()),
              HasSubstr("is corrupt; refusing to open it"));
  StoreOptions options = Options(/*create_if_missing=*/false);
  options.wal_copy_dir = dir_.path() + "/kept";
  EXPECT_THAT(Store::Open(options), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_FALSE(fs::exists(options.wal_copy_dir));
}

TEST_F(StoreOpenTest, TornLastRecordIsDroppedAsAfterACrash) {
  MakeStore(/*revisions=*/100);
  const fs::path wal = Wals().back();
  fs::resize_file(wal, fs::file_size(wal) - 10);
  absl::StatusOr<std::unique_ptr<Store>> store =
      Store::Open(Options(/*create_if_missing=*/false));
  ASSERT_THAT(store, IsOk());
  EXPECT_EQ((*store)->revision(), 99);
  EXPECT_EQ((*store)->Commit(PutMutation("next"))->revision, 100);
}

}  // namespace
}  // namespace cohorte::storage
