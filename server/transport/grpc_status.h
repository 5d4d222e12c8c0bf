// File: server/transport/grpc_status.h
//
// The one place where absl::Status and grpc::Status convert: same code and
// message; the ErrorInfo and BadRequest payloads attached by
// server/service/core/errors.h travel as a google.rpc.Status in the
// `grpc-status-details-bin` trailer.
#ifndef COHORTE_SERVER_TRANSPORT_GRPC_STATUS_H_
#define COHORTE_SERVER_TRANSPORT_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace cohorte::transport {

grpc::Status ToGrpcStatus(const absl::Status& status);

// The other way, for what another instance answers (a link's peer): the
// same code and message, and the details' payloads (ErrorInfo,
// BadRequest) as absl payloads, so that service::ErrorReason reads them.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace cohorte::transport

#endif  // COHORTE_SERVER_TRANSPORT_GRPC_STATUS_H_
