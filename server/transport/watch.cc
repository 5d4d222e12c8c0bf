// ChangeService.Watch: a callback write reactor fed by the WatchHub.
#include <atomic>
#include <memory>

#include "absl/time/clock.h"
#include "server/transport/grpc_status.h"
#include "server/transport/services.h"

namespace cohorte::transport {

namespace {

constexpr char kWatchMethod[] = "/cohorte.v1.ChangeService/Watch";

// One Watch call. Owns itself: deleted in OnDone, which gRPC calls once
// Finish was called and every write completed. The hub calls Send and
// Finish from its thread; gRPC calls the On* methods from its threads.
class WatchReactor final : public grpc::ServerWriteReactor<v1::WatchResponse>,
                           public service::WatchHub::Sink {
 public:
  WatchReactor(CallHandler* calls, service::WatchHub* hub,
               grpc::CallbackServerContext* context,
               const v1::WatchRequest* request)
      : calls_(*calls), hub_(*hub), context_(*context), start_(absl::Now()) {
    calls_.Resolve(
        context, [this, request](absl::StatusOr<service::Principal> caller) {
          if (!caller.ok()) {
            Finish(caller.status());
            return;
          }
          caller_ = *caller;
          absl::StatusOr<int64_t> id = hub_.Add(*caller, *request, this);
          if (!id.ok()) Finish(id.status());
        });
  }

  void Bind(int64_t id) override { id_.store(id, std::memory_order_release); }

  void Send(const v1::WatchResponse* response) override {
    StartWrite(response);
  }

  void Finish(const absl::Status& status) override {
    calls_.Log(kWatchMethod, context_, status, absl::Now() - start_, caller_);
    grpc::ServerWriteReactor<v1::WatchResponse>::Finish(ToGrpcStatus(status));
  }

  void OnWriteDone(bool ok) override {
    hub_.WriteDone(id_.load(std::memory_order_acquire), ok);
  }

  void OnCancel() override { hub_.Cancel(id_.load(std::memory_order_acquire)); }

  void OnDone() override { delete this; }

 private:
  CallHandler& calls_;
  service::WatchHub& hub_;
  const grpc::CallbackServerContext& context_;
  const absl::Time start_;
  service::Principal caller_;  // set before the hub knows the reactor
  std::atomic<int64_t> id_{0};
};

}  // namespace

grpc::ServerWriteReactor<v1::WatchResponse>* ChangeGrpcService::Watch(
    grpc::CallbackServerContext* ctx, const v1::WatchRequest* req) {
  return new WatchReactor(&calls_, &watches_, ctx, req);
}

}  // namespace cohorte::transport
