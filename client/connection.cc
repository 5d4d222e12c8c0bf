#include "client/connection.h"

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "client/output.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace cohorte::client {
namespace {

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  *out = buffer.str();
  return true;
}

ErrorContext& Context() {
  static ErrorContext* context = new ErrorContext;
  return *context;
}

}  // namespace

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

void SetErrorContext(ErrorContext context) { Context() = std::move(context); }

std::unique_ptr<Connection> Connection::Create(
    const ConnectionOptions& options) {
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (options.tls_ca.empty() && options.tls_cert.empty()) {
    creds = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    if (!options.tls_ca.empty() &&
        !ReadFile(options.tls_ca, &ssl.pem_root_certs)) {
      PrintError(
          {"USAGE", "--tls-ca: cannot read " + options.tls_ca, "", "--tls-ca"});
      return nullptr;
    }
    if (!options.tls_cert.empty() &&
        (!ReadFile(options.tls_cert, &ssl.pem_cert_chain) ||
         !ReadFile(options.tls_key, &ssl.pem_private_key))) {
      PrintError({"USAGE",
                  "--tls-cert, --tls-key: cannot read " + options.tls_cert +
                      " or " + options.tls_key,
                  "", "--tls-cert"});
      return nullptr;
    }
    creds = grpc::SslCredentials(ssl);
  }
  return std::unique_ptr<Connection>(
      new Connection(options, grpc::CreateChannel(options.server, creds)));
}

void Connection::Prepare(grpc::ClientContext* context) const {
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(
                            options_.timeout_seconds * 1000)));
  if (!options_.token.empty()) {
    context->AddMetadata("authorization", "Bearer " + options_.token);
  }
}

int ReportError(const grpc::Status& status, const std::string& context) {
  CliError error{CodeName(status.error_code()), status.error_message(), "", ""};
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
       !Context().server.empty())) {
    error.message += " (server " + Context().server +
                     ": is cohorted running there? see --server, "
                     "COHORTE_SERVER, --timeout)";
  }
  google::rpc::Status details;
  if (!status.error_details().empty() &&
      details.ParseFromString(status.error_details())) {
    for (const google::protobuf::Any& any : details.details()) {
      google::rpc::ErrorInfo info;
      google::rpc::BadRequest bad_request;
      if (any.UnpackTo(&info)) {
        error.reason = info.reason();
      } else if (any.UnpackTo(&bad_request)) {
        for (const auto& v : bad_request.field_violations()) {
          std::string flag;
          if (Context().flag_for_field) {
            flag = Context().flag_for_field(v.field());
          }
          error.field = flag.empty() ? v.field() : flag;
          // The server's message starts "field: …": name the flag.
          if (!flag.empty() && error.message.rfind(v.field() + ":", 0) == 0) {
            error.message.replace(0, v.field().size(), flag);
          }
        }
      }
    }
  }
  error.message = context + error.message;
  PrintError(error);
  return ExitCodeFor(status.error_code());
}

int ExitCodeFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return kExitOk;
    case grpc::StatusCode::NOT_FOUND:
      return kExitNotFound;
    case grpc::StatusCode::ALREADY_EXISTS:
      return kExitAlreadyExists;
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::FAILED_PRECONDITION:
      return kExitConflict;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return kExitInvalid;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return kExitUnavailable;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return kExitAuth;
    default:
      return kExitFailure;
  }
}

}  // namespace cohorte::client
