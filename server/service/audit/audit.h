// File: server/service/audit/audit.h
//
// The audit log: every change to members, roles, groups, tokens and
// invitations is recorded, inside the mutation that makes it (same batch,
// same revision), as a cohorte.v1.AuditEvent with who, when, which RPC, and
// each resource before and after. AuditService reads it back for the
// administrator (everything) and a cohort's coordinators (the events that
// touch their cohort), redacting each resource by its own read rules.
//
// Thread-safe: AuditLog is a value built inside one mutation; AuditService
// holds only a borrowed Store, which must outlive it.
#ifndef COHORTE_SERVER_SERVICE_AUDIT_AUDIT_H_
#define COHORTE_SERVER_SERVICE_AUDIT_AUDIT_H_

#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cohorte/v1/audit.pb.h"
#include "google/protobuf/message.h"
#include "server/service/access/principal.h"
#include "storage/store.h"

namespace cohorte::service {

// One audit event under construction. Usage, inside Mutation::apply:
//
//   AuditLog audit(caller.actor(), "SetGroupMembers");
//   audit.Change(group.name(), &before, &after);
//   audit.Touch(cohort);
//   COHORTE_RETURN_IF_ERROR(audit.Write(txn));
class AuditLog {
 public:
  AuditLog(absl::string_view actor, absl::string_view method);

  // Records `resource` changing from `before` to `after` (either may be
  // null: created, deleted). The messages are copied.
  void Change(absl::string_view resource,
              const google::protobuf::Message* before,
              const google::protobuf::Message* after);
  // Marks the event as touching `cohort` (`cohorts/{c}`): its coordinators
  // may read it. Empty names are ignored.
  void Touch(absl::string_view cohort);

  // Writes the event (named by the audit log's own sequence, recording the
  // mutation's revision) and indexes it under every touched cohort.
  absl::Status Write(storage::Txn& txn);

 private:
  v1::AuditEvent event_;
  std::set<std::string> cohorts_;
};

// The top-level fields whose values differ between two messages of the
// same type (a null one differs in every set field of the other), leaving
// out name, create_time, update_time and etag. In field-number order.
std::vector<std::string> ChangedFields(const google::protobuf::Message* before,
                                       const google::protobuf::Message* after);

class AuditService {
 public:
  explicit AuditService(storage::Store* store) : store_(*store) {}
  AuditService(const AuditService&) = delete;
  AuditService& operator=(const AuditService&) = delete;

  // Oldest first. `parent` "" is the whole instance (administrator only);
  // `cohorts/{c}` is what touches that cohort (administrator and its
  // coordinators). PERMISSION_DENIED otherwise, whether or not the cohort
  // exists. Each resource in an event is shown as its read rules allow the
  // caller: a group's member list only to its members (so never to a
  // reader who is not in the group), an e-mail only to those who may read
  // it; `changed_fields` is always complete.
  absl::StatusOr<v1::ListAuditEventsResponse> ListAuditEvents(
      const Principal& caller, const v1::ListAuditEventsRequest& req);

 private:
  storage::Store& store_;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_AUDIT_AUDIT_H_
