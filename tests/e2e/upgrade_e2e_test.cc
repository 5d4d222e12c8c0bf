// A data directory written by the previous release (schema 1: the demo
// seeded by cohorted at commit 43fd5c3, tests/e2e/data/schema1-demo.tgz)
// opens with this cohorted, is migrated on start, and goes on: its content
// reads as before, through the same rules, and new ids continue after the
// old ones.

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace cohorte {
namespace {

using ::cohorte::testing::ProcessResult;
using ::cohorte::testing::RunProcess;
using ::cohorte::testing::ServerProcess;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kOldExchange[] =
    "cohorts/occitanie/groups/elus/exchanges/e000000000031";

TEST(UpgradeE2eTest, ASchemaOneDataDirectoryOpensMigratedAndGoesOn) {
  ::cohorte::testing::TempDir dir;
  ProcessResult untar =
      RunProcess({"/bin/tar", "xzf", COHORTE_E2E_DATA_DIR "/schema1-demo.tgz",
                  "-C", dir.path()},
                 {});
  ASSERT_EQ(untar.exit_code, 0) << untar.err;
  const std::string data = dir.path() + "/data";
  std::unique_ptr<ServerProcess> server = ServerProcess::Start(data, {});
  ASSERT_NE(server, nullptr);
  auto as = [&](const std::string& who, std::vector<std::string> args) {
    std::ifstream in(data + "/demo-tokens/" + who + ".token");
    std::string token;
    std::getline(in, token);
    args.insert(args.begin(), COHORTE_CLI_PATH);
    return RunProcess(args, {"COHORTE_SERVER=" + server->address(),
                             "COHORTE_TOKEN=" + token});
  };
  ProcessResult r =
      as("marie-dubois", {"messages", "list", "--exchange", kOldExchange});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("m000002"));
  r = as("thomas-petit", {"messages", "list", "--exchange", kOldExchange});
  EXPECT_EQ(r.exit_code, 77) << r.out;
  EXPECT_THAT(r.out, Not(HasSubstr("m000001")));

  r = as("marie-dubois", {"messages", "post", "--exchange", kOldExchange,
                          "--body", "après la mise à jour"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("m000003"));
  r = as("marie-dubois",
         {"exchanges", "create", "--group", "cohorts/occitanie/groups/elus",
          "--title", "Un nouveau fil", "--kind", "sharing"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The group's own sequence goes on after the ids the revision made.
  EXPECT_THAT(
      r.out,
      HasSubstr("cohorts/occitanie/groups/elus/exchanges/e000000000032"));
  EXPECT_EQ(server->Stop(SIGTERM), 0);

  // And it opens again (the migration ran once, the schema is recorded).
  server = ServerProcess::Start(data, {});
  ASSERT_NE(server, nullptr);
  r = as("marie-dubois",
         {"exchanges", "list", "--cohort", "occitanie", "--group", "elus"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("e000000000032"));
  EXPECT_THAT(r.out, HasSubstr("e000000000031"));
}

}  // namespace
}  // namespace cohorte
