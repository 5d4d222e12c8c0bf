// A real full filesystem: a small tmpfs the test mounts (when it may: as
// root with CAP_SYS_ADMIN; skipped otherwise), filled up by a file beside
// the store. Real ENOSPC comes mid-write, as partial appends, which the
// in-process fault FileSystem does not imitate. The store must answer
// RESOURCE_EXHAUSTED without aborting, keep serving reads, and write again
// once the filler is removed, with every acknowledged write kept.

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/rocksdb_status.h"
#include "storage/store.h"
#include "tests/testing/raw_access.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace cohorte::storage {
namespace {

namespace fs = std::filesystem;
using ::cohorte::storage::testing::RawAccess;
using ::cohorte::testing::IsOk;
using ::cohorte::testing::StatusIs;

Mutation PutMutation(const std::string& key) {
  Mutation m;
  m.actor = "members/test";
  m.method = "Put";
  m.apply = [key](Txn& txn) -> absl::StatusOr<std::string> {
    txn.PutIndex(key, std::string(4096, 'v'));
    return key;
  };
  return m;
}

// The free space left beside the filler: each runs out in other files
// first (WAL, table files of a flush, the MANIFEST, RocksDB's LOG).
class StoreFullDiskTest : public ::testing::TestWithParam<uint64_t> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
    if (::mount("cohorte-test", dir_.path().c_str(), "tmpfs", 0,
                "size=24m,mode=0700") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs: " << std::strerror(errno);
    }
    mounted_ = true;
  }
  void TearDown() override {
    store_.reset();
    if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }

  ::cohorte::testing::TempDir dir_;
  bool mounted_ = false;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreFullDiskTest, FullDiskRefusesWritesServesReadsAndRecovers) {
  StoreOptions options;
  options.path = dir_.path() + "/db";
  options.write_buffer_size = 256 * 1024;
  options.recovery_interval = absl::Milliseconds(5);
  absl::StatusOr<std::unique_ptr<Store>> opened = Store::Open(options);
  ASSERT_THAT(opened, IsOk());
  store_ = *std::move(opened);
  std::set<std::string> acknowledged;
  for (int i = 0; i < 20; ++i) {
    const std::string key = absl::StrCat("before/", i);
    ASSERT_THAT(store_->Commit(PutMutation(key)), IsOk());
    acknowledged.insert(key);
  }

  // Fill the filesystem but for GetParam() bytes.
  const std::string filler = dir_.path() + "/filler";
  {
    const fs::space_info space = fs::space(dir_.path());
    std::ofstream out(filler, std::ios::binary);
    const std::string block(16 * 1024, 'f');
    for (uint64_t n = 0; n + GetParam() < space.available; n += block.size()) {
      out.write(block.data(), block.size());
    }
  }
  absl::Status failed;
  for (int i = 0; i < 5000 && failed.ok(); ++i) {
    const std::string key = absl::StrCat("during/", i);
    absl::StatusOr<CommitResult> r = store_->Commit(PutMutation(key));
    failed = r.status();
    if (r.ok()) acknowledged.insert(key);
  }
  EXPECT_THAT(failed, StatusIs(absl::StatusCode::kResourceExhausted,
                               kReasonStorageFull));
  for (int i = 0; i < 20; ++i) {
    EXPECT_THAT(store_->Commit(PutMutation(absl::StrCat("refused/", i))),
                StatusIs(absl::StatusCode::kResourceExhausted));
  }
  std::string value;
  EXPECT_THAT(
      RawAccess::Committed(*store_).Get(Table::kIndexes, "before/3", &value),
      IsOk());

  fs::remove(filler);
  absl::Status written;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  for (int i = 0; absl::Now() < deadline; ++i) {
    const std::string key = absl::StrCat("after/", i);
    written = store_->Commit(PutMutation(key)).status();
    if (written.ok()) {
      acknowledged.insert(key);
      break;
    }
  }
  ASSERT_THAT(written, IsOk());
  EXPECT_THAT(store_->write_status(), IsOk());

  // Reopened, every acknowledged write is there.
  store_.reset();
  opened = Store::Open(options);
  ASSERT_THAT(opened, IsOk());
  store_ = *std::move(opened);
  for (const std::string& key : acknowledged) {
    EXPECT_THAT(RawAccess::Committed(*store_).Get(Table::kIndexes, key, &value),
                IsOk())
        << key;
  }
}

INSTANTIATE_TEST_SUITE_P(FreeSpace, StoreFullDiskTest,
                         ::testing::Values(0, 64 << 10, 512 << 10, 2 << 20));

}  // namespace
}  // namespace cohorte::storage
