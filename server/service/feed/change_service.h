// File: server/service/feed/change_service.h
//
// The change feed (proto/cohorte/v1/changes.proto): ListChanges, the cursor
// rules and the change log's retention. Every change is read through the
// read gate (Reader::ReadLog/PresentLog, access/feed.h), so a caller's feed
// holds only what they may read, shown as they may read it now. Watch's
// live fan-out is WatchHub (watch_hub.h), built on the same calls.
//
// Cursors: `{instance_id}.{epoch}.{revision}`. A cursor of another instance
// or epoch → FAILED_PRECONDITION (reason CURSOR_INSTANCE or CURSOR_EPOCH:
// relist); past the current revision or malformed → INVALID_ARGUMENT naming
// the field; below the retained log → OUT_OF_RANGE (reason
// CHANGES_COMPACTED, metadata `compacted_through`: relist).
//
// Retention: Compact drops the records older than FeedOptions'
// retention_age, or beyond its newest retention_count (whichever keeps
// less), in the background (StartCompaction), serialized with commits but
// one synced write per run.
//
// Thread-safe.
#ifndef COHORTE_SERVER_SERVICE_FEED_CHANGE_SERVICE_H_
#define COHORTE_SERVER_SERVICE_FEED_CHANGE_SERVICE_H_

#include <cstdint>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cohorte/v1/changes.pb.h"
#include "server/service/access/feed.h"
#include "server/service/access/principal.h"
#include "storage/store.h"

namespace cohorte::service {

struct FeedOptions {
  // Keep changes younger than this (0: no limit by age).
  absl::Duration retention_age = absl::Hours(24 * 30);
  // Keep at most this many newest changes (0: no limit by count).
  int64_t retention_count = 0;
  // How often the background compaction runs.
  absl::Duration compaction_interval = absl::Minutes(1);
};

class ChangeService {
 public:
  // `instance_name`: what ListSnapshot says this instance is called.
  ChangeService(storage::Store* store, FeedOptions options,
                std::string instance_name = "");
  ~ChangeService();  // stops the compaction thread
  ChangeService(const ChangeService&) = delete;
  ChangeService& operator=(const ChangeService&) = delete;

  // The visible changes after request.since for `caller`, one page (see
  // the file comment for cursor errors).
  absl::StatusOr<v1::ListChangesResponse> ListChanges(
      const Principal& caller, const v1::ListChangesRequest& request) const;

  // One page of the snapshot of request.filter's cohorts as `caller` may
  // read them (changes.proto, ListSnapshot). INVALID_ARGUMENT naming the
  // field for a filter without cohorts, a bad page size or token;
  // OUT_OF_RANGE (CHANGES_COMPACTED) once the changes since the token's
  // start are compacted.
  absl::StatusOr<v1::ListSnapshotResponse> ListSnapshot(
      const Principal& caller, const v1::ListSnapshotRequest& request) const;

  // The revision `since` names (field `field`), checked against this
  // instance; an empty `since` names `empty_revision`.
  absl::StatusOr<int64_t> ParseSince(absl::string_view field,
                                     absl::string_view since,
                                     int64_t empty_revision) const;
  // The filter, checked (fields under `field`, e.g. "filter").
  static absl::StatusOr<FeedFilter> ParseFilter(absl::string_view field,
                                                const v1::ChangeFilter& filter);
  // This instance's cursor at `revision`.
  v1::Cursor CursorAt(int64_t revision) const;
  // Fills the instance and epoch of each event's cursor (PresentLog set
  // their revisions).
  void CompleteCursors(
      google::protobuf::RepeatedPtrField<v1::ChangeEvent>* events) const;

  // One retention run at `now`: drops what the options say is old.
  absl::Status Compact(absl::Time now);
  // Runs Compact every compaction_interval on a thread until destruction.
  void StartCompaction();

  const storage::Store& store() const { return *store_; }

 private:
  storage::Store* const store_;
  const FeedOptions options_;
  const std::string instance_name_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread compactor_;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_FEED_CHANGE_SERVICE_H_
