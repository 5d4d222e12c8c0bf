// The EntityCache alone (its tickets, its bound), then through a real Store
// in a temp dir: whatever the cache answers, a read sees the last committed
// write, a mutation sees its group's writes, and nothing rolled back or
// deleted is ever answered.

#include "storage/entity_cache.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cohorte/v1/cohorts.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/codec.h"
#include "storage/keys.h"
#include "storage/status_macros.h"
#include "storage/store.h"
#include "tests/testing/raw_access.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace cohorte::storage {
namespace {

using ::cohorte::testing::IsOk;
using ::cohorte::testing::StatusIs;
using ::testing::SizeIs;

::cohorte::v1::Cohort CohortNamed(const std::string& name,
                                  const std::string& display) {
  ::cohorte::v1::Cohort c;
  c.set_name(name);
  c.set_display_name(display);
  return c;
}

std::string Encoded(const std::string& name, const std::string& display) {
  return EncodeValue(CohortNamed(name, display));
}

TEST(EntityCacheTest, AnswersWhatWasInsertedRawAndDecoded) {
  EntityCache cache(1 << 20);
  std::string raw;
  EXPECT_FALSE(cache.GetRaw("k", &raw));
  cache.Insert(cache.Take(), "k", Encoded("cohorts/a", "A"));
  ASSERT_TRUE(cache.GetRaw("k", &raw));
  EXPECT_EQ(raw, Encoded("cohorts/a", "A"));
  // Decoded from the bytes the first time, from the kept form after.
  for (int i = 0; i < 2; ++i) {
    ::cohorte::v1::Cohort c;
    c.set_region("left over");  // cleared first
    ASSERT_THAT(cache.GetProto("k", &c), IsOk());
    EXPECT_EQ(c.display_name(), "A");
    EXPECT_EQ(c.region(), "");
  }
  ::cohorte::v1::Cohort absent;
  EXPECT_THAT(cache.GetProto("other", &absent),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(cache.stats().hits, 3);
  EXPECT_EQ(cache.stats().misses, 2);
}

TEST(EntityCacheTest, BytesThatDoNotParseAreDataLossNeverAnEntity) {
  EntityCache cache(1 << 20);
  cache.Insert(cache.Take(), "k", std::string("\x01\xff\xff", 3));
  ::cohorte::v1::Cohort c;
  EXPECT_THAT(cache.GetProto("k", &c), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(EntityCacheTest, AReadThatMayPredateAWriteIsNotKept) {
  EntityCache cache(1 << 20);
  cache.Insert(cache.Take(), "k", "older");
  // A reader misses and takes its ticket; a write commits and is reported;
  // the reader then offers the bytes it read before the write.
  const EntityCache::Ticket before = cache.Take();
  cache.BeginWrite("k");
  const std::string now = "new";
  cache.EndWrite(cache.BeginUpdate(), "k", &now);
  cache.Insert(before, "k", "old");
  std::string raw;
  ASSERT_TRUE(cache.GetRaw("k", &raw));
  EXPECT_EQ(raw, "new");
  // The same after a deletion: the old bytes do not come back.
  const EntityCache::Ticket before_delete = cache.Take();
  cache.BeginWrite("k");
  cache.EndWrite(cache.BeginUpdate(), "k", nullptr);
  cache.Insert(before_delete, "k", "old");
  EXPECT_FALSE(cache.GetRaw("k", &raw));
  // A ticket taken after the update is good.
  cache.Insert(cache.Take(), "k", "newer");
  ASSERT_TRUE(cache.GetRaw("k", &raw));
  EXPECT_EQ(raw, "newer");
  // Clear forgets everything and refuses every earlier ticket.
  const EntityCache::Ticket before_clear = cache.Take();
  cache.Clear();
  EXPECT_FALSE(cache.GetRaw("k", &raw));
  cache.Insert(before_clear, "k", "old");
  EXPECT_FALSE(cache.GetRaw("k", &raw));
}

TEST(EntityCacheTest, AKeyBeingWrittenIsAMissAndNoReadOfItIsKept) {
  // Between BeginWrite and EndWrite the store may already show the new
  // bytes of this key and of others written with it: the cache must not
  // answer the old ones, nor keep what a reader read meanwhile.
  EntityCache cache(1 << 20);
  cache.Insert(cache.Take(), "k", "old");
  cache.BeginWrite("k");
  std::string raw;
  EXPECT_FALSE(cache.GetRaw("k", &raw));
  ::cohorte::v1::Cohort c;
  EXPECT_THAT(cache.GetProto("k", &c), StatusIs(absl::StatusCode::kNotFound));
  cache.Insert(cache.Take(), "k", "read meanwhile");
  EXPECT_FALSE(cache.GetRaw("k", &raw));
  const std::string now = "new";
  cache.EndWrite(cache.BeginUpdate(), "k", &now);
  ASSERT_TRUE(cache.GetRaw("k", &raw));  // it was cached: it is again
  EXPECT_EQ(raw, "new");
  // A failed write: Clear ends the writing too.
  cache.BeginWrite("k");
  cache.Clear();
  cache.Insert(cache.Take(), "k", "reread");
  ASSERT_TRUE(cache.GetRaw("k", &raw));
  EXPECT_EQ(raw, "reread");
}

// Under a steady stream of writes (every commit group writes some keys), a
// read key must still get into the cache: only a write of that key (or of
// one of the few keys sharing its slot) refuses what was read before it.
TEST(EntityCacheTest, WritesOfOtherKeysDoNotKeepAReadKeyOut) {
  EntityCache cache(1 << 20);
  int kept = 0;
  for (int j = 0; j < 20; ++j) {
    const std::string key = absl::StrCat("read-", j);
    const EntityCache::Ticket ticket = cache.Take();
    // 50 other keys written while the reader reads: every shard gets one
    // (each with probability 1 - (15/16)^50 = 96 %), each slot rarely.
    for (int w = 0; w < 50; ++w) {
      const std::string other = absl::StrCat("written-", j, "-", w);
      cache.BeginWrite(other);
      const std::string bytes = "v";
      cache.EndWrite(cache.BeginUpdate(), other, &bytes);
    }
    cache.Insert(ticket, key, "read");
    std::string raw;
    if (cache.GetRaw(key, &raw)) ++kept;
  }
  // A key shares its slot with a written one with probability 5 %: 20
  // keys keep at least 14 unless something is wrong (the chance of fewer
  // is about 3 in a million).
  EXPECT_GE(kept, 14);
}

TEST(EntityCacheTest, AnAbsenceIsKeptLikeBytesAndEndsWithTheWriteOfItsKey) {
  EntityCache cache(1 << 20);
  std::string raw;
  bool absent = true;
  EXPECT_FALSE(cache.GetRaw("k", &raw, &absent));
  EXPECT_FALSE(absent);  // a miss: unknown
  cache.InsertAbsent(cache.Take(), "k");
  EXPECT_FALSE(cache.GetRaw("k", &raw, &absent));
  EXPECT_TRUE(absent);
  EXPECT_FALSE(cache.GetRaw("k", &raw));  // without asking, a miss
  ::cohorte::v1::Cohort c;
  EXPECT_THAT(cache.GetProto("k", &c, &absent),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_TRUE(absent);
  // Created: the absence goes at BeginWrite, the bytes come at EndWrite
  // (the key was cached).
  cache.BeginWrite("k");
  EXPECT_FALSE(cache.GetRaw("k", &raw, &absent));
  EXPECT_FALSE(absent);
  cache.InsertAbsent(cache.Take(), "k");  // read meanwhile: refused
  EXPECT_FALSE(cache.GetRaw("k", &raw, &absent));
  EXPECT_FALSE(absent);
  const std::string now = Encoded("cohorts/k", "K");
  cache.EndWrite(cache.BeginUpdate(), "k", &now);
  ASSERT_TRUE(cache.GetRaw("k", &raw, &absent));
  EXPECT_FALSE(absent);
  EXPECT_EQ(raw, now);
  ASSERT_THAT(cache.GetProto("k", &c, &absent), IsOk());
  EXPECT_EQ(c.display_name(), "K");
  // An absence read before a write that created the key is refused.
  const EntityCache::Ticket before = cache.Take();
  cache.BeginWrite("j");
  const std::string j = "j";
  cache.EndWrite(cache.BeginUpdate(), "j", &j);
  cache.InsertAbsent(before, "j");
  EXPECT_FALSE(cache.GetRaw("j", &raw, &absent));
  EXPECT_FALSE(absent);
  // Clear forgets absences too.
  cache.InsertAbsent(cache.Take(), "gone");
  cache.Clear();
  EXPECT_FALSE(cache.GetRaw("gone", &raw, &absent));
  EXPECT_FALSE(absent);
}

TEST(EntityCacheTest, KeepsWithinItsCapacityDroppingTheLeastRecentlyUsed) {
  // 16 shards of 4 KiB each. Entries of ~1 KiB: whatever the hashing, no
  // shard ever holds more than its share, and recently used entries stay.
  const size_t capacity = 16 * 4096;
  EntityCache cache(capacity);
  const std::string value(800, 'v');
  for (int i = 0; i < 1000; ++i) {
    cache.Insert(cache.Take(), absl::StrCat("key", i), value);
    std::string raw;
    ASSERT_TRUE(cache.GetRaw("key0", &raw)) << i;  // kept: used each time
    ASSERT_LE(cache.stats().charged_bytes, static_cast<int64_t>(capacity));
  }
  EXPECT_GT(cache.stats().entries, 16);
  EXPECT_LT(cache.stats().entries, 100);
  // An entry larger than a shard is not kept at all.
  cache.Insert(cache.Take(), "huge", std::string(4096, 'h'));
  std::string raw;
  EXPECT_FALSE(cache.GetRaw("huge", &raw));
  // At the bound: an entry that fills a shard exactly is kept (alone).
  EntityCache exact(16 * (3 + 100 + 160));
  exact.Insert(exact.Take(), "key", std::string(100, 'x'));
  EXPECT_TRUE(exact.GetRaw("key", &raw));
  EntityCache past(16 * (3 + 100 + 160) - 16);
  past.Insert(past.Take(), "key", std::string(100, 'x'));
  EXPECT_FALSE(past.GetRaw("key", &raw));
}

TEST(EntityCacheTest, AWriteReplacesWhatIsCachedAndBringsInNothingNew) {
  EntityCache cache(1 << 20);
  cache.Insert(cache.Take(), "read", "v1");
  cache.BeginWrite("read");
  cache.BeginWrite("never-read");
  const EntityCache::Ticket update = cache.BeginUpdate();
  const std::string v2 = "v2", w = "w";
  cache.EndWrite(update, "read", &v2);
  cache.EndWrite(update, "never-read", &w);
  std::string raw;
  ASSERT_TRUE(cache.GetRaw("read", &raw));
  EXPECT_EQ(raw, "v2");
  EXPECT_FALSE(cache.GetRaw("never-read", &raw));
  EXPECT_EQ(cache.stats().entries, 1);
}

TEST(EntityCacheTest, CapacityZeroKeepsNothing) {
  EntityCache cache(0);
  EXPECT_FALSE(cache.enabled());
  cache.Insert(cache.Take(), "k", "v");
  std::string raw;
  EXPECT_FALSE(cache.GetRaw("k", &raw));
}

// ---- Through a Store --------------------------------------------------------

class StoreEntityCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open(std::function<void(std::function<void()>)> async_leader = {}) {
    store_.reset();
    StoreOptions options;
    options.path = dir_.path() + "/db";
    options.write_buffer_size = 64 * 1024;
    options.async_leader = std::move(async_leader);
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
  }

  static Mutation Apply(std::function<absl::StatusOr<std::string>(Txn&)> f) {
    Mutation m;
    m.actor = "members/test";
    m.method = "Test";
    m.apply = std::move(f);
    return m;
  }

  void PutCohort(const std::string& name, const std::string& display) {
    ASSERT_THAT(
        store_->Commit(Apply([=](Txn& txn) -> absl::StatusOr<std::string> {
          txn.PutEntity(CohortNamed(name, display));
          return std::string();
        })),
        IsOk());
  }

  // The committed display name, through the decoded path, or the error.
  std::string Committed(const std::string& name) {
    ::cohorte::v1::Cohort c;
    absl::Status s = testing::RawAccess::Committed(*store_).GetEntity(name, &c);
    return s.ok() ? c.display_name() : s.ToString();
  }
  std::string CommittedRaw(const std::string& name) {
    std::string raw;
    absl::Status s = testing::RawAccess::Committed(*store_).Get(
        Table::kEntities, EntityKeyOf<::cohorte::v1::Cohort>(name), &raw);
    ::cohorte::v1::Cohort c;
    if (s.ok()) s = DecodeValue(raw, &c);
    return s.ok() ? c.display_name() : s.ToString();
  }

  ::cohorte::testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreEntityCacheTest, ACommittedWriteIsWhatEveryLaterReadSees) {
  PutCohort("cohorts/a", "one");
  EXPECT_EQ(Committed("cohorts/a"), "one");
  EXPECT_EQ(CommittedRaw("cohorts/a"), "one");
  const int64_t hits = store_->stats().entity_cache.hits;
  EXPECT_EQ(Committed("cohorts/a"), "one");
  EXPECT_GT(store_->stats().entity_cache.hits, hits);  // it was cached
  PutCohort("cohorts/a", "two");
  EXPECT_EQ(Committed("cohorts/a"), "two");
  EXPECT_EQ(CommittedRaw("cohorts/a"), "two");
  // And inside a mutation, from the committed state.
  ASSERT_THAT(store_->Commit(Apply([](Txn& txn) -> absl::StatusOr<std::string> {
    ::cohorte::v1::Cohort c;
    COHORTE_RETURN_IF_ERROR(txn.GetEntity("cohorts/a", &c));
    EXPECT_EQ(c.display_name(), "two");
    return std::string();
  })),
              IsOk());
  // A deletion: gone for every reader.
  ASSERT_THAT(store_->Commit(Apply([](Txn& txn) -> absl::StatusOr<std::string> {
    txn.DeleteEntity<::cohorte::v1::Cohort>("cohorts/a");
    return std::string();
  })),
              IsOk());
  EXPECT_THAT(Committed("cohorts/a"), ::testing::HasSubstr("NOT_FOUND"));
  EXPECT_THAT(CommittedRaw("cohorts/a"), ::testing::HasSubstr("NOT_FOUND"));
}

TEST_F(StoreEntityCacheTest, AKnownAbsenceIsNeverAnsweredOnceTheKeyExists) {
  EXPECT_THAT(Committed("cohorts/new"), ::testing::HasSubstr("NOT_FOUND"));
  const int64_t hits = store_->stats().entity_cache.hits;
  EXPECT_THAT(Committed("cohorts/new"), ::testing::HasSubstr("NOT_FOUND"));
  EXPECT_THAT(CommittedRaw("cohorts/new"), ::testing::HasSubstr("NOT_FOUND"));
  EXPECT_EQ(store_->stats().entity_cache.hits, hits + 2);  // from the cache
  // A mutation that creates it reads it absent first, then its own write.
  ASSERT_THAT(store_->Commit(Apply([](Txn& txn) -> absl::StatusOr<std::string> {
    ::cohorte::v1::Cohort c;
    EXPECT_THAT(txn.GetEntity("cohorts/new", &c),
                StatusIs(absl::StatusCode::kNotFound));
    txn.PutEntity(CohortNamed("cohorts/new", "made"));
    COHORTE_RETURN_IF_ERROR(txn.GetEntity("cohorts/new", &c));
    EXPECT_EQ(c.display_name(), "made");
    return std::string();
  })),
              IsOk());
  EXPECT_EQ(Committed("cohorts/new"), "made");
  EXPECT_EQ(CommittedRaw("cohorts/new"), "made");
  // Deleted, it is absent again, and that absence is cached in turn.
  ASSERT_THAT(store_->Commit(Apply([](Txn& txn) -> absl::StatusOr<std::string> {
    txn.DeleteEntity<::cohorte::v1::Cohort>("cohorts/new");
    return std::string();
  })),
              IsOk());
  EXPECT_THAT(Committed("cohorts/new"), ::testing::HasSubstr("NOT_FOUND"));
  PutCohort("cohorts/new", "again");
  EXPECT_EQ(Committed("cohorts/new"), "again");
}

TEST_F(StoreEntityCacheTest, AMutationReadsItsOwnWritesOverTheCache) {
  PutCohort("cohorts/a", "one");
  EXPECT_EQ(Committed("cohorts/a"), "one");  // cached
  ASSERT_THAT(store_->Commit(Apply([](Txn& txn) -> absl::StatusOr<std::string> {
    ::cohorte::v1::Cohort c;
    COHORTE_RETURN_IF_ERROR(txn.GetEntity("cohorts/a", &c));
    EXPECT_EQ(c.display_name(), "one");
    txn.PutEntity(CohortNamed("cohorts/a", "two"));
    COHORTE_RETURN_IF_ERROR(txn.GetEntity("cohorts/a", &c));
    EXPECT_EQ(c.display_name(), "two");
    std::string raw;
    COHORTE_RETURN_IF_ERROR(
        txn.Get(Table::kEntities,
                EntityKeyOf<::cohorte::v1::Cohort>("cohorts/a"), &raw));
    COHORTE_RETURN_IF_ERROR(DecodeValue(raw, &c));
    EXPECT_EQ(c.display_name(), "two");
    txn.DeleteEntity<::cohorte::v1::Cohort>("cohorts/a");
    EXPECT_THAT(txn.GetEntity("cohorts/a", &c),
                StatusIs(absl::StatusCode::kNotFound));
    return std::string();
  })),
              IsOk());
  EXPECT_THAT(Committed("cohorts/a"), ::testing::HasSubstr("NOT_FOUND"));
}

TEST_F(StoreEntityCacheTest, MutationsOfOneGroupSeeEachOthersWrites) {
  // The "pool" holds the leader's task, so that the three mutations below
  // commit as one group.
  std::vector<std::function<void()>> scheduled;
  Open([&](std::function<void()> task) {
    scheduled.push_back(std::move(task));
  });
  PutCohort("cohorts/a", "one");
  EXPECT_EQ(Committed("cohorts/a"), "one");  // cached
  std::vector<std::string> answers;
  auto collect = [&](absl::StatusOr<CommitResult> r) {
    answers.push_back(r.ok() ? r->response : r.status().ToString());
  };
  store_->CommitAsync(Apply([](Txn& txn) -> absl::StatusOr<std::string> {
                        txn.PutEntity(CohortNamed("cohorts/a", "two"));
                        return std::string("wrote two");
                      }),
                      collect);
  // Writes, then fails: rolled back, never seen by anyone.
  store_->CommitAsync(Apply([](Txn& txn) -> absl::StatusOr<std::string> {
                        txn.PutEntity(CohortNamed("cohorts/a", "rolled"));
                        txn.PutEntity(CohortNamed("cohorts/b", "rolled"));
                        return absl::AbortedError("rolled back");
                      }),
                      collect);
  store_->CommitAsync(Apply([](Txn& txn) -> absl::StatusOr<std::string> {
                        ::cohorte::v1::Cohort a, b;
                        COHORTE_RETURN_IF_ERROR(txn.GetEntity("cohorts/a", &a));
                        absl::Status sb = txn.GetEntity("cohorts/b", &b);
                        return absl::StrCat(
                            "read ", a.display_name(), " ",
                            sb.ok() ? b.display_name() : "no b");
                      }),
                      collect);
  ASSERT_THAT(scheduled, SizeIs(1));
  scheduled[0]();
  ASSERT_THAT(answers, SizeIs(3));
  EXPECT_EQ(answers[0], "wrote two");
  EXPECT_THAT(answers[1], ::testing::HasSubstr("rolled back"));
  EXPECT_EQ(answers[2], "read two no b");
  EXPECT_EQ(Committed("cohorts/a"), "two");
  EXPECT_THAT(Committed("cohorts/b"), ::testing::HasSubstr("NOT_FOUND"));
}

TEST_F(StoreEntityCacheTest, AReopenForgetsWhatWasCached) {
  PutCohort("cohorts/a", "one");
  EXPECT_EQ(Committed("cohorts/a"), "one");
  Open();
  EXPECT_EQ(store_->stats().entity_cache.entries, 0);
  EXPECT_EQ(Committed("cohorts/a"), "one");
}

TEST_F(StoreEntityCacheTest,
       ConcurrentReadersNeverSeeAnAcknowledgedWriteUndone) {
  // One writer counts up; readers check that they never read a count below
  // the last one acknowledged before their read began.
  PutCohort("cohorts/a", "0");
  std::atomic<int> acknowledged{0};
  std::atomic<bool> stop{false};
  std::atomic<int> violations{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&, r] {
      while (!stop.load()) {
        const int floor = acknowledged.load();
        const std::string read =
            r == 0 ? CommittedRaw("cohorts/a") : Committed("cohorts/a");
        if (std::stoi(read) < floor) violations.fetch_add(1);
      }
    });
  }
  for (int i = 1; i <= 300; ++i) {
    PutCohort("cohorts/a", std::to_string(i));
    acknowledged.store(i);
  }
  stop.store(true);
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(Committed("cohorts/a"), "300");
}

TEST_F(StoreEntityCacheTest,
       AnEntityIsNeverOlderThanAChangeRecordAlreadyVisible) {
  // A reader that sees a write's change-log record (RocksDB shows it as
  // soon as the batch is applied, before the leader has told the cache)
  // must then read the entity that write changed in its new form, never
  // the old one still cached: the leader marks the keys it writes before
  // it writes them.
  PutCohort("cohorts/a", "0");
  std::atomic<bool> stop{false};
  std::atomic<int> violations{0}, checks{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        const int64_t head = store_->revision();
        absl::StatusOr<std::vector<v1::ChangeRecord>> records =
            testing::RawAccess::ReadChanges(*store_, head, 10);
        if (!records.ok() || records->empty()) continue;
        const v1::ChangeRecord& last = records->back();
        if (last.changes_size() != 1) continue;
        ::cohorte::v1::Cohort logged;
        if (!last.changes(0).resource().UnpackTo(&logged)) continue;
        const std::string now = Committed("cohorts/a");
        if (std::stoi(now) < std::stoi(logged.display_name())) {
          violations.fetch_add(1);
        }
        checks.fetch_add(1);
      }
    });
  }
  for (int i = 1; i <= 500; ++i) PutCohort("cohorts/a", std::to_string(i));
  stop.store(true);
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(violations.load(), 0) << "of " << checks.load();
  EXPECT_GT(checks.load(), 0);
}

}  // namespace
}  // namespace cohorte::storage
