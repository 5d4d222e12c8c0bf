// A full disk, end to end: the real `cohorted` with its data on a small
// tmpfs the test mounts (as root with CAP_SYS_ADMIN; skipped otherwise).
// When a filler takes the last bytes, writes get RESOURCE_EXHAUSTED with
// reason STORAGE_FULL, health of cohorte.v1.Writes turns NOT_SERVING, reads
// go on and the server stays up; once the filler is gone, writes resume by
// themselves, and the server still stops cleanly.

#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cohorte/v1/cohorts.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
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

// The ErrorInfo reason in a gRPC status's details, or "".
std::string Reason(const grpc::Status& status) {
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return "";
  for (const auto& any : details.details()) {
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info)) return info.reason();
  }
  return "";
}

class FullDiskE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
    if (::mount("cohorte-e2e", dir_.path().c_str(), "tmpfs", 0,
                "size=32m,mode=0700") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs: " << std::strerror(errno);
    }
    mounted_ = true;
  }
  void TearDown() override {
    server_.reset();
    if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }

  grpc::Status CreateCohort(const std::string& id) {
    grpc::ClientContext ctx;
    AddToken(&ctx, token_);
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(30));
    v1::CreateCohortRequest req;
    req.set_cohort_id(id);
    req.mutable_cohort()->set_display_name("Cohorte " + id);
    req.mutable_cohort()->set_description(std::string(3000, 'd'));
    v1::Cohort out;
    return stub_->CreateCohort(&ctx, req, &out);
  }

  grpc::Status GetCohort(const std::string& id) {
    grpc::ClientContext ctx;
    AddToken(&ctx, token_);
    v1::GetCohortRequest req;
    req.set_name("cohorts/" + id);
    v1::Cohort out;
    return stub_->GetCohort(&ctx, req, &out);
  }

  // Leaves `slack` bytes free on the tmpfs, with a file to remove later.
  std::string Fill(uint64_t slack) {
    const std::string filler = dir_.path() + "/filler";
    const fs::space_info space = fs::space(dir_.path());
    std::ofstream out(filler, std::ios::binary);
    const std::string block(16 * 1024, 'f');
    for (uint64_t n = 0; n + slack < space.available; n += block.size()) {
      out.write(block.data(), block.size());
    }
    return filler;
  }

  void Start() {
    server_ = ServerProcess::Start(dir_.path() + "/data", {"--min-free-mb=0"});
    ASSERT_NE(server_, nullptr);
    token_ = server_->AdminToken();
    stub_ = v1::CohortService::NewStub(server_->channel());
  }

  // Polls the write health with the CLI until it says `serving` or
  // `timeout` passes; true if it did.
  bool WaitForWriteHealth(bool serving, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      ProcessResult r = RunProcess(
          {COHORTE_CLI_PATH, "health", "--service", "cohorte.v1.Writes"},
          {"COHORTE_SERVER=" + server_->address()});
      if ((r.exit_code == 0) == serving) return true;
      // The server checks its write health once a second: no condition to
      // wait on from outside, so a pause between two polls.
      absl::SleepFor(absl::Milliseconds(100));
    }
    return false;
  }

  ::cohorte::testing::TempDir dir_;
  bool mounted_ = false;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::CohortService::Stub> stub_;
  std::string token_;
};

TEST_F(FullDiskE2eTest, FullDiskIsAnAnswerAndWritesResumeWhenSpaceIsBack) {
  Start();
  ASSERT_TRUE(CreateCohort("before").ok());

  const std::string filler = Fill(/*slack=*/256 << 10);
  grpc::Status failed;
  for (int i = 0; i < 2000 && failed.ok(); ++i) {
    failed = CreateCohort(absl::StrCat("c", i));
  }
  EXPECT_EQ(failed.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << failed.error_message();
  EXPECT_EQ(Reason(failed), "STORAGE_FULL");
  EXPECT_TRUE(WaitForWriteHealth(/*serving=*/false, absl::Seconds(20)));
  EXPECT_EQ(CreateCohort("refused").error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(GetCohort("before").ok());

  fs::remove(filler);
  // The server resumes writes by itself, with no client writing: its write
  // health turns SERVING first, then a write goes through at once.
  EXPECT_TRUE(WaitForWriteHealth(/*serving=*/true, absl::Seconds(20)));
  grpc::Status written = CreateCohort("after");
  EXPECT_TRUE(written.ok()) << written.error_message();
  EXPECT_EQ(server_->Stop(SIGTERM), 0);
}

TEST_F(FullDiskE2eTest, RestartOnAFullDiskFailsCleanlyAndLosesNothing) {
  Start();
  ASSERT_TRUE(CreateCohort("kept").ok());
  ASSERT_EQ(server_->Stop(SIGTERM), 0);

  const std::string filler = Fill(/*slack=*/0);
  ProcessResult r =
      RunProcess({"/usr/bin/timeout", "-s", "KILL", "60", COHORTED_PATH,
                  "--listen=127.0.0.1:0", "--min-free-mb=0",
                  "--data-dir=" + dir_.path() + "/data"});
  // It refuses with the disk-full exit code: never an abort (134), and
  // never serving (timeout would kill it: 137).
  EXPECT_EQ(r.exit_code, 73) << r.err;
  EXPECT_THAT(r.err, ::testing::HasSubstr("disk is full"));

  fs::remove(filler);
  Start();
  EXPECT_TRUE(GetCohort("kept").ok());
  EXPECT_TRUE(CreateCohort("again").ok());
  EXPECT_EQ(server_->Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace cohorte
