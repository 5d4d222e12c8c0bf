// The on-disk format's evolving parts: sequence ids that sort at any count,
// and the schema-2 migration of change-log records written before they
// carried their entity kind (FORMAT.md, "Evolving it").

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/codec.h"
#include "storage/entity_types.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "tests/testing/raw_access.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace cohorte::storage {
namespace {

using ::cohorte::testing::IsOk;
using ::cohorte::testing::StatusIs;

TEST(SequenceIdTest, IdsSortByNumberAcrossEveryWidth) {
  const std::vector<int64_t> numbers = {1,
                                        2,
                                        9,
                                        10,
                                        99999,
                                        100000,
                                        100001,
                                        999999,
                                        1000000,
                                        1000001,
                                        9999999,
                                        10000000,
                                        999999999999,
                                        1000000000000,
                                        1000000000001};
  std::vector<std::string> ids;
  for (int64_t n : numbers) ids.push_back(SequenceId("m", n));
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(SequenceId("m", 42), "m000042");  // the form of older data
  EXPECT_EQ(SequenceId("m", 1000000), "mz000001000000");
  for (size_t i = 0; i < numbers.size(); ++i) {
    int64_t back = 0;
    ASSERT_TRUE(ParseSequenceId("m", ids[i], &back)) << ids[i];
    EXPECT_EQ(back, numbers[i]);
  }
  // The 12-digit exchange ids of older data keep sorting with new ones.
  EXPECT_LT(WideSequenceId("e", 12, 999999999999),
            WideSequenceId("e", 12, 1000000000000));
  int64_t n = 0;
  EXPECT_FALSE(ParseSequenceId("m", "m12x", &n));
  EXPECT_FALSE(ParseSequenceId("m", "e000001", &n));
  EXPECT_FALSE(ParseSequenceId("m", "m", &n));
}

// A store whose change log was written by schema 1 (no entity kinds, no
// schema key) is migrated when opened; a newer schema is refused.
TEST(MigrationTest, OlderChangeLogRecordsGetTheirKindAndNewerDataIsRefused) {
  ::cohorte::testing::TempDir dir;
  StoreOptions options;
  options.path = dir.path() + "/db";
  {
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    ASSERT_THAT(store, IsOk());
    Mutation m;
    m.actor = "members/admin";
    m.method = "CreateCohort";
    m.apply = [](Txn& txn) -> absl::StatusOr<std::string> {
      ::cohorte::v1::Cohort c;
      c.set_name("cohorts/occitanie");
      txn.PutEntity(c);
      return std::string();
    };
    ASSERT_THAT((*store)->Commit(std::move(m)), IsOk());
  }
  // Rewrite it as schema 1 would have left it.
  auto rewrite =
      [&](const std::function<void(rocksdb::DB*, rocksdb::ColumnFamilyHandle*,
                                   rocksdb::ColumnFamilyHandle*)>& edit) {
        std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
        // Every column family the store has now (RocksDB opens all).
        for (const char* name : {"default", "meta", "entities", "indexes",
                                 "changelog", "requests", "record_chunks"}) {
          cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
        }
        std::vector<rocksdb::ColumnFamilyHandle*> handles;
        rocksdb::DB* db = nullptr;
        ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), options.path, cfs,
                                      &handles, &db)
                        .ok());
        edit(db, handles[1], handles[4]);
        for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
        delete db;
      };
  rewrite([](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta,
             rocksdb::ColumnFamilyHandle* changelog) {
    std::string raw;
    ASSERT_TRUE(
        db->Get(rocksdb::ReadOptions(), changelog, ChangelogKey(1), &raw).ok());
    v1::ChangeRecord record;
    ASSERT_THAT(DecodeValue(raw, &record), IsOk());
    record.mutable_changes(0)->clear_entity_kind();
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), changelog, ChangelogKey(1),
                        EncodeValue(record))
                    .ok());
    ASSERT_TRUE(
        db->Delete(rocksdb::WriteOptions(), meta, std::string(kMetaSchemaKey))
            .ok());
  });
  {
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    ASSERT_THAT(store, IsOk());
    absl::StatusOr<std::vector<v1::ChangeRecord>> log =
        testing::RawAccess::ReadChanges(**store, 1, 10);
    ASSERT_THAT(log, IsOk());
    ASSERT_EQ(log->size(), 1u);
    EXPECT_EQ((*log)[0].changes(0).entity_kind(),
              static_cast<uint32_t>(EntityKind::kCohort));
  }
  rewrite([](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta,
             rocksdb::ColumnFamilyHandle*) {
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), meta,
                        std::string(kMetaSchemaKey),
                        EncodeUint64BigEndian(kSchemaVersion + 1))
                    .ok());
  });
  EXPECT_THAT(Store::Open(options).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace cohorte::storage
