// File: client/manpage.h
//
// The manual page of `cohorte`, generated from its command tree so that it
// cannot drift from the commands: every command with its arguments and
// options, the global options with their environment variables, the exit
// codes and the files. `cohorte help --man` prints it; the build writes it
// to `cohorte.1` next to the binary. Pure function.
#ifndef COHORTE_CLIENT_MANPAGE_H_
#define COHORTE_CLIENT_MANPAGE_H_

#include <string>

#include "CLI/CLI.hpp"

namespace cohorte::client {

// The page in roff (man(7) macros), section 1.
std::string ManPage(const CLI::App& app, const std::string& version);

// `text` safe in roff: backslashes doubled, '-' as \-, and a line that
// would start with '.' or '\'' protected with \&.
std::string RoffEscape(const std::string& text);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_MANPAGE_H_
