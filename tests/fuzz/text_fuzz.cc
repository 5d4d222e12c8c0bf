// Fuzzes CheckText and CheckRequestId, the checks every text field and
// request_id goes through: they never crash, refuse with INVALID_ARGUMENT
// only, and accepted text is UTF-8 (as protobuf checks it) without
// control characters other than the multi-line ones.

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/wrappers.pb.h"
#include "server/service/core/validation.h"

namespace {

void CheckCode(const absl::Status& status) {
  if (!status.ok() && status.code() != absl::StatusCode::kInvalidArgument) {
    __builtin_trap();
  }
}

// Whether protobuf accepts `text` in a string field.
bool ProtobufTakesIt(absl::string_view text) {
  google::protobuf::StringValue value;
  value.set_value(std::string(text));
  google::protobuf::StringValue parsed;
  return parsed.ParseFromString(value.SerializeAsString());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace service = cohorte::service;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  for (service::TextKind kind :
       {service::TextKind::kSingleLine, service::TextKind::kMultiLine}) {
    const absl::Status status = service::CheckText(
        "text", text, /*min_chars=*/0, /*max_chars=*/200, kind);
    CheckCode(status);
    if (!status.ok()) continue;
    if (!ProtobufTakesIt(text)) __builtin_trap();
    for (char c : text) {
      const bool allowed_control = kind == service::TextKind::kMultiLine &&
                                   (c == '\n' || c == '\r' || c == '\t');
      if (static_cast<unsigned char>(c) < 0x20 && !allowed_control) {
        __builtin_trap();
      }
    }
  }
  CheckCode(service::CheckRequestId("request_id", text));
  return 0;
}
