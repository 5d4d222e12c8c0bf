// Every option of every command says what it is for: walks the command
// tree and fails on an option without help text.

#include <string>
#include <vector>

#include "client/app.h"
#include "client/completion.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cohorte::client {
namespace {

void Walk(const CLI::App& app, const std::string& path,
          std::vector<std::string>* missing, int* commands, int* options) {
  ++*commands;
  if (app.get_description().empty()) missing->push_back(path + " (command)");
  for (const CLI::Option* option : app.get_options()) {
    ++*options;
    if (option->get_description().empty()) {
      missing->push_back(path + " " + option->get_name());
    }
  }
  for (const CLI::App* sub : app.get_subcommands({})) {
    Walk(*sub, path + " " + sub->get_name(), missing, commands, options);
  }
}

TEST(HelpTest, EveryCommandAndOptionHasHelp) {
  std::unique_ptr<Cli> cli = BuildCli();
  std::vector<std::string> missing;
  int commands = 0, options = 0;
  Walk(cli->app, "cohorte", &missing, &commands, &options);
  EXPECT_THAT(missing, ::testing::IsEmpty());
  EXPECT_GT(commands, 80);
  EXPECT_GT(options, 250);
}

TEST(HelpTest, UpdateCommandsExistWhereTheRpcDoes) {
  std::unique_ptr<Cli> cli = BuildCli();
  for (const char* resource : {"cohorts", "members", "territories", "chantiers",
                               "reports", "sessions"}) {
    EXPECT_NO_THROW(cli->app.get_subcommand(resource)->get_subcommand("update"))
        << resource;
  }
}

TEST(HelpTest, BashCompletionKnowsEveryCommandAndItsOptions) {
  std::unique_ptr<Cli> cli = BuildCli();
  const std::string script = BashCompletion(cli->app);
  EXPECT_THAT(script, ::testing::HasSubstr(
                          "[\"messages post\"]=\"--help -h --exchange --group "
                          "--cohort --body --body-file --reply-to --attach\""));
  EXPECT_THAT(script, ::testing::HasSubstr("[\"inbox read\"]="));
  EXPECT_THAT(script,
              ::testing::HasSubstr("_cohorte_global=\"--version --help -h "
                                   "--server --token-file --output -o"));
}

}  // namespace
}  // namespace cohorte::client
