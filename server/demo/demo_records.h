// File: server/demo/demo_records.h
//
// The demo's shared records: the minutes of the past common day (two
// versions), a teaching kit (a PDF) and the PETR's master plan, linked from
// the report that tells its two failures. Part of SeedDemo; not
// thread-safe (run once, on a new instance).
#ifndef COHORTE_SERVER_DEMO_DEMO_RECORDS_H_
#define COHORTE_SERVER_DEMO_DEMO_RECORDS_H_

#include "absl/status/status.h"
#include "server/service/access/principal.h"
#include "server/service/services.h"

namespace cohorte::demo {

// REQUIRES: the demo's cohort, members, the session `journee-commune-1`
// and the report `master-plan-deux-echecs` exist; `coordinator` is
// claire-martin, `agent` thomas-petit (an author of that report).
absl::Status AddDemoRecords(service::Services& services,
                            const service::Principal& coordinator,
                            const service::Principal& agent);

}  // namespace cohorte::demo

#endif  // COHORTE_SERVER_DEMO_DEMO_RECORDS_H_
