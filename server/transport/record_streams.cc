#include "server/transport/record_streams.h"

#include <algorithm>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "server/transport/grpc_status.h"

namespace cohorte::transport {
namespace {

constexpr char kWriteUpload[] = "/cohorte.v1.RecordService/WriteUpload";
constexpr char kReadRecordVersion[] =
    "/cohorte.v1.RecordService/ReadRecordVersion";

// What a reactor does once it let go of its mutex (gRPC's Start* and
// Finish are never called under it).
enum class Next { kNothing, kRead, kWrite, kFinish };

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
      {
        absl::MutexLock lock(&mu_);
        if (!s.ok()) {
          status_ = s;
          finished_ = true;
        } else {
          reading_ = true;
        }
      }
      Act(s.ok() ? Next::kRead : Next::kFinish);
    });
  }

  // On a gRPC thread: queues the chunk, reads the next one while the
  // queue is under a batch, and hands a batch to a worker if none is
  // being written.
  void OnReadDone(bool ok) override {
    std::vector<Next> next;
    {
      absl::MutexLock lock(&mu_);
      reading_ = false;
      if (finished_) return;
      if (ok) {
        queued_bytes_ += static_cast<int64_t>(incoming_.data().size());
        queued_.push_back(std::move(incoming_));
        incoming_.Clear();
      } else {
        ended_ = true;  // the client half-closed, or went away
      }
      next = StepLocked();
    }
    for (Next n : next) Act(n);
  }

  void OnDone() override { delete this; }

 private:
  // What to start next, given the state; marks it started.
  std::vector<Next> StepLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::vector<Next> next;
    if (finished_) return next;
    if (!writing_ && !queued_.empty()) {
      writing_ = true;
      std::vector<v1::WriteUploadRequest> batch;
      int64_t bytes = 0;
      while (!queued_.empty() &&
             (batch.empty() ||
              bytes + static_cast<int64_t>(queued_.front().data().size()) <=
                  service::kMaxUploadBatchBytes)) {
        bytes += static_cast<int64_t>(queued_.front().data().size());
        batch.push_back(std::move(queued_.front()));
        queued_.pop_front();
      }
      queued_bytes_ -= bytes;
      calls_.Run([this, batch = std::move(batch)] { Write(batch); });
    }
    // Reads ahead while the batch is written: at most one batch waits.
    if (!reading_ && !ended_ && queued_bytes_ < service::kMaxUploadBatchBytes) {
      reading_ = true;
      next.push_back(Next::kRead);
    }
    if (!writing_ && queued_.empty() && ended_ && pending_) {
      // What the stream sent since its last commit, committed now.
      writing_ = true;
      calls_.Run([this] { Write({}); });
      return next;
    }
    if (!writing_ && queued_.empty() && ended_) {
      if (!wrote_) {
        status_ = service::InvalidField(
            "name", "the stream named no upload (it wrote nothing)");
      }
      finished_ = true;
      next.push_back(Next::kFinish);
    }
    return next;
  }

  // On a worker: writes one batch to the stream's file, which commits it
  // with those before every kUploadCommitBytes; an empty batch commits
  // what the file holds (the stream ended).
  void Write(const std::vector<v1::WriteUploadRequest>& batch) {
    absl::Status s;
    if (name_.empty()) {
      if (batch.empty() || batch.front().name().empty()) {
        s = service::InvalidField("name",
                                  "is required in the stream's first message");
      }
      if (s.ok()) name_ = batch.front().name();
    }
    absl::StatusOr<v1::Upload> written;
    if (s.ok()) {
      written = batch.empty()
                    ? records_.CommitUploadStream(caller_, name_, &stream_)
                    : records_.WriteUpload(caller_, name_, batch, &stream_);
      s = written.status();
    }
    std::vector<Next> next;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      pending_ = stream_.pending();
      if (s.ok()) {
        *response_ = *std::move(written);
        wrote_ = true;
        next = StepLocked();
      } else if (!finished_) {
        status_ = s;
        finished_ = true;
        next.push_back(Next::kFinish);
      }
    }
    for (Next n : next) Act(n);
  }

  void Act(Next next) {
    if (next == Next::kRead) StartRead(&incoming_);
    if (next == Next::kFinish) {
      calls_.Log(kWriteUpload, *context_, status_, absl::Now() - start_,
                 caller_);
      Finish(ToGrpcStatus(status_));
    }
  }

  CallHandler& calls_;
  service::RecordService& records_;
  grpc::CallbackServerContext* const context_;
  v1::Upload* const response_;
  const absl::Time start_ = absl::Now();
  service::Principal caller_;  // set before the first read
  std::string name_;           // the upload; touched by one Write at a time
  // What was sent since the last commit; touched by one Write at a time.
  service::RecordService::UploadStream stream_;
  v1::WriteUploadRequest incoming_;  // the outstanding read's target

  // State below is protected by mu_.
  absl::Mutex mu_;
  std::deque<v1::WriteUploadRequest> queued_ ABSL_GUARDED_BY(mu_);
  int64_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;   // a read is outstanding
  bool writing_ ABSL_GUARDED_BY(mu_) = false;   // a batch is on a worker
  bool ended_ ABSL_GUARDED_BY(mu_) = false;     // no more reads
  bool wrote_ ABSL_GUARDED_BY(mu_) = false;     // a batch was written
  bool pending_ ABSL_GUARDED_BY(mu_) = false;   // stream_.pending()
  bool finished_ ABSL_GUARDED_BY(mu_) = false;  // Finish called or due
  absl::Status status_;  // written before finished_ is set, read after
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
      absl::StatusOr<v1::RecordVersion> v;
      if (s.ok()) {
        v = records_.StartRead(caller_, *request);
        s = v.status();
      }
      std::vector<Next> next;
      {
        absl::MutexLock lock(&mu_);
        if (!s.ok()) {
          status_ = s;
          finished_ = true;
          next.push_back(Next::kFinish);
        } else {
          name_ = v->name();
          fetched_to_ = request->read_offset();
          end_ = request->read_limit() > 0
                     ? std::min(v->size_bytes(),
                                fetched_to_ + request->read_limit())
                     : v->size_bytes();
          next = StepLocked();
        }
      }
      for (Next n : next) Act(n);
    });
  }

  void OnWriteDone(bool ok) override {
    std::vector<Next> next;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (finished_) return;
      if (!ok) {
        status_ = absl::CancelledError("the client stopped reading");
        finished_ = true;
        next.push_back(Next::kFinish);
      } else {
        next = StepLocked();
      }
    }
    for (Next n : next) Act(n);
  }

  void OnDone() override { delete this; }

 private:
  // What to start next: send what was read, read ahead while under
  // kMaxDownloadReadAheadBytes are waiting, finish at the end or after an
  // error once no write is outstanding.
  std::vector<Next> StepLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::vector<Next> next;
    if (finished_) return next;
    if (!writing_ && !ready_.empty()) {
      response_.set_data(std::move(ready_.front()));
      ready_.pop_front();
      ready_bytes_ -= static_cast<int64_t>(response_.data().size());
      writing_ = true;
      next.push_back(Next::kWrite);
    }
    if (!fetching_ && failed_.ok() && fetched_to_ < end_ &&
        ready_bytes_ < service::kMaxDownloadReadAheadBytes) {
      fetching_ = true;
      const int64_t from = fetched_to_;
      const int64_t want =
          std::min(service::kMaxDownloadReadAheadBytes, end_ - fetched_to_);
      calls_.Run([this, from, want] { Fetch(from, want); });
    }
    if (!writing_ && !fetching_ && ready_.empty() &&
        (fetched_to_ >= end_ || !failed_.ok())) {
      status_ = failed_;
      finished_ = true;
      next.push_back(Next::kFinish);
    }
    return next;
  }

  // On a worker: reads the next bytes through the gate (one check for up
  // to kMaxDownloadReadAheadBytes).
  void Fetch(int64_t from, int64_t want) {
    absl::StatusOr<std::vector<std::string>> pieces =
        records_.ReadChunks(caller_, name_, from, want);
    std::vector<Next> next;
    {
      absl::MutexLock lock(&mu_);
      fetching_ = false;
      if (!pieces.ok()) {
        failed_ = pieces.status();
      } else if (pieces->empty()) {
        failed_ = absl::DataLossError("the content ended early");
      } else {
        for (std::string& piece : *pieces) {
          fetched_to_ += static_cast<int64_t>(piece.size());
          ready_bytes_ += static_cast<int64_t>(piece.size());
          ready_.push_back(std::move(piece));
        }
      }
      next = StepLocked();
    }
    for (Next n : next) Act(n);
  }

  void Act(Next next) {
    if (next == Next::kWrite) StartWrite(&response_);
    if (next == Next::kFinish) {
      calls_.Log(kReadRecordVersion, *context_, status_, absl::Now() - start_,
                 caller_);
      Finish(ToGrpcStatus(status_));
    }
  }

  CallHandler& calls_;
  service::RecordService& records_;
  grpc::CallbackServerContext* const context_;
  const absl::Time start_ = absl::Now();
  service::Principal caller_;  // set before the first fetch
  std::string name_;           // the version; set before the first fetch

  // State below is protected by mu_.
  absl::Mutex mu_;
  int64_t fetched_to_ ABSL_GUARDED_BY(mu_) = 0;  // next byte to read
  int64_t end_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::string> ready_ ABSL_GUARDED_BY(mu_);  // read, not sent
  int64_t ready_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool fetching_ ABSL_GUARDED_BY(mu_) = false;  // a Fetch is on a worker
  bool writing_ ABSL_GUARDED_BY(mu_) = false;   // a write is outstanding
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status failed_ ABSL_GUARDED_BY(mu_);  // a Fetch's error
  // The message being written: set under mu_ before StartWrite, left
  // alone until OnWriteDone.
  v1::ReadRecordVersionResponse response_;
  absl::Status status_;  // written before finished_ is set, read after
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
