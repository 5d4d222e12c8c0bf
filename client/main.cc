// cohorte: the command-line client of a Cohorte server.
//
//   cohorte [global flags] <resource> <verb> [args]
//
// Data goes to stdout (-o table|json), errors to stderr as
// "Error: <CODE>: <message>"; the exit code tells the failure class
// (client/connection.h).

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "CLI/CLI.hpp"
#include "client/access_commands.h"
#include "client/cohort_commands.h"
#include "client/commands.h"
#include "client/connection.h"
#include "client/domain_commands.h"
#include "client/output.h"
#include "client/structure_commands.h"
#include "cohorte/v1/members.grpc.pb.h"
#include "google/protobuf/stubs/common.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace {

using cohorte::client::CommandEnv;
using cohorte::client::CommandRegistry;

std::string Trim(const std::string& s) {
  const char* ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

void AddHealthCommand(CLI::App& app, const CommandEnv& env,
                      CommandRegistry& registry,
                      std::shared_ptr<std::string> service) {
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
    if (!s.ok()) return cohorte::client::ReportError(s);
    std::cout << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                     resp.status())
              << "\n";
    return resp.status() == grpc::health::v1::HealthCheckResponse::SERVING
               ? cohorte::client::kExitOk
               : cohorte::client::kExitNotServing;
  });
}

void AddWhoamiCommand(CLI::App& app, const CommandEnv& env,
                      CommandRegistry& registry) {
  CLI::App* whoami = app.add_subcommand("whoami", "Show the caller");
  registry.Register(whoami, [&env]() {
    auto stub =
        cohorte::v1::MemberService::NewStub(env.connection()->channel());
    cohorte::v1::GetMemberRequest req;
    req.set_name("members/me");
    cohorte::v1::Member resp;
    grpc::ClientContext ctx;
    env.connection()->Prepare(&ctx);
    grpc::Status s = stub->GetMember(&ctx, req, &resp);
    if (!s.ok()) return cohorte::client::ReportError(s);
    if (env.format == cohorte::client::OutputFormat::kJson) {
      cohorte::client::PrintJson(resp);
    } else {
      cohorte::client::PrintFields(
          {{"name", resp.name()},
           {"given_name", resp.given_name()},
           {"family_name", resp.family_name()},
           {"role", cohorte::v1::Member::Role_Name(resp.role())}});
    }
    return cohorte::client::kExitOk;
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cohorte: the Cohorte command-line client"};
  app.require_subcommand(1);

  cohorte::client::ConnectionOptions options;
  options.server = "127.0.0.1:50051";
  std::string token_file;
  std::string output = "table";
  app.add_option("--server", options.server, "host:port of cohorted")
      ->envname("COHORTE_SERVER")
      ->capture_default_str();
  app.add_option("--token-file", token_file,
                 "file holding the bearer token (COHORTE_TOKEN wins)")
      ->envname("COHORTE_TOKEN_FILE");
  app.add_option("-o,--output", output, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  app.add_option("--timeout", options.timeout_seconds,
                 "seconds before a call gives up")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  app.add_option("--tls-ca", options.tls_ca, "PEM CA: connect with TLS")
      ->envname("COHORTE_TLS_CA");
  app.add_option("--tls-cert", options.tls_cert, "PEM client certificate")
      ->envname("COHORTE_TLS_CERT");
  app.add_option("--tls-key", options.tls_key, "PEM client key")
      ->envname("COHORTE_TLS_KEY");

  CommandEnv env;
  CommandRegistry registry;
  AddHealthCommand(app, env, registry, std::make_shared<std::string>());
  AddWhoamiCommand(app, env, registry);
  cohorte::client::AddCohortCommands(app, env, registry);
  cohorte::client::AddStructureCommands(app, env, registry);
  cohorte::client::AddAccessCommands(app, env, registry);
  cohorte::client::AddDomainCommands(app, env, registry);

  // Protobuf refuses to carry text that is not UTF-8: say which argument
  // before anything is sent.
  for (int i = 1; i < argc; ++i) {
    if (!google::protobuf::internal::IsStructurallyValidUTF8(
            argv[i], static_cast<int>(std::strlen(argv[i])))) {
      const bool after_flag = i > 1 && argv[i - 1][0] == '-';
      std::cerr << "Error: INVALID_ARGUMENT: "
                << (after_flag ? std::string(argv[i - 1])
                               : "argument " + std::to_string(i))
                << " is not valid UTF-8\n";
      return cohorte::client::kExitInvalid;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return cohorte::client::kExitUsage;
  }

  if (const char* token = std::getenv("COHORTE_TOKEN");
      token != nullptr && *token != '\0') {
    options.token = Trim(token);
  } else if (!token_file.empty()) {
    std::ifstream in(token_file);
    if (!in) {
      std::cerr << "Error: cannot read token file " << token_file << "\n";
      return cohorte::client::kExitUsage;
    }
    std::ostringstream content;
    content << in.rdbuf();
    options.token = Trim(content.str());
  }
  env.format = output == "json" ? cohorte::client::OutputFormat::kJson
                                : cohorte::client::OutputFormat::kTable;
  env.conn = cohorte::client::Connection::Create(options);
  if (env.conn == nullptr) return cohorte::client::kExitUsage;

  const std::function<int()>* action = registry.Parsed();
  if (action == nullptr) {
    std::cerr << app.help();
    return cohorte::client::kExitUsage;
  }
  return (*action)();
}
