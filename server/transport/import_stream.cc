#include "server/transport/import_stream.h"

#include <memory>
#include <utility>

#include "absl/time/clock.h"
#include "server/transport/grpc_status.h"

namespace cohorte::transport {
namespace {

constexpr char kImportCohort[] = "/cohorte.v1.LinkService/ImportCohort";

class CohortImporter final
    : public grpc::ServerReadReactor<v1::ImportCohortRequest> {
 public:
  CohortImporter(CallHandler& calls, service::LinkService& links,
                 grpc::CallbackServerContext* context,
                 v1::ImportCohortResponse* response)
      : calls_(calls), links_(links), context_(context), response_(response) {
    calls_.Run([this] {
      absl::Status s = calls_.Authenticate(*context_, &caller_);
      if (!s.ok()) return Done(s);
      import_ = links_.StartImport(caller_);
      StartRead(&request_);
    });
  }

  void OnReadDone(bool ok) override {
    calls_.Run([this, ok] {
      if (!ok) {
        // The client half-closed: the bundle is whole.
        absl::StatusOr<v1::ImportCohortResponse> done = import_->Finish();
        if (!done.ok()) return Done(done.status());
        *response_ = *std::move(done);
        return Done(absl::OkStatus());
      }
      absl::Status s = import_->Add(request_);
      if (!s.ok()) return Done(s);
      StartRead(&request_);
    });
  }

  void OnDone() override { delete this; }

 private:
  void Done(const absl::Status& status) {
    calls_.Log(kImportCohort, *context_, status, absl::Now() - start_, caller_);
    Finish(ToGrpcStatus(status));
  }

  CallHandler& calls_;
  service::LinkService& links_;
  grpc::CallbackServerContext* const context_;
  v1::ImportCohortResponse* const response_;
  const absl::Time start_ = absl::Now();
  service::Principal caller_;
  std::unique_ptr<service::CohortImport> import_;
  v1::ImportCohortRequest request_;
};

}  // namespace

grpc::ServerReadReactor<v1::ImportCohortRequest>* StartImportCohort(
    CallHandler& calls, service::LinkService& links,
    grpc::CallbackServerContext* context, v1::ImportCohortResponse* response) {
  return new CohortImporter(calls, links, context, response);
}

}  // namespace cohorte::transport
