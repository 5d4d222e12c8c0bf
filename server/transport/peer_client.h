// File: server/transport/peer_client.h
//
// GrpcPeerConnector: how cohorted's links reach the instance they follow
// (service::PeerFeed, server/service/replication/peer.h), with generated
// stubs over one channel per attempt: plaintext, TLS with the link's CA,
// or mTLS; the link's token as `authorization: Bearer`. Unary calls have
// a deadline (kPeerCallTimeout); Watch has none and ends on Cancel.
//
// Thread-safe as PeerFeed says.
#ifndef COHORTE_SERVER_TRANSPORT_PEER_CLIENT_H_
#define COHORTE_SERVER_TRANSPORT_PEER_CLIENT_H_

#include "absl/time/time.h"
#include "server/service/replication/peer.h"

namespace cohorte::transport {

inline constexpr absl::Duration kPeerCallTimeout = absl::Seconds(30);

service::PeerConnector GrpcPeerConnector();

}  // namespace cohorte::transport

#endif  // COHORTE_SERVER_TRANSPORT_PEER_CLIENT_H_
