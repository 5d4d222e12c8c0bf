#include "server/service/access/policy.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/service/core/errors.h"

namespace cohorte::service {
namespace {

absl::string_view ResourceName(Resource r) {
  switch (r) {
    case Resource::kCohort:
      return "cohorts";
    case Resource::kMember:
      return "members";
    case Resource::kToken:
      return "tokens";
    case Resource::kTerritory:
      return "territories";
    case Resource::kTerritoryPhase:
      return "territory phases";
    case Resource::kChantier:
      return "chantiers";
    case Resource::kReport:
      return "reports";
    case Resource::kGroup:
      return "groups";
    case Resource::kInvitation:
      return "invitations";
    case Resource::kAuditLog:
      return "the audit log";
    case Resource::kSession:
      return "sessions";
    case Resource::kRegistrations:
      return "registrations";
    case Resource::kBackup:
      return "backups";
    case Resource::kLink:
      return "links";
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

bool Contains(const std::vector<std::string>& list, absl::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool HasDelegationIn(const Principal& p, absl::string_view cohort) {
  if (p.role != v1::Member::MEMBER || cohort.empty()) return false;
  return std::any_of(
      p.delegations.begin(), p.delegations.end(),
      [&](const std::string& t) { return CohortOf(t) == cohort; });
}

// The policy table of policy.h, as code.
bool Allowed(const Principal& p, Resource resource, Action action,
             const Scope& scope) {
  if (!p.authenticated()) return false;
  const bool admin = p.is_admin();
  const bool writer = p.service && p.read_write;
  switch (resource) {
    case Resource::kCohort:
      return action == Action::kRead || admin;
    case Resource::kMember:
      if (action == Action::kRead) return true;  // filtered per member
      return admin;
    case Resource::kToken:
      if (admin) return true;
      // A member's own personal tokens, never creating one.
      return !p.service && action != Action::kCreate && !scope.member.empty() &&
             scope.member == p.member;
    case Resource::kInvitation:
      return admin || Coordinates(p, scope.cohort);
    case Resource::kAuditLog:
      return admin || (action == Action::kRead && Coordinates(p, scope.cohort));
    case Resource::kRegistrations:
      return admin || Coordinates(p, scope.cohort);
    case Resource::kBackup:
    case Resource::kLink:
      return admin;
    case Resource::kTerritory:
    case Resource::kGroup:
    case Resource::kSession:
      if (action == Action::kRead) {
        return admin || ParticipatesIn(p, scope.cohort);
      }
      return admin || Coordinates(p, scope.cohort);
    case Resource::kChantier:
    case Resource::kReport:
      if (action == Action::kRead) {
        return admin || ParticipatesIn(p, scope.cohort);
      }
      [[fallthrough]];
    case Resource::kTerritoryPhase:
      return admin || Coordinates(p, scope.cohort) ||
             (p.role == v1::Member::MEMBER && !p.service &&
              Contains(p.delegations, scope.territory)) ||
             (writer && Contains(p.cohorts, scope.cohort));
  }
  return false;
}

}  // namespace

bool ParticipatesIn(const Principal& p, absl::string_view cohort) {
  if (cohort.empty()) return false;
  if (p.service) return Contains(p.cohorts, cohort);
  if (p.role == v1::Member::ALLY || p.role == v1::Member::COORDINATOR) {
    return Contains(p.cohorts, cohort);
  }
  return HasDelegationIn(p, cohort);
}

bool Coordinates(const Principal& p, absl::string_view cohort) {
  return !p.service && p.role == v1::Member::COORDINATOR &&
         Contains(p.cohorts, cohort);
}

bool IsGroupMember(const Principal& p, const v1::PeerGroup& group) {
  if (p.member.empty() || p.service) return false;
  if (group.kind() == v1::PeerGroup::COLLEGE) {
    // Facilitators included: a college group is read by that college only,
    // so one who leaves the college stops reading it.
    return p.college != v1::COLLEGE_UNSPECIFIED &&
           p.college == group.college() &&
           HasDelegationIn(p, CohortOf(group.name()));
  }
  // Named, and taking part in the cohort now: one who left it (their
  // delegations moved, an ally or coordinator no longer serving it) reads
  // none of its groups, whatever the lists still say.
  const auto named = [&](const auto& list) {
    return std::find(list.begin(), list.end(), p.member) != list.end();
  };
  return (named(group.facilitators()) || named(group.members())) &&
         ParticipatesIn(p, CohortOf(group.name()));
}

std::set<std::string> CohortsOfMember(const v1::Member& m) {
  std::set<std::string> cohorts(m.cohorts().begin(), m.cohorts().end());
  for (const std::string& t : m.delegations()) {
    cohorts.insert(std::string(CohortOf(t)));
  }
  return cohorts;
}

v1::PeerGroup RedactGroup(const Principal& caller, v1::PeerGroup group) {
  // Facilitators read the group: who they are is the members' to know.
  if (!IsGroupMember(caller, group)) {
    group.clear_members();
    group.clear_facilitators();
  }
  return group;
}

v1::Member RedactMember(const Principal& caller, v1::Member m) {
  if (caller.is_admin() || (!caller.service && caller.member == m.name())) {
    return m;
  }
  for (const std::string& c : CohortsOfMember(m)) {
    if (Coordinates(caller, c)) return m;
  }
  m.clear_email();
  return m;
}

absl::Status Authorize(const Principal& caller, Resource resource,
                       Action action, const Scope& scope) {
  if (Allowed(caller, resource, action, scope)) return absl::OkStatus();
  return PermissionDenied(absl::StrCat(
      ActionName(action), " ", ResourceName(resource),
      scope.cohort.empty() ? "" : absl::StrCat(" in ", scope.cohort)));
}

}  // namespace cohorte::service
