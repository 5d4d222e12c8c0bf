#include "server/service/audit/audit.h"

#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cohorte/v1/groups.pb.h"
#include "cohorte/v1/members.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/service/access/policy.h"
#include "server/service/access/reader.h"
#include "server/service/core/entities.h"
#include "server/service/core/errors.h"
#include "server/service/core/pagination.h"
#include "server/service/core/validation.h"
#include "storage/codec.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace cohorte::service {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using storage::EntityKind;
using storage::Table;

bool IsMetadataField(const FieldDescriptor* f) {
  const std::string& n = f->name();
  return n == "name" || n == "create_time" || n == "update_time" || n == "etag";
}

std::string EventName(int64_t revision) {
  return absl::StrFormat("auditEvents/%020d", revision);
}

}  // namespace

std::vector<std::string> ChangedFields(const Message* before,
                                       const Message* after) {
  std::vector<std::string> changed;
  const Message* any = before != nullptr ? before : after;
  if (any == nullptr) return changed;
  const google::protobuf::Descriptor* d = any->GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (IsMetadataField(f)) continue;
    bool differs;
    if (before == nullptr || after == nullptr) {
      const Message& m = before != nullptr ? *before : *after;
      const auto* r = m.GetReflection();
      differs = f->is_repeated() ? r->FieldSize(m, f) > 0 : r->HasField(m, f);
    } else {
      google::protobuf::util::MessageDifferencer differ;
      std::vector<const FieldDescriptor*> fields = {f};
      differs = !differ.CompareWithFields(*before, *after, fields, fields);
    }
    if (differs) changed.push_back(f->name());
  }
  return changed;
}

AuditLog::AuditLog(absl::string_view actor, absl::string_view method) {
  event_.set_actor(std::string(actor));
  event_.set_method(std::string(method));
}

void AuditLog::Change(absl::string_view resource, const Message* before,
                      const Message* after) {
  v1::AuditEvent::ResourceChange* change = event_.add_changes();
  change->set_resource(std::string(resource));
  if (before != nullptr) change->mutable_before()->PackFrom(*before);
  if (after != nullptr) change->mutable_after()->PackFrom(*after);
  for (std::string& f : ChangedFields(before, after)) {
    change->add_changed_fields(std::move(f));
  }
}

void AuditLog::Touch(absl::string_view cohort) {
  if (!cohort.empty()) cohorts_.insert(std::string(cohort));
}

absl::Status AuditLog::Write(storage::Txn& txn) {
  // Events are numbered in their own sequence, so that their names say
  // nothing of the writes the log does not record.
  COHORTE_ASSIGN_OR_RETURN(
      int64_t seq,
      NextSequence(
          txn, storage::CollectionPrefixOf<v1::AuditEvent>("", "auditEvents"),
          ""));
  event_.set_name(EventName(seq));
  event_.set_revision(txn.revision());
  *event_.mutable_time() = ToTimestamp(txn.commit_time());
  for (const std::string& c : cohorts_) event_.add_cohorts(c);
  txn.PutEntity(event_);
  for (const std::string& c : cohorts_) {
    txn.PutIndex(storage::AuditByCohortKey(c, seq), event_.name());
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ListAuditEventsResponse> AuditService::ListAuditEvents(
    const Principal& caller, const v1::ListAuditEventsRequest& req) {
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kAuditLog, Action::kRead,
                                    CohortScope(req.parent())));
  if (!req.parent().empty()) {
    COHORTE_RETURN_IF_ERROR(
        ParseTopLevelName("parent", req.parent(), "cohorts").status());
  }
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  v1::ListAuditEventsResponse response;
  const Reader reader(store_, caller);
  if (req.parent().empty()) {
    COHORTE_ASSIGN_OR_RETURN(
        *response.mutable_next_page_token(),
        reader.List<v1::AuditEvent>(
            storage::CollectionPrefixOf<v1::AuditEvent>("", "auditEvents"),
            page, [](v1::AuditEvent&) { return true; },
            response.mutable_events()));
    return response;
  }
  // A cohort's events, through its index, each through the event rule.
  COHORTE_ASSIGN_OR_RETURN(*response.mutable_next_page_token(),
                           reader.ListIndexed<v1::AuditEvent>(
                               storage::AuditByCohortPrefix(req.parent()), page,
                               response.mutable_events()));
  return response;
}

}  // namespace cohorte::service
