// File: client/domain_commands.h
//
// `cohorte referentiel|exchanges|messages|reports|sessions|inbox|follows|
// moderation …`: what the cohort says and learns.
#ifndef COHORTE_CLIENT_DOMAIN_COMMANDS_H_
#define COHORTE_CLIENT_DOMAIN_COMMANDS_H_

#include "client/commands.h"

namespace cohorte::client {

// `env` must outlive the registered actions.
void AddDomainCommands(CLI::App& app, const CommandEnv& env,
                       CommandRegistry& registry);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_DOMAIN_COMMANDS_H_
