#include "server/transport/peer_client.h"

#include <memory>
#include <set>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "cohorte/v1/changes.grpc.pb.h"
#include "cohorte/v1/records.grpc.pb.h"
#include "cohorte/v1/tokens.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "server/transport/grpc_status.h"

namespace cohorte::transport {
namespace {

// Responses of a peer are bounded like our own requests.
constexpr int kMaxPeerMessageBytes = 64 << 20;

class GrpcPeerFeed final : public service::PeerFeed {
 public:
  explicit GrpcPeerFeed(const service::PeerConfig& config)
      : token_(config.token) {
    std::shared_ptr<grpc::ChannelCredentials> creds;
    if (config.tls_ca_pem.empty()) {
      creds = grpc::InsecureChannelCredentials();
    } else {
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = config.tls_ca_pem;
      ssl.pem_cert_chain = config.tls_client_cert_pem;
      ssl.pem_private_key = config.tls_client_key_pem;
      creds = grpc::SslCredentials(ssl);
    }
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kMaxPeerMessageBytes);
    // A fresh channel per attempt: never share a subchannel with another
    // link.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel =
        grpc::CreateCustomChannel(config.endpoint, std::move(creds), args);
    changes_ = v1::ChangeService::NewStub(channel);
    tokens_ = v1::TokenService::NewStub(channel);
    records_ = v1::RecordService::NewStub(channel);
  }

  absl::StatusOr<v1::Token> WhoAmI() override {
    v1::GetTokenRequest request;
    request.set_name("tokens/me");
    v1::Token token;
    grpc::ClientContext ctx;
    if (!Begin(&ctx)) return absl::CancelledError("the link was stopped");
    return Finish(tokens_->GetToken(&ctx, request, &token), &ctx, token);
  }

  absl::StatusOr<v1::ListSnapshotResponse> ListSnapshot(
      const v1::ListSnapshotRequest& request) override {
    v1::ListSnapshotResponse response;
    grpc::ClientContext ctx;
    if (!Begin(&ctx)) return absl::CancelledError("the link was stopped");
    return Finish(changes_->ListSnapshot(&ctx, request, &response), &ctx,
                  response);
  }

  absl::Status Watch(const v1::WatchRequest& request,
                     const std::function<bool(const v1::WatchResponse&)>&
                         on_response) override {
    grpc::ClientContext ctx;
    Prepare(&ctx, /*deadline=*/false);
    if (!Enter(&ctx)) return absl::CancelledError("the link was stopped");
    std::unique_ptr<grpc::ClientReader<v1::WatchResponse>> reader =
        changes_->Watch(&ctx, request);
    v1::WatchResponse response;
    bool stopped = false;
    while (reader->Read(&response)) {
      if (!on_response(response)) {
        stopped = true;
        ctx.TryCancel();
        break;
      }
    }
    grpc::Status status = reader->Finish();
    const bool cancelled = Leave(&ctx);
    if (stopped || cancelled) return absl::OkStatus();
    if (status.ok()) {
      return absl::UnavailableError("the peer ended the Watch stream");
    }
    return FromGrpcStatus(status);
  }

  absl::Status ReadRecordVersion(
      const std::string& name, int64_t offset,
      const std::function<absl::Status(absl::string_view)>& on_data) override {
    grpc::ClientContext ctx;
    Prepare(&ctx, /*deadline=*/false);
    if (!Enter(&ctx)) return absl::CancelledError("the link was stopped");
    v1::ReadRecordVersionRequest request;
    request.set_name(name);
    request.set_read_offset(offset);
    std::unique_ptr<grpc::ClientReader<v1::ReadRecordVersionResponse>> reader =
        records_->ReadRecordVersion(&ctx, request);
    v1::ReadRecordVersionResponse response;
    absl::Status failed;
    while (reader->Read(&response)) {
      failed = on_data(response.data());
      if (!failed.ok()) {
        ctx.TryCancel();
        break;
      }
    }
    grpc::Status status = reader->Finish();
    const bool cancelled = Leave(&ctx);
    if (!failed.ok()) return failed;
    if (cancelled) return absl::CancelledError("the link was stopped");
    return status.ok() ? absl::OkStatus() : FromGrpcStatus(status);
  }

  void Cancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    for (grpc::ClientContext* ctx : active_) ctx->TryCancel();
  }

 private:
  // Prepares a unary call; false if cancelled already.
  bool Begin(grpc::ClientContext* ctx) {
    Prepare(ctx, /*deadline=*/true);
    return Enter(ctx);
  }
  void Prepare(grpc::ClientContext* ctx, bool deadline) {
    ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
    if (deadline) {
      ctx->set_deadline(std::chrono::system_clock::now() +
                        absl::ToChronoSeconds(kPeerCallTimeout));
    }
  }
  // Registers a call in progress; false if cancelled already.
  bool Enter(grpc::ClientContext* ctx) {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return false;
    active_.insert(ctx);
    return true;
  }
  // Unregisters it; whether Cancel was called.
  bool Leave(grpc::ClientContext* ctx) {
    absl::MutexLock lock(&mu_);
    active_.erase(ctx);
    return cancelled_;
  }
  template <typename T>
  absl::StatusOr<T> Finish(const grpc::Status& status, grpc::ClientContext* ctx,
                           T& response) {
    const bool cancelled = Leave(ctx);
    if (cancelled) return absl::CancelledError("the link was stopped");
    if (!status.ok()) return FromGrpcStatus(status);
    return std::move(response);
  }

  const std::string token_;
  std::unique_ptr<v1::ChangeService::Stub> changes_;
  std::unique_ptr<v1::TokenService::Stub> tokens_;
  std::unique_ptr<v1::RecordService::Stub> records_;
  absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  // The calls in progress (a content read within a Watch: two).
  std::set<grpc::ClientContext*> active_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

service::PeerConnector GrpcPeerConnector() {
  return [](const service::PeerConfig& config) {
    return std::make_unique<GrpcPeerFeed>(config);
  };
}

}  // namespace cohorte::transport
