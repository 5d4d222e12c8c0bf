// File: server/service/inbox/fan_out.h
//
// NotificationFanOut delivers the notifications whose audience is a whole
// cohort or college (a report published, a session opened, a member who
// joins a college group) outside the mutation that
// announces them, so that a cohort of thousands never holds the group
// commit, and every other writer, for the length of its fan-out.
//
// The announcing mutation records a job (Schedule, index 0x8D, in its own
// batch: durable with what it announces). DeliverPending then delivers
// every job in batches of members, each batch a mutation of its own that
// decides, inside its transaction, who may read the resource at that
// revision (the kind's Audience, through the read gate), writes their
// items and advances the job's cursor, all atomically: a restart resumes
// where the last batch ended, and no member gets an item twice.
//
//   NotificationFanOut fan_out(&store);
//   fan_out.SetAudience(v1::InboxItem::REPORT_PUBLISHED, ReportAudience);
//   ... in a mutation: COHORTE_RETURN_IF_ERROR(fan_out.Schedule(txn, item));
//   ... after its commit: fan_out.DeliverPending();
//
// Thread-safe once the audiences are set (before any DeliverPending):
// concurrent DeliverPending calls share the work through the store's
// commits. The Store must outlive it.
#ifndef COHORTE_SERVER_SERVICE_INBOX_FAN_OUT_H_
#define COHORTE_SERVER_SERVICE_INBOX_FAN_OUT_H_

#include <functional>
#include <map>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cohorte/v1/inbox.pb.h"
#include "cohorte/v1/members.pb.h"
#include "storage/store.h"

namespace cohorte::service {

class NotificationFanOut {
 public:
  // Who, of the instance's members, gets `item`, decided inside the batch's
  // transaction: a predicate true for a member who is in the audience and
  // may read item.resource() as the transaction stands. NOT_FOUND drops the
  // job (the resource is gone); another error stops the delivery (retried
  // by the next DeliverPending).
  using MemberFilter = std::function<bool(const v1::Member&)>;
  using Audience = std::function<absl::StatusOr<MemberFilter>(
      const storage::Txn&, const v1::InboxItem&)>;

  // The most members one batch looks at, and the most items it writes.
  static constexpr int kMembersPerBatch = 256;

  explicit NotificationFanOut(storage::Store* store) : store_(*store) {}
  NotificationFanOut(const NotificationFanOut&) = delete;
  NotificationFanOut& operator=(const NotificationFanOut&) = delete;

  // REQUIRES: called before any DeliverPending (at construction of the
  // services). Setting a kind again replaces its audience.
  void SetAudience(v1::InboxItem::Kind kind, Audience audience) {
    audiences_[kind] = std::move(audience);
  }

  // Inside a mutation: records that `item` (its kind set) is to be
  // delivered to its kind's audience after this mutation commits.
  static void Schedule(storage::Txn& txn, const v1::InboxItem& item);

  // Delivers every pending job, batch by batch, until none is left. OK
  // when none is; otherwise the error of the batch that failed (the job
  // stays, from its last committed batch on).
  absl::Status DeliverPending();

 private:
  // One batch of the first pending job. NOT_FOUND when no job is pending.
  absl::Status DeliverOneBatch();

  storage::Store& store_;
  std::map<v1::InboxItem::Kind, Audience> audiences_;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_INBOX_FAN_OUT_H_
