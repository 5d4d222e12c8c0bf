// File: client/link_commands.h
//
// `cohorte links create|list|get|pause|resume|delete`: this instance
// following cohorts of another instance (proto/cohorte/v1/links.proto).
#ifndef COHORTE_CLIENT_LINK_COMMANDS_H_
#define COHORTE_CLIENT_LINK_COMMANDS_H_

#include "client/commands.h"

namespace cohorte::client {

void AddLinkCommands(CLI::App& app, const CommandEnv& env,
                     CommandRegistry& registry);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_LINK_COMMANDS_H_
