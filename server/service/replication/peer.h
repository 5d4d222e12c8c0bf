// File: server/service/replication/peer.h
//
// PeerFeed: what a link needs from the instance it follows, over the
// network. The service layer has no gRPC: cohorted's transport implements
// it with generated stubs (server/transport/peer_client.h), and the
// Replicator (replicator.h) gets a PeerConnector to make one per attempt.
//
// Errors are the peer's, as absl::Status with their ErrorInfo reason and
// metadata (core/errors.h ErrorReason reads them), or UNAVAILABLE /
// DEADLINE_EXCEEDED from the network.
//
// Thread-safety: one thread calls a PeerFeed's methods; Cancel may be called
// from any thread, at any time, any number of times.
#ifndef COHORTE_SERVER_SERVICE_REPLICATION_PEER_H_
#define COHORTE_SERVER_SERVICE_REPLICATION_PEER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cohorte/v1/changes.pb.h"
#include "cohorte/v1/tokens.pb.h"

namespace cohorte::service {

// How to reach a peer.
struct PeerConfig {
  std::string endpoint;    // host:port
  std::string tls_ca_pem;  // empty: plaintext
  std::string tls_client_cert_pem;
  std::string tls_client_key_pem;
  std::string token;  // the peer's SERVICE token secret
};

class PeerFeed {
 public:
  virtual ~PeerFeed() = default;

  // The link's token as the peer sees it (GetToken `tokens/me`).
  virtual absl::StatusOr<v1::Token> WhoAmI() = 0;
  // One page of the peer's snapshot.
  virtual absl::StatusOr<v1::ListSnapshotResponse> ListSnapshot(
      const v1::ListSnapshotRequest& request) = 0;
  // The peer's Watch from request.since: calls `on_response` with each
  // response until it returns false, the stream ends or Cancel is called;
  // then returns OK if `on_response` or Cancel ended it, the stream's
  // status otherwise.
  virtual absl::Status Watch(
      const v1::WatchRequest& request,
      const std::function<bool(const v1::WatchResponse&)>& on_response) = 0;
  // The content of record version `name` from byte `offset` (the peer's
  // ReadRecordVersion): calls `on_data` with each piece, in order, until
  // the content ends or `on_data` returns an error, which ends the call and
  // is returned. May be called from within Watch's `on_response`.
  virtual absl::Status ReadRecordVersion(
      const std::string& name, int64_t offset,
      const std::function<absl::Status(absl::string_view)>& on_data) = 0;
  // Ends the calls in progress, and makes later calls fail CANCELLED.
  virtual void Cancel() = 0;
};

using PeerConnector =
    std::function<std::unique_ptr<PeerFeed>(const PeerConfig& config)>;

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_REPLICATION_PEER_H_
