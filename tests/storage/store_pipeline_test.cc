// Tests of the store's pipelined group commit: a group is applied while the
// group before it is still being written (its fsync held in flight by
// FaultFileSystem), reads through that group's writes, and is answered only
// once they are durable, or fails with them.

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "tests/storage/fault_file_system.h"
#include "tests/testing/raw_access.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace cohorte::storage {
namespace {

using ::cohorte::testing::IsOk;
using ::cohorte::testing::StatusIs;
using ::testing::ElementsAre;
using testing::FaultFileSystem;

constexpr absl::Duration kPatience = absl::Seconds(30);

// What the second group's mutation saw of the first group's writes.
struct Seen {
  std::string index;   // Get of an index key
  std::string entity;  // the name of a cohort entity, through GetProto
  std::vector<std::string> scanned;  // a scan of the index prefix
  bool deleted_gone = false;         // a key the first group deleted
};

class StorePipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A committed key for the first group to delete.
    ASSERT_THAT(Open(), IsOk());
    ASSERT_THAT(Commit([](Txn& txn) { txn.PutIndex("p/old", "x"); }), IsOk());
  }

  void TearDown() override {
    fs_->ReleaseWalSyncs();
    // The leaders' tasks end with the store's lock: joined first (a task
    // may start another).
    for (;;) {
      std::vector<std::thread> threads;
      {
        absl::MutexLock lock(&threads_mu_);
        threads.swap(threads_);
      }
      if (threads.empty()) break;
      for (std::thread& t : threads) t.join();
    }
    store_.reset();
  }

  absl::Status Open() {
    store_.reset();
    StoreOptions options;
    options.path = dir_.path() + "/db";
    options.file_system = fs_;
    options.recovery_interval = absl::ZeroDuration();
    // Each leadership on a thread of its own, as cohorted's pool does.
    options.async_leader = [this](std::function<void()> task) {
      absl::MutexLock lock(&threads_mu_);
      threads_.emplace_back(std::move(task));
    };
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    if (!store.ok()) return store.status();
    store_ = *std::move(store);
    return absl::OkStatus();
  }

  static Mutation Writes(std::function<void(Txn&)> write) {
    Mutation m;
    m.actor = "members/test";
    m.method = "Test";
    m.apply = [write =
                   std::move(write)](Txn& txn) -> absl::StatusOr<std::string> {
      write(txn);
      return absl::StrCat(txn.revision());
    };
    return m;
  }

  absl::StatusOr<CommitResult> Commit(std::function<void(Txn&)> write) {
    return store_->Commit(Writes(std::move(write)));
  }

  // Commits asynchronously; `result` gets the outcome, then `done` is
  // notified.
  void CommitAsync(std::function<void(Txn&)> write,
                   absl::StatusOr<CommitResult>* result,
                   absl::Notification* done) {
    store_->CommitAsync(Writes(std::move(write)),
                        [result, done](absl::StatusOr<CommitResult> r) {
                          *result = std::move(r);
                          done->Notify();
                        });
  }

  // The first group: writes an index key, a cohort entity and deletes
  // p/old.
  static void FirstWrites(Txn& txn) {
    txn.PutIndex("p/new", "1");
    ::cohorte::v1::Cohort cohort;
    cohort.set_name("cohorts/pipelined");
    txn.PutEntity(cohort);
    txn.DeleteIndex("p/old");
  }

  // The second group's reads of what the first one wrote.
  static void SecondReads(Txn& txn, Seen* seen) {
    std::string value;
    if (txn.Get(Table::kIndexes, "p/new", &value).ok()) seen->index = value;
    ::cohorte::v1::Cohort cohort;
    if (txn.GetProto(Table::kEntities,
                     EntityKeyOf<::cohorte::v1::Cohort>("cohorts/pipelined"),
                     &cohort)
            .ok()) {
      seen->entity = cohort.name();
    }
    txn.Scan(Table::kIndexes, "p/",
             [&](absl::string_view key, absl::string_view) {
               seen->scanned.emplace_back(key);
               return true;
             })
        .IgnoreError();
    seen->deleted_gone =
        absl::IsNotFound(txn.Get(Table::kIndexes, "p/old", &value));
  }

  // The two groups of a pipeline: the first one's writes (FirstWrites)
  // with its fsync held in flight, then a second group applied meanwhile:
  // it reads them (SecondReads, into `seen`), then writes p/second, or, if
  // `refuse`, refuses because p/new exists. Returns once the second group
  // was applied, with the first one's fsync still held.
  struct Pipeline {
    absl::StatusOr<CommitResult> first, second;
    absl::Notification first_done, second_done, second_applied;
    Seen seen;
  };
  void StartPipeline(Pipeline& p, bool refuse) {
    fs_->HoldWalSyncs();
    CommitAsync(FirstWrites, &p.first, &p.first_done);
    ASSERT_TRUE(fs_->AwaitHeldWalSync(absl::Now() + kPatience));
    Mutation second;
    second.actor = "members/test";
    second.method = "Test";
    second.apply = [&p, refuse](Txn& txn) -> absl::StatusOr<std::string> {
      SecondReads(txn, &p.seen);
      p.second_applied.Notify();
      if (refuse && !p.seen.index.empty()) {
        return absl::AlreadyExistsError("p/new exists");
      }
      txn.PutIndex("p/second", "2");
      return std::string();
    };
    store_->CommitAsync(std::move(second),
                        [&p](absl::StatusOr<CommitResult> r) {
                          p.second = std::move(r);
                          p.second_done.Notify();
                        });
    ASSERT_TRUE(p.second_applied.WaitForNotificationWithTimeout(kPatience));
  }

  std::string Committed(const std::string& key) {
    std::string value;
    return storage::testing::RawAccess::Committed(*store_)
                   .Get(Table::kIndexes, key, &value)
                   .ok()
               ? value
               : "";
  }

  ::cohorte::testing::TempDir dir_;
  std::shared_ptr<FaultFileSystem> fs_ =
      std::make_shared<FaultFileSystem>(rocksdb::FileSystem::Default());
  std::unique_ptr<Store> store_;
  absl::Mutex threads_mu_;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(threads_mu_);
};

TEST_F(StorePipelineTest, TheNextGroupReadsThroughAGroupStillBeingWritten) {
  const int64_t before = store_->revision();
  Pipeline p;
  StartPipeline(p, /*refuse=*/false);
  // Applied while the first group's fsync is still held...
  EXPECT_EQ(p.seen.index, "1");
  EXPECT_EQ(p.seen.entity, "cohorts/pipelined");
  EXPECT_THAT(p.seen.scanned, ElementsAre("p/new"));
  EXPECT_TRUE(p.seen.deleted_gone);
  // ...but neither answered, nor visible to readers, before it is durable.
  EXPECT_FALSE(p.first_done.HasBeenNotified());
  EXPECT_FALSE(p.second_done.HasBeenNotified());
  EXPECT_EQ(store_->revision(), before);
  EXPECT_EQ(Committed("p/new"), "");

  fs_->ReleaseWalSyncs();
  ASSERT_TRUE(p.first_done.WaitForNotificationWithTimeout(kPatience));
  ASSERT_TRUE(p.second_done.WaitForNotificationWithTimeout(kPatience));
  ASSERT_THAT(p.first, IsOk());
  ASSERT_THAT(p.second, IsOk());
  EXPECT_EQ(p.first->revision, before + 1);
  EXPECT_EQ(p.second->revision, before + 2);
  EXPECT_EQ(store_->revision(), before + 2);
  EXPECT_EQ(Committed("p/new"), "1");
  EXPECT_EQ(Committed("p/second"), "2");
  EXPECT_EQ(Committed("p/old"), "");
}

// A cached index collection (the followers of a target, read whole by
// Txn::ScanCollection from the entity cache) is never read stale: not by
// a group applied while the group that changed it is still being written,
// not after that write, and not within the mutation that changes it.
TEST_F(StorePipelineTest, ACachedCollectionIsNeverReadStale) {
  const std::string prefix =
      IndexKey(IndexKind::kFollowerByTarget, std::string("target\0", 7));
  auto follower = [&](const char* member) { return prefix + member; };
  auto scan = [&](const Txn& txn) {
    std::vector<std::string> members;
    EXPECT_THAT(
        txn.ScanCollection(prefix,
                           [&](absl::string_view key, absl::string_view value) {
                             EXPECT_EQ(value, "v");
                             members.emplace_back(key.substr(prefix.size()));
                             return true;
                           }),
        IsOk());
    return members;
  };
  ASSERT_THAT(Commit([&](Txn& txn) {
                txn.PutIndex(follower("a"), "v");
                txn.PutIndex(follower("b"), "v");
                txn.PutIndex(prefix.substr(0, prefix.size() - 1) + "x", "v");
              }),
              IsOk());
  // Twice: the first reads RocksDB and fills the cache, the second reads
  // the cache.
  for (int i = 0; i < 2; ++i) {
    std::vector<std::string> seen;
    ASSERT_THAT(Commit([&](Txn& txn) { seen = scan(txn); }), IsOk());
    EXPECT_THAT(seen, ElementsAre("a", "b"));
  }

  fs_->HoldWalSyncs();
  absl::StatusOr<CommitResult> first, second;
  absl::Notification first_done, second_done;
  CommitAsync(
      [&](Txn& txn) {
        txn.DeleteIndex(follower("a"));
        txn.PutIndex(follower("c"), "v");
      },
      &first, &first_done);
  ASSERT_TRUE(fs_->AwaitHeldWalSync(absl::Now() + kPatience));
  std::vector<std::string> through_pending;
  CommitAsync([&](Txn& txn) { through_pending = scan(txn); }, &second,
              &second_done);
  fs_->ReleaseWalSyncs();
  ASSERT_TRUE(first_done.WaitForNotificationWithTimeout(kPatience));
  ASSERT_TRUE(second_done.WaitForNotificationWithTimeout(kPatience));
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second, IsOk());
  EXPECT_THAT(through_pending, ElementsAre("b", "c"));

  for (int i = 0; i < 2; ++i) {
    std::vector<std::string> seen;
    ASSERT_THAT(Commit([&](Txn& txn) { seen = scan(txn); }), IsOk());
    EXPECT_THAT(seen, ElementsAre("b", "c"));
  }
  std::vector<std::string> own_write;
  ASSERT_THAT(Commit([&](Txn& txn) {
                txn.PutIndex(follower("d"), "v");
                own_write = scan(txn);
              }),
              IsOk());
  EXPECT_THAT(own_write, ElementsAre("b", "c", "d"));
  std::vector<std::string> after;
  ASSERT_THAT(Commit([&](Txn& txn) { after = scan(txn); }), IsOk());
  EXPECT_THAT(after, ElementsAre("b", "c", "d"));
}

// Txn::kMaxCachedCollectionBytes: a collection whose packed form (each
// key's suffix and value with a 4-byte length each) is at the bound is
// cached; one byte past it is read from RocksDB each time. Both read right.
TEST_F(StorePipelineTest, ACollectionPastTheCachedBoundIsReadEachTime) {
  for (const size_t extra : {size_t{0}, size_t{1}}) {
    const std::string prefix =
        IndexKey(IndexKind::kFollowerByTarget,
                 absl::StrCat("target-", extra, absl::string_view("\0", 1)));
    // 512 keys of 128 packed bytes (4 + 119 + 4 + 1): 64 KiB; `extra`
    // more bytes in the last suffix.
    constexpr int kKeys = 512;
    ASSERT_EQ(kKeys * 128, Txn::kMaxCachedCollectionBytes);
    ASSERT_THAT(Commit([&](Txn& txn) {
                  for (int i = 0; i < kKeys; ++i) {
                    std::string suffix = absl::StrCat(1000 + i);
                    suffix.resize(i == kKeys - 1 ? 119 + extra : 119, 'm');
                    txn.PutIndex(prefix + suffix, "v");
                  }
                }),
                IsOk());
    for (int round = 0; round < 3; ++round) {
      const int64_t hits_before = store_->stats().entity_cache.hits;
      int seen = 0;
      ASSERT_THAT(
          Commit([&](Txn& txn) {
            EXPECT_THAT(
                txn.ScanCollection(
                    prefix,
                    [&](absl::string_view key, absl::string_view value) {
                      EXPECT_EQ(value, "v");
                      EXPECT_TRUE(absl::StartsWith(key.substr(prefix.size()),
                                                   absl::StrCat(1000 + seen)));
                      ++seen;
                      return true;
                    }),
                IsOk());
          }),
          IsOk());
      EXPECT_EQ(seen, kKeys) << extra;
      // At the bound, cached by the third round (the first may read
      // through the group that wrote the keys, if the store still holds
      // it as the group before; the second fills the cache); past it,
      // never.
      const bool hit = store_->stats().entity_cache.hits > hits_before;
      if (extra > 0 || round == 2) {
        EXPECT_EQ(hit, extra == 0) << extra << " " << round;
      }
    }
  }
}

TEST_F(StorePipelineTest, AGroupAppliedThroughAWriteThatFailsFailsWithIt) {
  const int64_t before = store_->revision();
  // The second group refuses because of what the first one wrote: a
  // refusal is an answer too, and this one rests on a write that may never
  // be durable.
  Pipeline p;
  StartPipeline(p, /*refuse=*/true);
  ASSERT_EQ(p.seen.index, "1");

  // The first group's fsync fails.
  fs_->Inject({testing::FileKind::kWal, testing::Operation::kSync,
               testing::Error::kIoError});
  fs_->ReleaseWalSyncs();
  ASSERT_TRUE(p.first_done.WaitForNotificationWithTimeout(kPatience));
  ASSERT_TRUE(p.second_done.WaitForNotificationWithTimeout(kPatience));
  EXPECT_THAT(p.first, StatusIs(absl::StatusCode::kUnavailable));
  // The second group answers the same error (a retry is safe), not its
  // refusal.
  EXPECT_THAT(p.second, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(p.second.status(), p.first.status());
  EXPECT_EQ(store_->revision(), before);

  // Once the disk takes writes again, the store reopens and goes on.
  fs_->Clear();
  absl::StatusOr<CommitResult> after =
      Commit([](Txn& txn) { txn.PutIndex("p/after", "3"); });
  ASSERT_THAT(after, IsOk());
  EXPECT_EQ(Committed("p/second"), "");
  EXPECT_EQ(Committed("p/after"), "3");
  EXPECT_EQ(after->revision, store_->revision());
}

// cohorted's async leader runs a task at once on the calling thread while
// its pool stops. A thread about to write its group must then not lead the
// next one, which would wait for that very write.
TEST_F(StorePipelineTest, AnAsyncLeaderRunAtOnceByAThreadWithAGroupToWrite) {
  store_.reset();
  StoreOptions options;
  options.path = dir_.path() + "/db";
  std::atomic<int> tasks{0};
  options.async_leader = [&](std::function<void()> task) {
    if (tasks++ == 0) {  // the first on a thread of its own, then at once
      absl::MutexLock lock(&threads_mu_);
      threads_.emplace_back(std::move(task));
    } else {
      task();
    }
  };
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
  ASSERT_THAT(store, IsOk());
  store_ = *std::move(store);

  absl::StatusOr<CommitResult> first, second;
  absl::Notification first_done, second_done;
  // The second is queued while the first group is applied, so it is handed
  // on before the first group's write.
  CommitAsync(
      [&](Txn& txn) {
        CommitAsync([](Txn& txn) { txn.PutIndex("p/2", "2"); }, &second,
                    &second_done);
        txn.PutIndex("p/1", "1");
      },
      &first, &first_done);
  if (!second_done.WaitForNotificationWithTimeout(kPatience)) {
    // Deadlocked: the threads cannot be joined.
    ADD_FAILURE() << "the second commit was never answered";
    std::fflush(nullptr);
    std::_Exit(1);
  }
  ASSERT_TRUE(first_done.WaitForNotificationWithTimeout(kPatience));
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(second->revision, first->revision + 1);
  EXPECT_EQ(Committed("p/2"), "2");
}

// A retry that lands in the same group as its first attempt is answered as
// a replay of that attempt: it must not be answered OK if the group's write
// fails (the first attempt gets UNAVAILABLE).
TEST_F(StorePipelineTest, ASameGroupReplayFailsWithTheGroupsWrite) {
  // (Found by review: older than the pipeline.)
  absl::Notification blocking, unblock;
  absl::StatusOr<CommitResult> blocker, first, retry;
  absl::Notification blocker_done, first_done, retry_done;
  // A group whose mutation holds the leadership, then refuses.
  Mutation b;
  b.actor = "members/test";
  b.method = "Block";
  b.apply = [&](Txn&) -> absl::StatusOr<std::string> {
    blocking.Notify();
    unblock.WaitForNotification();
    return absl::CancelledError("refused");
  };
  store_->CommitAsync(std::move(b), [&](absl::StatusOr<CommitResult> r) {
    blocker = std::move(r);
    blocker_done.Notify();
  });
  ASSERT_TRUE(blocking.WaitForNotificationWithTimeout(kPatience));
  // Two attempts of one request, queued together.
  auto attempt = [](absl::StatusOr<CommitResult>* out, absl::Notification* n,
                    Store& store) {
    Mutation m;
    m.actor = "members/test";
    m.method = "Test";
    m.request_id = "req-1";
    m.request_fingerprint = 7;
    m.apply = [](Txn& txn) -> absl::StatusOr<std::string> {
      txn.PutIndex("p/req", "1");
      return std::string("created");
    };
    store.CommitAsync(std::move(m), [out, n](absl::StatusOr<CommitResult> r) {
      *out = std::move(r);
      n->Notify();
    });
  };
  attempt(&first, &first_done, *store_);
  attempt(&retry, &retry_done, *store_);
  // Their group's fsync fails.
  fs_->Inject({testing::FileKind::kWal, testing::Operation::kSync,
               testing::Error::kIoError});
  unblock.Notify();
  ASSERT_TRUE(blocker_done.WaitForNotificationWithTimeout(kPatience));
  ASSERT_TRUE(first_done.WaitForNotificationWithTimeout(kPatience));
  ASSERT_TRUE(retry_done.WaitForNotificationWithTimeout(kPatience));
  EXPECT_THAT(first, StatusIs(absl::StatusCode::kUnavailable));
  // Not answered OK as a replay of a record that was never durable.
  EXPECT_THAT(retry.status(), StatusIs(absl::StatusCode::kUnavailable))
      << (retry.ok() ? absl::StrCat("replayed=", retry->replayed,
                                    " revision=", retry->revision)
                     : "");
  fs_->Clear();
}

// A write outside a mutation (CompactChanges here) waiting for the commit
// leadership gets it before the groups queued behind: under a steady
// stream of posts, each group would otherwise take it as the one before
// frees it.
TEST_F(StorePipelineTest, AWriteOutsideAMutationGoesBeforeTheGroupsQueued) {
  ASSERT_THAT(Commit([](Txn& txn) { txn.PutIndex("p/a", "1"); }), IsOk());
  const int64_t oldest = store_->first_change_revision();
  // A group holding the leadership.
  absl::Notification blocking, unblock, blocker_done;
  absl::StatusOr<CommitResult> blocker;
  CommitAsync(
      [&](Txn& txn) {
        blocking.Notify();
        unblock.WaitForNotification();
        txn.PutIndex("p/b", "1");
      },
      &blocker, &blocker_done);
  ASSERT_TRUE(blocking.WaitForNotificationWithTimeout(kPatience));
  // The compaction waits for it...
  absl::Status compacted;
  absl::Notification compacted_done;
  std::thread compaction([&] {
    compacted = store_->CompactChanges(store_->revision());
    compacted_done.Notify();
  });
  const absl::Time deadline = absl::Now() + kPatience;
  while (store_->stats().exclusive_waiting == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));  // no condition to wait on
  }
  ASSERT_EQ(store_->stats().exclusive_waiting, 1);
  // ...and so does a group queued after it, which looks for the oldest
  // change record.
  absl::StatusOr<CommitResult> queued;
  absl::Notification queued_done;
  bool oldest_still_there = true;
  CommitAsync(
      [&](Txn& txn) {
        std::string value;
        oldest_still_there =
            txn.Get(Table::kChangelog, ChangelogKey(oldest), &value).ok();
        txn.PutIndex("p/c", "1");
      },
      &queued, &queued_done);
  unblock.Notify();
  ASSERT_TRUE(compacted_done.WaitForNotificationWithTimeout(kPatience));
  compaction.join();
  ASSERT_TRUE(queued_done.WaitForNotificationWithTimeout(kPatience));
  ASSERT_TRUE(blocker_done.WaitForNotificationWithTimeout(kPatience));
  EXPECT_THAT(compacted, IsOk());
  ASSERT_THAT(queued, IsOk());
  EXPECT_FALSE(oldest_still_there) << "the queued group went first";
  EXPECT_GT(store_->first_change_revision(), oldest);
}

}  // namespace
}  // namespace cohorte::storage
