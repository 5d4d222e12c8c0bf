// File: server/service/policy.h
//
// The authorization policy, in one table a reader can audit: for each
// resource and action, who may do it. Every service method calls Authorize
// first, before it looks at whether the resource exists, so that a caller
// who may not see a resource gets the same answer whether it exists or not.
//
//   resource  action   who
//   --------  -------  ------------------------------------------------
//   cohort    create   admin
//   cohort    read     every authenticated caller (structure, not content)
//   cohort    update   admin
//   cohort    delete   admin (soft delete, undelete, archive, unarchive)
//   member    read     the member themself; admin
//
// Thread-safe (pure).
#ifndef COHORTE_SERVER_SERVICE_POLICY_H_
#define COHORTE_SERVER_SERVICE_POLICY_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/service/principal.h"

namespace cohorte::service {

enum class Resource { kCohort, kMember };
enum class Action { kCreate, kRead, kUpdate, kDelete };

// OK if `principal` may do `action` on `resource`; PERMISSION_DENIED
// (reason PERMISSION_DENIED) otherwise. `target_member` is the member
// resource name concerned, for rules that depend on it (else empty).
absl::Status Authorize(const Principal& principal, Resource resource,
                       Action action, absl::string_view target_member = "");

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_POLICY_H_
