// Contexts: the config file's format, its mode, and the precedence of
// flags and the environment over a context.

#include "client/config.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "client/app.h"
#include "client/config_commands.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace cohorte::client {
namespace {

using ::testing::HasSubstr;

// Contexts in a directory of the test's.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("XDG_CONFIG_HOME", dir_.c_str(), 1);
    ::unsetenv("COHORTE_TOKEN");
  }
  void TearDown() override { ::unsetenv("XDG_CONFIG_HOME"); }
  ::cohorte::testing::TempDir temp_;
  const std::string dir_ = temp_.path();
};

TEST_F(ConfigTest, AConfigReadsBackAsWritten) {
  CliConfig config;
  config.Put({"occitanie", "cohorte.example.org:443", "/t/occitanie.token",
              "/etc/ca.pem", "", ""});
  config.Put({"local", "127.0.0.1:50051", "/t/local.token", "", "", ""});
  config.current = "local";
  const std::string text = SerializeConfig(config);
  EXPECT_THAT(text, HasSubstr("current-context = local\n"));
  EXPECT_THAT(text, HasSubstr("[context \"occitanie\"]\nserver = "
                              "cohorte.example.org:443\ntoken-file = "
                              "/t/occitanie.token\ntls-ca = /etc/ca.pem\n"));
  absl::StatusOr<CliConfig> back = ParseConfig(text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->current, "local");
  ASSERT_EQ(back->contexts.size(), 2u);
  EXPECT_EQ(back->Find("occitanie")->tls_ca, "/etc/ca.pem");
  EXPECT_EQ(back->Find("local")->token_file, "/t/local.token");
}

TEST_F(ConfigTest, AMalformedConfigIsRefusedWithItsLine) {
  EXPECT_THAT(
      std::string(ParseConfig("[context \"a\"]\nserver = x\ntoken = coh_\n")
                      .status()
                      .message()),
      HasSubstr("line 3: unknown key 'token'"));
  EXPECT_THAT(
      std::string(
          ParseConfig("[context \"a\"]\n[context \"a\"]\n").status().message()),
      HasSubstr("line 2: context 'a' is defined twice"));
  EXPECT_THAT(
      std::string(ParseConfig("[context \"A b\"]\n").status().message()),
      HasSubstr("line 1: context name 'A b' may hold only"));
  EXPECT_THAT(std::string(ParseConfig("server = x\n").status().message()),
              HasSubstr("line 1: unknown key 'server'"));
}

TEST_F(ConfigTest, TheFileIsWrittenPrivately) {
  const std::string path = ConfigPath();
  EXPECT_EQ(path, dir_ + "/cohorte/config");
  // An older file readable by all is replaced by a private one.
  ASSERT_TRUE(WritePrivateFile(path, "old\n").ok());
  ::chmod(path.c_str(), 0644);
  EXPECT_TRUE(ReadableByOthers(path));
  ASSERT_TRUE(WritePrivateFile(path, "current-context = a\n").ok());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir_ + "/cohorte").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_FALSE(ReadableByOthers(path));
}

// Parses `args` into a fresh command tree and applies the contexts.
bool Applied(std::vector<std::string> args, std::unique_ptr<Cli>* cli) {
  *cli = BuildCli();
  std::vector<char*> argv;
  static char name[] = "cohorte";
  argv.push_back(name);
  for (std::string& a : args) argv.push_back(a.data());
  (*cli)->app.parse(static_cast<int>(argv.size()), argv.data());
  return ApplyContext(**cli);
}

TEST_F(ConfigTest, FlagsWinOverTheContextWhichWinsOverTheDefault) {
  std::unique_ptr<Cli> cli;
  ASSERT_TRUE(Applied({"cohorts", "list"}, &cli));
  EXPECT_EQ(cli->options.server, "127.0.0.1:50051");
  EXPECT_EQ(cli->token_file, "");

  CliConfig config;
  config.Put({"regional", "region.example.org:443", "/t/regional.token",
              "/etc/ca.pem", "", ""});
  config.Put({"local", "127.0.0.1:6000", "/t/local.token", "", "", ""});
  config.current = "regional";
  ASSERT_TRUE(WritePrivateFile(ConfigPath(), SerializeConfig(config)).ok());

  ASSERT_TRUE(Applied({"cohorts", "list"}, &cli));
  EXPECT_EQ(cli->options.server, "region.example.org:443");
  EXPECT_EQ(cli->token_file, "/t/regional.token");
  EXPECT_EQ(cli->options.tls_ca, "/etc/ca.pem");

  ASSERT_TRUE(Applied({"cohorts", "list", "--context", "local"}, &cli));
  EXPECT_EQ(cli->options.server, "127.0.0.1:6000");
  EXPECT_EQ(cli->options.tls_ca, "");

  ASSERT_TRUE(Applied(
      {"--server", "other:1", "--token-file", "/t/mine", "cohorts", "list"},
      &cli));
  EXPECT_EQ(cli->options.server, "other:1");
  EXPECT_EQ(cli->token_file, "/t/mine");

  // COHORTE_TOKEN wins over the context's token file.
  ::setenv("COHORTE_TOKEN", "coh_x", 1);
  ASSERT_TRUE(Applied({"cohorts", "list"}, &cli));
  EXPECT_EQ(cli->token_file, "");
  ::unsetenv("COHORTE_TOKEN");

  EXPECT_FALSE(Applied({"cohorts", "list", "--context", "absent"}, &cli));
}

}  // namespace
}  // namespace cohorte::client
