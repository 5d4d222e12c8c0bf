// File: tests/testing/services.h
//
// Services: a real store in a directory and every service over it, for
// service-layer tests. Not thread-safe to construct; the services are.
#ifndef COHORTE_TESTS_TESTING_SERVICES_H_
#define COHORTE_TESTS_TESTING_SERVICES_H_

#include <memory>
#include <string>

#include "server/service/audit.h"
#include "server/service/cohort_service.h"
#include "server/service/exchange_service.h"
#include "server/service/group_service.h"
#include "server/service/inbox.h"
#include "server/service/invitation_service.h"
#include "server/service/member_service.h"
#include "server/service/moderation_service.h"
#include "server/service/referentiel.h"
#include "server/service/report_service.h"
#include "server/service/session_service.h"
#include "server/service/territory_service.h"
#include "server/service/token_service.h"
#include "storage/store.h"

namespace cohorte::testing {

struct Services {
  // Opens (or creates) the store under `dir`/db; aborts the test binary if
  // it cannot, since nothing else could run.
  explicit Services(const std::string& dir)
      : store(Open(dir)),
        cohorts(std::make_unique<service::CohortService>(store.get())),
        members(std::make_unique<service::MemberService>(store.get())),
        territories(std::make_unique<service::TerritoryService>(store.get())),
        groups(std::make_unique<service::GroupService>(store.get())),
        tokens(std::make_unique<service::TokenService>(store.get())),
        invitations(std::make_unique<service::InvitationService>(store.get())),
        audit(std::make_unique<service::AuditService>(store.get())),
        exchanges(std::make_unique<service::ExchangeService>(store.get())),
        inbox(std::make_unique<service::InboxService>(store.get())),
        reports(std::make_unique<service::ReportService>(store.get())),
        sessions(std::make_unique<service::SessionService>(store.get())),
        moderation(std::make_unique<service::ModerationService>(store.get())) {}

  std::unique_ptr<storage::Store> store;
  std::unique_ptr<service::CohortService> cohorts;
  std::unique_ptr<service::MemberService> members;
  std::unique_ptr<service::TerritoryService> territories;
  std::unique_ptr<service::GroupService> groups;
  std::unique_ptr<service::TokenService> tokens;
  std::unique_ptr<service::InvitationService> invitations;
  std::unique_ptr<service::AuditService> audit;
  std::unique_ptr<service::ExchangeService> exchanges;
  std::unique_ptr<service::InboxService> inbox;
  std::unique_ptr<service::ReportService> reports;
  std::unique_ptr<service::SessionService> sessions;
  std::unique_ptr<service::ModerationService> moderation;
  service::ReferentielService referentiel;

 private:
  static std::unique_ptr<storage::Store> Open(const std::string& dir) {
    storage::StoreOptions options;
    options.path = dir + "/db";
    absl::StatusOr<std::unique_ptr<storage::Store>> store =
        storage::Store::Open(options);
    if (!store.ok()) std::abort();
    return *std::move(store);
  }
};

}  // namespace cohorte::testing

#endif  // COHORTE_TESTS_TESTING_SERVICES_H_
