// File: server/service/webhooks/dispatcher.h
//
// WebhookDispatcher delivers webhooks: one background thread per server
// (not one per webhook) that, for each ACTIVE webhook, pulls the change
// feed as the webhook's SERVICE token may read it (a FeedSource: the
// change service's ListChanges, never the store), from the webhook's
// persisted cursor, and POSTs each event, in revision order, as the JSON
// of its cohorte.v1.ChangeEvent, with the headers
//   Content-Type: application/json
//   Cohorte-Delivery: <revision>          (the idempotency key)
//   Cohorte-Signature: t=<unix>,v1=<hex>  (signature.h)
// Delivery is at least once: the cursor moves on (a write through
// Store::Commit, with the attempt's delivery-log entry) only after the
// receiver answered 2xx, so a crash between the POST and that write sends
// the event again. A failure stops the webhook where it is and retries the
// same position after 1 s, doubling up to 10 min (limits.h); every attempt
// is in the delivery log (the last kMaxWebhookDeliveriesKept). A webhook
// failing for `pause_after` (24 h by default) is paused and its creator
// told in their inbox; so is one whose token was revoked, expired or
// deleted, or whose cursor the feed refuses (another epoch, compacted).
//
// A slow receiver delays the others (one thread, short timeouts: 3 s to
// connect, 10 s in all).
//
// Thread-safety: Start/Stop from one thread; RunOnce must not run
// concurrently with the background thread (tests call it without Start).
// The store must outlive the dispatcher.
#ifndef COHORTE_SERVER_SERVICE_WEBHOOKS_DISPATCHER_H_
#define COHORTE_SERVER_SERVICE_WEBHOOKS_DISPATCHER_H_

#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cohorte/storage/v1/records.pb.h"
#include "cohorte/v1/changes.pb.h"
#include "server/service/access/principal.h"
#include "server/service/core/limits.h"
#include "server/service/webhooks/http_poster.h"
#include "storage/store.h"

namespace cohorte::service {

// One page of `caller`'s change feed (ChangeService::ListChanges).
using FeedSource = std::function<absl::StatusOr<v1::ListChangesResponse>(
    const Principal& caller, const v1::ListChangesRequest& request)>;

struct DispatcherOptions {
  // A webhook failing this long is paused (--webhook-pause-after).
  absl::Duration pause_after = absl::Seconds(kWebhookPauseAfterSeconds);
  // The thread wakes at each commit, and at least this often (retries
  // coming due); it re-reads the webhooks at most this often.
  absl::Duration poll_interval = absl::Milliseconds(100);
  // The clock (tests pass their own).
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

// The wait before retrying after `failures` failed attempts in a row
// (>= 1): 1 s, 2 s, 4 s… at most 10 min.
absl::Duration WebhookBackoff(int failures);

class WebhookDispatcher {
 public:
  WebhookDispatcher(storage::Store* store, FeedSource feed, HttpPoster poster,
                    DispatcherOptions options = {});
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;
  // Stops the thread if it runs.
  ~WebhookDispatcher();

  // Starts the background thread.
  void Start();
  // Stops it after its current POST; idempotent.
  void Stop();

  // One pass over the webhooks: each ACTIVE one whose next attempt is due
  // pulls one page of its feed and POSTs its events until the first
  // failure. Returns how many POSTs were made; an error if the store
  // failed (the pass stops there; the next one starts again).
  absl::StatusOr<int> RunOnce();

 private:
  struct Target {
    storage::v1::WebhookRecord record;
    // False if the token is revoked, expired, deleted or not SERVICE.
    bool token_ok = false;
    Principal principal;
  };

  // Every ACTIVE webhook, with its secret and its token's principal, read
  // in a mutation that writes nothing.
  absl::StatusOr<std::vector<Target>> LoadTargets();
  // One step of `target` (see RunOnce).
  absl::Status Step(Target& target, int* posts);
  // Commits one attempt at `event` (success or not) to the delivery log
  // and the webhook; `*stop` if the webhook went away or was paused.
  absl::Status RecordAttempt(Target& target, const v1::ChangeEvent& event,
                             const HttpOutcome& outcome, absl::Time at,
                             bool* stop);
  // Saves `reached` (a position up to which the webhook has nothing to
  // deliver) as its cursor if it is far ahead of the saved one.
  absl::Status MaybeSaveCursor(Target& target, const std::string& reached);
  // Saves `reached` as the webhook's cursor.
  absl::Status SaveCursor(Target& target, const std::string& reached);
  // Pauses the webhook for `reason` and tells its creator.
  absl::Status Pause(const Target& target, const std::string& reason);
  void Loop();

  storage::Store& store_;
  const FeedSource feed_;
  const HttpPoster poster_;
  const DispatcherOptions options_;

  // Touched by RunOnce only (one caller at a time): the webhooks as last
  // loaded, the revision they were loaded at, and the feed position each
  // reached with nothing left to deliver (saved only now and then: a
  // restart pulls again from the saved cursor and skips the same invisible
  // changes).
  std::vector<Target> targets_;
  int64_t loaded_revision_ = -1;
  absl::Time loaded_at_ = absl::InfinitePast();    // by options_.now
  absl::Time loaded_real_ = absl::InfinitePast();  // by the real clock
  std::map<std::string, std::string> reached_;
  // When each webhook's cursor was last saved, or first seen.
  std::map<std::string, absl::Time> cursor_known_since_;

  // State below is protected by mu_.
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_WEBHOOKS_DISPATCHER_H_
