// Fuzzes CheckText and CheckRequestId, the checks every text field and
// request_id goes through: they never crash, refuse with INVALID_ARGUMENT
// only, and accepted text is UTF-8 (as protobuf checks it) without
// control characters other than the multi-line ones. CheckText also gives
// exactly what its reference gives (tests/testing/check_text_reference.h,
// the check before its ASCII fast path), status and message, with bounds
// taken from the input's first two bytes.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/wrappers.pb.h"
#include "server/service/core/validation.h"
#include "tests/testing/check_text_reference.h"

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
    const int max_chars = size == 0 ? 0 : data[0] % 64;
    const int min_chars = size < 2 ? 0 : data[1] % 3;
    if (service::CheckText("text", text, min_chars, max_chars, kind) !=
        service::testing::ReferenceCheckText(std::string(text), min_chars,
                                             max_chars, kind)) {
      __builtin_trap();
    }
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
