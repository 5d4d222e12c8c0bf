// File: client/connection.h
//
// How `cohorte` reaches the server: the channel (plaintext or TLS), a
// per-call context (deadline, bearer token as `authorization` metadata),
// and the mapping of a failed call to stderr and an exit code.
#ifndef COHORTE_CLIENT_CONNECTION_H_
#define COHORTE_CLIENT_CONNECTION_H_

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

// Prints "Error: <CODE>: <message>" (and the reason and field when the
// server sent them) to stderr; returns the exit code for `status`.
int ReportError(const grpc::Status& status);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_CONNECTION_H_
