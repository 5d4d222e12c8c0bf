// File: client/inbox_commands.h
//
// `cohorte referentiel`, `inbox`, `follow|unfollow|follows` and
// `moderation flag|queue|hide|unhide|dismiss`.
#ifndef COHORTE_CLIENT_INBOX_COMMANDS_H_
#define COHORTE_CLIENT_INBOX_COMMANDS_H_

#include <memory>

#include "client/commands.h"
#include "client/domain_flags.h"

namespace cohorte::client {

// `env` and `f` must outlive the registered actions.
void AddReferentielCommands(CLI::App& app, const CommandEnv& env,
                            CommandRegistry& registry);

void AddInboxCommands(CLI::App& app, const CommandEnv& env,
                      CommandRegistry& registry,
                      std::shared_ptr<DomainFlags> f);

void AddModerationCommands(CLI::App& app, const CommandEnv& env,
                           CommandRegistry& registry,
                           std::shared_ptr<DomainFlags> f);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_INBOX_COMMANDS_H_
