// File: client/webhook_commands.h
//
// `cohorte webhooks create|list|get|deliveries|pause|resume|delete`: the
// change feed of a service token pushed to a URL, signed (the secret is
// printed once, at creation), and its delivery log.
#ifndef COHORTE_CLIENT_WEBHOOK_COMMANDS_H_
#define COHORTE_CLIENT_WEBHOOK_COMMANDS_H_

#include "client/commands.h"

namespace cohorte::client {

// `env` must outlive the registered actions.
void AddWebhookCommands(CLI::App& app, const CommandEnv& env,
                        CommandRegistry& registry);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_WEBHOOK_COMMANDS_H_
