// File: server/service/feed/watch_hub.h
//
// WatchHub: the live side of the change feed (ChangeService.Watch). One
// thread reads each new change-log record once, into a shared ring of
// slices, and presents it to every watcher through the read gate with that
// watcher's own Principal (Reader::PresentLog): many watchers share one
// reader of the log, never one scan each, and writers never wait for
// watchers (the hub only reads committed state).
//
// Watchers whose callers have the same rights and the same filter, at the
// same position, share one presentation per round (an integration's many
// streams, a group's members who all follow it).
//
// Bounds: a watcher has at most one response in flight (at most
// kMaxWatchEventsPerResponse events). A watcher that does not read while
// the instance moves more than WatchOptions::max_lag revisions past what it
// was sent is ended with RESOURCE_EXHAUSTED (reason WATCHER_TOO_SLOW,
// metadata `cursor`: resume from there); the ring holds at most
// ring_bytes of log. A watcher resuming from an older cursor catches up from
// the store, a page at a time, then joins the ring.
//
// Progress: a watcher sent nothing for progress_interval gets a response
// with no events and its cursor at the current revision.
//
// The transport implements Sink for each Watch call. The hub calls a sink's
// Send and Finish from its own thread, never while holding its lock, and
// never after Finish; the transport reports each write's completion
// (WriteDone) and a cancellation (Cancel).
//
// Thread-safe.
#ifndef COHORTE_SERVER_SERVICE_FEED_WATCH_HUB_H_
#define COHORTE_SERVER_SERVICE_FEED_WATCH_HUB_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cohorte/v1/changes.pb.h"
#include "server/service/access/feed.h"
#include "server/service/access/principal.h"
#include "server/service/feed/change_service.h"

namespace cohorte::service {

struct WatchOptions {
  absl::Duration progress_interval = absl::Seconds(10);
  // Revisions a watcher may lag behind while not reading.
  int64_t max_lag = 10000;
  // Log held in memory for live watchers.
  size_t ring_bytes = 64 << 20;
};

class WatchHub {
 public:
  // One Watch call's stream, implemented by the transport.
  class Sink {
   public:
    virtual ~Sink() = default;
    // Gives the sink its id (for WriteDone and Cancel), inside Add, before
    // any Send.
    virtual void Bind(int64_t id) = 0;
    // Starts writing `response` (valid until WriteDone is reported).
    virtual void Send(const v1::WatchResponse* response) = 0;
    // Ends the call. Called once, last.
    virtual void Finish(const absl::Status& status) = 0;
  };

  WatchHub(const ChangeService* feed, WatchOptions options);
  // Finishes every watcher (UNAVAILABLE) and stops the threads.
  ~WatchHub();
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // Starts the threads.
  void Start();

  // Registers a Watch call; returns its id, or the request's error (then
  // nothing is registered and the transport finishes the call with it).
  absl::StatusOr<int64_t> Add(const Principal& caller,
                              const v1::WatchRequest& request, Sink* sink);
  // The write started by Send completed (`ok` false: the stream broke).
  void WriteDone(int64_t id, bool ok);
  // The call was cancelled: the hub finishes it (once no write is in
  // flight).
  void Cancel(int64_t id);
  // Finishes every watcher with UNAVAILABLE and refuses new ones; for the
  // server's shutdown, before it waits for calls to end.
  void Shutdown();

  // Watchers registered now (for tests and the health of the fan-out).
  int watchers() const;
  // Waits until the hub has gone through `revision` (read it into its ring,
  // or passed it with nobody watching), or `deadline`; returns whether it
  // has. For tests.
  bool WaitForHubThrough(int64_t revision, absl::Time deadline) const;

 private:
  struct Watcher {
    int64_t id = 0;
    // Re-read before each presentation (Reader::CurrentCaller): a member
    // who left a group stops receiving it; a revoked token ends the watch.
    Principal caller;
    absl::Time authenticated_at;
    // Re-read when a member or a token was written since (rights_checked
    // is the head then), or every progress interval (a token's expiry).
    int64_t rights_checked = -1;
    absl::Time rights_checked_time;
    FeedFilter filter;
    std::string filter_bytes;  // for share_key
    Sink* sink = nullptr;
    int64_t position = 0;  // every revision up to it was presented
    bool busy = false;     // a response in flight
    absl::Time last_sent;
    bool serving = false;    // being presented to, outside the lock
    bool finishing = false;  // finish with `finish` once no write is out
    bool finished = false;   // Finish was called; erase at WriteDone
    absl::Status finish;
    // The response in flight or to send; shared by the watchers that got
    // the same one (see share_key).
    std::shared_ptr<v1::WatchResponse> response;
    // Watchers with the same key (the caller's rights and the filter) at
    // the same position get the same events: presented once per round.
    std::string share_key;
  };
  // What the hub thread does outside its lock.
  struct Action {
    Sink* sink;
    const v1::WatchResponse* send = nullptr;  // else finish
    absl::Status status;
  };

  void Run();
  void Pump();
  // Appends new records to the ring; drops the oldest beyond ring_bytes.
  // With nobody watching, empties it and reads nothing.
  void FillRing(int64_t head, bool anyone_watching);
  // Presents to `w` from the ring (or the store when it is behind it),
  // leaving the response to send, if any, in w.response. An error ends the
  // watch. Runs on the hub thread without the lock (w is reserved).
  absl::Status Serve(Watcher& w, int64_t head, absl::Time now);
  void Perform(std::vector<Action>& actions);

  const ChangeService* const feed_;
  const WatchOptions options_;

  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<int64_t, std::unique_ptr<Watcher>> watchers_ ABSL_GUARDED_BY(mu_);
  // ring_last_, published after each FillRing (WaitForHubThrough).
  int64_t hub_through_ ABSL_GUARDED_BY(mu_) = 0;

  // Touched only by the hub thread.
  std::deque<std::shared_ptr<const LogSlice>> ring_;
  size_t ring_bytes_ = 0;
  int64_t ring_last_ = 0;  // the last revision in the ring
  // The last revision in the ring that wrote a member or a token.
  int64_t rights_changed_at_ = 0;

  std::thread hub_;
  std::thread pump_;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_FEED_WATCH_HUB_H_
