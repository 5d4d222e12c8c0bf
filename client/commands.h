// File: client/commands.h
//
// What every `cohorte` command needs: the global flags' results and a
// registry that maps the chosen subcommand to its action. Commands are
// added per resource (cohort_commands.h, …); RunCli (app.h) runs the one
// parsed. Not thread-safe: one command line per process.
#ifndef COHORTE_CLIENT_COMMANDS_H_
#define COHORTE_CLIENT_COMMANDS_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/time/time.h"
#include "client/connection.h"
#include "client/output.h"

namespace cohorte::client {

// Filled from the global flags after parsing, before any action runs.
struct CommandEnv {
  OutputFormat format = OutputFormat::kTable;
  std::unique_ptr<Connection> conn;
  // The zone times are shown in and typed in (TZ, else Europe/Paris).
  absl::TimeZone zone;
  Connection* connection() const { return conn.get(); }
};

// Actions return the process exit code.
class CommandRegistry {
 public:
  void Register(CLI::App* command, std::function<int()> action) {
    actions_.emplace_back(command, std::move(action));
  }
  // The (leaf) command that was parsed and its action, or nullptrs.
  std::pair<CLI::App*, const std::function<int()>*> Parsed() const {
    for (const auto& [command, action] : actions_) {
      if (command->parsed()) return {command, &action};
    }
    return {nullptr, nullptr};
  }

 private:
  std::vector<std::pair<CLI::App*, std::function<int()>>> actions_;
};

// The flag of `command` that sets the request field `field_path` (as the
// server names it in an error: `parent`, `session.start_time`…), e.g.
// `--cohort`, `--start`, or `<name>` for a positional argument; "" if
// none does.
std::string FlagForField(const CLI::App& command,
                         const std::string& field_path);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_COMMANDS_H_
