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
#include "server/service/inbox/fan_out.h"
#include "server/service/inbox/inbox.h"
#include "server/service/records/record_service.h"
#include "server/service/replication/home_guard.h"
#include "server/service/replication/link_service.h"
#include "server/service/replication/replicator.h"
#include "server/service/sessions/session_service.h"
#include "server/service/structure/cohort_service.h"
#include "server/service/structure/group_service.h"
#include "server/service/structure/member_service.h"
#include "server/service/structure/territory_service.h"
#include "server/service/webhooks/dispatcher.h"
#include "server/service/webhooks/http_poster.h"
#include "server/service/webhooks/url_guard.h"
#include "server/service/webhooks/webhook_service.h"
#include "storage/store.h"

namespace cohorte::service {

// What cohorted's flags set; the defaults are the documented ones.
struct ServicesOptions {
  FeedOptions feed;
  WatchOptions watch;
  // May be null (backups not set up: AdminService says why).
  storage::Backups* backups = nullptr;
  std::string backups_unavailable = "backups are not set up on this instance";
  // Where webhooks may be sent (--webhook-allow; empty: nowhere).
  WebhookAllowList webhook_allow;
  DispatcherOptions webhook_dispatch;
  RecordLimits records;
  // What ListSnapshot says this instance is called (--instance-name).
  std::string instance_name;
  // How links reach their peers (the transport's gRPC client); null: links
  // can be managed but their workers fail UNAVAILABLE.
  PeerConnector peer_connector;
  ReplicationOptions replication;
};

struct Services {
  explicit Services(storage::Store* store, ServicesOptions options = {})
      : webhook_allow(std::move(options.webhook_allow)),
        home_guard_installed((InstallHomeGuard(store), true)),
        fan_out(store),
        cohorts(store),
        members(store, &fan_out),
        territories(store),
        groups(store),
        tokens(store),
        invitations(store, &fan_out),
        audit(store),
        exchanges(store),
        inbox(store),
        reports(store, &fan_out),
        sessions(store, &fan_out),
        moderation(store),
        records(store, options.records),
        changes(store, options.feed, options.instance_name),
        watches(&changes, options.watch),
        admin(store, options.backups, std::move(options.backups_unavailable)),
        webhooks(store, &webhook_allow),
        webhook_dispatcher(
            store,
            [this](const Principal& caller,
                   const v1::ListChangesRequest& request) {
              return changes.ListChanges(caller, request);
            },
            CurlPoster(&webhook_allow), options.webhook_dispatch),
        replicator(store, std::move(options.peer_connector),
                   std::move(options.replication)),
        links(store, &replicator) {
    records.SetContentFetcher([this](const v1::RecordVersion& version) {
      return replicator.FetchContent(version);
    });
  }
  Services(const Services&) = delete;
  Services& operator=(const Services&) = delete;

  // Declared first: the webhook service borrows it.
  const WebhookAllowList webhook_allow;
  // Every mutation of the store goes through the home guard (replicas are
  // written by their links only): installed before any service exists.
  const bool home_guard_installed;
  // Delivers cohort-wide notifications after their mutation (members,
  // invitations, reports and sessions set its audiences); cohorted resumes
  // what a stop left pending with fan_out.DeliverPending() at start-up.
  // Declared before the services that use it.
  NotificationFanOut fan_out;
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
  WebhookService webhooks;
  // Delivers webhooks from the change feed once started (Start(); cohorted
  // does, tests call RunOnce). Stopped before the store closes.
  WebhookDispatcher webhook_dispatcher;
  // Runs the links once started (Start(); cohorted does). Stopped before
  // the store closes.
  Replicator replicator;
  LinkService links;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_SERVICES_H_
