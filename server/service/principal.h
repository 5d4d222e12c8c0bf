// File: server/service/principal.h
//
// Principal: the authenticated caller of one request, resolved from its
// bearer token before anything else runs, with what the policy needs to
// decide (role, college, delegations, served cohorts). A plain value.
#ifndef COHORTE_SERVER_SERVICE_PRINCIPAL_H_
#define COHORTE_SERVER_SERVICE_PRINCIPAL_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "cohorte/v1/members.pb.h"

namespace cohorte::service {

struct Principal {
  // `members/{member}`: who acts. Empty: nobody (never authorized).
  std::string member;
  v1::Member::Role role = v1::Member::ROLE_UNSPECIFIED;
  // `tokens/{token}`: the credential used (logs show this, never a secret).
  std::string token;
  // For role MEMBER: the college and the territories represented.
  v1::College college = v1::COLLEGE_UNSPECIFIED;
  std::vector<std::string> delegations;
  // For ALLY and COORDINATOR: the cohorts served.
  std::vector<std::string> cohorts;

  bool is_admin() const { return role == v1::Member::ADMIN; }

  // Builds the principal of `member` authenticated with `token`.
  static Principal FromMember(const v1::Member& member, std::string token);
};

// `cohorts/{c}` of a name under it (`cohorts/{c}/…`), or "" if none.
absl::string_view CohortOf(absl::string_view name);

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_PRINCIPAL_H_
