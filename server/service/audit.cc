#include "server/service/audit.h"

#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cohorte/v1/groups.pb.h"
#include "cohorte/v1/members.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/service/entities.h"
#include "server/service/errors.h"
#include "server/service/pagination.h"
#include "server/service/policy.h"
#include "server/service/validation.h"
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

// `any` as `caller` may see it: the read rules of its resource type.
void Redact(const Principal& caller, google::protobuf::Any* any) {
  if (any->Is<v1::PeerGroup>()) {
    v1::PeerGroup group;
    if (any->UnpackTo(&group)) any->PackFrom(RedactGroup(caller, group));
  } else if (any->Is<v1::Member>()) {
    v1::Member member;
    if (any->UnpackTo(&member)) any->PackFrom(RedactMember(caller, member));
  }
}

v1::AuditEvent RedactEvent(const Principal& caller, v1::AuditEvent event) {
  for (v1::AuditEvent::ResourceChange& change : *event.mutable_changes()) {
    if (change.has_before()) Redact(caller, change.mutable_before());
    if (change.has_after()) Redact(caller, change.mutable_after());
  }
  return event;
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

void AuditLog::Write(storage::Txn& txn) {
  event_.set_name(EventName(txn.revision()));
  event_.set_revision(txn.revision());
  *event_.mutable_time() = ToTimestamp(txn.commit_time());
  for (const std::string& c : cohorts_) event_.add_cohorts(c);
  txn.PutProto(Table::kEntities,
               storage::EntityKey(EntityKind::kAuditEvent, event_.name()),
               event_);
  for (const std::string& c : cohorts_) {
    txn.Put(Table::kIndexes, storage::AuditByCohortKey(c, txn.revision()),
            event_.name());
  }
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
  if (req.parent().empty()) {
    COHORTE_ASSIGN_OR_RETURN(
        *response.mutable_next_page_token(),
        ScanPage<v1::AuditEvent>(
            store_,
            storage::CollectionPrefix(EntityKind::kAuditEvent, "",
                                      "auditEvents"),
            page,
            [&](v1::AuditEvent& e) {
              e = RedactEvent(caller, std::move(e));
              return true;
            },
            response.mutable_events()));
    return response;
  }
  // A cohort's events, through its index.
  std::string last_key;
  bool more = false;
  absl::Status read_error;
  COHORTE_RETURN_IF_ERROR(store_.Scan(
      Table::kIndexes, storage::AuditByCohortPrefix(req.parent()), page.after,
      [&](absl::string_view key, absl::string_view event_name) {
        if (response.events_size() == page.size) {
          more = true;
          return false;
        }
        v1::AuditEvent event;
        read_error = store_.GetProto(
            Table::kEntities,
            storage::EntityKey(EntityKind::kAuditEvent, event_name), &event);
        if (!read_error.ok()) return false;
        *response.add_events() = RedactEvent(caller, std::move(event));
        last_key = std::string(key);
        return true;
      }));
  if (!read_error.ok()) {
    return absl::DataLossError(absl::StrCat(
        "an audit index entry has no event: ", read_error.message()));
  }
  if (more) {
    response.set_next_page_token(EncodePageToken(page.query, last_key));
  }
  return response;
}

}  // namespace cohorte::service
