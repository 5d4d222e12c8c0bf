// store_bench: durable writes per second through Store::Commit with 1..64
// concurrent writers, and how many writes share each WAL fsync (group
// commit). A benchmark, not a test: it asserts nothing; its figures are
// written down in the README.
//
//   build/tests/store_bench [--seconds=2] [--dir=/tmp]

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/store.h"
#include "tests/testing/temp_dir.h"

namespace {

struct Result {
  double writes_per_second;
  double writes_per_fsync;
  double mean_latency_ms;
};

Result Run(int writers, double seconds) {
  cohorte::testing::TempDir dir;
  cohorte::storage::StoreOptions options;
  options.path = dir.path() + "/db";
  auto store = *cohorte::storage::Store::Open(options);
  const std::string value(256, 'v');  // about a small resource's size

  std::atomic<bool> stop{false};
  std::atomic<int64_t> total_latency_us{0};
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        cohorte::storage::Mutation m;
        m.actor = "members/bench";
        m.method = "Bench";
        const std::string key = absl::StrCat("bench/", w, "/", i);
        m.apply =
            [&](cohorte::storage::Txn& txn) -> absl::StatusOr<std::string> {
          txn.PutIndex(key, value);
          return std::string();
        };
        const auto t0 = std::chrono::steady_clock::now();
        if (!store->Commit(std::move(m)).ok()) std::abort();
        total_latency_us +=
            std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::steady_clock::now() - t0)
                .count();
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (std::thread& t : threads) t.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  const auto stats = store->stats();
  return {stats.committed_mutations / elapsed,
          static_cast<double>(stats.committed_mutations) /
              static_cast<double>(stats.wal_syncs),
          total_latency_us.load() / 1000.0 / stats.committed_mutations};
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--seconds=", 0) == 0) seconds = std::atof(arg.c_str() + 10);
  }
  std::printf("%8s %14s %16s %16s\n", "writers", "writes/s", "writes/fsync",
              "mean latency ms");
  for (int writers : {1, 4, 16, 64}) {
    Result r = Run(writers, seconds);
    std::printf("%8d %14.0f %16.1f %16.2f\n", writers, r.writes_per_second,
                r.writes_per_fsync, r.mean_latency_ms);
    std::fflush(stdout);
  }
  return 0;
}
