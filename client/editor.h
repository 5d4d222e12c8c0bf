// File: client/editor.h
//
// Long texts typed in the user's editor, as `git commit` does: when a
// command needs a text (a message's body, a session's minutes) and none of
// its flags was given while stdin is a terminal, `$VISUAL` or `$EDITOR`
// (else `vi`) opens a temporary file (mode 0600, removed afterwards) that
// holds the current text, if any, above a scissors line and a few lines of
// help; what is above the scissors line is the text. Markdown headings
// (`# …`) are kept: only the scissors line ends the text. Not thread-safe
// (runs a child process attached to the terminal).
#ifndef COHORTE_CLIENT_EDITOR_H_
#define COHORTE_CLIENT_EDITOR_H_

#include <string>

#include "absl/status/statusor.h"

namespace cohorte::client {

// The line below which the edited file is help, never text.
inline constexpr char kScissors[] =
    "# ------------------------ >8 ------------------------";

// Whether the editor should be opened: no flag gave the text and stdin is
// a terminal (in a script, a missing text stays a usage error).
bool ShouldOpenEditor(bool text_given);

// The editor command: $VISUAL, else $EDITOR, else "vi".
std::string EditorCommand();

// Opens the editor on `initial` with `help` (one or more lines) below the
// scissors line and returns the text above it, without trailing blank
// lines. FAILED_PRECONDITION when the editor cannot be run or exits
// non-zero; INVALID_ARGUMENT when the text left is empty or blank
// (nothing is sent then).
absl::StatusOr<std::string> EditText(const std::string& initial,
                                     const std::string& help);

// The text of an edited file: everything above the scissors line (all of
// it without one), trailing blank lines and spaces dropped.
std::string TextAboveScissors(const std::string& file);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_EDITOR_H_
