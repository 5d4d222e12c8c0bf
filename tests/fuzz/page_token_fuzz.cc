// Fuzzes DecodePageToken, which reads the page_token a client sends back:
// it never crashes, refuses with INVALID_ARGUMENT only, and whatever key a
// token it accepts carries survives being encoded and decoded again.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/service/core/limits.h"
#include "server/service/core/pagination.h"

namespace {
constexpr uint64_t kQuery = 0x0123456789abcdefULL;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::string> key =
      cohorte::service::DecodePageToken("page_token", input, kQuery);
  if (!key.ok() && key.status().code() != absl::StatusCode::kInvalidArgument) {
    __builtin_trap();
  }
  if (key.ok() && !key->empty()) {
    absl::StatusOr<std::string> again = cohorte::service::DecodePageToken(
        "page_token", cohorte::service::EncodePageToken(kQuery, *key), kQuery);
    if (!again.ok() || *again != *key) __builtin_trap();
  }
  // Any key our own tokens carry decodes back, when the token fits.
  if (!input.empty()) {
    const std::string token = cohorte::service::EncodePageToken(kQuery, input);
    if (static_cast<int>(token.size()) <=
        cohorte::service::kMaxPageTokenLength) {
      absl::StatusOr<std::string> back =
          cohorte::service::DecodePageToken("page_token", token, kQuery);
      if (!back.ok() || *back != input) __builtin_trap();
    }
  }
  return 0;
}
