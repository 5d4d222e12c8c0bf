#include "client/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace cohorte::client {
namespace {

std::string Trim(std::string s) {
  const size_t b = s.find_first_not_of(" \t\r");
  const size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// The field of `context` a key sets, or nullptr for an unknown key.
std::string* Field(CliContext* context, const std::string& key) {
  if (key == "server") return &context->server;
  if (key == "token-file") return &context->token_file;
  if (key == "tls-ca") return &context->tls_ca;
  if (key == "tls-cert") return &context->tls_cert;
  if (key == "tls-key") return &context->tls_key;
  return nullptr;
}

// mkdir -p with mode 0700 for what it creates.
bool MakeDirs(const std::string& dir) {
  if (dir.empty()) return true;
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) return S_ISDIR(st.st_mode);
  const size_t slash = dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0 &&
      !MakeDirs(dir.substr(0, slash))) {
    return false;
  }
  return ::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST;
}

}  // namespace

const CliContext* CliConfig::Find(const std::string& name) const {
  for (const CliContext& c : contexts) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

void CliConfig::Put(CliContext context) {
  for (CliContext& c : contexts) {
    if (c.name == context.name) {
      c = std::move(context);
      return;
    }
  }
  contexts.push_back(std::move(context));
}

bool CliConfig::Remove(const std::string& name) {
  for (auto it = contexts.begin(); it != contexts.end(); ++it) {
    if (it->name == name) {
      contexts.erase(it);
      if (current == name) current.clear();
      return true;
    }
  }
  return false;
}

std::string ContextNameProblem(const std::string& name) {
  if (name.empty() || name.size() > 63) return "is not 1 to 63 characters";
  if (!std::isalnum(static_cast<unsigned char>(name[0]))) {
    return "does not start with a letter or a digit";
  }
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
          c == '-')) {
      return "may hold only a-z, 0-9, '.', '_' and '-'";
    }
  }
  return "";
}

absl::StatusOr<CliConfig> ParseConfig(const std::string& text) {
  CliConfig config;
  CliContext* context = nullptr;
  std::istringstream in(text);
  std::string raw;
  for (int line = 1; std::getline(in, raw); ++line) {
    const std::string l = Trim(raw);
    const std::string where = absl::StrCat("line ", line, ": ");
    if (l.empty() || l[0] == '#' || l[0] == ';') continue;
    if (l[0] == '[') {
      absl::string_view header = l;
      if (!absl::ConsumePrefix(&header, "[context \"") ||
          !absl::ConsumeSuffix(&header, "\"]")) {
        return absl::InvalidArgumentError(where +
                                          "a section is [context \"NAME\"]");
      }
      const std::string name(header);
      if (const std::string problem = ContextNameProblem(name);
          !problem.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, "context name '", name, "' ", problem));
      }
      if (config.Find(name) != nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, "context '", name, "' is defined twice"));
      }
      config.contexts.push_back(CliContext{name, "", "", "", "", ""});
      context = &config.contexts.back();
      continue;
    }
    const size_t eq = l.find('=');
    if (eq == std::string::npos) {
      return absl::InvalidArgumentError(where + "expected key = value");
    }
    const std::string key = Trim(l.substr(0, eq));
    const std::string value = Trim(l.substr(eq + 1));
    if (context == nullptr) {
      if (key != "current-context") {
        return absl::InvalidArgumentError(
            absl::StrCat(where, "unknown key '", key,
                         "' (before any [context] only current-context)"));
      }
      config.current = value;
      continue;
    }
    std::string* field = Field(context, key);
    if (field == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "unknown key '", key,
                       "' (server, token-file, tls-ca, tls-cert, tls-key)"));
    }
    *field = value;
  }
  return config;
}

std::string SerializeConfig(const CliConfig& config) {
  std::string out =
      "# cohorte's contexts, written by `cohorte login` and `cohorte config`.\n"
      "# No secret here: a context names the file that holds its token.\n";
  if (!config.current.empty()) {
    absl::StrAppend(&out, "current-context = ", config.current, "\n");
  }
  for (const CliContext& c : config.contexts) {
    absl::StrAppend(&out, "\n[context \"", c.name, "\"]\n");
    for (const auto& [key, value] :
         {std::pair<const char*, const std::string*>{"server", &c.server},
          {"token-file", &c.token_file},
          {"tls-ca", &c.tls_ca},
          {"tls-cert", &c.tls_cert},
          {"tls-key", &c.tls_key}}) {
      if (!value->empty()) absl::StrAppend(&out, key, " = ", *value, "\n");
    }
  }
  return out;
}

std::string ConfigDir() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME");
      xdg != nullptr && *xdg == '/') {
    return absl::StrCat(xdg, "/cohorte");
  }
  const char* home = std::getenv("HOME");
  return absl::StrCat(home != nullptr ? home : "", "/.config/cohorte");
}

std::string ConfigPath() { return ConfigDir() + "/config"; }

absl::StatusOr<CliConfig> LoadConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return CliConfig{};
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::ostringstream content;
  content << in.rdbuf();
  absl::StatusOr<CliConfig> config = ParseConfig(content.str());
  if (!config.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

absl::Status WritePrivateFile(const std::string& path,
                              const std::string& content) {
  const size_t slash = path.find_last_of('/');
  if (slash != std::string::npos && !MakeDirs(path.substr(0, slash))) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create the directory of ", path));
  }
  const std::string tmp = path + ".tmp";
  const int fd =
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
  }
  // An older file of wider mode keeps no wider mode.
  bool ok = ::fchmod(fd, 0600) == 0 &&
            ::write(fd, content.data(), content.size()) ==
                static_cast<ssize_t>(content.size()) &&
            ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

bool ReadableByOthers(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0;
}

}  // namespace cohorte::client
