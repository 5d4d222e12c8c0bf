// File: storage/reopen_lock.h
//
// ReopenLock guards a database handle that is replaced now and then (Store
// reopens its database after a storage fault) while many threads read
// through it. Readers take it shared, and may take it again while they
// hold it (a Scan's visit that reads), which absl::Mutex and
// std::shared_mutex do not allow; a POSIX read-write lock does. The
// exclusive side is only ever tried, never waited for, so a nested read
// cannot deadlock. So that steady reads cannot keep it from ever being
// taken (glibc's lock prefers readers), a reopen first drains: new
// top-level readers wait until it is over, nested ones go on. Thread-safe.
#ifndef COHORTE_STORAGE_REOPEN_LOCK_H_
#define COHORTE_STORAGE_REOPEN_LOCK_H_

#include <pthread.h>

#include "absl/synchronization/mutex.h"

namespace cohorte::storage {

class ReopenLock {
 public:
  ReopenLock() { pthread_rwlock_init(&lock_, nullptr); }
  ReopenLock(const ReopenLock&) = delete;
  ReopenLock& operator=(const ReopenLock&) = delete;
  ~ReopenLock() { pthread_rwlock_destroy(&lock_); }

  // Shared, for the scope of a Reader; may nest in one thread.
  class Reader {
   public:
    explicit Reader(ReopenLock* lock) : lock_(lock) {
      if (depth_++ == 0) {
        absl::MutexLock l(&lock_->mu_);
        lock_->mu_.Await(absl::Condition(
            +[](bool* draining) { return !*draining; }, &lock_->draining_));
      }
      pthread_rwlock_rdlock(&lock_->lock_);
    }
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;
    ~Reader() {
      pthread_rwlock_unlock(&lock_->lock_);
      --depth_;
    }

   private:
    ReopenLock* const lock_;
  };

  // From BeginDrain to EndDrain, new top-level readers wait.
  void BeginDrain() {
    absl::MutexLock l(&mu_);
    draining_ = true;
  }
  void EndDrain() {
    absl::MutexLock l(&mu_);
    draining_ = false;
  }
  // True if this thread now holds the lock exclusively (no reader holds
  // it); then it must call UnlockExclusive.
  bool TryLockExclusive() { return pthread_rwlock_trywrlock(&lock_) == 0; }
  void UnlockExclusive() { pthread_rwlock_unlock(&lock_); }

 private:
  // How many Readers this thread holds (of any ReopenLock: a nested read
  // never waits).
  static inline thread_local int depth_ = 0;
  pthread_rwlock_t lock_;
  absl::Mutex mu_;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace cohorte::storage

#endif  // COHORTE_STORAGE_REOPEN_LOCK_H_
