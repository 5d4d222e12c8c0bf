// File: client/config_commands.h
//
// `cohorte login` and `cohorte config …`: named contexts (config.h) that
// hold a server, TLS files and the file of a token, so that a user who
// works with several servers or identities switches with one command
// (`cohorte config use-context regional`) or one flag (`--context`). A
// token typed or piped to `login` is written to a file of mode 0600 that
// the context names; no command prints it. Not thread-safe.
#ifndef COHORTE_CLIENT_CONFIG_COMMANDS_H_
#define COHORTE_CLIENT_CONFIG_COMMANDS_H_

#include <string>

#include "client/app.h"

namespace cohorte::client {

// Adds `login` and `config` to `cli`'s tree. Their actions read the
// global flags of `cli`, which must outlive them.
void AddConfigCommands(Cli& cli);

// Fills what the command line left unset in `cli` (server, token file,
// TLS files) from the context named by --context / COHORTE_CONTEXT, else
// the current one; the server defaults to 127.0.0.1:50051. False after a
// usage error (an unknown context named, an unreadable config when a
// context is named).
bool ApplyContext(Cli& cli);

// The default server when neither a flag nor a context names one.
inline constexpr char kDefaultServer[] = "127.0.0.1:50051";

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_CONFIG_COMMANDS_H_
