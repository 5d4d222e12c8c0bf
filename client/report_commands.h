// File: client/report_commands.h
//
// `cohorte reports list|get|create|update|publish|archive`: retours
// d'expérience.
#ifndef COHORTE_CLIENT_REPORT_COMMANDS_H_
#define COHORTE_CLIENT_REPORT_COMMANDS_H_

#include <memory>

#include "client/commands.h"
#include "client/domain_flags.h"

namespace cohorte::client {

// `env` and `f` must outlive the registered actions.
void AddReportCommands(CLI::App& app, const CommandEnv& env,
                       CommandRegistry& registry,
                       std::shared_ptr<DomainFlags> f);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_REPORT_COMMANDS_H_
