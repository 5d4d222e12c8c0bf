// File: tests/testing/services.h
//
// TestServices: a real store in a directory and every service over it (the
// same wiring as cohorted, service::Services), for service-layer tests.
// Not thread-safe to construct; the services are.
#ifndef COHORTE_TESTS_TESTING_SERVICES_H_
#define COHORTE_TESTS_TESTING_SERVICES_H_

#include <cstdlib>
#include <functional>
#include <memory>
#include <string>

#include "server/service/services.h"
#include "storage/backup.h"
#include "storage/store.h"

namespace cohorte::testing {

struct Services {
  // Opens (or creates) the store under `dir`/db and the backup directory
  // `dir`/backups; aborts the test binary if it cannot, since nothing else
  // could run.
  // `async_leader`: StoreOptions::async_leader (unset: none).
  explicit Services(
      const std::string& dir,
      std::function<void(std::function<void()>)> async_leader = nullptr)
      : store(Open(dir, std::move(async_leader))),
        backups(OpenBackups(dir)),
        all(std::make_unique<service::Services>(store.get(),
                                                Options(backups.get()))),
        cohorts(&all->cohorts),
        members(&all->members),
        territories(&all->territories),
        groups(&all->groups),
        tokens(&all->tokens),
        invitations(&all->invitations),
        audit(&all->audit),
        exchanges(&all->exchanges),
        inbox(&all->inbox),
        reports(&all->reports),
        sessions(&all->sessions),
        moderation(&all->moderation),
        referentiel(all->referentiel),
        webhooks(&all->webhooks) {}

  std::unique_ptr<storage::Store> store;
  std::unique_ptr<storage::Backups> backups;
  std::unique_ptr<service::Services> all;
  service::CohortService* cohorts;
  service::MemberService* members;
  service::TerritoryService* territories;
  service::GroupService* groups;
  service::TokenService* tokens;
  service::InvitationService* invitations;
  service::AuditService* audit;
  service::ExchangeService* exchanges;
  service::InboxService* inbox;
  service::ReportService* reports;
  service::SessionService* sessions;
  service::ModerationService* moderation;
  service::ReferentielService& referentiel;
  service::WebhookService* webhooks;

 private:
  // Backups in the test's directory; webhooks to loopback only.
  static service::ServicesOptions Options(storage::Backups* backups) {
    absl::StatusOr<service::WebhookAllowList> allow =
        service::WebhookAllowList::Parse({"127.0.0.0/8", "::1"});
    if (!allow.ok()) std::abort();
    service::ServicesOptions options;
    options.backups = backups;
    options.webhook_allow = *std::move(allow);
    return options;
  }
  static std::unique_ptr<storage::Store> Open(
      const std::string& dir,
      std::function<void(std::function<void()>)> async_leader) {
    storage::StoreOptions options;
    options.path = dir + "/db";
    options.async_leader = std::move(async_leader);
    absl::StatusOr<std::unique_ptr<storage::Store>> store =
        storage::Store::Open(options);
    if (!store.ok()) std::abort();
    return *std::move(store);
  }
  static std::unique_ptr<storage::Backups> OpenBackups(const std::string& dir) {
    absl::StatusOr<std::unique_ptr<storage::Backups>> backups =
        storage::Backups::Open({.dir = dir + "/backups", .keep = 3});
    if (!backups.ok()) std::abort();
    return *std::move(backups);
  }
};

}  // namespace cohorte::testing

#endif  // COHORTE_TESTS_TESTING_SERVICES_H_
