// record_bench: where shared records' bytes live. Writes --mb MiB of 1 MiB
// chunks through Store::Commit (one writer, as one upload: each chunk
// fsynced before the next), then reads them back, with the record_chunks
// column family's values in RocksDB's integrated blob files and without.
// Reports throughput, the bytes the process wrote to disk (/proc/self/io:
// WAL, flushes and compactions: the write amplification) and the disk the
// store takes. Also Store::WriteRecordChunks in batches of
// RECORD_BENCH_BATCH chunks (default 8), as an ingested table file (the
// server's way) and through the memtable and a flush; with
// RECORD_BENCH_BATCHES_ONLY set, only those two. A benchmark, not a test:
// its figures are in the README.
//
//   build/tests/record_bench [--mb=512] [--dir=/work/tmp]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "tests/testing/raw_access.h"
#include "tests/testing/temp_dir.h"

namespace {

int64_t ProcessWriteBytes() {
  std::ifstream io("/proc/self/io");
  std::string key;
  int64_t value = 0;
  while (io >> key >> value) {
    if (key == "write_bytes:") return value;
  }
  return 0;
}

int64_t DiskBytes(const std::string& dir) {
  int64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += static_cast<int64_t>(e.file_size());
  }
  return total;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since)
      .count();
}

// Chunks per WriteRecordChunks (RECORD_BENCH_BATCH, default 8: a divisor
// of 64).
int64_t BatchChunks() {
  const char* env = std::getenv("RECORD_BENCH_BATCH");
  return env == nullptr ? 8 : std::atoi(env);
}

// How the chunks are written.
enum class Mode {
  kCommitPerChunk,   // each 1 MiB chunk through Store::Commit (WAL, fsync)
  kFlushedBatches,   // Store::WriteRecordChunks through the memtable, flushed
  kIngestedBatches,  // Store::WriteRecordChunks as a table file, ingested
  kCommitPerBatch,   // 8 chunks per Store::Commit (WAL, fsync)
};

// Small synced commits (a 400-byte index entry each, like a post), one at
// a time on a thread of their own while the chunks are written: their
// latencies, sorted.
class SmallWriter {
 public:
  explicit SmallWriter(cohorte::storage::Store* store)
      : store_(*store), thread_([this] { Run(); }) {}
  std::vector<double> Stop() {
    stop_ = true;
    thread_.join();
    std::sort(ms_.begin(), ms_.end());
    return ms_;
  }

 private:
  void Run() {
    const std::string body(400, 'x');
    for (int64_t i = 0; !stop_; ++i) {
      cohorte::storage::Mutation m;
      m.actor = "members/bench";
      m.method = "PostMessage";
      m.apply = [&](cohorte::storage::Txn& txn) -> absl::StatusOr<std::string> {
        txn.PutIndex("small-" + std::to_string(i), body);
        return std::string();
      };
      const auto t0 = std::chrono::steady_clock::now();
      if (!store_.Commit(std::move(m)).ok()) std::abort();
      ms_.push_back(std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - t0)
                        .count());
    }
  }

  cohorte::storage::Store& store_;
  std::atomic<bool> stop_{false};
  std::vector<double> ms_;
  std::thread thread_;
};

double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1,
                         static_cast<size_t>(q * sorted.size()))];
}

void Run(bool blob_files, Mode mode, int64_t mb, const std::string& parent) {
  cohorte::testing::TempDir dir(parent);
  cohorte::storage::StoreOptions options;
  options.path = dir.path() + "/db";
  options.record_blob_files = blob_files;
  options.record_chunks_ingested = mode == Mode::kIngestedBatches;
  auto store = *cohorte::storage::Store::Open(options);
  std::string chunk(1 << 20, '\0');
  uint32_t x = 1;
  for (char& c : chunk) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 16);
  }
  std::vector<double> alone;
  {
    SmallWriter small(store.get());
    std::this_thread::sleep_for(std::chrono::seconds(2));
    alone = small.Stop();
  }
  const int64_t written_before = ProcessWriteBytes();
  auto start = std::chrono::steady_clock::now();
  SmallWriter small(store.get());
  std::vector<std::string> batch;
  const bool batches =
      mode == Mode::kFlushedBatches || mode == Mode::kIngestedBatches;
  for (int64_t i = 0; i < mb && batches; ++i) {
    chunk[0] = static_cast<char>(i);  // no two chunks alike
    batch.push_back(chunk);
    if (static_cast<int64_t>(batch.size()) == BatchChunks() || i + 1 == mb) {
      const int64_t first = i + 1 - static_cast<int64_t>(batch.size());
      std::vector<absl::string_view> views(batch.begin(), batch.end());
      // Blobs of 64 chunks, as with Commit below (8 divides 64).
      if (!store->WriteRecordChunks(1 + first / 64, (first % 64) << 20, views)
               .ok()) {
        std::abort();
      }
      batch.clear();
    }
  }
  for (int64_t i = 0; i < mb && mode == Mode::kCommitPerBatch; i += 8) {
    cohorte::storage::Mutation m;
    m.actor = "members/bench";
    m.method = "WriteUpload";
    m.apply = [&](cohorte::storage::Txn& txn) -> absl::StatusOr<std::string> {
      for (int64_t j = i; j < std::min(mb, i + 8); ++j) {
        chunk[0] = static_cast<char>(j);
        txn.PutRecordChunk(/*blob=*/1 + j / 64, (j % 64) << 20, chunk);
      }
      return std::string();
    };
    if (!store->Commit(std::move(m)).ok()) std::abort();
  }
  for (int64_t i = 0; i < mb && mode == Mode::kCommitPerChunk; ++i) {
    chunk[0] = static_cast<char>(i);  // no two chunks alike
    cohorte::storage::Mutation m;
    m.actor = "members/bench";
    m.method = "WriteUpload";
    m.apply = [&](cohorte::storage::Txn& txn) -> absl::StatusOr<std::string> {
      txn.PutRecordChunk(/*blob=*/1 + i / 64, (i % 64) << 20, chunk);
      return std::string();
    };
    if (!store->Commit(std::move(m)).ok()) std::abort();
  }
  const double write_s = Seconds(start);
  const std::vector<double> during = small.Stop();
  const int64_t written = ProcessWriteBytes() - written_before;
  store.reset();  // close, flush: what a restart reads
  store = *cohorte::storage::Store::Open(options);
  start = std::chrono::steady_clock::now();
  int64_t read = 0;
  const auto& view = cohorte::storage::testing::RawAccess::Committed(*store);
  for (int64_t i = 0; i < mb; ++i) {
    std::string value;
    if (!view.Get(cohorte::storage::Table::kRecordChunks,
                  cohorte::storage::RecordChunkKey(1 + i / 64, (i % 64) << 20),
                  &value)
             .ok()) {
      std::abort();
    }
    read += static_cast<int64_t>(value.size());
  }
  const double read_s = Seconds(start);
  std::printf(
      "| %s, %s | %lld | %.0f MiB/s | %.0f MiB/s | %.2f | %.0f MiB | %.2f / "
      "%.2f ms | %.2f / %.2f ms |\n",
      blob_files ? "blob files" : "column family",
      mode == Mode::kCommitPerChunk   ? "a commit (WAL, fsync) per 1 MiB chunk"
      : mode == Mode::kCommitPerBatch ? "a commit (WAL, fsync) per 8 MiB"
      : mode == Mode::kFlushedBatches
          ? "a batch through the memtable, flushed (no WAL)"
          : "a batch as a table file, ingested (WriteRecordChunks)",
      static_cast<long long>(mb), mb / write_s, (read >> 20) / read_s,
      static_cast<double>(written) / (mb << 20),
      DiskBytes(dir.path()) / 1048576.0, Quantile(alone, 0.5),
      Quantile(alone, 0.99), Quantile(during, 0.5), Quantile(during, 0.99));
}

}  // namespace

int main(int argc, char** argv) {
  int64_t mb = 512;
  std::string dir = "/tmp";
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--mb=")) {
      if (!absl::SimpleAtoi(arg, &mb)) return 64;
    } else if (absl::ConsumePrefix(&arg, "--dir=")) {
      dir = std::string(arg);
    } else {
      std::fprintf(stderr, "usage: record_bench [--mb=512] [--dir=/tmp]\n");
      return 64;
    }
  }
  std::printf(
      "| bytes in, written as | MiB | write | read after restart | "
      "disk writes / data | disk used | small commit p50 / p99 alone | "
      "during the writes |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
  Run(/*blob_files=*/false, Mode::kIngestedBatches, mb, dir);
  Run(/*blob_files=*/false, Mode::kFlushedBatches, mb, dir);
  if (std::getenv("RECORD_BENCH_BATCHES_ONLY") != nullptr) return 0;
  Run(/*blob_files=*/false, Mode::kCommitPerChunk, mb, dir);
  Run(/*blob_files=*/false, Mode::kCommitPerBatch, mb, dir);
  if (std::getenv("RECORD_BENCH_BLOB_FILES") != nullptr) {
    Run(/*blob_files=*/true, Mode::kCommitPerChunk, mb, dir);
  }
  return 0;
}
