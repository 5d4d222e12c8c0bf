// File: server/service/access/commit.h
//
// CommitForResponse runs one API mutation through Store::Commit with two
// rules applied in one place:
//
// - What a write returns is a read. After `apply` succeeds, its response is
//   presented through the read gate, inside the same transaction, as the
//   caller may see it after the write (Presenter<Response>). A write whose
//   result the caller may not see is refused (PERMISSION_DENIED) and rolls
//   back. Presenter is defined for every stored type (its read rule) and
//   must be specialized for any other response type, next to the service
//   that returns it; a response type without one does not compile.
// - AIP-155: the request is fingerprinted without its request_id; a retry
//   with the same request_id returns the first response and writes nothing;
//   the same request_id with another request is INVALID_ARGUMENT (reason
//   REQUEST_ID_REUSED).
//
// `replicated` marks the mutation as a link's (storage::Mutation): only
// the link service sets it, to delete a link's copies.
//
// `apply` gets the transaction and a Reader over it for the caller (with
// the caller's member record as the transaction sees it), so that its
// authorization and state checks are atomic with its writes.
//
// CommitForResponseAsync is the same without blocking the calling thread
// on the group commit: its answer is handed to a callback by the thread
// that led the commit (for the calls that only wait on their commit).
#ifndef COHORTE_SERVER_SERVICE_ACCESS_COMMIT_H_
#define COHORTE_SERVER_SERVICE_ACCESS_COMMIT_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "server/service/access/principal.h"
#include "server/service/access/reader.h"
#include "server/service/core/errors.h"
#include "server/service/core/pagination.h"
#include "storage/entity_types.h"
#include "storage/status_macros.h"
#include "storage/store.h"

namespace cohorte::service {

// Presents a write's response through the gate. Defined below for stored
// types; specialize it for other responses:
//   template <> struct Presenter<v1::FooResponse> {
//     static absl::StatusOr<v1::FooResponse> Present(const Reader&,
//                                                    v1::FooResponse);
//   };
template <typename Response, typename = void>
struct Presenter;

template <typename T>
struct Presenter<T, std::void_t<decltype(storage::EntityTraits<T>::kKind)>> {
  static absl::StatusOr<T> Present(const Reader& reader, T entity) {
    return reader.Present(std::move(entity));
  }
};

// Whether T is a stored type (has EntityTraits).
template <typename T, typename = void>
struct IsStoredType : std::false_type {};
template <typename T>
struct IsStoredType<T, std::void_t<decltype(storage::EntityTraits<T>::kKind)>>
    : std::true_type {};

namespace commit_internal {

// What one CommitForResponse keeps from its mutation to its answer.
template <typename Response>
struct Pending {
  Principal principal;
  // The presented response, kept as is: it is serialized only for the
  // idempotency record (with a request_id), and never parsed back.
  std::optional<Response> presented;
};

// The mutation of CommitForResponse: `apply`, then the presentation of its
// response through the gate, inside the transaction. `request` and `apply`
// must stay valid until the mutation has run.
template <typename Response>
storage::Mutation MakeMutation(
    std::shared_ptr<Pending<Response>> pending, absl::string_view method,
    const google::protobuf::Message& request, absl::string_view request_id,
    std::function<absl::StatusOr<Response>(storage::Txn&, const Reader&)> apply,
    bool replicated) {
  storage::Mutation mutation;
  mutation.replicated = replicated;
  mutation.actor = pending->principal.actor();
  mutation.method = std::string(method);
  mutation.request_id = std::string(request_id);
  if (!request_id.empty()) {
    mutation.request_fingerprint = RequestFingerprint(request, {"request_id"});
  }
  const bool record = !request_id.empty();
  mutation.apply = [pending, record, apply = std::move(apply)](
                       storage::Txn& txn) -> absl::StatusOr<std::string> {
    const Principal& principal = pending->principal;
    COHORTE_ASSIGN_OR_RETURN(Reader reader, Reader::InTxn(txn, principal));
    COHORTE_ASSIGN_OR_RETURN(Response response, apply(txn, reader));
    // Presented as the caller may see it after the write.
    // The credential was checked before `apply`: a write that revokes the
    // caller's own token still answers.
    COHORTE_ASSIGN_OR_RETURN(Reader after, Reader::AfterWrites(txn, reader));
    COHORTE_ASSIGN_OR_RETURN(Response shown, Presenter<Response>::Present(
                                                 after, std::move(response)));
    std::string recorded = record ? shown.SerializeAsString() : std::string();
    pending->presented = std::move(shown);
    return recorded;
  };
  return mutation;
}

// CommitForResponse's answer once its commit returned `committed`.
template <typename Response>
absl::StatusOr<Response> Answer(
    storage::Store& store, Pending<Response>& pending,
    const google::protobuf::Message& request,
    absl::StatusOr<storage::CommitResult> committed) {
  COHORTE_ASSIGN_OR_RETURN(storage::CommitResult result, std::move(committed));
  if (!result.replayed) {
    // `apply` ran (once) and its group is durable.
    if (!pending.presented.has_value()) {
      return absl::InternalError("a committed write presented no response");
    }
    return *std::move(pending.presented);
  }
  if (result.recorded_fingerprint !=
      RequestFingerprint(request, {"request_id"})) {
    return ErrorWithReason(absl::StatusCode::kInvalidArgument,
                           kReasonRequestIdReused,
                           "request_id: already used for a different request");
  }
  Response response;
  if (!response.ParseFromString(result.response)) {
    return absl::DataLossError("a recorded response does not parse");
  }
  // A replay answers what the first call answered, as the caller may see
  // it now: one who left the group since reads nothing of it.
  const Reader now(store, pending.principal);
  if constexpr (IsStoredType<Response>::value) {
    COHORTE_RETURN_IF_ERROR(now.Get<Response>(response.name()).status());
    return now.Present(std::move(response));
  } else {
    return Presenter<Response>::Present(now, std::move(response));
  }
}

}  // namespace commit_internal

template <typename Response>
absl::StatusOr<Response> CommitForResponse(
    storage::Store& store, const Principal& principal, absl::string_view method,
    const google::protobuf::Message& request, absl::string_view request_id,
    std::function<absl::StatusOr<Response>(storage::Txn&, const Reader&)> apply,
    bool replicated = false) {
  auto pending = std::make_shared<commit_internal::Pending<Response>>();
  pending->principal = principal;
  absl::StatusOr<storage::CommitResult> committed =
      store.Commit(commit_internal::MakeMutation<Response>(
          pending, method, request, request_id, std::move(apply), replicated));
  return commit_internal::Answer<Response>(store, *pending, request,
                                           std::move(committed));
}

// CommitForResponse without blocking the calling thread on the commit
// (Store::CommitAsync): `done` gets what CommitForResponse would return,
// exactly once, on the thread that led the commit (maybe this one, before
// CommitForResponseAsync returns). `request` must stay valid until `done`
// has run; `apply` runs inside the group commit as CommitForResponse's
// does. `done` must not call Store::Commit (from there it returns INTERNAL
// and writes nothing: see Store::CommitAsync).
template <typename Response>
void CommitForResponseAsync(
    storage::Store& store, const Principal& principal, absl::string_view method,
    const google::protobuf::Message& request, absl::string_view request_id,
    std::function<absl::StatusOr<Response>(storage::Txn&, const Reader&)> apply,
    std::function<void(absl::StatusOr<Response>)> done) {
  auto pending = std::make_shared<commit_internal::Pending<Response>>();
  pending->principal = principal;
  storage::Mutation mutation = commit_internal::MakeMutation<Response>(
      pending, method, request, request_id, std::move(apply),
      /*replicated=*/false);
  store.CommitAsync(std::move(mutation),
                    [&store, pending, &request, done = std::move(done)](
                        absl::StatusOr<storage::CommitResult> committed) {
                      done(commit_internal::Answer<Response>(
                          store, *pending, request, std::move(committed)));
                    });
}

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_ACCESS_COMMIT_H_
