// File: client/connection.h
//
// How `cohorte` reaches the server: the channel (plaintext or TLS), a
// per-call context (deadline, bearer token as `authorization` metadata),
// and the mapping of a failed call to stderr and an exit code.
#ifndef COHORTE_CLIENT_CONNECTION_H_
#define COHORTE_CLIENT_CONNECTION_H_

#include <functional>
#include <memory>
#include <string>

#include "grpcpp/grpcpp.h"

namespace cohorte::client {

// Exit codes: distinct per failure class (sysexits-style where one fits).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitNotServing = 3;
inline constexpr int kExitNotFound = 4;
inline constexpr int kExitAlreadyExists = 5;
inline constexpr int kExitConflict = 6;  // ABORTED, FAILED_PRECONDITION
inline constexpr int kExitUsage = 64;
inline constexpr int kExitInvalid = 65;      // INVALID_ARGUMENT, OUT_OF_RANGE
inline constexpr int kExitUnavailable = 69;  // UNAVAILABLE, DEADLINE_EXCEEDED
inline constexpr int kExitAuth = 77;  // UNAUTHENTICATED, PERMISSION_DENIED

struct ConnectionOptions {
  std::string server;
  std::string token;     // the secret; empty means none is sent
  std::string tls_ca;    // PEM file: use TLS and trust this CA
  std::string tls_cert;  // PEM files: client certificate for mTLS
  std::string tls_key;
  double timeout_seconds = 10;
};

class Connection {
 public:
  // Usage errors (unreadable TLS files) are printed and reported as
  // nullptr.
  static std::unique_ptr<Connection> Create(const ConnectionOptions& options);

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

  // Sets the deadline and the token on `context`.
  void Prepare(grpc::ClientContext* context) const;

 private:
  Connection(ConnectionOptions options, std::shared_ptr<grpc::Channel> channel)
      : options_(std::move(options)), channel_(std::move(channel)) {}

  const ConnectionOptions options_;
  const std::shared_ptr<grpc::Channel> channel_;
};

// What an error message adds to the server's words: the address tried
// (for UNAVAILABLE) and the flag that set a field the server names.
// Process-wide, set once before any call.
struct ErrorContext {
  std::string server;
  std::function<std::string(const std::string& field_path)> flag_for_field;
};
void SetErrorContext(ErrorContext context);

// Prints the error of `status` to stderr (output.h: "Error: <CODE>:
// <message>" and the reason and field when the server sent them, or JSON)
// and returns the exit code for `status`.
// `context`, when given, starts the message ("delegation.csv: line 3: ").
int ReportError(const grpc::Status& status, const std::string& context = "");

// The exit code for a gRPC status code.
int ExitCodeFor(grpc::StatusCode code);

// The name of `code` (INVALID_ARGUMENT…).
const char* CodeName(grpc::StatusCode code);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_CONNECTION_H_
