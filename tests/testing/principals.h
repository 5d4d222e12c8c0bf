// File: tests/testing/principals.h
//
// Principals for service-layer tests, without a token round trip.
#ifndef COHORTE_TESTS_TESTING_PRINCIPALS_H_
#define COHORTE_TESTS_TESTING_PRINCIPALS_H_

#include <string>
#include <vector>

#include "server/service/access/principal.h"

namespace cohorte::testing {

inline service::Principal MakePrincipal(
    std::string member, v1::Member::Role role,
    v1::College college = v1::COLLEGE_UNSPECIFIED,
    std::vector<std::string> delegations = {},
    std::vector<std::string> cohorts = {}) {
  service::Principal p;
  p.member = std::move(member);
  p.role = role;
  p.token = "tokens/test";
  p.college = college;
  p.delegations = std::move(delegations);
  p.cohorts = std::move(cohorts);
  return p;
}

}  // namespace cohorte::testing

#endif  // COHORTE_TESTS_TESTING_PRINCIPALS_H_
