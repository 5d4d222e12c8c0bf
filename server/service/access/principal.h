// File: server/service/access/principal.h
//
// Principal: the authenticated caller of one request, resolved from its
// bearer token before anything else runs, with what the policy needs to
// decide (role, college, delegations, served cohorts). Either a member
// (personal token) or an integration (service token: no member, scoped to
// cohorts, read or read-write). A plain value.
#ifndef COHORTE_SERVER_SERVICE_ACCESS_PRINCIPAL_H_
#define COHORTE_SERVER_SERVICE_ACCESS_PRINCIPAL_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "cohorte/v1/members.pb.h"

namespace cohorte::service {

struct Principal {
  // `members/{member}`: who acts. Empty for a service token, and for
  // nobody (an unauthenticated caller, never authorized).
  std::string member;
  v1::Member::Role role = v1::Member::ROLE_UNSPECIFIED;
  // `tokens/{token}`: the credential used (logs show this, never a secret).
  std::string token;
  // For role MEMBER: the college and the territories represented.
  v1::College college = v1::COLLEGE_UNSPECIFIED;
  std::vector<std::string> delegations;
  // For ALLY and COORDINATOR: the cohorts served. For a service token: the
  // cohorts it reaches.
  std::vector<std::string> cohorts;
  // A service token (an integration), and whether it may write.
  bool service = false;
  bool read_write = false;

  bool is_admin() const { return !service && role == v1::Member::ADMIN; }
  bool authenticated() const { return !member.empty() || service; }
  // Who the change log and the audit log name: the member, or the service
  // token.
  const std::string& actor() const { return service ? token : member; }

  // Builds the principal of `member` authenticated with `token`.
  static Principal FromMember(const v1::Member& member, std::string token);
  // Builds the principal of a service token named `token`.
  static Principal ForService(std::string token,
                              std::vector<std::string> cohorts,
                              bool read_write);
};

// `cohorts/{c}` of a name under it (`cohorts/{c}/…`), or "" if none.
absl::string_view CohortOf(absl::string_view name);

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_ACCESS_PRINCIPAL_H_
