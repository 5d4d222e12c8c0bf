// The manual page and the zsh and fish completions come from the command
// tree: every command is in them.

#include <string>

#include "client/app.h"
#include "client/completion.h"
#include "client/manpage.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cohorte::client {
namespace {

using ::testing::HasSubstr;

// Every command path of `app` ("messages post").
void Paths(const CLI::App& app, const std::string& path,
           std::vector<std::string>* out) {
  for (const CLI::App* sub : app.get_subcommands({})) {
    const std::string here =
        path.empty() ? sub->get_name() : path + " " + sub->get_name();
    out->push_back(here);
    Paths(*sub, here, out);
  }
}

TEST(ManTest, TheManualHasEveryCommandAndOption) {
  std::unique_ptr<Cli> cli = BuildCli();
  const std::string page = ManPage(cli->app, "9.9");
  EXPECT_THAT(page, HasSubstr(".TH COHORTE 1 \"\" \"cohorte 9.9\""));
  std::vector<std::string> paths;
  Paths(cli->app, "", &paths);
  EXPECT_GT(paths.size(), 80u);
  for (const std::string& p : paths) {
    EXPECT_THAT(page, HasSubstr(".SS \"" + RoffEscape("cohorte " + p) + "\""))
        << p;
  }
  EXPECT_THAT(page, HasSubstr(".TP\n\\fB\\-\\-body\\-file\\fR \\fITEXT\\fR\n"
                              "read \\-\\-body from this file"));
  EXPECT_THAT(page, HasSubstr("(environment: \\fBCOHORTE_SERVER\\fR)"));
  EXPECT_THAT(page, HasSubstr(".SH EXIT STATUS"));
}

TEST(ManTest, RoffEscapesWhatRoffWouldRead) {
  EXPECT_EQ(RoffEscape("a-b \\ c"), "a\\-b \\e c");
  EXPECT_EQ(RoffEscape(".start\n'quote"), "\\&.start\n\\&'quote");
}

TEST(ManTest, ZshAndFishCompleteEveryCommand) {
  std::unique_ptr<Cli> cli = BuildCli();
  const std::string zsh = ZshCompletion(cli->app);
  const std::string fish = FishCompletion(cli->app);
  EXPECT_THAT(zsh, HasSubstr("#compdef cohorte\n"));
  EXPECT_THAT(zsh, HasSubstr("  'cohorte messages post' '--help -h --exchange "
                             "--group --cohort --body --body-file"));
  EXPECT_THAT(zsh, HasSubstr("compdef _cohorte cohorte"));
  EXPECT_THAT(fish,
              HasSubstr("complete -c cohorte -n 'test (__cohorte_path) = "
                        "\\'messages\\'' -a 'post' -d 'Write in an exchange'"));
  EXPECT_THAT(fish, HasSubstr("complete -c cohorte -n 'test (__cohorte_path) = "
                              "\\'messages post\\'' -l body -r -d"));
  std::vector<std::string> paths;
  Paths(cli->app, "", &paths);
  for (const std::string& p : paths) {
    const size_t space = p.rfind(' ');
    const std::string leaf =
        space == std::string::npos ? p : p.substr(space + 1);
    EXPECT_THAT(fish, HasSubstr("-a '" + leaf + "'")) << p;
  }
  EXPECT_EQ(CompletionScript(cli->app, "tcsh"), "");
}

}  // namespace
}  // namespace cohorte::client
