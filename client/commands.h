// File: client/commands.h
//
// What every `cohorte` command needs: the global flags' results and a
// registry that maps the chosen subcommand to its action. Commands are
// added per resource (cohort_commands.h, …); main runs the one parsed.
#ifndef COHORTE_CLIENT_COMMANDS_H_
#define COHORTE_CLIENT_COMMANDS_H_

#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "client/connection.h"
#include "client/output.h"

namespace cohorte::client {

// Filled from the global flags after parsing, before any action runs.
struct CommandEnv {
  OutputFormat format = OutputFormat::kTable;
  std::unique_ptr<Connection> conn;
  Connection* connection() const { return conn.get(); }
};

// Actions return the process exit code.
class CommandRegistry {
 public:
  void Register(CLI::App* command, std::function<int()> action) {
    actions_.emplace_back(command, std::move(action));
  }
  // The action of the (leaf) command that was parsed, or nullptr.
  const std::function<int()>* Parsed() const {
    for (const auto& [command, action] : actions_) {
      if (command->parsed()) return &action;
    }
    return nullptr;
  }

 private:
  std::vector<std::pair<CLI::App*, std::function<int()>>> actions_;
};

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_COMMANDS_H_
