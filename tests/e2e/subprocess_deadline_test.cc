// The test helpers that wait for a child process give up at a deadline:
// a child that outlives it is killed and the test fails with a message
// naming it, instead of hanging until ctest's timeout. These tests make
// the helpers hit their deadlines on purpose and check both.

#include <signal.h>

#include <chrono>
#include <string>
#include <vector>

#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace cohorte {
namespace {

using ::cohorte::testing::ProcessResult;
using ::cohorte::testing::RunProcess;
using ::cohorte::testing::ServerProcess;

TEST(SubprocessDeadlineTest, AChildThatOutlivesItsDeadlineIsKilledAndFails) {
  const std::vector<std::string> argv = {"/bin/sh", "-c",
                                         "echo started; exec sleep 600"};
  ProcessResult result;
  EXPECT_NONFATAL_FAILURE(
      result = RunProcess(argv, /*env=*/{}, std::chrono::seconds(1)),
      "`/bin/sh -c echo started; exec sleep 600` did not exit within 1 s: "
      "killed");
  EXPECT_EQ(result.exit_code, 128 + SIGKILL);
  EXPECT_EQ(result.out, "started\n");
}

TEST(SubprocessDeadlineTest, AChildThatExitsInTimeIsReapedWithItsCode) {
  const ProcessResult result = RunProcess({"/bin/sh", "-c", "exit 3"});
  EXPECT_EQ(result.exit_code, 3);
}

TEST(SubprocessDeadlineTest, AServerThatIgnoresItsStopSignalIsKilledAndFails) {
  ::cohorte::testing::TempDir dir;
  std::unique_ptr<ServerProcess> server =
      ServerProcess::Start(dir.path() + "/data");
  ASSERT_NE(server, nullptr);
  // Stopped, it cannot act on SIGTERM (SIGKILL still ends it).
  ASSERT_EQ(kill(server->pid(), SIGSTOP), 0);
  int code = 0;
  EXPECT_NONFATAL_FAILURE(code = server->Stop(SIGTERM, std::chrono::seconds(1)),
                          "did not exit within 1 s of signal 15: killed");
  EXPECT_EQ(code, 128 + SIGKILL);
  EXPECT_EQ(server->pid(), -1);
}

}  // namespace
}  // namespace cohorte
