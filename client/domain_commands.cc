#include "client/domain_commands.h"

#include <memory>

#include "client/domain_flags.h"
#include "client/exchange_commands.h"
#include "client/inbox_commands.h"
#include "client/record_commands.h"
#include "client/report_commands.h"
#include "client/session_commands.h"

namespace cohorte::client {

void AddDomainCommands(CLI::App& app, const CommandEnv& env,
                       CommandRegistry& registry) {
  auto flags = std::make_shared<DomainFlags>();
  AddReferentielCommands(app, env, registry);
  AddExchangeCommands(app, env, registry, flags);
  AddReportCommands(app, env, registry, flags);
  AddRecordCommands(app, env, registry);
  AddSessionCommands(app, env, registry, flags);
  AddInboxCommands(app, env, registry, flags);
  AddModerationCommands(app, env, registry, flags);
}

}  // namespace cohorte::client
