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
// the members and facilitators named in it. Nobody is a group member by
// role alone: not the administrator, not a coordinator, not an ally, never
// a service token. A *service token* (an integration) acts as no member:
// it counts as a participant of the cohorts it is scoped to, and with
// READ_WRITE it may write what the table says.
//
//   resource         action         who
//   ---------------  -------------  ----------------------------------------
//   cohort           create         admin
//   cohort           read           every authenticated caller
//   cohort           update/delete  admin
//   member           create         admin
//   member           read           self; admin; participants of a shared
//                                   cohort (e-mail: self, admin, coordinators
//                                   of a shared cohort only)
//   member           update         admin
//   token            create         admin (personal and service tokens)
//   token            read/revoke/   admin; a member for their own personal
//                    rotate         tokens
//   invitation       create/read/   admin; coordinators of the cohort (role
//                    revoke         COORDINATOR: admin only)
//   invitation       accept         whoever holds its secret
//   audit log        read           admin (all); coordinators of a cohort
//                                   (events touching it, redacted by the
//                                   read rules of each resource)
//   territory        create/update  admin; coordinators of the cohort
//   territory        read           admin; participants of the cohort
//   territory phase, update,        admin; coordinators of the cohort;
//   chantier         create         delegation members of the territory;
//                                   READ_WRITE service tokens of the cohort
//   chantier         read           admin; participants of the cohort
//   session          create/update  admin; coordinators of the cohort
//   session          read           admin; participants of the cohort
//   session          register       participants of the cohort (delegation
//                                   members: if in its audience)
//   registrations    read/attendance admin; coordinators of the cohort
//   report           create         coordinators of the cohort; delegation
//                                   members of the territory (the writer is
//                                   made an author; not the admin, not
//                                   service tokens)
//   report           read           draft: its authors only; published:
//                                   by visibility (GROUP: the group's
//                                   members; COHORT: admin, participants;
//                                   NETWORK, PUBLIC: every caller)
//   report           update/publish its authors (archive: also the
//                                   cohort's coordinators)
//   inbox, follows   read/write     the member themself
//   group            create/update  admin; coordinators of the cohort
//   group metadata   read           admin; participants of the cohort
//   group members    read           the group's members only
//   group content    read/write     the group's members only (exchanges,
//                                   messages: the domain issue)
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
  kGroup,
  kInvitation,
  kAuditLog,
  kSession,
  kRegistrations,
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

// OK if IsGroupMember; PERMISSION_DENIED otherwise.
absl::Status AuthorizeGroupContent(const Principal& caller,
                                   const v1::PeerGroup& group);

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_ACCESS_POLICY_H_
