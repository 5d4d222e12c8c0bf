// File: client/config.h
//
// Named contexts, as kubectl has them: each says which server to use, with
// which TLS files, and which file holds the token. They live in
// `$XDG_CONFIG_HOME/cohorte/config` (`~/.config/cohorte/config` when unset),
// mode 0600 in a 0700 directory, written by `cohorte login` and
// `cohorte config`. The file never holds a secret: a context names the
// file that holds its token (`cohorte login` writes one, mode 0600, under
// `tokens/`). Its format, one section per context:
//
//   # comments
//   current-context = occitanie
//
//   [context "occitanie"]
//   server = cohorte.example.org:443
//   token-file = /home/claire/.config/cohorte/tokens/occitanie.token
//   tls-ca = /etc/ssl/cohorte-ca.pem
//
// Plain values; the functions that touch files say so. Not thread-safe
// (reads the environment).
#ifndef COHORTE_CLIENT_CONFIG_H_
#define COHORTE_CLIENT_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cohorte::client {

struct CliContext {
  std::string name;
  std::string server;
  std::string token_file;
  std::string tls_ca, tls_cert, tls_key;
};

struct CliConfig {
  std::string current;  // the context used when none is named; may be ""
  std::vector<CliContext> contexts;

  // The context called `name`, or nullptr.
  const CliContext* Find(const std::string& name) const;
  // Adds `context`, or replaces the one of the same name.
  void Put(CliContext context);
  // Removes the context called `name`; false if there is none.
  bool Remove(const std::string& name);
};

// "" if `name` may name a context (1..63 of [a-z0-9._-], starting with a
// letter or digit); otherwise what is wrong.
std::string ContextNameProblem(const std::string& name);

// The config file as text. INVALID_ARGUMENT "line N: …" on a line it does
// not understand, an unknown key, or a context named twice.
absl::StatusOr<CliConfig> ParseConfig(const std::string& text);
std::string SerializeConfig(const CliConfig& config);

// `$XDG_CONFIG_HOME/cohorte`, else `$HOME/.config/cohorte`.
std::string ConfigDir();
// ConfigDir() + "/config".
std::string ConfigPath();

// Reads the file at `path`; an absent file is an empty config. Reading
// errors and parse errors name the file.
absl::StatusOr<CliConfig> LoadConfig(const std::string& path);

// Writes `content` to `path` with mode 0600 (its directory made with mode
// 0700 if missing), through a temporary file renamed over it, so that a
// crash leaves the old file or the new one.
absl::Status WritePrivateFile(const std::string& path,
                              const std::string& content);

// Whether the file at `path` can be read by others than its owner (its
// mode has group or other bits); false if it cannot be stat'ed.
bool ReadableByOthers(const std::string& path);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_CONFIG_H_
