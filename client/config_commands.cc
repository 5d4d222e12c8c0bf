#include "client/config_commands.h"

#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/call.h"
#include "client/config.h"
#include "client/output.h"
#include "client/token.h"
#include "cohorte/v1/members.grpc.pb.h"
#include "cohorte/v1/tokens.grpc.pb.h"
#include "google/protobuf/struct.pb.h"

namespace cohorte::client {
namespace {

// Loads the config, or prints why not (naming the file) and returns false.
bool Load(CliConfig* config) {
  absl::StatusOr<CliConfig> loaded = LoadConfig(ConfigPath());
  if (!loaded.ok()) {
    PrintError({"USAGE", std::string(loaded.status().message()), "", ""});
    return false;
  }
  *config = *std::move(loaded);
  return true;
}

bool Save(const CliConfig& config) {
  const absl::Status s =
      WritePrivateFile(ConfigPath(), SerializeConfig(config));
  if (!s.ok()) {
    PrintError({"USAGE", std::string(s.message()), "", ""});
    return false;
  }
  return true;
}

std::string ContextNames(const CliConfig& config) {
  std::string out;
  for (const CliContext& c : config.contexts) {
    out += (out.empty() ? "" : ", ") + c.name;
  }
  return out.empty() ? "none yet: cohorte login NAME" : out;
}

int UnknownContext(const std::string& flag, const std::string& name,
                   const CliConfig& config) {
  return UsageError(flag, "no context '" + name + "' in " + ConfigPath() +
                              " (contexts: " + ContextNames(config) + ")");
}

// The directory of the token files `login` writes.
std::string TokenDir() { return ConfigDir() + "/tokens"; }

// Reads a token typed on the terminal without echo, or the first line of
// a piped stdin. "" if none.
std::string ReadTokenFromStdin(const std::string& context) {
  std::string line;
  if (::isatty(STDIN_FILENO) == 1) {
    std::cerr << "Token for context " << context << " (input hidden): ";
    termios before;
    const bool terminal = ::tcgetattr(STDIN_FILENO, &before) == 0;
    if (terminal) {
      termios quiet = before;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::getline(std::cin, line);
    if (terminal) ::tcsetattr(STDIN_FILENO, TCSANOW, &before);
    std::cerr << "\n";
  } else {
    std::getline(std::cin, line);
  }
  return TrimToken(line);
}

// Who the token is, asked of the server: a member's name or the service
// token's. The status of the failed call otherwise.
grpc::Status WhoIs(const Connection& conn, std::string* who) {
  auto members = v1::MemberService::NewStub(conn.channel());
  v1::GetMemberRequest req;
  req.set_name("members/me");
  grpc::ClientContext ctx;
  conn.Prepare(&ctx);
  v1::Member member;
  grpc::Status s = members->GetMember(&ctx, req, &member);
  if (s.ok()) {
    *who = member.name();
    return s;
  }
  if (s.error_code() != grpc::StatusCode::FAILED_PRECONDITION) return s;
  auto tokens = v1::TokenService::NewStub(conn.channel());
  v1::GetTokenRequest me;
  me.set_name("tokens/me");
  grpc::ClientContext ctx2;
  conn.Prepare(&ctx2);
  v1::Token token;
  s = tokens->GetToken(&ctx2, me, &token);
  if (s.ok()) *who = token.name() + " (a service token)";
  return s;
}

google::protobuf::Value StringValue(const std::string& s) {
  google::protobuf::Value v;
  v.set_string_value(s);
  return v;
}

google::protobuf::Struct ContextDocument(const CliContext& c, bool current) {
  google::protobuf::Struct doc;
  auto& fields = *doc.mutable_fields();
  fields["name"] = StringValue(c.name);
  fields["server"] = StringValue(c.server);
  fields["tokenFile"] = StringValue(c.token_file);
  fields["tlsCa"] = StringValue(c.tls_ca);
  fields["tlsCert"] = StringValue(c.tls_cert);
  fields["tlsKey"] = StringValue(c.tls_key);
  fields["current"].set_bool_value(current);
  return doc;
}

int Login(Cli& cli, const std::string& name_arg) {
  CliConfig config;
  if (!Load(&config)) return kExitUsage;
  const std::string name = !name_arg.empty()         ? name_arg
                           : !cli.context.empty()    ? cli.context
                           : !config.current.empty() ? config.current
                                                     : "default";
  if (const std::string problem = ContextNameProblem(name); !problem.empty()) {
    return UsageError("<context>", "context name '" + name + "' " + problem);
  }
  CliContext context{name, "", "", "", "", ""};
  if (const CliContext* existing = config.Find(name)) context = *existing;
  const ConnectionOptions& given = cli.options;
  if (!given.server.empty()) context.server = given.server;
  if (context.server.empty()) context.server = kDefaultServer;
  if (!given.tls_ca.empty() || !given.tls_cert.empty()) {
    context.tls_ca = given.tls_ca;
    context.tls_cert = given.tls_cert;
    context.tls_key = given.tls_key;
  }

  // The token, in the order every command reads it: COHORTE_TOKEN, then
  // --token-file (referenced where it is), then stdin. One that is not in
  // a file already is written to a file of ours.
  std::string token, source, token_file;
  const char* env = std::getenv("COHORTE_TOKEN");
  if (env != nullptr && *env != '\0') {
    token = TrimToken(env);
    source = "COHORTE_TOKEN";
  } else if (!cli.token_file.empty()) {
    char* absolute = ::realpath(cli.token_file.c_str(), nullptr);
    if (absolute == nullptr) {
      return UsageError("--token-file", "cannot read " + cli.token_file);
    }
    token_file = absolute;
    std::free(absolute);
    std::ifstream in(token_file, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    token = TrimToken(content.str());
    source = "--token-file " + cli.token_file;
  } else {
    token = ReadTokenFromStdin(name);
    source = "stdin";
  }
  if (token.empty()) {
    return UsageError("--token-file",
                      "no token: give --token-file, set COHORTE_TOKEN, or "
                      "type it (or pipe it) on stdin");
  }
  if (const std::string problem = TokenFormProblem(token); !problem.empty()) {
    PrintError({"UNAUTHENTICATED",
                "the token from " + source + " is malformed: " + problem +
                    "; a token is coh_ followed by 64 hex digits, on one "
                    "line (nothing was sent or saved)",
                "MALFORMED_TOKEN", ""});
    return kExitAuth;
  }

  ConnectionOptions options;
  options.server = context.server;
  options.token = token;
  options.tls_ca = context.tls_ca;
  options.tls_cert = context.tls_cert;
  options.tls_key = context.tls_key;
  options.timeout_seconds = given.timeout_seconds;
  std::unique_ptr<Connection> conn = Connection::Create(options);
  if (conn == nullptr) return kExitUsage;
  SetErrorContext({context.server, nullptr});
  std::string who;
  const grpc::Status s = WhoIs(*conn, &who);
  if (!s.ok()) {
    const int exit = ReportError(s);
    std::cerr << "context " << name << " was not saved\n";
    return exit;
  }

  if (token_file.empty()) {
    token_file = TokenDir() + "/" + name + ".token";
    const absl::Status written = WritePrivateFile(token_file, token + "\n");
    if (!written.ok()) {
      PrintError({"USAGE", std::string(written.message()), "", ""});
      return kExitUsage;
    }
  } else if (ReadableByOthers(token_file)) {
    std::cerr << "warning: " << token_file
              << " can be read by others than you: chmod 600 it\n";
  }
  context.token_file = token_file;
  config.Put(context);
  config.current = name;
  if (!Save(config)) return kExitUsage;
  std::cerr << "logged in to " << context.server << " as " << who
            << "; context " << name << " is now current (" << ConfigPath()
            << ")\n";
  if (cli.env.format == OutputFormat::kName) {
    std::cout << name << "\n";
    return kExitOk;
  }
  google::protobuf::Struct doc = ContextDocument(context, true);
  (*doc.mutable_fields())["caller"] = StringValue(who);
  PrintMessage(doc, cli.env.format, [&] {
    PrintFields({{"context", name},
                 {"server", context.server},
                 {"caller", who},
                 {"token_file", token_file}});
  });
  return kExitOk;
}

}  // namespace

bool ApplyContext(Cli& cli) {
  const bool named = !cli.context.empty();
  absl::StatusOr<CliConfig> config = LoadConfig(ConfigPath());
  if (!config.ok()) {
    if (named) {
      UsageError("--context", std::string(config.status().message()));
      return false;
    }
    std::cerr << "warning: ignoring contexts: " << config.status().message()
              << "\n";
    config = CliConfig{};
  }
  const std::string name = named ? cli.context : config->current;
  if (!name.empty()) {
    const CliContext* c = config->Find(name);
    if (c == nullptr) {
      UnknownContext(named ? "--context" : "current-context", name, *config);
      return false;
    }
    ConnectionOptions& o = cli.options;
    if (o.server.empty()) o.server = c->server;
    const char* env_token = std::getenv("COHORTE_TOKEN");
    if (cli.token_file.empty() &&
        (env_token == nullptr || *env_token == '\0')) {
      cli.token_file = c->token_file;
      if (ReadableByOthers(c->token_file)) {
        std::cerr << "warning: " << c->token_file
                  << " can be read by others than you: chmod 600 it\n";
      }
    }
    if (o.tls_ca.empty() && o.tls_cert.empty()) {
      o.tls_ca = c->tls_ca;
      o.tls_cert = c->tls_cert;
      o.tls_key = c->tls_key;
    }
  }
  if (cli.options.server.empty()) cli.options.server = kDefaultServer;
  return true;
}

void AddConfigCommands(Cli& cli) {
  CLI::App& app = cli.app;
  auto name = std::make_shared<std::string>();

  CLI::App* login = app.add_subcommand(
      "login",
      "Check a token against a server and save both as a context (the "
      "token from --token-file, COHORTE_TOKEN, or typed hidden on stdin)");
  login->add_option("context", *name,
                    "the context's name (default: --context, the current "
                    "one, else 'default')");
  cli.registry.Register(login, [&cli, name] { return Login(cli, *name); });

  CLI::App* config = app.add_subcommand(
      "config", "Named contexts: server, TLS files and token file");
  config->require_subcommand(1);

  CLI::App* use =
      config->add_subcommand("use-context", "Make a context the current one");
  use->add_option("context", *name, "the context's name")->required();
  cli.registry.Register(use, [name] {
    CliConfig c;
    if (!Load(&c)) return kExitUsage;
    if (c.Find(*name) == nullptr) return UnknownContext("<context>", *name, c);
    c.current = *name;
    if (!Save(c)) return kExitUsage;
    std::cerr << "switched to context " << *name << "\n";
    return kExitOk;
  });

  CLI::App* current = config->add_subcommand(
      "current-context", "Print the current context's name");
  cli.registry.Register(current, [] {
    CliConfig c;
    if (!Load(&c)) return kExitUsage;
    if (c.current.empty()) {
      PrintError(
          {"NOT_FOUND", "no current context (cohorte login NAME)", "", ""});
      return kExitNotFound;
    }
    std::cout << c.current << "\n";
    return kExitOk;
  });

  CLI::App* list = config->add_subcommand(
      "get-contexts", "List the contexts (never a token, only its file)");
  cli.registry.Register(list, [&cli] {
    CliConfig c;
    if (!Load(&c)) return kExitUsage;
    if (cli.env.format == OutputFormat::kName) {
      for (const CliContext& ctx : c.contexts) std::cout << ctx.name << "\n";
      return kExitOk;
    }
    google::protobuf::Struct doc;
    auto* contexts = (*doc.mutable_fields())["contexts"].mutable_list_value();
    (*doc.mutable_fields())["currentContext"] = StringValue(c.current);
    std::vector<std::vector<std::string>> rows;
    for (const CliContext& ctx : c.contexts) {
      *contexts->add_values()->mutable_struct_value() =
          ContextDocument(ctx, ctx.name == c.current);
      rows.push_back({ctx.name == c.current ? "*" : "", ctx.name, ctx.server,
                      ctx.token_file});
    }
    PrintMessage(doc, cli.env.format, [&] {
      PrintTable({"CURRENT", "NAME", "SERVER", "TOKEN FILE"}, rows);
    });
    return kExitOk;
  });

  CLI::App* remove = config->add_subcommand(
      "delete-context",
      "Remove a context (and the token file login wrote for it)");
  remove->add_option("context", *name, "the context's name")->required();
  cli.registry.Register(remove, [name] {
    CliConfig c;
    if (!Load(&c)) return kExitUsage;
    const CliContext* ctx = c.Find(*name);
    if (ctx == nullptr) return UnknownContext("<context>", *name, c);
    const std::string ours = TokenDir() + "/" + *name + ".token";
    const bool remove_token = ctx->token_file == ours;
    c.Remove(*name);
    if (!Save(c)) return kExitUsage;
    if (remove_token) ::unlink(ours.c_str());
    std::cerr << "deleted context " << *name
              << (remove_token ? " and its token file" : "") << "\n";
    return kExitOk;
  });
}

}  // namespace cohorte::client
