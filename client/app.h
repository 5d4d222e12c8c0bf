// File: client/app.h
//
// The whole `cohorte` command line: the command tree (global flags and
// every resource's commands) and running it. main() only calls RunCli;
// tests build the tree with BuildCli to check it (help on every option).
#ifndef COHORTE_CLIENT_APP_H_
#define COHORTE_CLIENT_APP_H_

#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "client/commands.h"
#include "client/connection.h"

namespace cohorte::client {

// The command tree and what parsing fills. Not copyable: the commands'
// actions point into it.
struct Cli {
  Cli() = default;
  Cli(const Cli&) = delete;
  Cli& operator=(const Cli&) = delete;

  CLI::App app{"cohorte: the Cohorte command-line client"};
  CommandEnv env;
  CommandRegistry registry;
  ConnectionOptions options;
  std::string token_file;
  std::string context;  // --context / COHORTE_CONTEXT
  std::string output = "table";
  std::string shell;  // `completion <shell>`
  bool man = false;   // `help --man`
};

// The version `cohorte --version` prints.
const char* CliVersion();

std::unique_ptr<Cli> BuildCli();

// Parses `argv`, runs the command, returns the process exit code.
int RunCli(int argc, char** argv);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_APP_H_
