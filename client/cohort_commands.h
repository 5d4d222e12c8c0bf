// File: client/cohort_commands.h
//
// `cohorte cohorts list|get|create|update|delete|undelete|archive|unarchive`,
// and export|import (bundle_commands.h).
#ifndef COHORTE_CLIENT_COHORT_COMMANDS_H_
#define COHORTE_CLIENT_COHORT_COMMANDS_H_

#include "client/commands.h"

namespace cohorte::client {

// `env` must outlive the registered actions.
void AddCohortCommands(CLI::App& app, const CommandEnv& env,
                       CommandRegistry& registry);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_COHORT_COMMANDS_H_
