#include "server/service/feed/watch_hub.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/service/access/reader.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "storage/status_macros.h"

namespace cohorte::service {

namespace {

// Records read from the store per slice while catching up, and the most
// one watcher catches up per round (others wait their turn meanwhile).
constexpr int kSliceRecords = 1000;
constexpr int64_t kMaxCatchUpPerRound = 10000;

// What a presentation depends on: the caller's rights and the filter.
std::string ShareKey(const Principal& p, absl::string_view filter_bytes) {
  return absl::StrCat(p.member, "\x1f", p.role, "\x1f", p.token, "\x1f",
                      p.college, "\x1f", absl::StrJoin(p.delegations, ","),
                      "\x1f", absl::StrJoin(p.cohorts, ","), "\x1f", p.service,
                      p.read_write, "\x1f", filter_bytes);
}
std::string ShareKey(const Principal& p, const v1::ChangeFilter& filter) {
  return ShareKey(p, filter.SerializeAsString());
}

}  // namespace

WatchHub::WatchHub(const ChangeService* feed, WatchOptions options)
    : feed_(feed), options_(options) {}

WatchHub::~WatchHub() { Shutdown(); }

void WatchHub::Start() {
  ring_last_ = feed_->store().revision();
  hub_ = std::thread([this] { Run(); });
  pump_ = std::thread([this] { Pump(); });
}

int WatchHub::watchers() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(watchers_.size());
}

absl::StatusOr<int64_t> WatchHub::Add(const Principal& caller,
                                      const v1::WatchRequest& request,
                                      Sink* sink) {
  const int64_t head = feed_->store().revision();
  absl::StatusOr<int64_t> since =
      feed_->ParseSince("since", request.since(), head);
  if (!since.ok()) return since.status();
  absl::StatusOr<FeedFilter> filter =
      ChangeService::ParseFilter("filter", request.filter());
  if (!filter.ok()) return filter.status();

  auto w = std::make_unique<Watcher>();
  w->caller = caller;
  w->filter = *std::move(filter);
  w->sink = sink;
  w->position = *since;
  w->share_key = ShareKey(caller, request.filter());
  w->filter_bytes = request.filter().SerializeAsString();
  w->authenticated_at = absl::Now();
  w->last_sent = absl::InfinitePast();  // the first response comes at once
  absl::MutexLock lock(&mu_);
  if (stopping_) {
    return absl::UnavailableError("the server is shutting down");
  }
  w->id = next_id_++;
  const int64_t id = w->id;
  sink->Bind(id);
  watchers_.emplace(id, std::move(w));
  wake_ = true;
  return id;
}

void WatchHub::WriteDone(int64_t id, bool ok) {
  absl::MutexLock lock(&mu_);
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return;
  Watcher& w = *it->second;
  w.busy = false;
  if (w.finished) {
    watchers_.erase(it);  // its response is no longer referenced
    return;
  }
  if (!ok && !w.finishing) {
    w.finishing = true;
    w.finish = absl::CancelledError("the stream broke");
  }
  wake_ = true;
}

void WatchHub::Cancel(int64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return;
  Watcher& w = *it->second;
  if (!w.finishing && !w.finished) {
    w.finishing = true;
    w.finish = absl::CancelledError("the watch was cancelled");
  }
  wake_ = true;
}

void WatchHub::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (hub_.joinable()) hub_.join();
  if (pump_.joinable()) pump_.join();
  std::vector<Action> actions;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = watchers_.begin(); it != watchers_.end();) {
      Watcher& w = *it->second;
      if (!w.finished) {
        actions.push_back({w.sink, nullptr,
                           w.finishing ? w.finish
                                       : absl::UnavailableError(
                                             "the server is shutting down: "
                                             "resume from the last cursor")});
        w.finished = true;
      }
      it = w.busy ? std::next(it) : watchers_.erase(it);
    }
  }
  Perform(actions);
}

void WatchHub::Pump() {
  int64_t seen = feed_->store().revision();
  while (true) {
    const int64_t now = feed_->store().WaitForRevision(
        seen, absl::Now() + absl::Milliseconds(200));
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    if (now > seen) {
      seen = now;
      // Nobody to serve: Run wakes only on its tick (a new watcher wakes
      // it at once).
      if (!watchers_.empty()) wake_ = true;
    }
  }
}

bool WatchHub::WaitForHubThrough(int64_t revision, absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto through = [this, revision]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return hub_through_ >= revision;
  };
  return mu_.AwaitWithDeadline(absl::Condition(&through), deadline);
}

void WatchHub::FillRing(int64_t head, bool anyone_watching) {
  if (!anyone_watching) {
    // No log is read for nobody. A watcher that comes reads what it lacks
    // from the store until the ring holds it again, its rights checked
    // afresh (as if they had changed at head).
    ring_.clear();
    ring_bytes_ = 0;
    ring_last_ = head;
    rights_changed_at_ = std::max(rights_changed_at_, head);
    return;
  }
  while (ring_last_ < head) {
    absl::StatusOr<std::shared_ptr<const LogSlice>> slice =
        Reader::ReadLog(feed_->store(), ring_last_ + 1, kSliceRecords, head);
    if (!slice.ok() || (*slice)->empty()) {
      if (slice.ok() || !absl::IsOutOfRange(slice.status())) break;
      // Compacted past the ring's end (a long stall): start after it.
      ring_.clear();
      ring_bytes_ = 0;
      ring_last_ = feed_->store().first_change_revision() - 1;
      continue;
    }
    ring_last_ = (*slice)->last();
    rights_changed_at_ =
        std::max(rights_changed_at_, (*slice)->last_rights_change());
    ring_bytes_ += (*slice)->bytes();
    ring_.push_back(*std::move(slice));
  }
  while (ring_.size() > 1 && ring_bytes_ > options_.ring_bytes) {
    ring_bytes_ -= ring_.front()->bytes();
    ring_.pop_front();
  }
}

absl::Status WatchHub::Serve(Watcher& w, int64_t head, absl::Time now) {
  w.response.reset();  // the last one was written (w was not busy)
  if (w.position >= head) {
    if (now - w.last_sent >= options_.progress_interval) {
      w.response = std::make_shared<v1::WatchResponse>();
      *w.response->mutable_cursor() = feed_->CursorAt(w.position);
    }
    return absl::OkStatus();
  }
  const Reader reader(feed_->store(), w.caller);
  FeedPage page;
  page.reached = w.position;
  int64_t from_store = 0;
  while (static_cast<int>(page.events.size()) < kMaxWatchEventsPerResponse &&
         page.reached < head && from_store < kMaxCatchUpPerRound) {
    std::shared_ptr<const LogSlice> slice;
    const int64_t next = page.reached + 1;
    if (!ring_.empty() && next >= ring_.front()->first() &&
        next <= ring_last_) {
      auto it = std::upper_bound(
          ring_.begin(), ring_.end(), next,
          [](int64_t r, const std::shared_ptr<const LogSlice>& s) {
            return r < s->first();
          });
      slice = *std::prev(it);
    } else {
      absl::StatusOr<std::shared_ptr<const LogSlice>> read =
          Reader::ReadLog(feed_->store(), next, kSliceRecords, head);
      if (!read.ok()) {
        if (!absl::IsOutOfRange(read.status())) return read.status();
        // Compacted past it: the cursor error says what to do.
        absl::Status compacted =
            feed_->ParseSince("since", feed_->CursorAt(page.reached).token(), 0)
                .status();
        return compacted.ok() ? read.status() : compacted;
      }
      if ((*read)->empty()) break;
      slice = *std::move(read);
      from_store += static_cast<int64_t>(slice->size());
    }
    COHORTE_RETURN_IF_ERROR(
        reader.PresentLog(*slice, w.filter, kMaxWatchEventsPerResponse, &page));
  }
  w.position = page.reached;
  if (page.events.empty() && now - w.last_sent < options_.progress_interval) {
    return absl::OkStatus();
  }
  w.response = std::make_shared<v1::WatchResponse>();
  for (v1::ChangeEvent& e : page.events) {
    *w.response->add_events() = std::move(e);
  }
  feed_->CompleteCursors(w.response->mutable_events());
  *w.response->mutable_cursor() = feed_->CursorAt(w.position);
  return absl::OkStatus();
}

void WatchHub::Perform(std::vector<Action>& actions) {
  for (Action& a : actions) {
    if (a.send != nullptr) {
      a.sink->Send(a.send);
    } else {
      a.sink->Finish(a.status);
    }
  }
  actions.clear();
}

void WatchHub::Run() {
  const absl::Duration tick =
      std::min(options_.progress_interval, absl::Seconds(1));
  while (true) {
    bool anyone_watching = false;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(
          absl::Condition(
              +[](WatchHub* h) ABSL_EXCLUSIVE_LOCKS_REQUIRED(h->mu_) {
                return h->wake_ || h->stopping_;
              },
              this),
          tick);
      if (stopping_) return;
      wake_ = false;
      anyone_watching = !watchers_.empty();
    }
    const int64_t head = feed_->store().revision();
    FillRing(head, anyone_watching);
    {
      absl::MutexLock lock(&mu_);
      hub_through_ = ring_last_;
    }
    const absl::Time now = absl::Now();

    std::vector<Action> actions;
    std::vector<Watcher*> todo;
    {
      absl::MutexLock lock(&mu_);
      for (auto it = watchers_.begin(); it != watchers_.end();) {
        Watcher& w = *it->second;
        if (w.finished) {
          ++it;
          continue;
        }
        if (w.busy && !w.finishing && head - w.position > options_.max_lag) {
          // Not reading: end it now, even with its write still out.
          w.finishing = true;
          const std::string cursor = feed_->CursorAt(w.position).token();
          w.finish = ErrorWithReason(
              absl::StatusCode::kResourceExhausted, kReasonWatcherTooSlow,
              absl::StrCat("the watcher fell more than ", options_.max_lag,
                           " revisions behind: resume from cursor ", cursor),
              {{"cursor", cursor}});
          actions.push_back({w.sink, nullptr, w.finish});
          w.finished = true;
          ++it;
          continue;
        }
        if (w.busy) {
          ++it;
          continue;
        }
        if (w.finishing) {
          actions.push_back({w.sink, nullptr, w.finish});
          it = watchers_.erase(it);
          continue;
        }
        w.serving = true;
        w.busy = true;  // reserved: no write can be reported meanwhile
        todo.push_back(&w);
        ++it;
      }
    }
    // Presented once per (rights and filter, position) among those behind;
    // the others of the same key take the same response.
    std::vector<absl::Status> served(todo.size());
    std::map<std::pair<std::string, int64_t>, size_t> first_of;
    for (size_t i = 0; i < todo.size(); ++i) {
      Watcher& w = *todo[i];
      // Presented with the caller's rights as they are now: re-read when
      // a member or a token was written since the last check (or the
      // watcher reads from before the ring), and every progress interval.
      const bool stale =
          w.rights_checked < rights_changed_at_ || ring_.empty() ||
          w.position + 1 < ring_.front()->first() ||
          now - w.rights_checked_time >= options_.progress_interval;
      if (w.position < head && stale) {
        absl::StatusOr<Principal> current = Reader::CurrentCaller(
            feed_->store(), w.caller, w.authenticated_at, now);
        if (!current.ok()) {
          served[i] = current.status();
          continue;
        }
        w.rights_checked = ring_last_;
        w.rights_checked_time = now;
        const std::string key = ShareKey(*current, w.filter_bytes);
        if (key != w.share_key) {
          w.caller = *std::move(current);
          w.share_key = key;
        }
      }
      if (w.position < head) {
        auto [it, fresh] = first_of.try_emplace({w.share_key, w.position}, i);
        if (!fresh) {
          const Watcher& model = *todo[it->second];
          w.position = model.position;
          w.response = model.response;
          served[i] = served[it->second];
          continue;
        }
      }
      served[i] = Serve(w, head, now);
    }
    {
      absl::MutexLock lock(&mu_);
      for (size_t i = 0; i < todo.size(); ++i) {
        Watcher* w = todo[i];
        w->serving = false;
        if (!served[i].ok() && !w->finishing) {
          w->finishing = true;
          w->finish = served[i];
        }
        if (w->finishing) {
          // Cancelled while served, or a read failed: finish instead.
          w->busy = false;
          w->response.reset();
          actions.push_back({w->sink, nullptr, w->finish});
          w->finished = true;
          watchers_.erase(w->id);
          continue;
        }
        if (w->response != nullptr) {
          w->last_sent = now;
          actions.push_back({w->sink, w->response.get(), absl::OkStatus()});
        } else {
          w->busy = false;
        }
      }
    }
    Perform(actions);
  }
}

}  // namespace cohorte::service
