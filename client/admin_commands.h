// File: client/admin_commands.h
//
// `cohorte admin backup create|list|verify|delete`: operating the instance
// (administrator only; AdminService).
#ifndef COHORTE_CLIENT_ADMIN_COMMANDS_H_
#define COHORTE_CLIENT_ADMIN_COMMANDS_H_

#include "client/commands.h"

namespace cohorte::client {

// `env` must outlive the registered actions.
void AddAdminCommands(CLI::App& app, const CommandEnv& env,
                      CommandRegistry& registry);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_ADMIN_COMMANDS_H_
