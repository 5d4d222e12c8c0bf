// File: client/completion.h
//
// Shell completion generated from the command tree, so that it cannot
// drift from the commands: `cohorte completion bash|zsh|fish`. Each script
// completes the subcommands of the command typed so far, its options and
// the global options everywhere; zsh and fish also show each command's and
// option's help. Pure functions.
#ifndef COHORTE_CLIENT_COMPLETION_H_
#define COHORTE_CLIENT_COMPLETION_H_

#include <string>

#include "CLI/CLI.hpp"

namespace cohorte::client {

// A bash script defining `_cohorte` and registering it for `cohorte`:
// subcommands and options of the command typed so far, and the global
// options everywhere.
std::string BashCompletion(const CLI::App& app);

// A zsh script defining `_cohorte`, usable both sourced
// (`source <(cohorte completion zsh)`, after compinit) and as a file
// `_cohorte` in $fpath.
std::string ZshCompletion(const CLI::App& app);

// A fish script of `complete -c cohorte` lines
// (`cohorte completion fish | source`, or a file in
// ~/.config/fish/completions/cohorte.fish).
std::string FishCompletion(const CLI::App& app);

// The script for `shell` ("bash", "zsh" or "fish"); "" for another.
std::string CompletionScript(const CLI::App& app, const std::string& shell);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_COMPLETION_H_
