// File: client/invitation_commands.h
//
// `cohorte invitations create|import|list|get|revoke|accept`: inviting
// people into a cohort by e-mail, one by one or a delegation from a CSV
// file, and accepting an invitation with its one-time secret.
#ifndef COHORTE_CLIENT_INVITATION_COMMANDS_H_
#define COHORTE_CLIENT_INVITATION_COMMANDS_H_

#include "client/commands.h"

namespace cohorte::client {

// `env` must outlive the registered actions.
void AddInvitationCommands(CLI::App& app, const CommandEnv& env,
                           CommandRegistry& registry);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_INVITATION_COMMANDS_H_
