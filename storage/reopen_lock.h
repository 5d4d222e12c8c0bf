// File: storage/reopen_lock.h
//
// ReopenLock guards a database handle that is replaced now and then (Store
// reopens its database after a storage fault) while many threads read
// through it. Readers take it shared, and may take it again while they
// hold it (a Scan's visit that reads), which absl::Mutex and
// std::shared_mutex do not allow; a POSIX read-write lock does. The
// exclusive side is only ever tried, never waited for, so a reader never
// queues behind a writer and a nested read cannot deadlock. Thread-safe.
#ifndef COHORTE_STORAGE_REOPEN_LOCK_H_
#define COHORTE_STORAGE_REOPEN_LOCK_H_

#include <pthread.h>

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
      pthread_rwlock_rdlock(&lock_->lock_);
    }
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;
    ~Reader() { pthread_rwlock_unlock(&lock_->lock_); }

   private:
    ReopenLock* const lock_;
  };

  // True if this thread now holds the lock exclusively (no reader holds
  // it); then it must call UnlockExclusive.
  bool TryLockExclusive() { return pthread_rwlock_trywrlock(&lock_) == 0; }
  void UnlockExclusive() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

}  // namespace cohorte::storage

#endif  // COHORTE_STORAGE_REOPEN_LOCK_H_
