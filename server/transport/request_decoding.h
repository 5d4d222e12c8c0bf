// File: server/transport/request_decoding.h
//
// Requests whose bytes do not decode. gRPC 1.51's callback handler answers
// them UNIMPLEMENTED with an empty message and drops the parse status;
// DecodingService swaps each method's handler for a DecodeCheckingHandler,
// which serves decoded requests exactly as before (same handler, same
// arena-held messages, no copy) and answers the others INVALID_ARGUMENT
// with a message, in one call-log line, before authentication.
//
// Protobuf's own log (a string that is not UTF-8 makes it write an
// "[libprotobuf ERROR" line) is routed by InstallProtobufLogHandler: a
// complaint raised while a request decodes becomes that call's error
// message; any other goes to the structured log, rate-limited.
//
// Usage, in an adapter over a generated service `v1::FooService`:
//   class FooGrpcService final : public DecodingService<v1::FooService> {
//     COHORTE_DECLARE_UNARY(GetFoo, GetFooRequest, Foo);  // services.h
//   };
//
// Thread-safe: handlers are built before the server starts and then only
// read.
#ifndef COHORTE_SERVER_TRANSPORT_REQUEST_DECODING_H_
#define COHORTE_SERVER_TRANSPORT_REQUEST_DECODING_H_

#include <cstring>
#include <functional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/impl/codegen/server_callback_handlers.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"

namespace cohorte::transport {

// Installs the protobuf log handler described above. Call once, before the
// server starts.
void InstallProtobufLogHandler();

// The INVALID_ARGUMENT that `context`'s call gets ("the request's bytes
// are not a valid <type>", then `detail` when not empty); writes its
// call-log line. `method` is the full method name.
grpc::Status RejectUndecodable(absl::string_view method,
                               absl::string_view request_type,
                               const grpc::CallbackServerContext& context,
                               absl::string_view detail);

namespace internal {

// What protobuf complained about while this thread decoded a request: set
// by BeginDecoding, filled by the log handler, read by EndDecoding.
void BeginDecoding();
// Copies the complaint (truncated, NUL-terminated) into `out`.
void EndDecoding(char* out, size_t size);

// The complaint of the rejection being served on this thread (see
// DecodeCheckingHandler::RunHandler).
inline thread_local const char* rejection_detail = "";

}  // namespace internal

// A method handler that serves one unary method like gRPC's
// CallbackUnaryHandler<Request, Response> and rejects undecodable requests
// as above.
template <typename Request, typename Response>
class DecodeCheckingHandler final : public grpc::internal::MethodHandler {
 public:
  using GetReactor = std::function<grpc::ServerUnaryReactor*(
      grpc::CallbackServerContext*, const Request*, Response*)>;

  DecodeCheckingHandler(std::string method, GetReactor serve)
      : method_(std::move(method)),
        serve_(std::move(serve)),
        reject_([this](grpc::CallbackServerContext* context, const Request*,
                       Response*) {
          grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
          reactor->Finish(
              RejectUndecodable(method_, Request::descriptor()->full_name(),
                                *context, internal::rejection_detail));
          return reactor;
        }) {}

  void* Deserialize(grpc_call* call, grpc_byte_buffer* request,
                    grpc::Status* status, void** handler_data) override {
    internal::BeginDecoding();
    void* decoded = serve_.Deserialize(call, request, status, handler_data);
    if (status->ok()) {
      internal::EndDecoding(nullptr, 0);
      return decoded;
    }
    // Kept in the call's arena, freed with it (trivially destructible).
    auto* rejection =
        new (grpc::g_core_codegen_interface->grpc_call_arena_alloc(
            call, sizeof(Rejection))) Rejection{*handler_data, {}};
    internal::EndDecoding(rejection->detail, sizeof(rejection->detail));
    *handler_data = rejection;
    return nullptr;
  }

  void RunHandler(const HandlerParameter& param) override {
    if (param.status.ok()) {
      serve_.RunHandler(param);
      return;
    }
    // The rejecting handler runs the call with the messages the serving one
    // allocated (same types, both with the default allocator), so that they
    // are released as usual; it never reads the request.
    auto* rejection = static_cast<Rejection*>(param.internal_data);
    internal::rejection_detail = rejection->detail;
    reject_.RunHandler(HandlerParameter(
        param.call, param.server_context, param.request, grpc::Status::OK,
        rejection->inner_data, param.call_requester));
    internal::rejection_detail = "";
  }

 private:
  struct Rejection {
    void* inner_data;
    char detail[240];
  };

  const std::string method_;
  grpc::internal::CallbackUnaryHandler<Request, Response> serve_;
  grpc::internal::CallbackUnaryHandler<Request, Response> reject_;
};

// The same for a server-streaming method: CallbackServerStreamingHandler
// keeps its request itself and destroys it when the call ends, so a
// rejected call gets a fresh empty one.
template <typename Request, typename Response>
class DecodeCheckingStreamHandler final : public grpc::internal::MethodHandler {
 public:
  using GetReactor = std::function<grpc::ServerWriteReactor<Response>*(
      grpc::CallbackServerContext*, const Request*)>;

  DecodeCheckingStreamHandler(std::string method, GetReactor serve)
      : method_(std::move(method)),
        serve_(std::move(serve)),
        reject_([this](grpc::CallbackServerContext* context, const Request*) {
          return new Rejected(
              RejectUndecodable(method_, Request::descriptor()->full_name(),
                                *context, internal::rejection_detail));
        }) {}

  void* Deserialize(grpc_call* call, grpc_byte_buffer* request,
                    grpc::Status* status, void** handler_data) override {
    internal::BeginDecoding();
    void* decoded = serve_.Deserialize(call, request, status, handler_data);
    if (status->ok()) {
      internal::EndDecoding(nullptr, 0);
      return decoded;
    }
    auto* rejection =
        new (grpc::g_core_codegen_interface->grpc_call_arena_alloc(
            call, sizeof(Rejection))) Rejection{
            new (grpc::g_core_codegen_interface->grpc_call_arena_alloc(
                call, sizeof(Request))) Request(),
            {}};
    internal::EndDecoding(rejection->detail, sizeof(rejection->detail));
    *handler_data = rejection;
    return nullptr;
  }

  void RunHandler(const HandlerParameter& param) override {
    if (param.status.ok()) {
      serve_.RunHandler(param);
      return;
    }
    auto* rejection = static_cast<Rejection*>(param.internal_data);
    internal::rejection_detail = rejection->detail;
    reject_.RunHandler(HandlerParameter(
        param.call, param.server_context, rejection->empty_request,
        grpc::Status::OK, nullptr, param.call_requester));
    internal::rejection_detail = "";
  }

 private:
  struct Rejection {
    Request* empty_request;  // destroyed by the streaming handler
    char detail[240];
  };
  // Finishes at once with `status`; deletes itself when done.
  class Rejected final : public grpc::ServerWriteReactor<Response> {
   public:
    explicit Rejected(const grpc::Status& status) { this->Finish(status); }
    void OnDone() override { delete this; }
  };

  const std::string method_;
  grpc::internal::CallbackServerStreamingHandler<Request, Response> serve_;
  grpc::internal::CallbackServerStreamingHandler<Request, Response> reject_;
};

// Base of the adapters over a generated service `Generated`: its
// CallbackService, whose methods the adapter puts behind
// DecodeCheckingHandlers with CheckDecoding (COHORTE_DECLARE_UNARY does).
template <typename Generated>
class DecodingService : public Generated::CallbackService {
 protected:
  // Serves `method` through `serve` behind a DecodeCheckingHandler.
  // Returns true (a value to initialize a member with). Aborts if `method`
  // is not a method of `Generated` taking `Request`: a programming error.
  template <typename Request, typename Response>
  bool CheckDecoding(
      const char* method,
      typename DecodeCheckingHandler<Request, Response>::GetReactor serve) {
    this->MarkMethodCallback(Index<Request, Response>(method),
                             new DecodeCheckingHandler<Request, Response>(
                                 FullName(method), std::move(serve)));
    return true;
  }
  // The same for a server-streaming method.
  template <typename Request, typename Response>
  bool CheckStreamDecoding(
      const char* method,
      typename DecodeCheckingStreamHandler<Request, Response>::GetReactor
          serve) {
    this->MarkMethodCallback(Index<Request, Response>(method),
                             new DecodeCheckingStreamHandler<Request, Response>(
                                 FullName(method), std::move(serve)));
    return true;
  }

 private:
  static std::string FullName(const char* method) {
    return absl::StrCat("/", Generated::service_full_name(), "/", method);
  }
  template <typename Request, typename Response>
  static int Index(const char* method) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            Generated::service_full_name());
    const google::protobuf::MethodDescriptor* found =
        service == nullptr ? nullptr : service->FindMethodByName(method);
    GPR_ASSERT(found != nullptr &&
               found->input_type() == Request::descriptor() &&
               found->output_type() == Response::descriptor());
    return found->index();
  }
};

}  // namespace cohorte::transport

#endif  // COHORTE_SERVER_TRANSPORT_REQUEST_DECODING_H_
