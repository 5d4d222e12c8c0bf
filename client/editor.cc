#include "client/editor.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace cohorte::client {

bool ShouldOpenEditor(bool text_given) {
  return !text_given && ::isatty(STDIN_FILENO) == 1;
}

std::string EditorCommand() {
  for (const char* name : {"VISUAL", "EDITOR"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') return value;
  }
  return "vi";
}

std::string TextAboveScissors(const std::string& file) {
  std::string text = file;
  for (size_t at = 0; at < file.size();) {
    const size_t end = file.find('\n', at);
    const std::string line = file.substr(
        at, end == std::string::npos ? std::string::npos : end - at);
    if (line == kScissors) {
      text = file.substr(0, at);
      break;
    }
    if (end == std::string::npos) break;
    at = end + 1;
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' ||
                           text.back() == '\r' || text.back() == '\t')) {
    text.pop_back();
  }
  return text;
}

absl::StatusOr<std::string> EditText(const std::string& initial,
                                     const std::string& help) {
  const char* tmp = std::getenv("TMPDIR");
  std::string path = absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp",
                                  "/cohorte-XXXXXX.md");
  const int fd = ::mkstemps(path.data(), 3);  // mode 0600
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create a file for the editor in ", path));
  }
  const std::string content =
      absl::StrCat(initial, initial.empty() ? "" : "\n", "\n", kScissors,
                   "\n# Everything below this line is ignored.\n", help,
                   help.empty() || help.back() == '\n' ? "" : "\n");
  const bool written = ::write(fd, content.data(), content.size()) ==
                       static_cast<ssize_t>(content.size());
  ::close(fd);
  if (!written) {
    ::unlink(path.c_str());
    return absl::FailedPreconditionError(absl::StrCat("cannot write ", path));
  }
  const std::string editor = EditorCommand();
  // Through the shell, so that `EDITOR="code --wait"` works; the file is
  // an argument, never part of the command text.
  const std::string command = editor + " \"$1\"";
  // Ctrl-C and Ctrl-\\ belong to the editor while it runs, as with
  // system(3): the file is still removed afterwards.
  struct sigaction ignore = {}, old_int = {}, old_quit = {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGINT, &ignore, &old_int);
  ::sigaction(SIGQUIT, &ignore, &old_quit);
  const pid_t child = ::fork();
  if (child == 0) {
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGQUIT, &old_quit, nullptr);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), "sh", path.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  bool ran = child > 0;
  while (ran && ::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) ran = false;
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGQUIT, &old_quit, nullptr);
  std::ifstream in(path, std::ios::binary);
  std::ostringstream edited;
  edited << in.rdbuf();
  ::unlink(path.c_str());
  if (!ran || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the editor (", editor, ") did not exit cleanly",
        ran && WIFEXITED(status)
            ? absl::StrCat(" (exit ", WEXITSTATUS(status), ")")
            : "",
        "; nothing was sent (set VISUAL or EDITOR, or give the text "
        "with its flag)"));
  }
  std::string text = TextAboveScissors(edited.str());
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return absl::InvalidArgumentError("the text is empty; nothing was sent");
  }
  return text;
}

}  // namespace cohorte::client
