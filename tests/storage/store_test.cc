// Storage tests on a real RocksDB in a temp dir, with tiny memtables so that
// flushes and compactions happen while they run.

#include "storage/store.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/codec.h"
#include "storage/keys.h"
#include "storage/status_macros.h"
#include "tests/testing/raw_access.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace cohorte::storage {
namespace {

using ::cohorte::testing::IsOk;
using ::cohorte::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::SizeIs;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    store_.reset();
    StoreOptions options;
    options.path = dir_.path() + "/db";
    options.write_buffer_size = 64 * 1024;
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
  }

  // A mutation that writes `key` = `value` and an entry pointing back at it
  // in the indexes table, and a cohort named `key` (so its change is
  // logged with its entity kind).
  static Mutation PutMutation(const std::string& key, const std::string& value,
                              const std::string& request_id = "") {
    Mutation m;
    m.actor = "members/test";
    m.method = "Put";
    m.request_id = request_id;
    m.apply = [key, value](Txn& txn) -> absl::StatusOr<std::string> {
      txn.PutIndex(key, value);
      txn.PutIndex("by-value/" + value, key);
      ::cohorte::v1::Cohort logged;  // an entity, so the change is logged
      logged.set_name(key);
      txn.PutEntity(logged);
      return absl::StrCat("wrote ", key, " at ", txn.revision());
    };
    return m;
  }

  std::string GetOrEmpty(Table table, const std::string& key) {
    std::string value;
    return storage::testing::RawAccess::Committed(*store_)
                   .Get(table, key, &value)
                   .ok()
               ? value
               : "";
  }

  // A store at dir_ whose async writers are led by `async_leader`.
  std::unique_ptr<Store> OpenWithAsyncLeader(
      std::function<void(std::function<void()>)> async_leader) {
    store_.reset();
    StoreOptions options;
    options.path = dir_.path() + "/db";
    options.async_leader = std::move(async_leader);
    absl::StatusOr<std::unique_ptr<Store>> opened = Store::Open(options);
    EXPECT_THAT(opened, IsOk());
    return opened.ok() ? *std::move(opened) : nullptr;
  }

  // Commits k1 asynchronously, k2 being queued while k1's group commits.
  // Their answers append "answered 1" (followed by what `note` says then)
  // and "answered 2" to `events`.
  static void CommitOneQueuingAnother(
      Store& store, std::vector<std::string>& events,
      std::function<std::string()> note = [] { return std::string(); }) {
    Mutation first = PutMutation("k1", "v");
    auto apply = first.apply;
    first.apply = [&store, &events, apply](Txn& txn) {
      store.CommitAsync(PutMutation("k2", "v"),
                        [&events](absl::StatusOr<CommitResult> r) {
                          ASSERT_THAT(r, IsOk());
                          events.push_back("answered 2");
                        });
      return apply(txn);
    };
    store.CommitAsync(std::move(first),
                      [&events, note](absl::StatusOr<CommitResult> r) {
                        ASSERT_THAT(r, IsOk());
                        events.push_back(absl::StrCat("answered 1", note()));
                      });
  }

  ::cohorte::testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, NewStoreHasAnInstanceIdEpochOneAndRevisionZero) {
  EXPECT_THAT(store_->instance_id(), SizeIs(32));
  EXPECT_EQ(store_->epoch(), 1);
  EXPECT_EQ(store_->revision(), 0);
}

TEST_F(StoreTest, CommitWritesEntityIndexChangeLogCounterAndRequestTogether) {
  absl::StatusOr<CommitResult> result =
      store_->Commit(PutMutation("a", "1", /*request_id=*/"req-1"));
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->revision, 1);
  EXPECT_FALSE(result->replayed);
  EXPECT_EQ(result->response, "wrote a at 1");

  EXPECT_EQ(GetOrEmpty(Table::kIndexes, "a"), "1");
  EXPECT_EQ(GetOrEmpty(Table::kIndexes, "by-value/1"), "a");
  EXPECT_EQ(GetOrEmpty(Table::kMeta, std::string(kMetaRevisionKey)),
            EncodeUint64BigEndian(1));
  EXPECT_NE(
      GetOrEmpty(Table::kRequests, RequestKey("members/test", "Put", "req-1")),
      "");
  absl::StatusOr<std::vector<v1::ChangeRecord>> changes =
      storage::testing::RawAccess::ReadChanges(*store_, 1, 10);
  ASSERT_THAT(changes, IsOk());
  ASSERT_THAT(*changes, SizeIs(1));
  EXPECT_EQ((*changes)[0].revision(), 1);
  EXPECT_EQ((*changes)[0].actor(), "members/test");
  EXPECT_EQ((*changes)[0].method(), "Put");
  ASSERT_THAT((*changes)[0].changes(), SizeIs(1));
  EXPECT_EQ((*changes)[0].changes(0).resource_name(), "a");
}

// A change holds the written entity as Any::PackFrom would, though the
// store packs the bytes it has just encoded instead of serializing again.
TEST_F(StoreTest, AChangeHoldsTheEntityAsPackFromWouldPackIt) {
  ::cohorte::v1::Cohort created;
  created.set_name("cohorts/new");
  created.set_display_name("Cohorte d'Occitanie, é€");
  ::cohorte::v1::Cohort replaced = created;
  replaced.set_name("cohorts/old");
  ASSERT_THAT(store_->Commit(PutMutation("cohorts/old", "1")), IsOk());
  Mutation m;
  m.actor = "members/test";
  m.method = "Put";
  m.apply = [&](Txn& txn) -> absl::StatusOr<std::string> {
    txn.PutNewEntity(created);
    txn.PutEntity(replaced);
    return std::string();
  };
  ASSERT_THAT(store_->Commit(std::move(m)), IsOk());
  absl::StatusOr<std::vector<v1::ChangeRecord>> changes =
      storage::testing::RawAccess::ReadChanges(*store_, 2, 10);
  ASSERT_THAT(changes, IsOk());
  ASSERT_THAT(*changes, SizeIs(1));
  ASSERT_THAT((*changes)[0].changes(), SizeIs(2));
  for (int i = 0; i < 2; ++i) {
    const ::cohorte::v1::Cohort& entity = i == 0 ? created : replaced;
    google::protobuf::Any packed;
    packed.PackFrom(entity);
    const v1::Change& change = (*changes)[0].changes(i);
    EXPECT_EQ(change.resource_name(), entity.name());
    EXPECT_EQ(change.created(), i == 0);
    EXPECT_EQ(change.resource().type_url(), packed.type_url());
    EXPECT_EQ(change.resource().value(), packed.value());
    ::cohorte::v1::Cohort unpacked;
    ASSERT_TRUE(change.resource().UnpackTo(&unpacked));
    EXPECT_EQ(unpacked.display_name(), entity.display_name());
  }
}

// Scans stay inside their prefix both ways, and a mutation's scan sees
// the group's own writes over the committed state.
TEST_F(StoreTest, LastWriteRevisionMovesOnlyWithWritesOfItsKind) {
  EXPECT_EQ(store_->LastWriteRevision(EntityKind::kCohort), 0);
  EXPECT_EQ(store_->LastWriteRevision(EntityKind::kMember), 0);
  ASSERT_THAT(store_->Commit(PutMutation("cohorts/a", "1")), IsOk());
  EXPECT_EQ(store_->LastWriteRevision(EntityKind::kCohort), 1);
  EXPECT_EQ(store_->LastWriteRevision(EntityKind::kMember), 0);

  // A deletion counts as a write; a failed mutation and an index-only one
  // do not.
  Mutation del;
  del.apply = [](Txn& txn) -> absl::StatusOr<std::string> {
    txn.DeleteEntity<::cohorte::v1::Member>("members/x");
    return std::string();
  };
  ASSERT_THAT(store_->Commit(std::move(del)), IsOk());
  Mutation failed;
  failed.apply = [](Txn& txn) -> absl::StatusOr<std::string> {
    ::cohorte::v1::Cohort c;
    c.set_name("cohorts/b");
    txn.PutEntity(c);
    return absl::AbortedError("changed its mind");
  };
  ASSERT_THAT(store_->Commit(std::move(failed)),
              StatusIs(absl::StatusCode::kAborted));
  Mutation index_only;
  index_only.apply = [](Txn& txn) -> absl::StatusOr<std::string> {
    txn.PutIndex("k", "v");
    return std::string();
  };
  ASSERT_THAT(store_->Commit(std::move(index_only)), IsOk());
  EXPECT_EQ(store_->revision(), 3);
  EXPECT_EQ(store_->LastWriteRevision(EntityKind::kCohort), 1);
  EXPECT_EQ(store_->LastWriteRevision(EntityKind::kMember), 2);
}

TEST_F(StoreTest, ScansStayInTheirPrefixForwardBackwardAndInAMutation) {
  for (const char* key : {"a/1", "b/1", "b/2", "b/3", "c/1"}) {
    ASSERT_THAT(store_->Commit(PutMutation(key, std::string("v") + key)),
                IsOk());
  }
  auto keys = [&](bool reverse, const std::string& from) {
    std::vector<std::string> out;
    auto visit = [&](absl::string_view k, absl::string_view) {
      out.emplace_back(k);
      return true;
    };
    EXPECT_THAT(
        reverse ? storage::testing::RawAccess::Committed(*store_).ScanReverse(
                      Table::kIndexes, "b/", from, visit)
                : storage::testing::RawAccess::Committed(*store_).Scan(
                      Table::kIndexes, "b/", from, visit),
        IsOk());
    return out;
  };
  EXPECT_THAT(keys(false, ""), ::testing::ElementsAre("b/1", "b/2", "b/3"));
  EXPECT_THAT(keys(false, "b/1"), ::testing::ElementsAre("b/2", "b/3"));
  EXPECT_THAT(keys(true, ""), ::testing::ElementsAre("b/3", "b/2", "b/1"));
  EXPECT_THAT(keys(true, "b/3"), ::testing::ElementsAre("b/2", "b/1"));

  Mutation m;
  m.apply = [](Txn& txn) -> absl::StatusOr<std::string> {
    txn.PutIndex("b/0", "new");
    txn.DeleteIndex("b/2");
    std::string seen;
    absl::Status s = txn.Scan(Table::kIndexes, "b/",
                              [&](absl::string_view k, absl::string_view) {
                                seen += std::string(k) + " ";
                                return true;
                              });
    if (!s.ok()) return s;
    return seen;
  };
  absl::StatusOr<CommitResult> r = store_->Commit(std::move(m));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->response, "b/0 b/1 b/3 ");
}

TEST_F(StoreTest, FailedMutationWritesNothingAndUsesNoRevision) {
  ASSERT_THAT(store_->Commit(PutMutation("a", "1")), IsOk());
  Mutation failing;
  failing.actor = "members/test";
  failing.method = "Fail";
  failing.request_id = "req-fail";
  failing.apply = [](Txn& txn) -> absl::StatusOr<std::string> {
    txn.PutIndex("b", "2");
    txn.PutIndex("by-value/2", "b");
    txn.DeleteIndex("a");
    return absl::FailedPreconditionError("refused after writing");
  };
  EXPECT_THAT(store_->Commit(std::move(failing)),
              StatusIs(absl::StatusCode::kFailedPrecondition));

  EXPECT_EQ(store_->revision(), 1);
  EXPECT_EQ(GetOrEmpty(Table::kIndexes, "a"), "1");
  EXPECT_EQ(GetOrEmpty(Table::kIndexes, "b"), "");
  EXPECT_EQ(GetOrEmpty(Table::kIndexes, "by-value/2"), "");
  EXPECT_EQ(GetOrEmpty(Table::kRequests,
                       RequestKey("members/test", "Fail", "req-fail")),
            "");
  EXPECT_THAT(*storage::testing::RawAccess::ReadChanges(*store_, 0, 10),
              SizeIs(1));
  // The next successful mutation takes the very next revision: no gap.
  EXPECT_EQ(store_->Commit(PutMutation("c", "3"))->revision, 2);
}

TEST_F(StoreTest, MutationSeesItsOwnWritesBeforeCommit) {
  Mutation m;
  m.apply = [](Txn& txn) -> absl::StatusOr<std::string> {
    txn.PutIndex("x", "first");
    std::string value;
    COHORTE_RETURN_IF_ERROR(txn.Get(Table::kIndexes, "x", &value));
    return value;
  };
  EXPECT_EQ(store_->Commit(std::move(m))->response, "first");
}

TEST_F(StoreTest, ReopenKeepsRevisionInstanceIdAndData) {
  const std::string instance = store_->instance_id();
  for (int i = 0; i < 200; ++i) {
    ASSERT_THAT(store_->Commit(
                    PutMutation(absl::StrCat("k", i), std::string(500, 'v'))),
                IsOk());
  }
  Reopen();
  EXPECT_EQ(store_->instance_id(), instance);
  EXPECT_EQ(store_->epoch(), 1);
  EXPECT_EQ(store_->revision(), 200);
  EXPECT_EQ(GetOrEmpty(Table::kIndexes, "k199"), std::string(500, 'v'));
  // Revisions go on from where they were.
  EXPECT_EQ(store_->Commit(PutMutation("next", "v"))->revision, 201);
}

TEST_F(StoreTest, RevisionsAreGapFreeAndInCommitOrderUnderConcurrentWriters) {
  constexpr int kThreads = 16;
  constexpr int kPerThread = 100;
  std::vector<std::vector<int64_t>> revisions(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::StatusOr<CommitResult> r =
            store_->Commit(PutMutation(absl::StrCat("t", t, "/", i), "v"));
        ASSERT_THAT(r, IsOk());
        revisions[t].push_back(r->revision);
      }
    });
  }
  for (std::thread& t : threads) t.join();

  std::set<int64_t> all;
  for (int t = 0; t < kThreads; ++t) {
    // Each writer's own revisions increase: commit order is call order.
    EXPECT_TRUE(std::is_sorted(revisions[t].begin(), revisions[t].end()));
    all.insert(revisions[t].begin(), revisions[t].end());
  }
  constexpr int kTotal = kThreads * kPerThread;
  ASSERT_EQ(static_cast<int>(all.size()), kTotal);
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), kTotal);
  EXPECT_EQ(store_->revision(), kTotal);

  // The change log holds exactly one record per revision, in order, and
  // each names the key its mutation wrote.
  absl::StatusOr<std::vector<v1::ChangeRecord>> changes =
      storage::testing::RawAccess::ReadChanges(*store_, 1, kTotal + 10);
  ASSERT_THAT(changes, IsOk());
  ASSERT_THAT(*changes, SizeIs(kTotal));
  for (int i = 0; i < kTotal; ++i) {
    EXPECT_EQ((*changes)[i].revision(), i + 1);
  }
  Store::Stats stats = store_->stats();
  EXPECT_EQ(stats.committed_mutations, kTotal);
  EXPECT_LE(stats.wal_syncs, kTotal);

  Reopen();
  EXPECT_EQ(store_->revision(), kTotal);
}

TEST_F(StoreTest, AsyncAndBlockingCommitsShareGroupsOrderAndDurability) {
  constexpr int kThreads = 16;
  constexpr int kPerThread = 60;
  absl::Mutex mu;
  std::vector<int64_t> revisions;  // of every acknowledged commit
  std::atomic<int> answered_early{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string key = absl::StrCat("t", t, "/", i);
        if ((t + i) % 3 == 0) {
          absl::StatusOr<CommitResult> r =
              store_->Commit(PutMutation(key, "v"));
          ASSERT_THAT(r, IsOk());
          absl::MutexLock lock(&mu);
          revisions.push_back(r->revision);
          continue;
        }
        store_->CommitAsync(
            PutMutation(key, "v"), [&, key](absl::StatusOr<CommitResult> r) {
              ASSERT_THAT(r, IsOk());
              // Answered only once committed: the revision is published
              // and the write is in the committed state.
              std::string value;
              if (store_->revision() < r->revision ||
                  !storage::testing::RawAccess::Committed(*store_)
                       .Get(Table::kIndexes, key, &value)
                       .ok()) {
                ++answered_early;
              }
              absl::MutexLock lock(&mu);
              revisions.push_back(r->revision);
            });
      }
    });
  }
  for (std::thread& t : threads) t.join();
  // Every callback has run once every call returned: a thread leaves
  // Commit or CommitAsync only after leading whatever async writers were
  // left at the queue's front.
  absl::MutexLock lock(&mu);
  ASSERT_EQ(static_cast<int>(revisions.size()), kThreads * kPerThread);
  EXPECT_EQ(answered_early.load(), 0);
  std::sort(revisions.begin(), revisions.end());
  for (size_t i = 0; i < revisions.size(); ++i) {
    ASSERT_EQ(revisions[i], static_cast<int64_t>(i + 1));  // once each, no gap
  }
  EXPECT_EQ(store_->revision(), kThreads * kPerThread);
  EXPECT_LT(store_->stats().wal_syncs, kThreads * kPerThread);  // grouped
}

TEST_F(StoreTest, AnAsyncCommitAloneIsLedAndAnsweredByItsOwnThread) {
  const std::thread::id self = std::this_thread::get_id();
  bool ran = false;
  store_->CommitAsync(PutMutation("alone", "v"),
                      [&](absl::StatusOr<CommitResult> r) {
                        ASSERT_THAT(r, IsOk());
                        EXPECT_EQ(r->revision, 1);
                        EXPECT_EQ(std::this_thread::get_id(), self);
                        ran = true;
                      });
  EXPECT_TRUE(ran);  // before CommitAsync returned
  // A failing apply is answered with its error and uses no revision.
  Mutation failing;
  failing.apply = [](Txn&) -> absl::StatusOr<std::string> {
    return absl::FailedPreconditionError("no");
  };
  absl::Status answer;
  store_->CommitAsync(std::move(failing), [&](absl::StatusOr<CommitResult> r) {
    answer = r.status();
  });
  EXPECT_THAT(answer, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(store_->Commit(PutMutation("next", "v"))->revision, 2);
}

TEST_F(StoreTest, ACommitAsyncCallbackIsRefusedTheLeadershipNotFrozen) {
  // A callback that waited for the commit leadership could wait for a
  // leader task queued behind its own thread (cohorted's two async leaders
  // both answering): Commit refuses at once instead, and writes nothing.
  // CommitAsync stays allowed, and the refusal ends with the callback.
  absl::Status inside;
  bool nested_answered = false;
  store_->CommitAsync(
      PutMutation("first", "v"), [&](absl::StatusOr<CommitResult> r) {
        ASSERT_THAT(r, IsOk());
        inside = store_->Commit(PutMutation("inside", "w")).status();
        store_->CommitAsync(
            PutMutation("nested", "x"), [&](absl::StatusOr<CommitResult> n) {
              EXPECT_THAT(n, IsOk());
              EXPECT_FALSE(store_->Commit(PutMutation("deeper", "y")).ok());
              nested_answered = true;
            });
        // Still refused after the nested callback returned.
        EXPECT_THAT(store_->Commit(PutMutation("after-nested", "z")),
                    StatusIs(absl::StatusCode::kInternal));
      });
  EXPECT_THAT(inside, StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(std::string(inside.message()),
              ::testing::HasSubstr("CommitAsync callback"));
  EXPECT_TRUE(nested_answered);
  EXPECT_EQ(GetOrEmpty(Table::kIndexes, "inside"), "");
  EXPECT_EQ(GetOrEmpty(Table::kIndexes, "nested"), "x");
  EXPECT_EQ(store_->revision(), 2);  // first and nested
  EXPECT_THAT(store_->Commit(PutMutation("outside", "v")), IsOk());
}

TEST_F(StoreTest, WithAnAsyncLeaderTheCallerNeverLeads) {
  // What cohorted does: the leadership of async writers goes to its worker
  // pool, never to the calling thread (one of gRPC's event threads, which
  // must not wait on a fsync). Here the "pool" holds the tasks until run.
  store_.reset();
  std::vector<std::function<void()>> scheduled;
  StoreOptions options;
  options.path = dir_.path() + "/db";
  options.async_leader = [&](std::function<void()> task) {
    scheduled.push_back(std::move(task));
  };
  absl::StatusOr<std::unique_ptr<Store>> opened = Store::Open(options);
  ASSERT_THAT(opened, IsOk());
  std::unique_ptr<Store> store = *std::move(opened);

  std::vector<int64_t> answered;
  for (int i = 0; i < 3; ++i) {
    store->CommitAsync(PutMutation(absl::StrCat("k", i), "v"),
                       [&](absl::StatusOr<CommitResult> r) {
                         ASSERT_THAT(r, IsOk());
                         answered.push_back(r->revision);
                       });
  }
  // Nothing led yet: one task scheduled, holding the leadership for all.
  EXPECT_THAT(answered, SizeIs(0));
  ASSERT_THAT(scheduled, SizeIs(1));
  EXPECT_EQ(store->revision(), 0);
  scheduled[0]();
  EXPECT_THAT(answered, ElementsAre(1, 2, 3));  // one group, in order
  EXPECT_EQ(store->revision(), 3);
  // Once it is done, the next async writer schedules a new one, and a
  // blocking Commit leads by itself.
  store->CommitAsync(
      PutMutation("k3", "v"),
      [&](absl::StatusOr<CommitResult> r) { answered.push_back(r->revision); });
  ASSERT_THAT(scheduled, SizeIs(2));
  scheduled[1]();
  EXPECT_EQ(store->Commit(PutMutation("k4", "v"))->revision, 5);
  EXPECT_THAT(answered, ElementsAre(1, 2, 3, 4));
}

TEST_F(StoreTest, TheNextGroupIsHandedToTheAsyncLeaderBeforeThisOnesAnswers) {
  // The answers of a group (presentation, sending) run while the next group
  // commits on another thread: the leadership of the writers queued during
  // a commit is handed on before the callbacks run, not after.
  std::deque<std::function<void()>> scheduled;  // stable while one runs
  std::unique_ptr<Store> store =
      OpenWithAsyncLeader([&](std::function<void()> task) {
        scheduled.push_back(std::move(task));
      });
  ASSERT_NE(store, nullptr);
  std::vector<std::string> events;
  CommitOneQueuingAnother(*store, events, [&] {
    return absl::StrCat(", tasks ", scheduled.size());
  });
  ASSERT_THAT(scheduled, SizeIs(1));
  scheduled[0]();
  EXPECT_THAT(events, ElementsAre("answered 1, tasks 2"));
  ASSERT_THAT(scheduled, SizeIs(2));
  scheduled[1]();
  EXPECT_THAT(events, ElementsAre("answered 1, tasks 2", "answered 2"));
  EXPECT_EQ(store->revision(), 2);
}

TEST_F(StoreTest, AnAsyncLeaderThatRunsItsTaskAtOnceAnswersGroupsInOrder) {
  // cohorted's async leader runs a task on the calling thread while its
  // pool stops: the groups queued meanwhile are then led one after the
  // other, not by a hand-off nested in each answer (which would answer the
  // later group first, one stack frame deeper per group).
  std::unique_ptr<Store> store =
      OpenWithAsyncLeader([](std::function<void()> task) { task(); });
  ASSERT_NE(store, nullptr);
  std::vector<std::string> events;
  CommitOneQueuingAnother(*store, events);
  EXPECT_THAT(events, ElementsAre("answered 1", "answered 2"));
  EXPECT_EQ(store->revision(), 2);
}

TEST_F(StoreTest, ConditionalWriteIsAtomicWithItsCheck) {
  // Every writer checks that "etag" is still "v0" and then replaces it: only
  // one may succeed, even when all of them land in the same group.
  Mutation init;
  init.apply = [](Txn& txn) -> absl::StatusOr<std::string> {
    txn.PutIndex("etag", "v0");
    return std::string();
  };
  ASSERT_THAT(store_->Commit(std::move(init)), IsOk());

  constexpr int kThreads = 32;
  std::atomic<int> winners{0};
  std::atomic<int> aborted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Mutation m;
      m.apply = [t](Txn& txn) -> absl::StatusOr<std::string> {
        std::string current;
        COHORTE_RETURN_IF_ERROR(txn.Get(Table::kIndexes, "etag", &current));
        if (current != "v0") return absl::AbortedError("etag mismatch");
        txn.PutIndex("etag", absl::StrCat("v-", t));
        return std::string();
      };
      absl::StatusOr<CommitResult> r = store_->Commit(std::move(m));
      if (r.ok()) ++winners;
      if (absl::IsAborted(r.status())) ++aborted;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
  EXPECT_EQ(aborted.load(), kThreads - 1);
  EXPECT_EQ(store_->revision(), 2);
}

TEST_F(StoreTest, RequestIdReplayReturnsFirstResponseAndWritesNothing) {
  absl::StatusOr<CommitResult> first =
      store_->Commit(PutMutation("a", "1", /*request_id=*/"same"));
  ASSERT_THAT(first, IsOk());

  int applied = 0;
  Mutation retry = PutMutation("a", "CHANGED", /*request_id=*/"same");
  retry.apply = [&applied](Txn&) -> absl::StatusOr<std::string> {
    ++applied;
    return std::string("second");
  };
  absl::StatusOr<CommitResult> second = store_->Commit(std::move(retry));
  ASSERT_THAT(second, IsOk());
  EXPECT_TRUE(second->replayed);
  EXPECT_EQ(second->response, first->response);
  EXPECT_EQ(second->revision, first->revision);
  EXPECT_EQ(applied, 0);
  EXPECT_EQ(store_->revision(), 1);
  EXPECT_EQ(GetOrEmpty(Table::kIndexes, "a"), "1");

  // Another actor's request id is another key.
  Mutation other = PutMutation("b", "2", /*request_id=*/"same");
  other.actor = "members/other";
  EXPECT_FALSE(store_->Commit(std::move(other))->replayed);
}

TEST_F(StoreTest, ConcurrentDuplicatesOfOneRequestIdCommitOnce) {
  constexpr int kThreads = 16;
  std::atomic<int> fresh{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      absl::StatusOr<CommitResult> r =
          store_->Commit(PutMutation("dup", "1", /*request_id=*/"dup-id"));
      ASSERT_THAT(r, IsOk());
      if (!r->replayed) ++fresh;
      EXPECT_EQ(r->revision, 1);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(fresh.load(), 1);
  EXPECT_EQ(store_->revision(), 1);
}

TEST_F(StoreTest, ScanVisitsPrefixInOrderAfterStartKey) {
  for (const char* key : {"p/a", "p/b", "p/c", "q/a", "p"}) {
    ASSERT_THAT(store_->Commit(PutMutation(key, "v")), IsOk());
  }
  std::vector<std::string> seen;
  auto collect = [&](absl::string_view key, absl::string_view) {
    seen.emplace_back(key);
    return true;
  };
  ASSERT_THAT(storage::testing::RawAccess::Committed(*store_).Scan(
                  Table::kIndexes, "p/", "", collect),
              IsOk());
  EXPECT_THAT(seen, ElementsAre("p/a", "p/b", "p/c"));
  seen.clear();
  ASSERT_THAT(storage::testing::RawAccess::Committed(*store_).Scan(
                  Table::kIndexes, "p/", "p/a", collect),
              IsOk());
  EXPECT_THAT(seen, ElementsAre("p/b", "p/c"));
}

TEST_F(StoreTest, ReadChangesStartsAtTheGivenRevisionAndHonoursLimit) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_THAT(store_->Commit(PutMutation(absl::StrCat("k", i), "v")), IsOk());
  }
  absl::StatusOr<std::vector<v1::ChangeRecord>> changes =
      storage::testing::RawAccess::ReadChanges(*store_, /*from_revision=*/4,
                                               /*limit=*/3);
  ASSERT_THAT(changes, IsOk());
  ASSERT_THAT(*changes, SizeIs(3));
  EXPECT_EQ((*changes)[0].revision(), 4);
  EXPECT_EQ((*changes)[2].revision(), 6);
}

TEST_F(StoreTest, SecondOpenOfTheSameDirectoryIsRefused) {
  StoreOptions options;
  options.path = dir_.path() + "/db";
  EXPECT_THAT(Store::Open(options),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(StoreTest, OpenInAnUnwritablePlaceIsUnavailable) {
  StoreOptions options;
  options.path = "/proc/cohorte-cannot-exist/db";
  EXPECT_THAT(Store::Open(options), StatusIs(absl::StatusCode::kUnavailable));
}

// The files in the store's directory whose names end in `suffix`.
std::vector<std::string> FilesEndingIn(const std::string& dir,
                                       absl::string_view suffix) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (absl::EndsWith(name, suffix)) names.push_back(name);
  }
  return names;
}

TEST_F(StoreTest, RecordChunksAreReadBackAfterAReopenAndLeaveNoFileBehind) {
  const std::string a(300 << 10, 'a');
  const std::string b(200 << 10, 'b');
  ASSERT_THAT(store_->WriteRecordChunks(/*blob=*/7, /*offset=*/0, {a, b}),
              IsOk());
  EXPECT_EQ(GetOrEmpty(Table::kRecordChunks, RecordChunkKey(7, 0)), a);
  EXPECT_EQ(GetOrEmpty(Table::kRecordChunks, RecordChunkKey(7, 300 << 10)), b);
  EXPECT_THAT(FilesEndingIn(dir_.path() + "/db", ".chunks-ingest"), SizeIs(0));
  Reopen();
  EXPECT_EQ(GetOrEmpty(Table::kRecordChunks, RecordChunkKey(7, 0)), a);
  EXPECT_EQ(GetOrEmpty(Table::kRecordChunks, RecordChunkKey(7, 300 << 10)), b);
}

TEST_F(StoreTest, RecordChunksWrittenAgainAtAnOffsetReplaceEveryChunkPastIt) {
  const std::string old_chunk(100 << 10, 'o');
  ASSERT_THAT(store_->WriteRecordChunks(/*blob=*/3, /*offset=*/0,
                                        {old_chunk, old_chunk, old_chunk}),
              IsOk());
  // From 100 KiB again, with other boundaries and fewer bytes.
  const std::string fresh(150 << 10, 'n');
  ASSERT_THAT(
      store_->WriteRecordChunks(/*blob=*/3, /*offset=*/100 << 10, {fresh}),
      IsOk());
  Reopen();
  std::vector<std::string> keys;
  ASSERT_THAT(storage::testing::RawAccess::Committed(*store_).Scan(
                  Table::kRecordChunks, RecordChunkPrefix(3), "",
                  [&](absl::string_view key, absl::string_view) {
                    keys.emplace_back(key);
                    return true;
                  }),
              IsOk());
  EXPECT_THAT(keys,
              ElementsAre(RecordChunkKey(3, 0), RecordChunkKey(3, 100 << 10)));
  EXPECT_EQ(GetOrEmpty(Table::kRecordChunks, RecordChunkKey(3, 0)), old_chunk);
  EXPECT_EQ(GetOrEmpty(Table::kRecordChunks, RecordChunkKey(3, 100 << 10)),
            fresh);
}

TEST_F(StoreTest, ATableFileOfChunksLeftByACrashIsRemovedAtOpen) {
  store_.reset();
  const std::string left = dir_.path() + "/db/12-0.chunks-ingest";
  std::ofstream(left) << "half a table file";
  Reopen();
  EXPECT_FALSE(std::filesystem::exists(left));
}

TEST(KeysTest, ChangelogKeysSortNumerically) {
  EXPECT_LT(ChangelogKey(9), ChangelogKey(10));
  EXPECT_LT(ChangelogKey(255), ChangelogKey(256));
  int64_t parsed = 0;
  ASSERT_TRUE(ParseChangelogKey(ChangelogKey(123456789), &parsed));
  EXPECT_EQ(parsed, 123456789);
  EXPECT_FALSE(ParseChangelogKey("short", &parsed));
}

TEST(KeysTest, EntityKeyAndNameAreSymmetric) {
  std::string key = EntityKey(EntityKind::kCohort, "cohorts/occitanie");
  EXPECT_EQ(key[0], 0x01);
  EXPECT_EQ(EntityNameFromKey(key), "cohorts/occitanie");
  EXPECT_EQ(CollectionPrefix(EntityKind::kCohort, "", "cohorts"),
            std::string("\x01") + "cohorts/");
}

TEST(KeysTest, PrefixSuccessorSkipsTrailingFF) {
  EXPECT_EQ(PrefixSuccessor("ab"), "ac");
  EXPECT_EQ(PrefixSuccessor(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixSuccessor(std::string("\xff\xff", 2)), "");
}

}  // namespace
}  // namespace cohorte::storage
