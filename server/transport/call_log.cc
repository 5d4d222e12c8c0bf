#include "server/transport/call_log.h"

#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace cohorte::transport {

CallLog& CallLog::Get() {
  // Never destroyed: calls may log until the process exits. main() flushes.
  static CallLog* const log = new CallLog(STDERR_FILENO);
  return *log;
}

CallLog::CallLog(int fd) : fd_(fd), flusher_([this] { Run(); }) {}

CallLog::~CallLog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  flusher_.join();
  Flush();
}

void CallLog::Append(absl::string_view line) {
  bool full;
  {
    absl::MutexLock lock(&mu_);
    buffer_.append(line.data(), line.size());
    full = buffer_.size() >= kFlushBytes;
  }
  if (full) TakeAndWrite();
}

void CallLog::Flush() { TakeAndWrite(); }

void CallLog::TakeAndWrite() {
  // write_mu_ first, so that batches reach the file in the order they
  // were taken from the buffer.
  absl::MutexLock write_lock(&write_mu_);
  std::string lines;
  {
    absl::MutexLock lock(&mu_);
    lines.swap(buffer_);
  }
  if (!lines.empty()) Write(lines);
}

void CallLog::Write(absl::string_view lines) {
  while (!lines.empty()) {
    // Whole lines, at most PIPE_BUF bytes, or one longer line whole.
    size_t end = lines.size();
    if (end > PIPE_BUF) {
      const size_t last = lines.rfind('\n', PIPE_BUF - 1);
      end = last != absl::string_view::npos ? last + 1 : lines.find('\n') + 1;
      if (end == 0) end = lines.size();  // no newline at all
    }
    absl::string_view piece = lines.substr(0, end);
    lines.remove_prefix(end);
    while (!piece.empty()) {
      const ssize_t n = ::write(fd_, piece.data(), piece.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // stderr is gone: drop the batch
      piece.remove_prefix(static_cast<size_t>(n));
    }
  }
}

void CallLog::Run() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), kFlushInterval);
    if (buffer_.empty()) continue;
    mu_.Unlock();
    TakeAndWrite();
    mu_.Lock();
  }
}

}  // namespace cohorte::transport
