#include "server/service/replication/home_guard.h"

#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cohorte/v1/members.pb.h"
#include "server/service/access/policy.h"
#include "server/service/access/principal.h"
#include "server/service/core/errors.h"

namespace cohorte::service {

absl::StatusOr<v1::Home> HomeOfCohort(const storage::View& view,
                                      absl::string_view cohort) {
  v1::Cohort c;
  absl::Status s = view.GetEntity<v1::Cohort>(cohort, &c);
  if (!s.ok()) return s;
  return c.home();
}

absl::Status ReplicaReadOnly(absl::string_view name, const v1::Home& home) {
  const std::string& who =
      home.instance_name().empty() ? home.instance_id() : home.instance_name();
  return ErrorWithReason(
      absl::StatusCode::kFailedPrecondition, kReasonReplicaReadOnly,
      absl::StrCat(name.substr(0, 300), " is a replica: its home is instance '",
                   who, "' (", home.instance_id(),
                   "), which alone accepts writes to it"),
      {{"home_instance_id", home.instance_id()},
       {"home_instance_name", home.instance_name()}});
}

namespace {

// REPLICA_READ_ONLY if `cohort` is a replica as `txn` sees it.
absl::Status RefuseReplica(const storage::View& txn, absl::string_view cohort,
                           absl::string_view name) {
  absl::StatusOr<v1::Home> home = HomeOfCohort(txn, cohort);
  if (absl::IsNotFound(home.status())) return absl::OkStatus();
  if (!home.ok()) return home.status();
  if (home->instance_id().empty()) return absl::OkStatus();
  return ReplicaReadOnly(name, *home);
}

}  // namespace

absl::Status CheckHomeWrite(const storage::View& txn, storage::EntityKind kind,
                            absl::string_view name,
                            const google::protobuf::Message* entity) {
  if (kind == storage::EntityKind::kMember && entity != nullptr) {
    // A delegation to a replica would make its holder a participant of a
    // cohort whose participants are its home's.
    const auto* member = static_cast<const v1::Member*>(entity);
    for (const std::string& cohort : CohortsOfMember(*member)) {
      if (absl::Status s = RefuseReplica(txn, cohort, cohort); !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }
  const absl::string_view cohort = CohortOf(name);
  if (cohort.empty()) return absl::OkStatus();
  if (absl::Status s = RefuseReplica(txn, cohort, name); !s.ok()) return s;
  if (kind == storage::EntityKind::kCohort && entity != nullptr &&
      static_cast<const v1::Cohort*>(entity)->has_home()) {
    // Only a link makes a replica.
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition, kReasonReplicaReadOnly,
        absl::StrCat(name.substr(0, 300), ": only a link makes a replica"));
  }
  return absl::OkStatus();
}

void InstallHomeGuard(storage::Store* store) {
  store->SetWriteGuard(&CheckHomeWrite);
}

}  // namespace cohorte::service
