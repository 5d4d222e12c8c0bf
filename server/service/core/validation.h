// File: server/service/core/validation.h
//
// Field checks shared by every service. Each returns OK or an
// INVALID_ARGUMENT from InvalidField naming `field`. Thread-safe (pure).
#ifndef COHORTE_SERVER_SERVICE_CORE_VALIDATION_H_
#define COHORTE_SERVER_SERVICE_CORE_VALIDATION_H_

#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cohorte/v1/cohorts.pb.h"
#include "google/protobuf/field_mask.pb.h"

namespace cohorte::service {

// Whether a text field may hold line breaks and tabs.
enum class TextKind { kSingleLine, kMultiLine };

// `value` is valid UTF-8 with between `min_chars` and `max_chars` code
// points and no control characters (kMultiLine allows \n, \r and \t).
absl::Status CheckText(absl::string_view field, absl::string_view value,
                       int min_chars, int max_chars, TextKind kind);

// An AIP-122 resource id: ^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$.
absl::Status CheckResourceId(absl::string_view field, absl::string_view id);

// Empty, or 1..kMaxRequestIdLength printable ASCII characters.
absl::Status CheckRequestId(absl::string_view field, absl::string_view id);

// A required enum field: INVALID_ARGUMENT naming `field` if `value` is 0
// (its UNSPECIFIED: "is required") or none of the enum's values
// (`is_valid`, the generated Foo_IsValid: "has no value numbered N").
absl::Status CheckEnumValue(absl::string_view field, int value,
                            bool (*is_valid)(int));

// A complete, existing calendar date within [kMinYear, kMaxYear].
absl::Status CheckDate(absl::string_view field, const v1::Date& date);

// The id in `name` if it is `<collection>/<id>` with a valid id.
absl::StatusOr<std::string> ParseTopLevelName(absl::string_view field,
                                              absl::string_view name,
                                              absl::string_view collection);

// The parent `cohorts/{c}` of `name` if it is
// `cohorts/{c}/<collection>/{id}` with valid ids.
absl::StatusOr<std::string> ParseCohortChildName(absl::string_view field,
                                                 absl::string_view name,
                                                 absl::string_view collection);

// The parent territory `cohorts/{c}/territories/{t}` of `name` if it is
// `cohorts/{c}/territories/{t}/<collection>/{id}` with valid ids.
absl::StatusOr<std::string> ParseTerritoryChildName(
    absl::string_view field, absl::string_view name,
    absl::string_view collection);

// The parent of `name` (it without its last two segments) if `name` is
// `c0/{id}/c1/{id}/…/cN/{id}` for `collections` = {c0, …, cN}, with valid
// ids; INVALID_ARGUMENT naming `field` otherwise. E.g. collections
// {"cohorts", "groups", "exchanges"} for an exchange name.
absl::StatusOr<std::string> ParseNestedName(
    absl::string_view field, absl::string_view name,
    std::initializer_list<absl::string_view> collections);

// The page size to use: kDefaultPageSize for 0, at most kMaxPageSize;
// INVALID_ARGUMENT for a negative one.
absl::StatusOr<int> EffectivePageSize(absl::string_view field, int requested);

// The paths of an update's `update_mask` (AIP-134), each one of `allowed`:
// INVALID_ARGUMENT naming `update_mask` if it is empty or names another
// field (of `type`, e.g. "Session"); the message lists what may be
// updated, then `hint` if not empty.
absl::StatusOr<std::set<std::string>> CheckUpdateMask(
    const google::protobuf::FieldMask& mask,
    const std::set<std::string>& allowed, absl::string_view type,
    absl::string_view hint = "");

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_CORE_VALIDATION_H_
