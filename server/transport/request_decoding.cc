#include "server/transport/request_decoding.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/stubs/logging.h"
#include "server/transport/call_handler.h"
#include "server/transport/grpc_status.h"

namespace cohorte::transport {
namespace {

// Lines of protobuf's log outside request decoding, per window.
constexpr int kProtobufLinesPerWindow = 10;
constexpr absl::Duration kProtobufLogWindow = absl::Minutes(1);

// The complaint collected while this thread decodes a request, or null
// when it decodes none.
thread_local std::string* decoding_complaint = nullptr;

const char* LevelName(google::protobuf::LogLevel level) {
  switch (level) {
    case google::protobuf::LOGLEVEL_INFO:
      return "info";
    case google::protobuf::LOGLEVEL_WARNING:
      return "warn";
    case google::protobuf::LOGLEVEL_ERROR:
      return "error";
    case google::protobuf::LOGLEVEL_FATAL:
      return "fatal";
  }
  return "error";
}

// Protobuf's log lines outside decoding, at most kProtobufLinesPerWindow per
// window; the count of those dropped goes with the next line written.
class ProtobufLog {
 public:
  void Write(google::protobuf::LogLevel level, const char* filename, int line,
             const std::string& message) {
    const absl::Time now = absl::Now();
    int dropped = 0;
    {
      absl::MutexLock lock(&mu_);
      if (now - window_start_ >= kProtobufLogWindow) {
        window_start_ = now;
        written_ = 0;
      }
      if (written_ >= kProtobufLinesPerWindow &&
          level != google::protobuf::LOGLEVEL_FATAL) {
        ++dropped_;
        return;
      }
      ++written_;
      dropped = dropped_;
      dropped_ = 0;
    }
    const std::string text = absl::StrFormat(
        "ts=%s level=%s msg=protobuf source=%s:%d detail=\"%s\" "
        "dropped_before=%d\n",
        absl::FormatTime(absl::RFC3339_sec, now, absl::UTCTimeZone()),
        LevelName(level), filename, line, absl::CEscape(message), dropped);
    std::fwrite(text.data(), 1, text.size(), stderr);
  }

 private:
  // State below is protected by mu_.
  absl::Mutex mu_;
  absl::Time window_start_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int written_ ABSL_GUARDED_BY(mu_) = 0;
  int dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

ProtobufLog& TheProtobufLog() {
  static ProtobufLog* const log = new ProtobufLog();
  return *log;
}

void HandleProtobufLog(google::protobuf::LogLevel level, const char* filename,
                       int line, const std::string& message) {
  if (decoding_complaint != nullptr &&
      level != google::protobuf::LOGLEVEL_FATAL) {
    // The caller's own bytes: said to the caller, logged as its call.
    if (decoding_complaint->empty()) *decoding_complaint = message;
    return;
  }
  TheProtobufLog().Write(level, filename, line, message);
}

}  // namespace

void InstallProtobufLogHandler() {
  google::protobuf::SetLogHandler(&HandleProtobufLog);
}

grpc::Status RejectUndecodable(absl::string_view method,
                               absl::string_view request_type,
                               const grpc::CallbackServerContext& context,
                               absl::string_view detail) {
  const absl::Time start = absl::Now();
  std::string message =
      absl::StrCat("the request's bytes are not a valid ", request_type);
  if (!detail.empty()) absl::StrAppend(&message, ": ", detail);
  const absl::Status status = absl::InvalidArgumentError(message);
  LogCall(method, context, status, absl::Now() - start, service::Principal());
  return ToGrpcStatus(status);
}

namespace internal {

void BeginDecoding() {
  static thread_local std::string complaint;
  complaint.clear();
  decoding_complaint = &complaint;
}

void EndDecoding(char* out, size_t size) {
  if (out != nullptr && size > 0) {
    // Protobuf's sentence ends with advice for the schema's author.
    std::string complaint = *decoding_complaint;
    const size_t advice = complaint.find(" when parsing");
    if (advice != std::string::npos) complaint.resize(advice);
    const size_t n = std::min(complaint.size(), size - 1);
    std::memcpy(out, complaint.data(), n);
    out[n] = '\0';
  }
  decoding_complaint = nullptr;
}

}  // namespace internal
}  // namespace cohorte::transport
