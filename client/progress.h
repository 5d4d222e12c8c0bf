// File: client/progress.h
//
// What a batch (an import of many rows) shows and how it stops. A
// CountProgress line ("inviting 12/300") is drawn on stderr only when
// stderr is a terminal, so that scripts' output never holds it. An
// InterruptGuard turns Ctrl-C (SIGINT) and SIGTERM into a flag the batch
// reads between two calls, so that it stops after the call in flight and
// says what was done and what was not. Not thread-safe: one batch per
// process.
#ifndef COHORTE_CLIENT_PROGRESS_H_
#define COHORTE_CLIENT_PROGRESS_H_

#include <csignal>
#include <string>

#include "absl/time/time.h"

namespace cohorte::client {

class CountProgress {
 public:
  // Shown when `shown` (by default: stderr is a terminal).
  CountProgress(std::string what, int total, bool shown);
  CountProgress(std::string what, int total);
  CountProgress(const CountProgress&) = delete;
  CountProgress& operator=(const CountProgress&) = delete;
  // Ends the line if one was drawn.
  ~CountProgress();

  // `done` of the total are done; redrawn at most every 100 ms, and at the
  // end.
  void Update(int done);

 private:
  const std::string what_;
  const int total_;
  const bool shown_;
  bool drawn_ = false;
  absl::Time last_ = absl::InfinitePast();
};

class InterruptGuard {
 public:
  // Catches SIGINT and SIGTERM until destroyed (system calls restart, so
  // output in progress is not cut).
  InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
  // Puts the previous handlers back.
  ~InterruptGuard();

  // Whether a signal came since the guard was made.
  static bool Interrupted();

 private:
  struct sigaction old_int_ = {};
  struct sigaction old_term_ = {};
};

// The exit code of a batch stopped by Ctrl-C (128 + SIGINT, as shells
// report it).
inline constexpr int kExitInterrupted = 130;

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_PROGRESS_H_
