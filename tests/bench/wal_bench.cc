// wal_bench: disk per message and restart time after many posts. Writes
// `--posts` message-shaped mutations (a 1 KiB message, two index entries,
// its change-log record, the revision counter, an idempotency record) with
// 16 concurrent writers, closes the store, then reports the bytes in WAL
// files and in table files, and how long Store::Open takes to reopen it.
// `--max-wal-mb=0` gives RocksDB's default WAL bound (4 × all memtables:
// the WAL is effectively never trimmed when small column families do not
// fill their memtables), for comparison. A benchmark, not a test; its
// figures are in the README.
//
//   build-rel/tests/wal_bench [--posts=1000000] [--max-wal-mb=64] [--dir=/tmp]

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cohorte/v1/exchanges.pb.h"
#include "storage/store.h"
#include "tests/testing/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using cohorte::storage::Table;

struct DiskUse {
  uint64_t wal_bytes = 0;
  uint64_t table_bytes = 0;
  uint64_t other_bytes = 0;
};

DiskUse Measure(const std::string& path) {
  DiskUse use;
  for (const auto& entry : fs::directory_iterator(path)) {
    const uint64_t size = entry.file_size();
    const std::string ext = entry.path().extension().string();
    if (ext == ".log") {
      use.wal_bytes += size;
    } else if (ext == ".sst") {
      use.table_bytes += size;
    } else {
      use.other_bytes += size;
    }
  }
  return use;
}

cohorte::storage::Mutation Post(int writer, int64_t i) {
  cohorte::storage::Mutation m;
  m.actor = absl::StrCat("members/writer-", writer);
  m.method = "PostMessage";
  m.request_id = absl::StrCat("req-", writer, "-", i);
  m.apply = [writer,
             i](cohorte::storage::Txn& txn) -> absl::StatusOr<std::string> {
    const std::string name = absl::StrCat(
        "cohorts/bench/groups/elus/exchanges/e1/messages/m", txn.revision());
    // A message body of 1 KiB (not very compressible French-like text).
    std::string body;
    while (body.size() < 1024) {
      body += absl::StrCat("Retour ", writer, "-", i, " sur la mobilite ",
                           body.size() * 7919 % 10007, ". ");
    }
    cohorte::v1::Message message;
    message.set_name(name);
    message.set_author(absl::StrCat("members/writer-", writer));
    message.set_body(body);
    txn.PutEntity(message);  // and its change-log record
    txn.PutIndex(absl::StrCat("by-exchange/e1/", txn.revision()), name);
    txn.PutIndex(
        absl::StrCat("inbox/members/writer-", writer, "/", txn.revision()),
        name);
    return body.substr(0, 200);
  };
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t posts = 1000000;
  uint64_t max_wal_mb = 64;
  std::string base;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--posts=", 0) == 0) posts = std::atoll(arg.c_str() + 8);
    if (arg.rfind("--max-wal-mb=", 0) == 0) {
      max_wal_mb = std::strtoull(arg.c_str() + 13, nullptr, 10);
    }
    if (arg.rfind("--dir=", 0) == 0) base = arg.substr(6);
  }
  if (!base.empty()) setenv("TMPDIR", base.c_str(), 1);
  cohorte::testing::TempDir dir;
  cohorte::storage::StoreOptions options;
  options.path = dir.path() + "/db";
  options.max_total_wal_bytes = max_wal_mb << 20;

  constexpr int kWriters = 16;
  const auto start = std::chrono::steady_clock::now();
  {
    auto store = *cohorte::storage::Store::Open(options);
    std::atomic<int64_t> next{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) {
      threads.emplace_back([&, w] {
        for (int64_t i = next++; i < posts; i = next++) {
          if (!store->Commit(Post(w, i)).ok()) std::abort();
        }
      });
    }
    for (std::thread& t : threads) t.join();
  }
  const double write_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  const DiskUse use = Measure(options.path);

  const auto open_start = std::chrono::steady_clock::now();
  auto reopened = cohorte::storage::Store::Open(options);
  const double open_seconds = std::chrono::duration<double>(
                                  std::chrono::steady_clock::now() - open_start)
                                  .count();
  if (!reopened.ok() || (*reopened)->revision() != posts) std::abort();

  const double mib = 1024.0 * 1024.0;
  std::printf(
      "posts %lld  max_total_wal %llu MiB  written in %.1f s (%.0f/s)\n",
      static_cast<long long>(posts),
      static_cast<unsigned long long>(max_wal_mb), write_seconds,
      posts / write_seconds);
  std::printf(
      "WAL %.1f MiB  tables %.1f MiB  other %.1f MiB  "
      "disk per post %.0f B (tables alone %.0f B, ratio %.2f)\n",
      use.wal_bytes / mib, use.table_bytes / mib, use.other_bytes / mib,
      static_cast<double>(use.wal_bytes + use.table_bytes + use.other_bytes) /
          posts,
      static_cast<double>(use.table_bytes) / posts,
      static_cast<double>(use.wal_bytes + use.table_bytes + use.other_bytes) /
          static_cast<double>(use.table_bytes));
  std::printf("restart (Store::Open) %.3f s\n", open_seconds);
  return 0;
}
