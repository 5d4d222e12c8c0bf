// File: server/transport/worker_pool.h
//
// WorkerPool runs handler bodies off gRPC's event threads. Handlers block
// (a durable write waits for its group's fsync), and a blocked event thread
// would stall every other call; with enough workers, concurrent writes
// reach the store together and share fsyncs.
//
// Calls wait in a bounded queue (TrySchedule refuses past `max_queued`), so
// that a burst the workers cannot keep up with is answered at once instead
// of growing memory and latency without end. A scheduled task wakes one
// idle worker, and only if one is idle: no herd of wake-ups.
//
// Thread-safe. The destructor runs every task already scheduled, then
// joins the threads.
#ifndef COHORTE_SERVER_TRANSPORT_WORKER_POOL_H_
#define COHORTE_SERVER_TRANSPORT_WORKER_POOL_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace cohorte::transport {

class WorkerPool {
 public:
  // The default of `max_queued` (cohorted's --max-queued-calls).
  static constexpr size_t kDefaultMaxQueued = 1024;

  // REQUIRES: threads > 0, max_queued > 0.
  explicit WorkerPool(int threads, size_t max_queued = kDefaultMaxQueued);
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool();

  // Runs `task` on a worker, in FIFO order of scheduling, whatever the
  // queue's length: for the continuation of work already admitted (a
  // stream's next step).
  void Schedule(std::function<void()> task);
  // Like Schedule for a new call: false (and `task` is dropped, not run)
  // when `max_queued` tasks already wait for a worker.
  bool TrySchedule(std::function<void()> task);
  size_t max_queued() const { return max_queued_; }

 private:
  void Work();

  const size_t max_queued_;
  std::vector<std::thread> threads_;
  // State below is protected by mu_.
  absl::Mutex mu_;
  absl::CondVar work_ready_;  // signalled once per task while idle_ > 0
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  int idle_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace cohorte::transport

#endif  // COHORTE_SERVER_TRANSPORT_WORKER_POOL_H_
