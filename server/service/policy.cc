#include "server/service/policy.h"

#include "absl/strings/str_cat.h"
#include "server/service/errors.h"

namespace cohorte::service {
namespace {

absl::string_view ResourceName(Resource r) {
  switch (r) {
    case Resource::kCohort:
      return "cohorts";
    case Resource::kMember:
      return "members";
  }
  return "resources";
}

absl::string_view ActionName(Action a) {
  switch (a) {
    case Action::kCreate:
      return "create";
    case Action::kRead:
      return "read";
    case Action::kUpdate:
      return "update";
    case Action::kDelete:
      return "delete";
  }
  return "use";
}

bool Allowed(const Principal& p, Resource resource, Action action,
             absl::string_view target_member) {
  const bool admin = p.role == v1::Member::ADMIN;
  switch (resource) {
    case Resource::kCohort:
      return action == Action::kRead ? !p.member.empty() : admin;
    case Resource::kMember:
      return action == Action::kRead &&
             (admin || (!p.member.empty() && p.member == target_member));
  }
  return false;
}

}  // namespace

absl::Status Authorize(const Principal& principal, Resource resource,
                       Action action, absl::string_view target_member) {
  if (Allowed(principal, resource, action, target_member)) {
    return absl::OkStatus();
  }
  return ErrorWithReason(
      absl::StatusCode::kPermissionDenied, kReasonPermissionDenied,
      absl::StrCat("the caller may not ", ActionName(action), " ",
                   ResourceName(resource),
                   target_member.empty() ? "" : " of another member"));
}

}  // namespace cohorte::service
