// File: server/transport/call_handler.h
//
// CallHandler is what every RPC adapter goes through: it moves the call onto
// the WorkerPool (a call cancelled while it waited there is not run; a call
// that finds the pool's queue full is answered RESOURCE_EXHAUSTED, reason
// SERVER_BUSY, at once and not run), or, for the point reads that never
// wait on anything but the store's memory and page cache (Read) and for
// posts, which only queue their commit (UnaryAsync), runs it at once on
// gRPC's thread, as gRPC's own callback services do;
// resolves the caller from the `authorization` metadata
// (UNAUTHENTICATED stops the call before the service runs: gRPC 1.51's
// interceptors cannot), runs the service method, converts its status once,
// and writes one structured log line: method, code, latency, caller (the
// member and token names, never a secret or any content).
//
// Thread-safe; the Authenticator and WorkerPool must outlive it.
#ifndef COHORTE_SERVER_TRANSPORT_CALL_HANDLER_H_
#define COHORTE_SERVER_TRANSPORT_CALL_HANDLER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "server/service/access/principal.h"
#include "server/service/access/tokens.h"
#include "server/transport/grpc_status.h"
#include "server/transport/worker_pool.h"

namespace cohorte::transport {

// Writes the call-log line of one finished call (one write, so that lines of
// concurrent calls never interleave). `caller` is empty before
// authentication.
void LogCall(absl::string_view method,
             const grpc::CallbackServerContext& context,
             const absl::Status& status, absl::Duration latency,
             const service::Principal& caller);

class CallHandler {
 public:
  CallHandler(const service::Authenticator* authenticator, WorkerPool* pool)
      : authenticator_(*authenticator), pool_(*pool) {}
  CallHandler(const CallHandler&) = delete;
  CallHandler& operator=(const CallHandler&) = delete;

  // Serves a unary call: `method` runs on a worker with the caller resolved
  // and its result is copied into `*response`. `request` and `response`
  // stay valid until the reactor finishes (gRPC's contract).
  // `name` is the RPC's name for the log, e.g. "CohortService.GetCohort".
  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* Unary(
      const char* name, grpc::CallbackServerContext* context,
      const Request* request, Response* response,
      std::function<absl::StatusOr<Response>(const service::Principal&,
                                             const Request&)>
          method) {
    return Serve(name, /*authenticate=*/true, /*inline_call=*/false, context,
                 request, response, std::move(method));
  }

  // Like Unary, for a read that looks up a bounded number of keys and never
  // waits on a commit, a lock held across I/O or another server: `method`
  // runs on the calling gRPC thread, without the hand-off to a worker and
  // back (two thread wake-ups per call, a quarter of a get's CPU). Never
  // for a write, a scan of unbounded length or a call to a peer.
  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* Read(const char* name,
                                 grpc::CallbackServerContext* context,
                                 const Request* request, Response* response,
                                 std::function<absl::StatusOr<Response>(
                                     const service::Principal&, const Request&)>
                                     method) {
    return Serve(name, /*authenticate=*/true, /*inline_call=*/true, context,
                 request, response, std::move(method));
  }

  // Like Unary for a call that only waits on its commit, served without a
  // worker: `method` runs at once on gRPC's thread with the caller (valid
  // until `done` runs) and a `done` to call exactly once with its result,
  // from any thread (CommitForResponseAsync calls it on the thread that led
  // the commit: in cohorted, a worker given the leadership by the store,
  // StoreOptions::async_leader). No thread sleeps on the commit and none is
  // woken to send the answer. At most the pool's `max_queued` such calls
  // wait for their commits at once; past that a call is answered
  // RESOURCE_EXHAUSTED (SERVER_BUSY) at once, as Unary's are when the
  // pool's queue is full. REQUIRES: `method` does not block: it validates,
  // reads the committed state and queues its commit.
  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* UnaryAsync(
      const char* name, grpc::CallbackServerContext* context,
      const Request* request, Response* response,
      std::function<void(const service::Principal&, const Request&,
                         std::function<void(absl::StatusOr<Response>)>)>
          method) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    const absl::Time start = absl::Now();
    if (waiting_commits_.fetch_add(1) >= pool_.max_queued()) {
      waiting_commits_.fetch_sub(1);
      const absl::Status busy = Busy();
      LogCall(name, *context, busy, absl::Now() - start, service::Principal());
      reactor->Finish(ToGrpcStatus(busy));
      return reactor;
    }
    auto caller = std::make_shared<service::Principal>();
    auto done = [this, name, context, response, reactor, start,
                 caller](absl::StatusOr<Response> result) {
      absl::Status status = result.status();
      if (result.ok()) *response = *std::move(result);
      LogCall(name, *context, status, absl::Now() - start, *caller);
      waiting_commits_.fetch_sub(1);
      reactor->Finish(ToGrpcStatus(status));
    };
    if (context->IsCancelled()) {
      done(absl::CancelledError("the call was cancelled before it ran"));
      return reactor;
    }
    absl::Status status = Authenticate(*context, caller.get());
    if (!status.ok()) {
      done(status);
      return reactor;
    }
    method(*caller, *request, std::move(done));
    return reactor;
  }

  // Like Unary for the few calls that need no bearer token (accepting an
  // invitation, whose secret is the credential): `method` gets an empty
  // Principal and must not authorize anything by it.
  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* UnaryWithoutToken(
      const char* name, grpc::CallbackServerContext* context,
      const Request* request, Response* response,
      std::function<absl::StatusOr<Response>(const Request&)> method) {
    return Serve<Request, Response>(
        name, /*authenticate=*/false, /*inline_call=*/false, context, request,
        response,
        [method = std::move(method)](const service::Principal&,
                                     const Request& r) { return method(r); });
  }

  // For a streaming call: resolves the caller on a worker, then calls
  // `start` there with the caller, or with the authentication error (the
  // reactor then finishes with it). The stream logs its end with Log.
  void Resolve(grpc::CallbackServerContext* context,
               std::function<void(absl::StatusOr<service::Principal>)> start) {
    pool_.Schedule([this, context, start = std::move(start)] {
      service::Principal caller;
      absl::Status status = Authenticate(*context, &caller);
      if (status.ok()) {
        start(std::move(caller));
      } else {
        start(status);
      }
    });
  }

  // Writes the call's structured log line (LogCall).
  // For streaming adapters that drive their own reactors
  // (record_streams.h): runs `task` on a worker.
  void Run(std::function<void()> task) { pool_.Schedule(std::move(task)); }
  // The caller of `context` from its `authorization` metadata;
  // UNAUTHENTICATED if missing or unknown.
  absl::Status Authenticate(const grpc::CallbackServerContext& context,
                            service::Principal* caller) const;
  // Writes the call's structured log line.
  void Log(const char* name, const grpc::CallbackServerContext& context,
           const absl::Status& status, absl::Duration latency,
           const service::Principal& caller) const {
    LogCall(name, context, status, latency, caller);
  }

 private:
  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* Serve(
      const char* name, bool authenticate, bool inline_call,
      grpc::CallbackServerContext* context, const Request* request,
      Response* response,
      std::function<absl::StatusOr<Response>(const service::Principal&,
                                             const Request&)>
          method) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    const absl::Time start = absl::Now();
    auto call = [this, name, authenticate, context, request, response, reactor,
                 start, method = std::move(method)] {
      service::Principal caller;
      absl::Status status;
      if (context->IsCancelled()) {
        // Its deadline passed or its client left while it waited for a
        // worker: nobody waits for the answer, so nothing is run.
        status = absl::CancelledError("the call was cancelled before it ran");
      } else if (authenticate) {
        status = Authenticate(*context, &caller);
      }
      if (status.ok()) {
        absl::StatusOr<Response> result = method(caller, *request);
        if (result.ok()) {
          *response = *std::move(result);
        } else {
          status = result.status();
        }
      }
      LogCall(name, *context, status, absl::Now() - start, caller);
      reactor->Finish(ToGrpcStatus(status));
    };
    if (inline_call) {
      call();
    } else if (!pool_.TrySchedule(std::move(call))) {
      const absl::Status busy = Busy();
      LogCall(name, *context, busy, absl::Now() - start, service::Principal());
      reactor->Finish(ToGrpcStatus(busy));
    }
    return reactor;
  }

  // RESOURCE_EXHAUSTED (reason SERVER_BUSY) for a call refused because the
  // worker pool's queue is full.
  absl::Status Busy() const;

  const service::Authenticator& authenticator_;
  WorkerPool& pool_;
  // UnaryAsync calls between their start and their `done`.
  std::atomic<size_t> waiting_commits_{0};
};

}  // namespace cohorte::transport

#endif  // COHORTE_SERVER_TRANSPORT_CALL_HANDLER_H_
