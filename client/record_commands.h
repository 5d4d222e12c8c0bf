// File: client/record_commands.h
//
// `cohorte records push|pull|list|get|versions|delete|undelete`: shared
// records. push and pull stream a file in 1 MiB chunks, show progress on a
// terminal (rate and time left; nothing when stderr is not one), and pick
// up where an interrupted run stopped: push restarts the server's upload
// session of the same file from its committed size, pull continues its
// `.part` file; pull checks the SHA-256 before the file takes its name.
#ifndef COHORTE_CLIENT_RECORD_COMMANDS_H_
#define COHORTE_CLIENT_RECORD_COMMANDS_H_

#include "client/commands.h"

namespace cohorte::client {

// `env` must outlive the registered actions.
void AddRecordCommands(CLI::App& app, const CommandEnv& env,
                       CommandRegistry& registry);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_RECORD_COMMANDS_H_
