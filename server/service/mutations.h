// File: server/service/mutations.h
//
// CommitForResponse runs one API mutation through Store::Commit with the
// AIP-155 rules applied in one place: the request is fingerprinted without
// its request_id; a retry with the same request_id returns the first
// response and writes nothing; the same request_id with another request is
// INVALID_ARGUMENT (reason REQUEST_ID_REUSED).
#ifndef COHORTE_SERVER_SERVICE_MUTATIONS_H_
#define COHORTE_SERVER_SERVICE_MUTATIONS_H_

#include <functional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "server/service/errors.h"
#include "server/service/pagination.h"
#include "server/service/principal.h"
#include "storage/status_macros.h"
#include "storage/store.h"

namespace cohorte::service {

// `apply` validates against the transaction and writes through it; its
// response is what the caller (and any replay) gets.
template <typename Response>
absl::StatusOr<Response> CommitForResponse(
    storage::Store& store, const Principal& principal, absl::string_view method,
    const google::protobuf::Message& request, absl::string_view request_id,
    std::function<absl::StatusOr<Response>(storage::Txn&)> apply) {
  storage::Mutation mutation;
  mutation.actor = principal.actor();
  mutation.method = std::string(method);
  mutation.request_id = std::string(request_id);
  mutation.request_fingerprint = RequestFingerprint(request, {"request_id"});
  mutation.apply = [&apply](storage::Txn& txn) -> absl::StatusOr<std::string> {
    COHORTE_ASSIGN_OR_RETURN(Response response, apply(txn));
    return response.SerializeAsString();
  };
  COHORTE_ASSIGN_OR_RETURN(storage::CommitResult result,
                           store.Commit(std::move(mutation)));
  if (result.replayed && result.recorded_fingerprint !=
                             RequestFingerprint(request, {"request_id"})) {
    return ErrorWithReason(absl::StatusCode::kInvalidArgument,
                           kReasonRequestIdReused,
                           "request_id: already used for a different request");
  }
  Response response;
  if (!response.ParseFromString(result.response)) {
    return absl::DataLossError("a recorded response does not parse");
  }
  return response;
}

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_MUTATIONS_H_
