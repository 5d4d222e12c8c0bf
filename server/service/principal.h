// File: server/service/principal.h
//
// Principal: the authenticated caller of one request, resolved from its
// bearer token before anything else runs. A plain value; copyable.
#ifndef COHORTE_SERVER_SERVICE_PRINCIPAL_H_
#define COHORTE_SERVER_SERVICE_PRINCIPAL_H_

#include <string>

#include "cohorte/v1/members.pb.h"

namespace cohorte::service {

struct Principal {
  // `members/{member}`: who acts.
  std::string member;
  v1::Member::Role role = v1::Member::ROLE_UNSPECIFIED;
  // `tokens/{token}`: the credential used (logs show this, never a secret).
  std::string token;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_PRINCIPAL_H_
