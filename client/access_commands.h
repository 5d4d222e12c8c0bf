// File: client/access_commands.h
//
// `cohorte tokens|invitations|chantiers|audit …`: who may act (tokens;
// invitations are in invitation_commands.h), territories' chantiers, and
// the audit log.
#ifndef COHORTE_CLIENT_ACCESS_COMMANDS_H_
#define COHORTE_CLIENT_ACCESS_COMMANDS_H_

#include "client/commands.h"

namespace cohorte::client {

// `env` must outlive the registered actions.
void AddAccessCommands(CLI::App& app, const CommandEnv& env,
                       CommandRegistry& registry);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_ACCESS_COMMANDS_H_
