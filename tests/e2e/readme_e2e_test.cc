// The README's CLI walk-through, run as printed: every ```sh block from
// "## Using the CLI" to "## Deploying" runs in one bash against a server
// seeded with the demo, each command with the exit code its comment gives
// ("(77)"), 0 otherwise. The ```csv block is the file the import reads.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
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

struct Blocks {
  std::vector<std::string> commands;  // continuation lines joined
  std::string csv;
};

// The fenced blocks of `readme` between the two headings.
Blocks ReadBlocks(const std::string& readme) {
  Blocks blocks;
  const size_t begin = readme.find("\n## Using the CLI");
  const size_t end = readme.find("\n## Deploying");
  std::istringstream in(readme.substr(begin, end - begin));
  std::string line, fence, command;
  while (std::getline(in, line)) {
    if (line.rfind("```", 0) == 0) {
      fence = fence.empty() ? line.substr(3) : "";
      continue;
    }
    if (fence == "csv") blocks.csv += line + "\n";
    if (fence != "sh") continue;
    if (line.empty()) continue;
    command += (command.empty() ? "" : "\n") + line;
    if (line.back() == '\\') continue;
    blocks.commands.push_back(command);
    command.clear();
  }
  return blocks;
}

// The exit code a command's comment announces, e.g. "# denied (77)".
int ExpectedExit(const std::string& command) {
  std::smatch m;
  static const std::regex kCode("#[^\\n]*\\(([0-9]+)\\)");
  return std::regex_search(command, m, kCode) ? std::stoi(m[1]) : 0;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

TEST(ReadmeE2eTest, EveryCliCommandOfTheReadmeRunsAsPrinted) {
  std::ifstream in(std::string(COHORTE_SOURCE_DIR) + "/README.md");
  std::stringstream readme;
  readme << in.rdbuf();
  const Blocks blocks = ReadBlocks(readme.str());
  ASSERT_GT(blocks.commands.size(), 40u);
  EXPECT_NE(blocks.csv, "");

  ::cohorte::testing::TempDir dir;
  const std::string work = dir.path() + "/work";
  std::filesystem::create_directories(work + "/build");
  std::unique_ptr<ServerProcess> server =
      ServerProcess::Start(work + "/data", {"--seed-demo"});
  ASSERT_NE(server, nullptr);
  std::filesystem::create_symlink(COHORTE_CLI_PATH, work + "/build/cohorte");
  std::ofstream(work + "/delegation.csv") << blocks.csv;
  // `cohorte login` writes its contexts here, never in the runner's home.
  ::setenv("XDG_CONFIG_HOME", (work + "/config").c_str(), 1);

  std::string script = "cd " + ShellQuote(work) + "\nfailed=0\n";
  for (const std::string& command : blocks.commands) {
    std::string run = command;
    if (run.rfind("export COHORTE_SERVER=", 0) == 0) {
      run = "export COHORTE_SERVER=" + server->address();
    }
    const int expected = ExpectedExit(command);
    script += run + "\nrc=$?\nif [ $rc -ne " + std::to_string(expected) +
              " ]; then echo \"README: exit $rc, expected " +
              std::to_string(expected) + ": \"" + ShellQuote(command) +
              " >&2; failed=1; fi\n";
  }
  script += "exit $failed\n";
  std::ofstream(work + "/readme.sh") << script;

  ProcessResult r = RunProcess({"/bin/bash", work + "/readme.sh"},
                               {"TZ=Europe/Paris", "COHORTE_TOKEN="});
  ::unsetenv("XDG_CONFIG_HOME");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, ::testing::Not(::testing::HasSubstr("README: exit")));
}

}  // namespace
}  // namespace cohorte
