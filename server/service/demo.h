// File: server/service/demo.h
//
// The demo content seeded on the first start of `deploy/run.sh`, written
// from the programme's own documents: the Occitanie regional cohort (run by
// la Fabrique des transitions with AREC Occitanie) and the national
// "Territoires Pilotes" cohort. Goes through the services, so it obeys
// every rule a client's writes obey. Each later domain issue adds to it.
#ifndef COHORTE_SERVER_SERVICE_DEMO_H_
#define COHORTE_SERVER_SERVICE_DEMO_H_

#include "absl/status/status.h"
#include "server/service/cohort_service.h"
#include "server/service/principal.h"

namespace cohorte::service {

// Creates the demo content as `admin`. Idempotent (request ids): running it
// twice writes it once.
absl::Status SeedDemo(CohortService& cohorts, const Principal& admin);

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_DEMO_H_
