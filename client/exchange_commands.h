// File: client/exchange_commands.h
//
// `cohorte exchanges list|get|create|set-state|mark-read` and
// `cohorte messages list|post|edit|delete|undelete`: the threads of a
// closed peer group.
#ifndef COHORTE_CLIENT_EXCHANGE_COMMANDS_H_
#define COHORTE_CLIENT_EXCHANGE_COMMANDS_H_

#include <memory>

#include "client/commands.h"
#include "client/domain_flags.h"

namespace cohorte::client {

// `env` and `f` must outlive the registered actions.
void AddExchangeCommands(CLI::App& app, const CommandEnv& env,
                         CommandRegistry& registry,
                         std::shared_ptr<DomainFlags> f);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_EXCHANGE_COMMANDS_H_
