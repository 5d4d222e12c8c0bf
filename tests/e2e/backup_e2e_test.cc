// Backup and restore, end to end: the real `cohorted` is backed up through
// AdminService (and the CLI) while a client keeps writing, then killed with
// SIGKILL; `cohorted restore` makes a fresh data directory from the backup,
// which starts as the same instance with its epoch bumped and answers every
// write acknowledged before the backup began.

#include <signal.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "cohorte/v1/admin.grpc.pb.h"
#include "cohorte/v1/cohorts.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace cohorte {
namespace {

namespace fs = std::filesystem;
using ::cohorte::testing::AddToken;
using ::cohorte::testing::ProcessResult;
using ::cohorte::testing::RunProcess;
using ::cohorte::testing::ServerProcess;
using ::testing::HasSubstr;

constexpr int kExitNotEmpty = 65;

// Creates cohort `id` as the holder of `token`.
grpc::Status CreateCohort(v1::CohortService::Stub& stub,
                          const std::string& token, const std::string& id) {
  grpc::ClientContext ctx;
  AddToken(&ctx, token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::CreateCohortRequest req;
  req.set_cohort_id(id);
  req.mutable_cohort()->set_display_name("Cohorte " + id);
  v1::Cohort out;
  return stub.CreateCohort(&ctx, req, &out);
}

// The cohorts created by a writer, in the order they were acknowledged.
class Acknowledged {
 public:
  void Add(std::string id) {
    absl::MutexLock lock(&mu_);
    ids_.push_back(std::move(id));
  }
  std::vector<std::string> Snapshot() const {
    absl::MutexLock lock(&mu_);
    return ids_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> ids_ ABSL_GUARDED_BY(mu_);
};

class BackupE2eTest : public ::testing::Test {
 protected:
  ProcessResult Cli(const std::vector<std::string>& args,
                    const std::string& address, const std::string& data_dir) {
    std::vector<std::string> argv = {COHORTE_CLI_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv,
                      {"COHORTE_SERVER=" + address,
                       "COHORTE_TOKEN_FILE=" + data_dir + "/admin.token"});
  }

  ::cohorte::testing::TempDir dir_;
  const std::string data_dir_ = dir_.path() + "/data";
  const std::string backup_dir_ = dir_.path() + "/elsewhere/backups";
  const std::string restored_dir_ = dir_.path() + "/restored";
};

TEST_F(BackupE2eTest, ABackupTakenWhileWritingRestoresEveryAcknowledgedWrite) {
  std::unique_ptr<ServerProcess> server =
      ServerProcess::Start(data_dir_, {"--backup-dir=" + backup_dir_});
  ASSERT_NE(server, nullptr);
  const std::string token = server->AdminToken();
  auto cohorts = v1::CohortService::NewStub(server->channel());
  auto admin = v1::AdminService::NewStub(server->channel());
  Acknowledged acknowledged;
  for (int i = 0; i < 20; ++i) {
    const std::string id = absl::StrCat("avant-", i);
    ASSERT_TRUE(CreateCohort(*cohorts, token, id).ok());
    acknowledged.Add(id);
  }

  // A writer goes on while the backup is taken.
  std::atomic<bool> stop{false};
  std::atomic<int> written_during{0};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) {
      const std::string id = absl::StrCat("pendant-", i);
      if (!CreateCohort(*cohorts, token, id).ok()) return;
      acknowledged.Add(id);
      ++written_during;
    }
  });
  // Wait (with a deadline, not a sleep) until the writer is under way.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (written_during.load() < 5 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_GE(written_during.load(), 5);
  const std::vector<std::string> before_backup = acknowledged.Snapshot();
  v1::Backup backup;
  {
    grpc::ClientContext ctx;
    AddToken(&ctx, token);
    grpc::Status s =
        admin->CreateBackup(&ctx, v1::CreateBackupRequest(), &backup);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  // Writes go on after the backup, then the server dies without warning.
  const int after_backup = written_during.load() + 5;
  while (written_during.load() < after_backup &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  stop.store(true);
  writer.join();
  EXPECT_EQ(backup.name(), "backups/1");
  EXPECT_EQ(backup.epoch(), 1);
  // Every revision acknowledged before the call (the administrator's, then
  // one per cohort) is in the backup.
  EXPECT_GE(backup.revision(), static_cast<int64_t>(before_backup.size()) + 1);

  // The CLI lists and verifies it.
  ProcessResult listed =
      Cli({"admin", "backup", "list"}, server->address(), data_dir_);
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_THAT(listed.out, HasSubstr("backups/1"));
  ProcessResult verified =
      Cli({"admin", "backup", "verify", "1"}, server->address(), data_dir_);
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_THAT(verified.err, HasSubstr("backups/1 is intact"));
  ASSERT_EQ(server->Stop(SIGKILL), 128 + SIGKILL);
  const std::string instance_line =
      server->output().substr(server->output().find("cohorted: instance "));
  const std::string instance_id =
      instance_line.substr(std::string("cohorted: instance ").size(), 32);

  // A restore never writes over what is there.
  ProcessResult refused =
      RunProcess({COHORTED_PATH, "restore", "--from=" + backup_dir_,
                  "--data-dir=" + data_dir_});
  EXPECT_EQ(refused.exit_code, kExitNotEmpty);
  EXPECT_THAT(refused.err, HasSubstr("--replace"));

  ProcessResult restored =
      RunProcess({COHORTED_PATH, "restore", "--from=" + backup_dir_,
                  "--data-dir=" + restored_dir_});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_THAT(restored.out, HasSubstr("epoch 1 -> 2"));
  EXPECT_THAT(restored.out, HasSubstr("instance " + instance_id));
  fs::copy_file(data_dir_ + "/admin.token", restored_dir_ + "/admin.token");

  std::unique_ptr<ServerProcess> again =
      ServerProcess::Start(restored_dir_, {"--backup-dir=" + backup_dir_});
  ASSERT_NE(again, nullptr);
  auto restored_cohorts = v1::CohortService::NewStub(again->channel());
  for (const std::string& id : before_backup) {
    grpc::ClientContext ctx;
    AddToken(&ctx, token);
    v1::GetCohortRequest req;
    req.set_name("cohorts/" + id);
    v1::Cohort out;
    grpc::Status s = restored_cohorts->GetCohort(&ctx, req, &out);
    EXPECT_TRUE(s.ok()) << id << ": " << s.error_message();
  }
  // The restored instance takes writes.
  EXPECT_TRUE(CreateCohort(*restored_cohorts, token, "apres").ok());
  ASSERT_EQ(again->Stop(SIGTERM), 0);
  EXPECT_THAT(again->output(),
              HasSubstr("cohorted: instance " + instance_id + " epoch 2,"));
}

TEST_F(BackupE2eTest, BackupsAreForTheAdministratorOnly) {
  std::unique_ptr<ServerProcess> server =
      ServerProcess::Start(data_dir_, {"--seed-demo"});
  ASSERT_NE(server, nullptr);
  // The default directory is beside the data directory.
  ProcessResult created =
      Cli({"admin", "backup", "create"}, server->address(), data_dir_);
  EXPECT_EQ(created.exit_code, 0) << created.err;
  EXPECT_TRUE(fs::is_directory(data_dir_ + "-backups"));
  auto admin = v1::AdminService::NewStub(server->channel());
  grpc::ClientContext ctx;  // no token
  v1::ListBackupsResponse list;
  EXPECT_EQ(
      admin->ListBackups(&ctx, v1::ListBackupsRequest(), &list).error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_EQ(server->Stop(SIGTERM), 0);
}

TEST_F(BackupE2eTest, ABackupDirectoryInsideTheStoreIsRefused) {
  // However it is spelled, relative paths included (cohorted runs in this
  // process's working directory, the test's directory for this test).
  const fs::path was = fs::current_path();
  fs::current_path(dir_.path());
  for (const std::string& inside :
       {data_dir_ + "/store/backups", data_dir_ + "//store/./backups",
        std::string("./data/store"), std::string("data/../data/store/b")}) {
    ProcessResult r = RunProcess({"/usr/bin/timeout", "-s", "KILL", "60",
                                  COHORTED_PATH, "--listen=127.0.0.1:0",
                                  "--data-dir=data", "--backup-dir=" + inside});
    EXPECT_EQ(r.exit_code, 64) << inside;
    EXPECT_THAT(r.err, HasSubstr("--backup-dir must not be inside the store"))
        << inside;
    EXPECT_FALSE(fs::exists(data_dir_)) << inside;
  }
  fs::current_path(was);
}

// --backup-keep is at most 100 (kMaxBackupsKept, so that ListBackups
// answers in one page): 100 serves, 101 is refused at start naming the
// flag and its range, and nothing is made.
TEST_F(BackupE2eTest, BackupKeepIsAtMostAHundred) {
  ProcessResult past = RunProcess(
      {"/usr/bin/timeout", "-s", "KILL", "60", COHORTED_PATH,
       "--listen=127.0.0.1:0", "--data-dir=" + data_dir_, "--backup-keep=101"});
  EXPECT_EQ(past.exit_code, 64);
  EXPECT_THAT(past.err, HasSubstr("--backup-keep"));
  EXPECT_THAT(past.err, HasSubstr("100"));
  EXPECT_FALSE(fs::exists(data_dir_));
  std::unique_ptr<ServerProcess> server = ServerProcess::Start(
      data_dir_, {"--backup-dir=" + backup_dir_, "--backup-keep=100"});
  ASSERT_NE(server, nullptr);
  ProcessResult created =
      Cli({"admin", "backup", "create"}, server->address(), data_dir_);
  EXPECT_EQ(created.exit_code, 0) << created.err;
  ASSERT_EQ(server->Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace cohorte
