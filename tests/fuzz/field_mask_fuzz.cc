// Fuzzes CheckUpdateMask, fed by a client's update_mask: from the mask's
// wire bytes (first byte odd) or from comma-separated paths. It never
// crashes, refuses with INVALID_ARGUMENT only, and returns only allowed
// paths.

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/field_mask.pb.h"
#include "server/service/core/validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view rest(reinterpret_cast<const char*>(data) + 1,
                               size - 1);
  google::protobuf::FieldMask mask;
  if (data[0] & 1) {
    if (!mask.ParseFromArray(rest.data(), static_cast<int>(rest.size()))) {
      return 0;
    }
  } else {
    for (absl::string_view path : absl::StrSplit(rest, ',')) {
      mask.add_paths(std::string(path));
    }
  }
  const std::set<std::string> allowed = {"title", "body", "tags",
                                         "report.what_failed"};
  absl::StatusOr<std::set<std::string>> paths =
      cohorte::service::CheckUpdateMask(mask, allowed, "Message", "a hint");
  if (!paths.ok()) {
    if (paths.status().code() != absl::StatusCode::kInvalidArgument) {
      __builtin_trap();
    }
    return 0;
  }
  for (const std::string& path : *paths) {
    if (allowed.count(path) == 0) __builtin_trap();
  }
  return 0;
}
