// File: server/transport/worker_pool.h
//
// WorkerPool runs handler bodies off gRPC's event threads. Handlers block
// (a durable write waits for its group's fsync), and a blocked event thread
// would stall every other call; with enough workers, concurrent writes
// reach the store together and share fsyncs.
//
// Thread-safe. The destructor runs every task already scheduled, then
// joins the threads.
#ifndef COHORTE_SERVER_TRANSPORT_WORKER_POOL_H_
#define COHORTE_SERVER_TRANSPORT_WORKER_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace cohorte::transport {

class WorkerPool {
 public:
  // REQUIRES: threads > 0.
  explicit WorkerPool(int threads);
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool();

  // Runs `task` on a worker, in FIFO order of scheduling.
  void Schedule(std::function<void()> task);

 private:
  void Work();

  std::vector<std::thread> threads_;
  // State below is protected by mu_.
  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace cohorte::transport

#endif  // COHORTE_SERVER_TRANSPORT_WORKER_POOL_H_
