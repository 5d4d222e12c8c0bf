// File: client/structure_commands.h
//
// `cohorte territories|members|groups …`: the cohort's structure.
#ifndef COHORTE_CLIENT_STRUCTURE_COMMANDS_H_
#define COHORTE_CLIENT_STRUCTURE_COMMANDS_H_

#include "client/commands.h"

namespace cohorte::client {

// `env` must outlive the registered actions.
void AddStructureCommands(CLI::App& app, const CommandEnv& env,
                          CommandRegistry& registry);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_STRUCTURE_COMMANDS_H_
