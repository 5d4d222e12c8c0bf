// File: server/service/replication/home_guard.h
//
// The home rule of replicated resources (links.proto): a cohort followed
// from another instance, and everything under its name, is written here
// only by its link (storage::Mutation::replicated); any other mutation that
// touches it fails with FAILED_PRECONDITION, reason REPLICA_READ_ONLY,
// naming the home instance. Nobody here can be delegated to a replicated
// cohort (a member's delegation naming one is refused the same way), so a
// replica has no participants here.
//
// The rule is a storage::WriteGuard: installed on the Store once
// (InstallHomeGuard, done by service::Services), it runs on every entity
// write of every mutation, so no service can forget it.
//
// Thread-safe (pure functions of the transaction they are given).
#ifndef COHORTE_SERVER_SERVICE_REPLICATION_HOME_GUARD_H_
#define COHORTE_SERVER_SERVICE_REPLICATION_HOME_GUARD_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cohorte/v1/cohorts.pb.h"
#include "google/protobuf/message.h"
#include "storage/store.h"

namespace cohorte::service {

// The home of the cohort `cohort` (`cohorts/{c}`) as `view` sees it: set
// if it is a replica, empty if it is this instance's own, NOT_FOUND if it
// does not exist.
absl::StatusOr<v1::Home> HomeOfCohort(const storage::View& view,
                                      absl::string_view cohort);

// FAILED_PRECONDITION (REPLICA_READ_ONLY) naming `home`, for a write to
// `name`.
absl::Status ReplicaReadOnly(absl::string_view name, const v1::Home& home);

// The guard: OK unless the write touches a replica (see the file comment).
absl::Status CheckHomeWrite(const storage::View& txn, storage::EntityKind kind,
                            absl::string_view name,
                            const google::protobuf::Message* entity);

// Installs CheckHomeWrite as `store`'s write guard.
void InstallHomeGuard(storage::Store* store);

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_REPLICATION_HOME_GUARD_H_
