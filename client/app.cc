#include "client/app.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "client/access_commands.h"
#include "client/admin_commands.h"
#include "client/call.h"
#include "client/cohort_commands.h"
#include "client/completion.h"
#include "client/config_commands.h"
#include "client/domain_commands.h"
#include "client/feed_commands.h"
#include "client/labels.h"
#include "client/link_commands.h"
#include "client/manpage.h"
#include "client/output.h"
#include "client/structure_commands.h"
#include "client/times.h"
#include "client/token.h"
#include "client/webhook_commands.h"
#include "cohorte/v1/members.grpc.pb.h"
#include "cohorte/v1/tokens.grpc.pb.h"
#include "google/protobuf/stubs/common.h"
#include "grpc/health/v1/health.grpc.pb.h"

#ifndef COHORTE_VERSION
#define COHORTE_VERSION "0.0.0-dev"
#endif

namespace cohorte::client {
namespace {

void AddHealthCommand(CLI::App& app, const CommandEnv& env,
                      CommandRegistry& registry) {
  auto service = std::make_shared<std::string>();
  CLI::App* health = app.add_subcommand(
      "health", "Ask the server whether it serves (no token needed)");
  health->add_option("--service", *service,
                     "a service name, e.g. cohorte.v1.CohortService");
  registry.Register(health, [&env, service]() {
    auto stub = grpc::health::v1::Health::NewStub(env.connection()->channel());
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(*service);
    grpc::health::v1::HealthCheckResponse resp;
    grpc::ClientContext ctx;
    env.connection()->Prepare(&ctx);
    grpc::Status s = stub->Check(&ctx, req, &resp);
    if (!s.ok()) return ReportError(s);
    PrintMessage(resp, env.format, [&] {
      std::cout << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                       resp.status())
                << "\n";
    });
    return resp.status() == grpc::health::v1::HealthCheckResponse::SERVING
               ? kExitOk
               : kExitNotServing;
  });
}

void AddWhoamiCommand(CLI::App& app, const CommandEnv& env,
                      CommandRegistry& registry) {
  CLI::App* whoami = app.add_subcommand("whoami", "Show the caller");
  registry.Register(whoami, [&env]() {
    auto stub = v1::MemberService::NewStub(env.connection()->channel());
    v1::GetMemberRequest req;
    req.set_name("members/me");
    grpc::ClientContext ctx;
    env.connection()->Prepare(&ctx);
    v1::Member member;
    const grpc::Status s = stub->GetMember(&ctx, req, &member);
    if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
      // A service token acts as no member: it is shown by its token, with
      // the cohorts it reaches and its access.
      auto tokens = v1::TokenService::NewStub(env.connection()->channel());
      v1::GetTokenRequest me;
      me.set_name("tokens/me");
      return Call<v1::Token>(
          env,
          [&](auto* ctx2, auto* resp) {
            return tokens->GetToken(ctx2, me, resp);
          },
          [](const v1::Token& t) { PrintResource(t); });
    }
    if (!s.ok()) return ReportError(s);
    PrintMessage(member, env.format, [&] {
      PrintFields({{"name", member.name()},
                   {"given_name", member.given_name()},
                   {"family_name", member.family_name()},
                   {"role", Label(member.role())}});
    });
    return kExitOk;
  });
}

// Whether the command line or COHORTE_OUTPUT asks for JSON or YAML: errors
// of the parse itself are then JSON objects too (which YAML reads).
bool WantsJson(int argc, char** argv) {
  std::string format;
  if (const char* env = std::getenv("COHORTE_OUTPUT")) format = env;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "-o" || a == "--output") && i + 1 < argc) {
      format = argv[i + 1];
    } else if (a.rfind("--output=", 0) == 0) {
      format = a.substr(9);
    } else if (a.size() > 2 && a.rfind("-o", 0) == 0) {
      format = a.substr(2);
    }
  }
  return format == "json" || format == "yaml";
}

// Reads the token (COHORTE_TOKEN wins over --token-file) and checks its
// form; false after an error that never holds the token.
bool ReadToken(const std::string& token_file, std::string* token, int* exit) {
  std::string source;
  std::string text;
  if (const char* value = std::getenv("COHORTE_TOKEN");
      value != nullptr && *value != '\0') {
    text = value;
    source = "COHORTE_TOKEN";
  } else if (!token_file.empty()) {
    std::ifstream in(token_file, std::ios::binary);
    if (!in) {
      *exit =
          UsageError("--token-file", "cannot read token file " + token_file);
      return false;
    }
    std::ostringstream content;
    content << in.rdbuf();
    text = content.str();
    source = "--token-file " + token_file;
  }
  *token = TrimToken(text);
  if (token->empty()) return true;
  const std::string problem = TokenFormProblem(*token);
  if (problem.empty()) return true;
  token->clear();
  PrintError({"UNAUTHENTICATED",
              "the token from " + source + " is malformed: " + problem +
                  "; a token is coh_ followed by 64 hex digits, on one line "
                  "(nothing was sent)",
              "MALFORMED_TOKEN",
              source == "COHORTE_TOKEN" ? "COHORTE_TOKEN" : "--token-file"});
  *exit = kExitAuth;
  return false;
}

}  // namespace

const char* CliVersion() { return COHORTE_VERSION; }

std::unique_ptr<Cli> BuildCli() {
  auto cli = std::make_unique<Cli>();
  CLI::App& app = cli->app;
  app.require_subcommand(1);
  // Global flags are accepted after the subcommand too.
  app.fallthrough();
  app.set_version_flag("--version", std::string("cohorte ") + CliVersion(),
                       "print the version and exit");
  app.set_help_flag("-h,--help", "print this help and exit");

  ConnectionOptions& options = cli->options;
  app.add_option("--server", options.server,
                 "host:port of cohorted (default: the context's, else " +
                     std::string(kDefaultServer) + ")")
      ->envname("COHORTE_SERVER");
  app.add_option("--token-file", cli->token_file,
                 "file holding the bearer token (COHORTE_TOKEN wins)")
      ->envname("COHORTE_TOKEN_FILE");
  app.add_option("-o,--output", cli->output,
                 "table, json (protobuf JSON; errors too), yaml (the same "
                 "document as YAML) or name (resource names, one a line)")
      ->envname("COHORTE_OUTPUT")
      ->check(CLI::IsMember({"table", "json", "yaml", "name"}))
      ->capture_default_str();
  app.add_option("--timeout", options.timeout_seconds,
                 "seconds before a call gives up")
      ->envname("COHORTE_TIMEOUT")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  app.add_option("--tls-ca", options.tls_ca, "PEM CA: connect with TLS")
      ->envname("COHORTE_TLS_CA");
  app.add_option("--tls-cert", options.tls_cert, "PEM client certificate")
      ->envname("COHORTE_TLS_CERT");
  app.add_option("--tls-key", options.tls_key, "PEM client key")
      ->envname("COHORTE_TLS_KEY");
  app.add_option("--context", cli->context,
                 "use this context of cohorte login (default: the current "
                 "one, see cohorte config)")
      ->envname("COHORTE_CONTEXT");

  AddHealthCommand(app, cli->env, cli->registry);
  AddWhoamiCommand(app, cli->env, cli->registry);
  AddCohortCommands(app, cli->env, cli->registry);
  AddStructureCommands(app, cli->env, cli->registry);
  AddAccessCommands(app, cli->env, cli->registry);
  AddFeedCommands(app, cli->env, cli->registry);
  AddDomainCommands(app, cli->env, cli->registry);
  AddAdminCommands(app, cli->env, cli->registry);
  AddWebhookCommands(app, cli->env, cli->registry);
  AddLinkCommands(app, cli->env, cli->registry);

  AddConfigCommands(*cli);

  CLI::App* completion = app.add_subcommand(
      "completion",
      "Print shell completion: source <(cohorte completion bash), source "
      "<(cohorte completion zsh), cohorte completion fish | source");
  completion->add_option("shell", cli->shell, "bash, zsh or fish")
      ->check(CLI::IsMember({"bash", "zsh", "fish"}))
      ->required();
  cli->registry.Register(completion, [&app, shell = &cli->shell] {
    std::cout << CompletionScript(app, *shell);
    return kExitOk;
  });

  CLI::App* help = app.add_subcommand(
      "help", "Print the help of every command, or the manual page (--man)");
  help->add_flag("--man", cli->man,
                 "the manual page, in roff: cohorte help --man | man -l -");
  cli->registry.Register(help, [&app, man = &cli->man] {
    std::cout << (*man ? ManPage(app, CliVersion())
                       : app.help("", CLI::AppFormatMode::All));
    return kExitOk;
  });
  return cli;
}

int RunCli(int argc, char** argv) {
  SetJsonErrors(WantsJson(argc, argv));
  std::unique_ptr<Cli> cli = BuildCli();

  // Protobuf refuses to carry text that is not UTF-8: say which argument
  // before anything is sent.
  for (int i = 1; i < argc; ++i) {
    if (!google::protobuf::internal::IsStructurallyValidUTF8(
            argv[i], static_cast<int>(std::strlen(argv[i])))) {
      const bool after_flag = i > 1 && argv[i - 1][0] == '-';
      PrintError({"INVALID_ARGUMENT",
                  (after_flag ? std::string(argv[i - 1])
                              : "argument " + std::to_string(i)) +
                      " is not valid UTF-8",
                  "", after_flag ? argv[i - 1] : ""});
      return kExitInvalid;
    }
  }

  try {
    cli->app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cli->app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return cli->app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return cli->app.exit(e);
  } catch (const CLI::ParseError& e) {
    // "A subcommand is required": say which, under the deepest command
    // given.
    CLI::App* deepest = &cli->app;
    for (bool found = true; found;) {
      found = false;
      for (CLI::App* sub : deepest->get_subcommands()) {
        deepest = sub;
        found = true;
        break;
      }
    }
    std::string message = e.what();
    if (!deepest->get_subcommands({}).empty() &&
        message.find("subcommand") != std::string::npos) {
      std::string path, words;
      for (const CLI::App* a = deepest; a->get_parent() != nullptr;
           a = a->get_parent()) {
        path = a->get_name() + " " + path;
      }
      for (const CLI::App* sub : deepest->get_subcommands({})) {
        words += (words.empty() ? "" : ", ") + sub->get_name();
      }
      message = "cohorte " + path + "needs a command: one of " + words;
    }
    PrintError({"USAGE", message, "", ""});
    std::cerr << (WantsJson(argc, argv) ? "" : "Run with --help for more.\n");
    return kExitUsage;
  }

  OutputFormat format = OutputFormat::kTable;
  ParseOutputFormat(cli->output, &format);
  SetJsonErrors(IsStructured(format));
  cli->env.format = format;
  cli->env.zone = UserTimeZone();

  auto [command, action] = cli->registry.Parsed();
  if (action == nullptr) {
    std::cerr << cli->app.help();
    return kExitUsage;
  }
  // Completion, help and contexts need neither a server nor a token;
  // login finds both itself.
  const CLI::App* parent = command->get_parent();
  const std::string top =
      parent == &cli->app ? command->get_name()
      : parent != nullptr && parent->get_parent() == &cli->app
          ? parent->get_name()
          : "";
  if (top == "completion" || top == "help" || top == "login" ||
      top == "config") {
    return (*action)();
  }
  if (!ApplyContext(*cli)) return kExitUsage;
  SetErrorContext(
      {cli->options.server, [command = command](const std::string& field) {
         return FlagForField(*command, field);
       }});
  int exit = kExitOk;
  if (!ReadToken(cli->token_file, &cli->options.token, &exit)) return exit;
  cli->env.conn = Connection::Create(cli->options);
  if (cli->env.conn == nullptr) return kExitUsage;
  return (*action)();
}

}  // namespace cohorte::client
