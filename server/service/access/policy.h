// File: server/service/access/policy.h
//
// The authorization policy, in one place a reader can audit. Every service
// method calls it first, before looking at whether the resource exists, so
// a caller who may not see a resource gets the same answer either way.
//
// Words: a cohort's *participants* are the members with a delegation to one
// of its territories and the allies and coordinators serving it. A group's
// *members* are, for a COLLEGE group, the participants of that college with
// a delegation in the cohort (computed at each read), and for other groups
// the members and facilitators named in it who take part in its cohort now:
// one who leaves the cohort stops reading its groups at once, named or not
// (their name stays on the lists: taking it off would tell the cohort, by
// the group's change at the same revision, who was in the group). Nobody is a
// group member by role alone: not the administrator, not a coordinator, not an
// ally, never a service token. A *service token* (an integration) acts as no
// member: it counts as a participant of the cohorts it is scoped to, and with
// READ_WRITE it may write what the table says.
//
// The table of who may do what, in words, is policy_table.cc (the README
// shows it, and the confidentiality matrix holds every RPC's answers to
// it); the functions below are the code of its structural rows, and the
// read rules (rules.h) the code of its read rows.
//
// Thread-safe (pure functions).
#ifndef COHORTE_SERVER_SERVICE_ACCESS_POLICY_H_
#define COHORTE_SERVER_SERVICE_ACCESS_POLICY_H_

#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "cohorte/v1/groups.pb.h"
#include "cohorte/v1/members.pb.h"
#include "server/service/access/principal.h"

namespace cohorte::service {

enum class Resource {
  kCohort,
  kMember,
  kToken,
  kTerritory,
  kTerritoryPhase,
  kChantier,
  // A territory's experience reports: written by whom may write its
  // chantiers, read by the cohort's participants (then each report's
  // visibility decides).
  kReport,
  kGroup,
  kInvitation,
  kAuditLog,
  kSession,
  kRegistrations,
  kBackup,
  kLink,
};
enum class Action { kCreate, kRead, kUpdate, kDelete };

// What a decision is about; the fields a rule needs, others empty.
struct Scope {
  // `cohorts/{c}` the resource belongs to.
  absl::string_view cohort;
  // `cohorts/{c}/territories/{t}` for territory rules.
  absl::string_view territory;
  // `members/{m}` for member rules; the owner of a personal token for token
  // rules.
  absl::string_view member;
};

inline Scope CohortScope(absl::string_view cohort) {
  Scope s;
  s.cohort = cohort;
  return s;
}
inline Scope TerritoryScope(absl::string_view cohort,
                            absl::string_view territory) {
  Scope s;
  s.cohort = cohort;
  s.territory = territory;
  return s;
}
inline Scope MemberScope(absl::string_view member) {
  Scope s;
  s.member = member;
  return s;
}

// OK if `caller` may do `action` on `resource` within `scope`;
// PERMISSION_DENIED (reason PERMISSION_DENIED) otherwise.
absl::Status Authorize(const Principal& caller, Resource resource,
                       Action action, const Scope& scope = {});

// Whether `caller` takes part in `cohort` (see the file comment).
bool ParticipatesIn(const Principal& caller, absl::string_view cohort);
// Whether `caller` coordinates `cohort`.
bool Coordinates(const Principal& caller, absl::string_view cohort);

// Whether `caller` is a member of `group` (see the file comment): the one
// test every read of a closed group's members or content goes through.
bool IsGroupMember(const Principal& caller, const v1::PeerGroup& group);

// The cohorts `member` takes part in: those of its delegations and those it
// serves.
std::set<std::string> CohortsOfMember(const v1::Member& member);

// What `caller` may see of `group`: without its members and facilitators
// unless the caller is a member of it.
v1::PeerGroup RedactGroup(const Principal& caller, v1::PeerGroup group);

// What `caller` may see of `member` (REQUIRES: the caller may see the
// member at all): the e-mail only for the member, the administrator and
// the coordinators of a cohort the member takes part in.
v1::Member RedactMember(const Principal& caller, v1::Member member);

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_ACCESS_POLICY_H_
