#include "server/service/inbox/fan_out.h"

#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cohorte/storage/v1/records.pb.h"
#include "server/service/inbox/inbox.h"
#include "storage/codec.h"
#include "storage/entity_types.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace cohorte::service {
namespace {

using storage::IndexKind;
using storage::Table;
using storage::Txn;

// The mutations that deliver are the server's own, as record GC's are.
constexpr char kActor[] = "cohorted";
constexpr char kMethod[] = "DeliverNotifications";

std::string JobPrefix() {
  return storage::IndexKey(IndexKind::kPendingFanOut, "");
}

}  // namespace

void NotificationFanOut::Schedule(Txn& txn, const v1::InboxItem& item) {
  storage::v1::FanOutJob job;
  *job.mutable_item() = item;
  txn.PutIndex(
      storage::IndexKey(IndexKind::kPendingFanOut,
                        absl::StrCat(storage::EncodeUint64BigEndian(
                                         static_cast<uint64_t>(txn.revision())),
                                     item.resource())),
      storage::EncodeValue(job));
}

absl::Status NotificationFanOut::DeliverPending() {
  while (true) {
    absl::Status batch = DeliverOneBatch();
    if (absl::IsNotFound(batch)) return absl::OkStatus();  // none left
    COHORTE_RETURN_IF_ERROR(batch);
  }
}

absl::Status NotificationFanOut::DeliverOneBatch() {
  bool pending = false;
  storage::Mutation m;
  m.actor = kActor;
  m.method = kMethod;
  m.apply = [&](Txn& txn) -> absl::StatusOr<std::string> {
    std::string job_key, job_value;
    const std::string prefix = JobPrefix();
    COHORTE_RETURN_IF_ERROR(txn.Scan(
        Table::kIndexes, prefix, [&](absl::string_view k, absl::string_view v) {
          job_key = std::string(k);
          job_value = std::string(v);
          return false;  // the oldest job only
        }));
    if (job_key.empty()) {
      // Nothing to write: rolled back, no revision used.
      return absl::NotFoundError("no notification is pending");
    }
    pending = true;
    storage::v1::FanOutJob job;
    COHORTE_RETURN_IF_ERROR(storage::DecodeValue(job_value, &job));
    const v1::InboxItem& item = job.item();
    auto audience = audiences_.find(item.kind());
    absl::StatusOr<MemberFilter> filter =
        audience == audiences_.end()
            ? absl::NotFoundError("no audience for this kind")
            : audience->second(txn, item);
    if (absl::IsNotFound(filter.status())) {
      txn.DeleteIndex(job_key);
      return std::string();
    }
    COHORTE_RETURN_IF_ERROR(filter.status());

    const std::string members =
        storage::CollectionPrefixOf<v1::Member>("", "members");
    const std::string after =
        job.after_member().empty()
            ? std::string()
            : storage::EntityKeyOf<v1::Member>(job.after_member());
    std::map<std::string, v1::InboxItem::Kind> recipients;
    std::string last;
    int seen = 0;
    bool more = false;
    absl::Status decode_error;
    COHORTE_RETURN_IF_ERROR(
        txn.Scan(Table::kEntities, members, after,
                 [&](absl::string_view, absl::string_view value) {
                   if (seen == kMembersPerBatch) {
                     more = true;
                     return false;
                   }
                   v1::Member member;
                   decode_error = storage::DecodeValue(value, &member);
                   if (!decode_error.ok()) return false;
                   ++seen;
                   last = member.name();
                   if ((*filter)(member))
                     recipients[member.name()] = item.kind();
                   return true;
                 }));
    COHORTE_RETURN_IF_ERROR(decode_error);
    COHORTE_RETURN_IF_ERROR(NotifyMembers(txn, recipients, item));
    if (more) {
      job.set_after_member(last);
      txn.PutIndex(job_key, storage::EncodeValue(job));
    } else {
      txn.DeleteIndex(job_key);
    }
    return std::string();
  };
  absl::Status committed = store_.Commit(std::move(m)).status();
  if (!pending && absl::IsNotFound(committed)) return committed;
  if (absl::IsNotFound(committed)) {
    // Never confuse another NOT_FOUND with "none left".
    return absl::InternalError(
        absl::StrCat("delivering notifications: ", committed.message()));
  }
  return committed;
}

}  // namespace cohorte::service
