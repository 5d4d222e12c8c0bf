#include "server/service/core/errors.h"

#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"

namespace cohorte::service {
namespace {

void AttachErrorInfo(
    absl::Status& status, absl::string_view reason,
    const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
  google::rpc::ErrorInfo info;
  for (const auto& [key, value] : metadata)
    (*info.mutable_metadata())[key] = value;
  info.set_reason(std::string(reason));
  info.set_domain(std::string(kErrorDomain));
  status.SetPayload(kErrorInfoTypeUrl, absl::Cord(info.SerializeAsString()));
}

}  // namespace

absl::Status InvalidField(absl::string_view field,
                          absl::string_view description) {
  return FieldError(absl::StatusCode::kInvalidArgument, kReasonFieldInvalid,
                    field, description);
}

absl::Status FieldError(absl::StatusCode code, absl::string_view reason,
                        absl::string_view field,
                        absl::string_view description) {
  absl::Status status(code, absl::StrCat(field, ": ", description));
  AttachErrorInfo(status, reason);
  google::rpc::BadRequest bad_request;
  auto* violation = bad_request.add_field_violations();
  violation->set_field(std::string(field));
  violation->set_description(std::string(description));
  status.SetPayload(kBadRequestTypeUrl,
                    absl::Cord(bad_request.SerializeAsString()));
  return status;
}

absl::Status ErrorWithReason(absl::StatusCode code, absl::string_view reason,
                             absl::string_view message) {
  absl::Status status(code, message);
  AttachErrorInfo(status, reason);
  return status;
}

absl::Status ErrorWithReason(
    absl::StatusCode code, absl::string_view reason, absl::string_view message,
    const std::vector<std::pair<std::string, std::string>>& metadata) {
  absl::Status status(code, message);
  AttachErrorInfo(status, reason, metadata);
  return status;
}

std::string ErrorMetadata(const absl::Status& status, absl::string_view key) {
  absl::optional<absl::Cord> payload = status.GetPayload(kErrorInfoTypeUrl);
  if (!payload.has_value()) return "";
  google::rpc::ErrorInfo info;
  if (!info.ParseFromString(std::string(*payload))) return "";
  auto it = info.metadata().find(std::string(key));
  return it == info.metadata().end() ? "" : it->second;
}

std::string ErrorReason(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kErrorInfoTypeUrl);
  if (!payload.has_value()) return "";
  google::rpc::ErrorInfo info;
  if (!info.ParseFromString(std::string(*payload))) return "";
  return info.reason();
}

std::string ErrorField(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kBadRequestTypeUrl);
  if (!payload.has_value()) return "";
  google::rpc::BadRequest bad_request;
  if (!bad_request.ParseFromString(std::string(*payload)) ||
      bad_request.field_violations().empty()) {
    return "";
  }
  return bad_request.field_violations(0).field();
}

absl::Status PermissionDenied(absl::string_view what) {
  return ErrorWithReason(absl::StatusCode::kPermissionDenied,
                         kReasonPermissionDenied,
                         absl::StrCat("the caller may not ", what));
}

absl::Status WrongState(absl::string_view message) {
  return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                         kReasonWrongState, message);
}

}  // namespace cohorte::service
