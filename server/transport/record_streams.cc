#include "server/transport/record_streams.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/time/clock.h"
#include "server/service/core/errors.h"
#include "server/transport/grpc_status.h"

namespace cohorte::transport {
namespace {

constexpr char kWriteUpload[] = "/cohorte.v1.RecordService/WriteUpload";
constexpr char kReadRecordVersion[] =
    "/cohorte.v1.RecordService/ReadRecordVersion";

class UploadWriter final
    : public grpc::ServerReadReactor<v1::WriteUploadRequest> {
 public:
  UploadWriter(CallHandler& calls, service::RecordService& records,
               grpc::CallbackServerContext* context, v1::Upload* response)
      : calls_(calls),
        records_(records),
        context_(context),
        response_(response) {
    calls_.Run([this] {
      absl::Status s = calls_.Authenticate(*context_, &caller_);
      if (!s.ok()) return Done(s);
      StartRead(&request_);
    });
  }

  void OnReadDone(bool ok) override {
    calls_.Run([this, ok] {
      if (!ok) {
        // The client half-closed (or went away): the upload as it stands.
        if (name_.empty()) {
          return Done(service::InvalidField(
              "name", "the stream named no upload (it wrote nothing)"));
        }
        return Done(absl::OkStatus());
      }
      if (name_.empty()) {
        if (request_.name().empty()) {
          return Done(service::InvalidField(
              "name", "is required in the stream's first message"));
        }
        name_ = request_.name();
      }
      absl::StatusOr<v1::Upload> written =
          records_.WriteUpload(caller_, name_, request_);
      if (!written.ok()) return Done(written.status());
      *response_ = *std::move(written);
      StartRead(&request_);
    });
  }

  void OnDone() override { delete this; }

 private:
  void Done(const absl::Status& status) {
    calls_.Log(kWriteUpload, *context_, status, absl::Now() - start_, caller_);
    Finish(ToGrpcStatus(status));
  }

  CallHandler& calls_;
  service::RecordService& records_;
  grpc::CallbackServerContext* const context_;
  v1::Upload* const response_;
  const absl::Time start_ = absl::Now();
  service::Principal caller_;
  std::string name_;  // the upload, from the first message
  v1::WriteUploadRequest request_;
};

class VersionReader final
    : public grpc::ServerWriteReactor<v1::ReadRecordVersionResponse> {
 public:
  VersionReader(CallHandler& calls, service::RecordService& records,
                grpc::CallbackServerContext* context,
                const v1::ReadRecordVersionRequest* request)
      : calls_(calls), records_(records), context_(context) {
    calls_.Run([this, request] {
      absl::Status s = calls_.Authenticate(*context_, &caller_);
      if (!s.ok()) return Done(s);
      absl::StatusOr<v1::RecordVersion> v =
          records_.StartRead(caller_, *request);
      if (!v.ok()) return Done(v.status());
      name_ = v->name();
      offset_ = request->read_offset();
      end_ = request->read_limit() > 0
                 ? std::min(v->size_bytes(), offset_ + request->read_limit())
                 : v->size_bytes();
      Next();
    });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      calls_.Run(
          [this] { Done(absl::CancelledError("the client stopped reading")); });
      return;
    }
    calls_.Run([this] { Next(); });
  }

  void OnDone() override { delete this; }

 private:
  // On a worker: writes the next chunk, or finishes at the end.
  void Next() {
    if (offset_ >= end_) return Done(absl::OkStatus());
    absl::StatusOr<std::string> chunk =
        records_.ReadChunk(caller_, name_, offset_, end_ - offset_);
    if (!chunk.ok()) return Done(chunk.status());
    if (chunk->empty()) {
      return Done(absl::DataLossError("the content ended early"));
    }
    offset_ += static_cast<int64_t>(chunk->size());
    response_.set_data(*std::move(chunk));
    StartWrite(&response_);
  }

  void Done(const absl::Status& status) {
    calls_.Log(kReadRecordVersion, *context_, status, absl::Now() - start_,
               caller_);
    Finish(ToGrpcStatus(status));
  }

  CallHandler& calls_;
  service::RecordService& records_;
  grpc::CallbackServerContext* const context_;
  const absl::Time start_ = absl::Now();
  service::Principal caller_;
  std::string name_;
  int64_t offset_ = 0;
  int64_t end_ = 0;
  v1::ReadRecordVersionResponse response_;
};

}  // namespace

grpc::ServerReadReactor<v1::WriteUploadRequest>* StartWriteUpload(
    CallHandler& calls, service::RecordService& records,
    grpc::CallbackServerContext* context, v1::Upload* response) {
  return new UploadWriter(calls, records, context, response);
}

grpc::ServerWriteReactor<v1::ReadRecordVersionResponse>* StartReadRecordVersion(
    CallHandler& calls, service::RecordService& records,
    grpc::CallbackServerContext* context,
    const v1::ReadRecordVersionRequest* request) {
  return new VersionReader(calls, records, context, request);
}

}  // namespace cohorte::transport
