// Start-up refuses to guess, end to end: the real `cohorted` makes a new
// instance only in a missing or empty --data-dir, and refuses, with a clear
// message and its own exit code, a directory that is not a complete
// instance or a store whose WAL is corrupt before its end. It never makes
// a new store or admin.token over what is there, however often it is
// restarted (as systemd's Restart=on-failure would).

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cohorte/v1/cohorts.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace cohorte {
namespace {

namespace fs = std::filesystem;
using ::cohorte::testing::ProcessResult;
using ::cohorte::testing::RunProcess;
using ::cohorte::testing::ServerProcess;
using ::testing::HasSubstr;

constexpr int kExitNotAnInstance = 65;
constexpr int kExitCorrupt = 74;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class StartupE2eTest : public ::testing::Test {
 protected:
  // Starts a first instance (with the demo, so that its WAL holds many
  // revisions) and stops it cleanly.
  // Makes an instance and stops it with `stop` (SIGKILL keeps what the
  // WAL holds: a clean stop flushes every memtable, since record chunks
  // are written without the WAL).
  void MakeInstance(int stop = SIGTERM) {
    std::unique_ptr<ServerProcess> server =
        ServerProcess::Start(data_dir_, {"--seed-demo"});
    ASSERT_NE(server, nullptr);
    // Writes after the demo's last record upload, which flushes the
    // chunks' column family and so starts a new WAL: the newest WAL then
    // holds more than a page of records to corrupt.
    auto cohorts = v1::CohortService::NewStub(server->channel());
    for (int i = 0; i < 40; ++i) {
      grpc::ClientContext ctx;
      ::cohorte::testing::AddToken(&ctx, server->AdminToken());
      ctx.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
      v1::CreateCohortRequest req;
      req.set_cohort_id("wal-" + std::to_string(i));
      req.mutable_cohort()->set_display_name("Cohorte écrite après la démo");
      req.mutable_cohort()->set_description(std::string(200, 'w'));
      v1::Cohort out;
      ASSERT_TRUE(cohorts->CreateCohort(&ctx, req, &out).ok());
    }
    ASSERT_EQ(server->Stop(stop), stop == SIGTERM ? 0 : 128 + stop);
    token_ = ReadAll(data_dir_ + "/admin.token");
    ASSERT_FALSE(token_.empty());
  }

  // Runs cohorted on the data directory, expecting it to refuse to start;
  // `timeout` bounds it should it serve instead.
  ProcessResult StartExpectingRefusal() {
    return RunProcess({"/usr/bin/timeout", "-s", "KILL", "60", COHORTED_PATH,
                       "--listen=127.0.0.1:0", "--data-dir=" + data_dir_});
  }

  std::vector<fs::path> Wals() const {
    std::vector<fs::path> wals;
    for (const auto& e : fs::directory_iterator(data_dir_ + "/store")) {
      if (e.path().extension() == ".log") wals.push_back(e.path());
    }
    std::sort(wals.begin(), wals.end());
    return wals;
  }

  ::cohorte::testing::TempDir dir_;
  const std::string data_dir_ = dir_.path() + "/data";
  std::string token_;
};

TEST_F(StartupE2eTest, EmptyExistingDirectoryGetsANewInstance) {
  fs::create_directory(data_dir_);
  std::unique_ptr<ServerProcess> server = ServerProcess::Start(data_dir_);
  ASSERT_NE(server, nullptr);
  EXPECT_FALSE(server->AdminToken().empty());
  EXPECT_EQ(server->Stop(SIGTERM), 0);
}

// A freshly formatted volume mounted as the data directory holds only
// lost+found: it counts as empty.
TEST_F(StartupE2eTest, AFreshVolumeWithLostAndFoundGetsANewInstance) {
  fs::create_directories(data_dir_ + "/lost+found");
  std::unique_ptr<ServerProcess> server = ServerProcess::Start(data_dir_);
  ASSERT_NE(server, nullptr);
  EXPECT_FALSE(server->AdminToken().empty());
  EXPECT_EQ(server->Stop(SIGTERM), 0);
}

TEST_F(StartupE2eTest, DirectoryWithOtherFilesIsRefused) {
  fs::create_directory(data_dir_);
  std::ofstream(data_dir_ + "/notes.txt") << "not an instance\n";
  ProcessResult r = StartExpectingRefusal();
  EXPECT_EQ(r.exit_code, kExitNotAnInstance) << r.err;
  EXPECT_THAT(r.err, HasSubstr("holds no complete Cohorte instance"));
  EXPECT_FALSE(fs::exists(data_dir_ + "/store"));
  EXPECT_FALSE(fs::exists(data_dir_ + "/admin.token"));
}

TEST_F(StartupE2eTest, MissingCurrentIsRefusedOnEveryRestartAndTheTokenKept) {
  MakeInstance();
  fs::remove(data_dir_ + "/store/CURRENT");
  for (int attempt = 0; attempt < 2; ++attempt) {
    ProcessResult r = StartExpectingRefusal();
    EXPECT_EQ(r.exit_code, kExitNotAnInstance) << r.err;
    EXPECT_THAT(r.err, HasSubstr("no CURRENT file"));
    EXPECT_FALSE(fs::exists(data_dir_ + "/store/CURRENT"));
    EXPECT_EQ(ReadAll(data_dir_ + "/admin.token"), token_);
  }
}

TEST_F(StartupE2eTest, MissingWalIsRefusedAndTheTokenKept) {
  MakeInstance();
  for (const fs::path& wal : Wals()) fs::remove(wal);
  for (int attempt = 0; attempt < 2; ++attempt) {
    ProcessResult r = StartExpectingRefusal();
    EXPECT_EQ(r.exit_code, kExitNotAnInstance) << r.err;
    EXPECT_THAT(r.err, HasSubstr("write-ahead log"));
    EXPECT_EQ(ReadAll(data_dir_ + "/admin.token"), token_);
  }
}

TEST_F(StartupE2eTest, DeletedStoreBesideItsTokenIsRefused) {
  MakeInstance();
  fs::remove_all(data_dir_ + "/store");
  ProcessResult r = StartExpectingRefusal();
  EXPECT_EQ(r.exit_code, kExitNotAnInstance) << r.err;
  EXPECT_FALSE(fs::exists(data_dir_ + "/store"));
  EXPECT_EQ(ReadAll(data_dir_ + "/admin.token"), token_);
}

TEST_F(StartupE2eTest, WalCorruptBeforeItsEndIsRefusedNamingTheFile) {
  MakeInstance(SIGKILL);
  const std::vector<fs::path> wals = Wals();
  ASSERT_FALSE(wals.empty());
  const fs::path wal = *std::max_element(
      wals.begin(), wals.end(), [](const fs::path& a, const fs::path& b) {
        return fs::file_size(a) < fs::file_size(b);
      });
  ASSERT_GT(fs::file_size(wal), 4096u);
  {
    std::fstream f(wal, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(wal) / 2));
    const std::string garbage(64, '\x5a');
    f.write(garbage.data(), garbage.size());
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    ProcessResult r = StartExpectingRefusal();
    EXPECT_EQ(r.exit_code, kExitCorrupt) << r.err;
    EXPECT_THAT(r.err, HasSubstr("corrupt before the end of its write-ahead"));
    EXPECT_THAT(r.err, HasSubstr(wal.filename().string()));
    EXPECT_THAT(r.err, HasSubstr("would be lost"));
    EXPECT_EQ(ReadAll(data_dir_ + "/admin.token"), token_);
  }
}

TEST_F(StartupE2eTest, RecoverAcceptsTheLossOfACorruptWalTailOnRequest) {
  MakeInstance(SIGKILL);
  const fs::path wal = Wals().back();
  {
    std::fstream f(wal, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(wal) / 2));
    const std::string garbage(64, '\x5a');
    f.write(garbage.data(), garbage.size());
  }
  ASSERT_EQ(StartExpectingRefusal().exit_code, kExitCorrupt);
  ProcessResult r =
      RunProcess({COHORTED_PATH, "recover", "--data-dir=" + data_dir_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("epoch 1 -> 2"));
  EXPECT_THAT(r.out, HasSubstr("wal-before-recovery-"));
  r = RunProcess({COHORTED_PATH, "recover", "--data-dir=" + data_dir_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("nothing to recover"));

  std::unique_ptr<ServerProcess> server = ServerProcess::Start(data_dir_);
  ASSERT_NE(server, nullptr);
  EXPECT_THAT(server->output(), HasSubstr("epoch 2"));
  EXPECT_EQ(ReadAll(data_dir_ + "/admin.token"), token_);
  EXPECT_EQ(server->Stop(SIGTERM), 0);
}

TEST_F(StartupE2eTest, LowFreeSpaceTurnsWriteHealthNotServingOnly) {
  std::unique_ptr<ServerProcess> server = ServerProcess::Start(
      data_dir_, {"--min-free-mb=1099511627776"});  // more than any disk
  ASSERT_NE(server, nullptr);
  const std::vector<std::string> env = {"COHORTE_SERVER=" + server->address()};
  ProcessResult writes = RunProcess(
      {COHORTE_CLI_PATH, "health", "--service", "cohorte.v1.Writes"}, env);
  EXPECT_EQ(writes.exit_code, 3) << writes.err;
  EXPECT_THAT(writes.out, HasSubstr("NOT_SERVING"));
  ProcessResult overall = RunProcess({COHORTE_CLI_PATH, "health"}, env);
  EXPECT_EQ(overall.exit_code, 0) << overall.err;
  EXPECT_EQ(server->Stop(SIGTERM), 0);

  server = ServerProcess::Start(data_dir_);  // the default threshold
  ASSERT_NE(server, nullptr);
  writes =
      RunProcess({COHORTE_CLI_PATH, "health", "--service", "cohorte.v1.Writes"},
                 {"COHORTE_SERVER=" + server->address()});
  EXPECT_EQ(writes.exit_code, 0) << writes.err;
}

}  // namespace
}  // namespace cohorte
