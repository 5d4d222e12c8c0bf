// File: client/session_commands.h
//
// `cohorte sessions …`: temps collectifs, registrations and attendance.
#ifndef COHORTE_CLIENT_SESSION_COMMANDS_H_
#define COHORTE_CLIENT_SESSION_COMMANDS_H_

#include <memory>

#include "client/commands.h"
#include "client/domain_flags.h"

namespace cohorte::client {

// `env` and `f` must outlive the registered actions.
void AddSessionCommands(CLI::App& app, const CommandEnv& env,
                        CommandRegistry& registry,
                        std::shared_ptr<DomainFlags> f);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_SESSION_COMMANDS_H_
