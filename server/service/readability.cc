// MayReadResource (inbox.h): whether a caller may read, now, the resource
// an inbox item points to, by the rules of its own service.
#include "absl/strings/str_cat.h"
#include "cohorte/v1/exchanges.pb.h"
#include "server/service/entities.h"
#include "server/service/errors.h"
#include "server/service/group_service.h"
#include "server/service/inbox.h"
#include "server/service/report_service.h"
#include "server/service/session_service.h"
#include "server/service/validation.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace cohorte::service {

absl::Status MayReadResource(const storage::Store& store,
                             const Principal& caller,
                             absl::string_view resource) {
  absl::StatusOr<std::string> exchange = ParseNestedName(
      "resource", resource, {"cohorts", "groups", "exchanges", "messages"});
  if (exchange.ok()) {
    const std::string group =
        exchange->substr(0, exchange->find("/exchanges/"));
    COHORTE_RETURN_IF_ERROR(LoadGroupForContent(store, caller, group).status());
    return ReadEntity<v1::Message>(store, storage::EntityKind::kMessage,
                                   resource)
        .status();
  }
  absl::StatusOr<std::string> group =
      ParseNestedName("resource", resource, {"cohorts", "groups", "exchanges"});
  if (group.ok()) {
    return LoadGroupForContent(store, caller, *group).status();
  }
  if (ParseCohortChildName("resource", resource, "reports").ok()) {
    COHORTE_ASSIGN_OR_RETURN(
        v1::ExperienceReport report,
        ReadEntity<v1::ExperienceReport>(store, storage::EntityKind::kReport,
                                         resource));
    return AuthorizeReportRead(store, caller, report);
  }
  if (ParseCohortChildName("resource", resource, "sessions").ok()) {
    COHORTE_RETURN_IF_ERROR(AuthorizeSessionRead(caller, resource));
    return ReadEntity<v1::Session>(store, storage::EntityKind::kSession,
                                   resource)
        .status();
  }
  return ErrorWithReason(absl::StatusCode::kPermissionDenied,
                         kReasonPermissionDenied,
                         absl::StrCat("the caller may not read ", resource));
}

}  // namespace cohorte::service
