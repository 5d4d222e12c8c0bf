// File: client/completion.h
//
// Shell completion generated from the command tree, so that it cannot
// drift from the commands: `cohorte completion bash`. Pure function.
#ifndef COHORTE_CLIENT_COMPLETION_H_
#define COHORTE_CLIENT_COMPLETION_H_

#include <string>

#include "CLI/CLI.hpp"

namespace cohorte::client {

// A bash script defining `_cohorte` and registering it for `cohorte`:
// subcommands and options of the command typed so far, and the global
// options everywhere.
std::string BashCompletion(const CLI::App& app);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_COMPLETION_H_
