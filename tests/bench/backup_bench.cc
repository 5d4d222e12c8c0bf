// backup_bench: the time to back up and restore a store of a given size,
// e.g. `build/tests/backup_bench /var/tmp/bench 1024` (MiB). Fills a store
// with incompressible 64 KiB values (16 per commit), then times a first
// backup, a second one after 1% more data (only new table files are
// copied), a verification with checksums, and a restore. Run by hand, not
// by ctest; the directory must not exist.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "storage/backup.h"
#include "storage/store.h"

namespace {

using cohorte::storage::Mutation;
using cohorte::storage::Store;
using cohorte::storage::Txn;

constexpr int kValueBytes = 64 << 10;
constexpr int kValuesPerCommit = 16;

// Commits `mib` MiB of random values after key number `*next`.
bool Fill(Store& store, int64_t mib, int64_t* next, std::mt19937_64& rng) {
  const int64_t commits = mib * (1 << 20) / (kValueBytes * kValuesPerCommit);
  for (int64_t c = 0; c < commits; ++c) {
    Mutation m;
    m.actor = "members/bench";
    m.method = "Fill";
    std::string values(static_cast<size_t>(kValueBytes) * kValuesPerCommit,
                       '\0');
    for (size_t i = 0; i + 8 <= values.size(); i += 8) {
      const uint64_t r = rng();
      std::memcpy(&values[i], &r, 8);
    }
    const int64_t first = *next;
    *next += kValuesPerCommit;
    m.apply = [&, first](Txn& txn) -> absl::StatusOr<std::string> {
      for (int i = 0; i < kValuesPerCommit; ++i) {
        txn.PutIndex(absl::StrCat("bench/", first + i),
                     absl::string_view(values).substr(
                         static_cast<size_t>(i) * kValueBytes, kValueBytes));
      }
      return std::string();
    };
    if (!store.Commit(std::move(m)).ok()) return false;
  }
  return true;
}

double Seconds(absl::Time start) {
  return absl::ToDoubleSeconds(absl::Now() - start);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: backup_bench DIR MIB\n");
    return 64;
  }
  const std::string dir = argv[1];
  const int64_t mib = std::atoll(argv[2]);
  std::filesystem::create_directories(dir);
  std::mt19937_64 rng(42);
  int64_t next = 0;
  cohorte::storage::StoreOptions options;
  options.path = dir + "/store";
  auto store = Store::Open(options);
  auto backups =
      cohorte::storage::Backups::Open({.dir = dir + "/backups", .keep = 2});
  if (!store.ok() || !backups.ok()) return 70;
  absl::Time t = absl::Now();
  if (!Fill(**store, mib, &next, rng)) return 70;
  std::printf("filled %lld MiB in %.1f s\n", static_cast<long long>(mib),
              Seconds(t));

  t = absl::Now();
  auto first = (*backups)->Create(**store);
  if (!first.ok()) return 70;
  std::printf("first backup: %.1f s (%.0f MiB, %u files)\n", Seconds(t),
              first->size_bytes / 1048576.0, first->file_count);

  if (!Fill(**store, mib / 100 + 1, &next, rng)) return 70;
  t = absl::Now();
  auto second = (*backups)->Create(**store);
  if (!second.ok()) return 70;
  std::printf("second backup after 1%% more: %.2f s\n", Seconds(t));

  t = absl::Now();
  if (!(*backups)->Verify(second->id).ok()) return 70;
  std::printf("verify with checksums: %.1f s\n", Seconds(t));
  store->reset();

  t = absl::Now();
  auto restored = cohorte::storage::RestoreBackup(
      {.backup_dir = dir + "/backups", .store_path = dir + "/restored"});
  if (!restored.ok()) {
    std::fprintf(stderr, "%s\n", restored.status().ToString().c_str());
    return 70;
  }
  std::printf("restore: %.1f s (revision %lld, epoch %lld)\n", Seconds(t),
              static_cast<long long>(restored->revision),
              static_cast<long long>(restored->epoch));
  return 0;
}
