// The `cohorte` CLI as its daily users meet it, through the real binaries
// (`cohorted` seeded with the demo): secrets never printed, lists never
// silently cut, JSON for scripts, short ids, dates as people type them.

#include <fstream>
#include <memory>
#include <regex>
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

class CliE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() + "/data";
    server_ = ServerProcess::Start(data_, {"--seed-demo"});
    ASSERT_NE(server_, nullptr);
  }

  std::string Token(const std::string& who) {
    std::ifstream in(who == "admin" ? data_ + "/admin.token"
                                    : data_ + "/demo-tokens/" + who + ".token");
    std::string token;
    std::getline(in, token);
    return token;
  }

  // Runs the CLI as `who` ("" for no token) with `extra_env` added.
  ProcessResult As(const std::string& who, std::vector<std::string> args,
                   std::vector<std::string> extra_env = {}) {
    args.insert(args.begin(), COHORTE_CLI_PATH);
    extra_env.push_back("COHORTE_SERVER=" + server_->address());
    extra_env.push_back("TZ=Europe/Paris");
    if (!who.empty()) extra_env.push_back("COHORTE_TOKEN=" + Token(who));
    return RunProcess(args, extra_env);
  }

  std::string WriteFile(const std::string& name, const std::string& content) {
    const std::string path = dir_.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  static std::string Find(const std::string& text, const std::string& pattern) {
    std::smatch m;
    return std::regex_search(text, m, std::regex(pattern)) ? m.str(0) : "";
  }

  ::cohorte::testing::TempDir dir_;
  std::string data_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(CliE2eTest, ATokenFileWithALineBreakInsideIsRefusedWithoutPrintingIt) {
  const std::string secret = Token("admin");
  ASSERT_EQ(secret.size(), 68u);
  // A token pasted twice, a stray line break in the middle, a NUL byte:
  // none may reach gRPC (which aborts and prints the header), and the
  // error must not hold any of it.
  for (const std::string& bad :
       {secret + "\n" + secret + "\n", secret.substr(0, 30) + "\n" +
                                           secret.substr(30) + "\n",
        secret.substr(0, 30) + std::string(1, '\0') + secret.substr(31)}) {
    const std::string file = WriteFile("bad.token", bad);
    ProcessResult r =
        As("", {"--token-file", file, "cohorts", "list"}, {"COHORTE_TOKEN="});
    EXPECT_EQ(r.exit_code, 77) << r.err;
    EXPECT_THAT(r.err, HasSubstr("token"));
    EXPECT_THAT(r.err, HasSubstr("coh_ followed by 64 hex digits"));
    EXPECT_THAT(r.err, Not(HasSubstr(secret.substr(4, 16))));
    EXPECT_THAT(r.err, Not(HasSubstr(secret.substr(40, 16))));
    EXPECT_EQ(r.out, "");
  }
  // From the environment too, under -o json.
  ProcessResult r = As("", {"-o", "json", "whoami"},
                       {"COHORTE_TOKEN=" + secret.substr(0, 40) + "\r\nX"});
  EXPECT_EQ(r.exit_code, 77) << r.err;
  EXPECT_THAT(r.err, HasSubstr("\"code\""));
  EXPECT_THAT(r.err, Not(HasSubstr(secret.substr(4, 16))));
  // A trailing line break, as every editor writes, is fine.
  const std::string good = WriteFile("good.token", secret + "\n");
  r = As("", {"--token-file", good, "whoami"}, {"COHORTE_TOKEN="});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace cohorte
