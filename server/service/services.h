// File: server/service/services.h
//
// Services: every service of the service layer over one Store — the one
// place that wires store -> services. cohorted (server/main.cc), the demo
// and the tests all build this, and the transport adapts each member to
// gRPC (server/transport/services.h). Thread-safe once built; `store` must
// outlive it.
#ifndef COHORTE_SERVER_SERVICE_SERVICES_H_
#define COHORTE_SERVER_SERVICE_SERVICES_H_

#include <string>
#include <utility>

#include "server/service/admin/admin_service.h"
#include "server/service/audit/audit.h"
#include "server/service/content/exchange_service.h"
#include "server/service/content/moderation_service.h"
#include "server/service/content/referentiel.h"
#include "server/service/content/report_service.h"
#include "server/service/feed/change_service.h"
#include "server/service/feed/watch_hub.h"
#include "server/service/identity/invitation_service.h"
#include "server/service/identity/token_service.h"
#include "server/service/inbox/inbox.h"
#include "server/service/records/record_service.h"
#include "server/service/sessions/session_service.h"
#include "server/service/structure/cohort_service.h"
#include "server/service/structure/group_service.h"
#include "server/service/structure/member_service.h"
#include "server/service/structure/territory_service.h"
#include "storage/store.h"

namespace cohorte::service {

// What cohorted's flags set; the defaults are the documented ones.
struct ServicesOptions {
  FeedOptions feed;
  WatchOptions watch;
  // May be null (backups not set up: AdminService says why).
  storage::Backups* backups = nullptr;
  std::string backups_unavailable = "backups are not set up on this instance";
  RecordLimits records;
};

struct Services {
  explicit Services(storage::Store* store, ServicesOptions options = {})
      : cohorts(store),
        members(store),
        territories(store),
        groups(store),
        tokens(store),
        invitations(store),
        audit(store),
        exchanges(store),
        inbox(store),
        reports(store),
        sessions(store),
        moderation(store),
        records(store, options.records),
        changes(store, options.feed),
        watches(&changes, options.watch),
        admin(store, options.backups, std::move(options.backups_unavailable)) {}
  Services(const Services&) = delete;
  Services& operator=(const Services&) = delete;

  CohortService cohorts;
  MemberService members;
  TerritoryService territories;
  GroupService groups;
  TokenService tokens;
  InvitationService invitations;
  AuditService audit;
  ExchangeService exchanges;
  InboxService inbox;
  ReportService reports;
  SessionService sessions;
  ModerationService moderation;
  RecordService records;
  ReferentielService referentiel;
  ChangeService changes;
  // Its threads start with watches.Start(); cohorted calls
  // watches.Shutdown() before the gRPC server's.
  WatchHub watches;
  AdminService admin;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_SERVICES_H_
