// File: server/demo/demo.h
//
// The demo content seeded on the first start of `deploy/run.sh`, written
// from the programme's own documents: the Occitanie regional cohort (run by
// la Fabrique des transitions with AREC Occitanie) with its territories,
// delegations of the four colleges, a coordinator and an ally, its college
// groups, a thematic club and a delegation group, the PETR's chantiers, the
// ally's read-only service token and a pending invitation; exchanges in the
// élus and agents groups, two published experience reports (one telling
// its failures), a past common day with attendance and minutes and an
// upcoming study trip with registrations; and the national
// "Territoires Pilotes" cohort. People and places are fictitious. It goes
// through the services, so it obeys every rule a client's writes obey.
#ifndef COHORTE_SERVER_DEMO_DEMO_H_
#define COHORTE_SERVER_DEMO_DEMO_H_

#include <string>

#include "absl/status/status.h"
#include "server/service/access/principal.h"
#include "server/service/services.h"

namespace cohorte::demo {

// Creates the demo content as `admin`, and writes personal tokens of a few
// demo members to `data_dir`/demo-tokens/<member>.token (mode 0600), the
// ally's service token to demo-tokens/ally-service.token and the pending
// invitation's secret to demo-tokens/invitation.secret, so that the README
// can walk through what each of them sees.
absl::Status SeedDemo(service::Services& services,
                      const service::Principal& admin,
                      const std::string& data_dir);

}  // namespace cohorte::demo

#endif  // COHORTE_SERVER_DEMO_DEMO_H_
