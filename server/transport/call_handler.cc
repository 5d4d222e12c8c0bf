#include "server/transport/call_handler.h"

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "server/service/core/errors.h"
#include "server/transport/call_log.h"

namespace cohorte::transport {
namespace {

// The status code's canonical name, e.g. "INVALID_ARGUMENT".
std::string CodeName(absl::StatusCode code) {
  std::string name = absl::StatusCodeToString(code);
  for (char& c : name) c = c == ' ' ? '_' : static_cast<char>(toupper(c));
  return name;
}

// `now` as RFC 3339 to the second, formatted once per second per thread.
const std::string& Timestamp(absl::Time now) {
  thread_local int64_t second = -1;
  thread_local std::string formatted;
  const int64_t s = absl::ToUnixSeconds(now);
  if (s != second) {
    second = s;
    formatted = absl::FormatTime(absl::RFC3339_sec, absl::FromUnixSeconds(s),
                                 absl::UTCTimeZone());
  }
  return formatted;
}

}  // namespace

absl::Status CallHandler::Authenticate(
    const grpc::CallbackServerContext& context,
    service::Principal* caller) const {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  absl::string_view value;
  if (it != metadata.end()) {
    value = absl::string_view(it->second.data(), it->second.size());
  }
  absl::StatusOr<service::Principal> principal =
      authenticator_.Authenticate(value, absl::Now());
  if (!principal.ok()) return principal.status();
  *caller = *std::move(principal);
  return absl::OkStatus();
}

absl::Status CallHandler::Busy() const {
  return service::ErrorWithReason(
      absl::StatusCode::kResourceExhausted, service::kReasonServerBusy,
      absl::StrCat("the server is busy: ", pool_.max_queued(),
                   " calls already wait for a worker; retry later"));
}

void LogCall(absl::string_view method,
             const grpc::CallbackServerContext& context,
             const absl::Status& status, absl::Duration latency,
             const service::Principal& caller) {
  const std::string line = absl::StrFormat(
      "ts=%s level=info msg=call method=%s code=%s latency_ms=%.3f "
      "caller=%s token=%s peer=%s\n",
      Timestamp(absl::Now()), method, CodeName(status.code()),
      absl::ToDoubleMilliseconds(latency),
      caller.member.empty() ? "-" : caller.member,
      caller.token.empty() ? "-" : caller.token, context.peer());
  CallLog::Get().Append(line);
}

}  // namespace cohorte::transport
