#include "client/progress.h"

#include <unistd.h>

#include <cstdio>
#include <string>
#include <utility>

#include "absl/time/clock.h"

namespace cohorte::client {
namespace {

volatile std::sig_atomic_t interrupted = 0;

void OnSignal(int) { interrupted = 1; }

}  // namespace

CountProgress::CountProgress(std::string what, int total, bool shown)
    : what_(std::move(what)), total_(total), shown_(shown && total > 0) {}

CountProgress::CountProgress(std::string what, int total)
    : CountProgress(std::move(what), total, ::isatty(STDERR_FILENO) == 1) {}

CountProgress::~CountProgress() {
  if (drawn_) std::fprintf(stderr, "\n");
}

void CountProgress::Update(int done) {
  if (!shown_) return;
  const absl::Time now = absl::Now();
  if (now - last_ < absl::Milliseconds(100) && done < total_) return;
  last_ = now;
  drawn_ = true;
  std::fprintf(stderr, "\r%s %d/%d (%d%%)   ", what_.c_str(), done, total_,
               done * 100 / total_);
  std::fflush(stderr);
}

InterruptGuard::InterruptGuard() {
  interrupted = 0;
  struct sigaction on = {};
  on.sa_handler = OnSignal;
  on.sa_flags = SA_RESTART;
  sigemptyset(&on.sa_mask);
  ::sigaction(SIGINT, &on, &old_int_);
  ::sigaction(SIGTERM, &on, &old_term_);
}

InterruptGuard::~InterruptGuard() {
  ::sigaction(SIGINT, &old_int_, nullptr);
  ::sigaction(SIGTERM, &old_term_, nullptr);
}

bool InterruptGuard::Interrupted() { return interrupted != 0; }

}  // namespace cohorte::client
