// File: client/feed_commands.h
//
// `cohorte changes list` and `cohorte watch`: the change feed, as the
// caller may see it (proto/cohorte/v1/changes.proto).
#ifndef COHORTE_CLIENT_FEED_COMMANDS_H_
#define COHORTE_CLIENT_FEED_COMMANDS_H_

#include "client/commands.h"

namespace cohorte::client {

// `env` must outlive the registered actions.
void AddFeedCommands(CLI::App& app, const CommandEnv& env,
                     CommandRegistry& registry);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_FEED_COMMANDS_H_
