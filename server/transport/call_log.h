// File: server/transport/call_log.h
//
// CallLog batches the call-log lines (one per call, LogCall in
// call_handler.h) on their way to stderr: a call appends its line to a
// buffer in memory, and the buffer is written when it holds 64 KiB or
// every 50 ms, whichever comes first. One write(2) per call was 6 % of the
// server's CPU per GetReport; one per few dozen lines costs nothing
// measurable.
//
// Lines are never cut or interleaved with other writers' lines: each
// write(2) holds whole lines and at most PIPE_BUF bytes (atomic on a pipe,
// such as journald's), unless a single line is longer. Lines are written
// in the order they were appended. What was appended in the last 50 ms
// before a kill -9 is lost; a clean stop flushes everything (Flush, then
// the destructor). A failed write drops that batch (stderr being gone is
// no reason to stop serving).
//
// Thread-safe. One instance per process: Get().
#ifndef COHORTE_SERVER_TRANSPORT_CALL_LOG_H_
#define COHORTE_SERVER_TRANSPORT_CALL_LOG_H_

#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace cohorte::transport {

class CallLog {
 public:
  // A buffer this full is written by the call that filled it.
  static constexpr size_t kFlushBytes = 64 << 10;
  // The longest a line waits in the buffer.
  static constexpr absl::Duration kFlushInterval = absl::Milliseconds(50);

  // The process's call log, writing to file descriptor 2; its flushing
  // thread starts on first use.
  static CallLog& Get();

  explicit CallLog(int fd);
  CallLog(const CallLog&) = delete;
  CallLog& operator=(const CallLog&) = delete;
  // Stops the flushing thread and writes what is left.
  ~CallLog();

  // Appends `line`, which ends with '\n'.
  void Append(absl::string_view line);
  // Writes everything appended so far before returning.
  void Flush();

 private:
  void Run();
  // Writes `lines` (whole lines) to fd_ in pieces of whole lines.
  void Write(absl::string_view lines) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Takes the buffer and writes it. REQUIRES: mu_ not held.
  void TakeAndWrite();

  const int fd_;
  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // one writer at a time
  absl::Mutex mu_;
  std::string buffer_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread flusher_;
};

}  // namespace cohorte::transport

#endif  // COHORTE_SERVER_TRANSPORT_CALL_LOG_H_
