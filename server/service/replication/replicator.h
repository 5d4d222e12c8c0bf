// File: server/service/replication/replicator.h
//
// Replicator: runs every link (links.proto) of this instance, one worker
// thread per link. A worker pulls its peer's change feed for the link's
// SERVICE token and applies it here, idempotently:
//
// - Without a cursor (a new link, or the peer restored — a new epoch — or
//   compacted past the cursor), it takes a snapshot: every page of the
//   peer's ListSnapshot for the followed cohorts, each page applied in one
//   mutation; then what it holds of those cohorts and did not see is
//   deleted, and the snapshot's cursor is stored with the last deletions.
//   A snapshot interrupted (a crash, an error) starts again from its
//   first page.
// - With a cursor, it follows the peer's Watch from it. Each response's
//   changes are applied in one mutation that also stores the response's
//   cursor (the same batch), so a crash never loses or repeats a change
//   applied, and applying a change twice changes nothing more.
// - A record version comes with its content: before the batch that stores
//   the version is committed, the content (if not stored here already) is
//   read from the peer's ReadRecordVersion, hashed and written durably to a
//   blob of its own (content_intake.h); the batch's mutation makes it the
//   stored content, deduplicated by SHA-256 with everything else here. A
//   content cut mid-way resumes from what was durably written.
//
// What it stores is checked here again, whatever the peer sends
// (ApplyChange): only the types a link follows, only under the followed
// cohorts, never a report or record of GROUP visibility or a draft; a
// followed cohort whose name is taken here (made here, or followed by
// another link) stops the link in ERROR (NAME_CONFLICT). Each refusal is
// logged (msg=replication_refused: the type, the cohort and why, never
// the resource's name, which a closed group may have chosen) and counted
// on the link.
//
// Faults (an unreachable peer, a revoked token, garbage, another instance
// than the one registered) put the link in ERROR with a reason and a
// message, and it is retried with exponential backoff; a change is applied
// whole or not at all.
//
// Thread-safe. Start once; Stop (or the destructor) before the Store goes.
#ifndef COHORTE_SERVER_SERVICE_REPLICATION_REPLICATOR_H_
#define COHORTE_SERVER_SERVICE_REPLICATION_REPLICATOR_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cohorte/storage/v1/records.pb.h"
#include "cohorte/v1/changes.pb.h"
#include "cohorte/v1/cohorts.pb.h"
#include "cohorte/v1/links.pb.h"
#include "server/service/records/content_intake.h"
#include "server/service/replication/peer.h"
#include "storage/store.h"

namespace cohorte::service {

struct ReplicationOptions {
  // Backoff after a failed attempt: doubles from min to max.
  absl::Duration min_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Minutes(2);
  // A link with nothing to apply stores its position (and lag) at most
  // this often.
  absl::Duration idle_persist_interval = absl::Seconds(5);
  // Events asked per snapshot page.
  int snapshot_page_size = 1000;
  // Where the workers log (logfmt fields: "msg=... link=..."); null:
  // standard error.
  std::function<void(absl::string_view level, absl::string_view fields)> log;
};

// The resource types a link follows (full names), in the order a snapshot
// lists them.
const std::vector<std::string>& ReplicatedTypes();

// Whether the copies of home `home` may be taken over by `link`: kept by
// a link since deleted, of the same instance (or `link` has not met its
// peer yet).
absl::StatusOr<bool> Adoptable(const storage::View& view, const v1::Home& home,
                               const v1::Link& link);

// The `home.link` of a cohort imported from a bundle (ImportCohort): no
// link's name, so a later link to the same instance adopts the copy as it
// adopts a kept one.
inline constexpr absl::string_view kImportedLink = "imported";

// Inside a replicated mutation: deletes every resource under `cohort` (not
// the cohort itself) whose name `seen` lacks; adds their number to
// `*deleted`.
absl::Status DeleteUnseen(storage::Txn& txn, absl::string_view cohort,
                          const std::set<std::string>& seen, int64_t* deleted);

// Deletes, inside a replicated mutation, the copy of `cohort` and every
// resource under it; adds their number to `*deleted`.
absl::Status DeleteReplica(storage::Txn& txn, absl::string_view cohort,
                           int64_t* deleted);

// What ApplyChange did.
struct ApplyCounts {
  int64_t applied = 0;
  int64_t refused = 0;
};

// No contents received (see ApplyChange).
const IncomingContents& NoIncomingContents();

// Inside a replicated mutation: applies `event` of link `link` (as stored
// in `txn`) to the store, or refuses it (see the file comment). `seen`, if
// not null, gets the name of each resource a snapshot delivered. A record
// version stored refers to its content: the one stored here, or the one
// received in `incoming` (content_intake.h); a deleted version, record or
// cohort releases the contents of its versions.
// FAILED_PRECONDITION (NAME_CONFLICT) for a followed cohort taken here;
// INVALID_ARGUMENT (reason PEER_PROTOCOL) for an event that does not
// decode or names another resource than it holds. A version whose content
// is neither stored nor in `incoming` is refused (not stored).
absl::Status ApplyChange(
    storage::Txn& txn, const storage::v1::LinkRecord& link,
    const v1::ChangeEvent& event, ApplyCounts* counts,
    std::set<std::string>* seen,
    const std::function<void(absl::string_view)>& refuse,
    const IncomingContents& incoming = NoIncomingContents());

class Replicator {
 public:
  Replicator(storage::Store* store, PeerConnector connect,
             ReplicationOptions options = {});
  ~Replicator();
  Replicator(const Replicator&) = delete;
  Replicator& operator=(const Replicator&) = delete;

  // Starts a worker for every stored link.
  absl::Status Start();
  // Cancels every worker's call and waits for them to end.
  void Stop();
  // After a commit that created, paused, resumed or deleted `link`: starts
  // its worker, wakes it, or ends it (once started).
  void Reconcile(absl::string_view link);

  // A first download of replicated version `version` whose content is
  // still at its home (a LAZY link): reads it from the peer of the link
  // that follows its cohort, checks it, and makes it the stored content.
  // OK if there was nothing to copy. UNAVAILABLE (reason CONTENT_AT_HOME)
  // if the link is gone or paused, or the peer cannot give it or gives
  // other bytes (logged). Blocks for the copy; callable from any thread.
  absl::Status FetchContent(const v1::RecordVersion& version);

 private:
  struct Worker;

  void Run(Worker* w);
  absl::Status Attempt(Worker* w, const storage::v1::LinkRecord& link);
  absl::Status Snapshot(Worker* w, PeerFeed& peer,
                        const storage::v1::LinkRecord& link);
  absl::Status Follow(Worker* w, PeerFeed& peer,
                      const storage::v1::LinkRecord& link);
  absl::Status CheckPeer(PeerFeed& peer, const storage::v1::LinkRecord& link);
  // Marks as garbage the contents `w` kept partly received (its end).
  void SettlePartial(Worker* w);
  // The contents of the record versions `events` would store and this
  // instance lacks, received from `peer` (content_intake.h): what to pass
  // to ApplyChange, then to intake_.Settle once the batch's mutation ran.
  // A content the peer does not serve (NOT_FOUND, PERMISSION_DENIED: the
  // version went meanwhile) is left out, and its version refused. On an
  // error, what was begun is settled before returning.
  // A content cut mid-way (the peer went, the store failed) is kept by the
  // worker, rewound to what its blob durably holds, and the next attempt
  // asks the peer for the rest only.
  absl::StatusOr<IncomingContents> Receive(
      Worker* w, PeerFeed& peer, const storage::v1::LinkRecord& link,
      const google::protobuf::RepeatedPtrField<v1::ChangeEvent>& events);
  // One replicated mutation on link `name`: `apply` runs with the link as
  // stored, then the link is saved. ABORTED (reason LINK_STOPPED) if the
  // link was deleted or paused meanwhile.
  absl::Status CommitOnLink(
      absl::string_view name,
      const std::function<absl::Status(storage::Txn&,
                                       storage::v1::LinkRecord&)>& apply);
  absl::Status RecordError(absl::string_view name, absl::string_view reason,
                           absl::string_view message, absl::Time retry_at);
  absl::StatusOr<storage::v1::LinkRecord> Load(absl::string_view name) const;
  void Log(absl::string_view level, absl::string_view fields) const;
  void StartWorker(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  storage::Store* const store_;
  const PeerConnector connect_;
  const ReplicationOptions options_;
  ContentIntake intake_;

  absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, std::unique_ptr<Worker>> workers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_REPLICATION_REPLICATOR_H_
