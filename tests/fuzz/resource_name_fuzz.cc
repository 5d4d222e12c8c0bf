// Fuzzes the resource-name parsers every request's `name` and `parent` go
// through: they never crash, refuse with INVALID_ARGUMENT only, and a name
// they accept starts with the parent they return.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "server/service/core/validation.h"

namespace {

void Check(const absl::StatusOr<std::string>& result, absl::string_view name,
           bool returns_parent) {
  if (!result.ok()) {
    if (result.status().code() != absl::StatusCode::kInvalidArgument) {
      __builtin_trap();
    }
    return;
  }
  if (returns_parent && !absl::StartsWith(name, *result)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace service = cohorte::service;
  const absl::string_view name(reinterpret_cast<const char*>(data), size);
  Check(service::ParseTopLevelName("name", name, "cohorts"), name,
        /*returns_parent=*/false);
  Check(service::ParseCohortChildName("name", name, "groups"), name,
        /*returns_parent=*/true);
  Check(service::ParseTerritoryChildName("name", name, "chantiers"), name,
        /*returns_parent=*/true);
  Check(service::ParseNestedName(
            "name", name, {"cohorts", "groups", "exchanges", "messages"}),
        name, /*returns_parent=*/true);
  const absl::Status id = service::CheckResourceId("id", name);
  if (!id.ok() && id.code() != absl::StatusCode::kInvalidArgument) {
    __builtin_trap();
  }
  return 0;
}
