// cohorted: the Cohorte server. Opens the store under --data-dir, makes the
// administrator on first start, serves gRPC on --listen until SIGINT or
// SIGTERM, then drains: health goes NOT_SERVING, in-flight calls finish
// under --shutdown-grace, the store closes.
//
// Exit codes: 0 clean stop, 64 bad usage, 66 a TLS file cannot be read,
// 69 cannot listen, 73 the data directory cannot be created or written,
// 75 the data directory is locked by another cohorted, 70 anything else.

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "server/demo/demo.h"
#include "server/service/access/tokens.h"
#include "server/service/audit/audit.h"
#include "server/service/content/exchange_service.h"
#include "server/service/content/moderation_service.h"
#include "server/service/content/referentiel.h"
#include "server/service/content/report_service.h"
#include "server/service/identity/bootstrap.h"
#include "server/service/identity/invitation_service.h"
#include "server/service/identity/token_service.h"
#include "server/service/inbox/inbox.h"
#include "server/service/services.h"
#include "server/service/sessions/session_service.h"
#include "server/service/structure/group_service.h"
#include "server/service/structure/member_service.h"
#include "server/service/structure/territory_service.h"
#include "server/transport/call_handler.h"
#include "server/transport/services.h"
#include "server/transport/worker_pool.h"
#include "storage/store.h"

namespace {

constexpr int kExitUsage = 64;
constexpr int kExitNoInput = 66;
constexpr int kExitUnavailable = 69;
constexpr int kExitSoftware = 70;
constexpr int kExitCantCreate = 73;
constexpr int kExitTempFail = 75;

struct Flags {
  std::string listen = "127.0.0.1:50051";
  std::string data_dir = "data";
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  int max_message_bytes = 4 * 1024 * 1024;
  int workers = 64;
  double shutdown_grace_seconds = 10;
  bool seed_demo = false;
};

int Fail(int code, const std::string& message) {
  std::cerr << "cohorted: " << message << "\n";
  return code;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  *out = buffer.str();
  return true;
}

// Server credentials from the flags: plaintext without --tls-cert; TLS
// with it; mutual TLS when --tls-client-ca is set too.
int MakeCredentials(const Flags& flags,
                    std::shared_ptr<grpc::ServerCredentials>* creds) {
  if (flags.tls_cert.empty() && flags.tls_key.empty()) {
    if (!flags.tls_client_ca.empty()) {
      return Fail(kExitUsage, "--tls-client-ca needs --tls-cert and --tls-key");
    }
    *creds = grpc::InsecureServerCredentials();
    return 0;
  }
  if (flags.tls_cert.empty() || flags.tls_key.empty()) {
    return Fail(kExitUsage, "--tls-cert and --tls-key go together");
  }
  grpc::SslServerCredentialsOptions options;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  if (!ReadFile(flags.tls_key, &pair.private_key)) {
    return Fail(kExitNoInput, "cannot read --tls-key " + flags.tls_key);
  }
  if (!ReadFile(flags.tls_cert, &pair.cert_chain)) {
    return Fail(kExitNoInput, "cannot read --tls-cert " + flags.tls_cert);
  }
  options.pem_key_cert_pairs.push_back(pair);
  if (!flags.tls_client_ca.empty()) {
    if (!ReadFile(flags.tls_client_ca, &options.pem_root_certs)) {
      return Fail(kExitNoInput,
                  "cannot read --tls-client-ca " + flags.tls_client_ca);
    }
    options.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  *creds = grpc::SslServerCredentials(options);
  return 0;
}

int Run(const Flags& flags, const sigset_t& stop_signals) {
  if (::mkdir(flags.data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Fail(kExitCantCreate,
                absl::StrCat("cannot create data directory ", flags.data_dir,
                             ": ", std::strerror(errno)));
  }
  std::shared_ptr<grpc::ServerCredentials> creds;
  if (int rc = MakeCredentials(flags, &creds); rc != 0) return rc;

  cohorte::storage::StoreOptions store_options;
  store_options.path = flags.data_dir + "/store";
  absl::StatusOr<std::unique_ptr<cohorte::storage::Store>> opened =
      cohorte::storage::Store::Open(store_options);
  if (!opened.ok()) {
    const absl::Status& s = opened.status();
    if (absl::IsFailedPrecondition(s)) {
      return Fail(kExitTempFail,
                  absl::StrCat("data directory ", flags.data_dir,
                               " is locked: another cohorted is using it"));
    }
    if (absl::IsUnavailable(s)) {
      return Fail(kExitCantCreate,
                  absl::StrCat("cannot use data directory ", flags.data_dir,
                               ": ", s.message()));
    }
    return Fail(kExitSoftware,
                absl::StrCat("cannot open the store: ", s.ToString()));
  }
  std::unique_ptr<cohorte::storage::Store> store = *std::move(opened);

  const std::string token_path = flags.data_dir + "/admin.token";
  absl::StatusOr<cohorte::service::BootstrapResult> boot =
      cohorte::service::BootstrapAdmin(*store, token_path);
  if (!boot.ok()) {
    return Fail(kExitCantCreate, std::string(boot.status().message()));
  }

  cohorte::service::BuiltInReferentiel();  // parsed now, not on a call
  cohorte::service::Services services(store.get());
  if (boot->created && flags.seed_demo) {
    absl::Status seeded =
        cohorte::demo::SeedDemo(services, boot->admin, flags.data_dir);
    if (!seeded.ok()) {
      return Fail(kExitSoftware,
                  absl::StrCat("seeding the demo failed: ", seeded.ToString()));
    }
  }

  cohorte::service::Authenticator authenticator(store.get());
  auto pool = std::make_unique<cohorte::transport::WorkerPool>(flags.workers);
  cohorte::transport::CallHandler calls(&authenticator, pool.get());
  cohorte::transport::GrpcServices grpc_services(&calls, &services);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  // gRPC sets SO_REUSEPORT by default, which lets a second server bind a
  // port already in use without error; refuse that instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(flags.listen, creds, &port);
  grpc_services.Register(builder);
  builder.SetMaxReceiveMessageSize(flags.max_message_bytes);
  builder.SetMaxSendMessageSize(flags.max_message_bytes);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return Fail(kExitUnavailable,
                absl::StrCat("cannot listen on ", flags.listen,
                             " (address in use, or not a host:port)"));
  }
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  health->SetServingStatus("", true);
  for (const std::string& service : cohorte::transport::GrpcServices::Names()) {
    health->SetServingStatus(service, true);
  }

  const std::string host = flags.listen.substr(0, flags.listen.rfind(':'));
  const std::string address = absl::StrCat(host, ":", port);
  std::cout << "cohorted: listening on " << address << "\n"
            << "cohorted: instance " << store->instance_id() << " epoch "
            << store->epoch() << ", revision " << store->revision() << "\n";
  if (boot->created) {
    std::cout << "cohorted: first start: admin token written to " << token_path
              << " (mode 0600)\n"
              << "Try:\n"
              << "  export COHORTE_SERVER=" << address << "\n"
              << "  export COHORTE_TOKEN_FILE=" << token_path << "\n"
              << "  build/cohorte health\n"
              << "  build/cohorte cohorts list\n"
              << "  build/cohorte cohorts get occitanie\n";
  }
  std::cout.flush();

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::cout << "cohorted: " << strsignal(signal_number) << ": draining (grace "
            << flags.shutdown_grace_seconds << "s)\n";
  std::cout.flush();

  const absl::Time drain_start = absl::Now();
  health->Shutdown();  // NOT_SERVING first, so balancers move away
  server->Shutdown(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(static_cast<int64_t>(
                       flags.shutdown_grace_seconds * 1000)));
  server->Wait();
  const absl::Duration drained = absl::Now() - drain_start;
  pool.reset();  // runs what was scheduled, then joins
  const int64_t revision = store->revision();
  store.reset();
  std::cout << "cohorted: calls drained in " << drained << ", store closed in "
            << (absl::Now() - drain_start - drained)
            << "\ncohorted: stopped cleanly at revision " << revision << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Block the stop signals before any thread starts, so that every gRPC and
  // RocksDB thread inherits the mask and only sigwait() sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Flags flags;
  CLI::App app{"cohorted: the Cohorte server"};
  app.add_option("--listen", flags.listen,
                 "host:port to serve on; port 0 picks a free port and prints "
                 "it")
      ->capture_default_str();
  app.add_option("--data-dir", flags.data_dir,
                 "directory of the store and of the admin token file")
      ->capture_default_str();
  app.add_option("--tls-cert", flags.tls_cert, "PEM certificate chain");
  app.add_option("--tls-key", flags.tls_key, "PEM private key");
  app.add_option("--tls-client-ca", flags.tls_client_ca,
                 "PEM CA bundle: require client certificates (mTLS)");
  app.add_option("--max-message-bytes", flags.max_message_bytes,
                 "largest message received or sent")
      ->check(CLI::Range(1024, 64 * 1024 * 1024))
      ->capture_default_str();
  app.add_option("--workers", flags.workers,
                 "threads running handlers (durable writes wait on them)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--shutdown-grace", flags.shutdown_grace_seconds,
                 "seconds in-flight calls get to finish on SIGINT/SIGTERM")
      ->check(CLI::Range(0.0, 600.0))
      ->capture_default_str();
  app.add_flag("--seed-demo", flags.seed_demo,
               "on first start, create the demo cohorts");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  return Run(flags, stop_signals);
}
