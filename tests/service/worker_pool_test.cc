// The worker pool's bounded queue: new calls are refused once it is full,
// continuations never are, and what was queued runs before the pool goes.

#include "server/transport/worker_pool.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace cohorte::transport {
namespace {

TEST(WorkerPoolTest, ANewCallIsRefusedWhileTheQueueIsFullAndQueuedOnesRun) {
  std::atomic<int> ran{0};
  absl::Notification release;
  {
    WorkerPool pool(/*threads=*/1, /*max_queued=*/2);
    absl::Notification started;
    ASSERT_TRUE(pool.TrySchedule([&] {
      started.Notify();
      release.WaitForNotificationWithTimeout(absl::Seconds(60));
      ++ran;
    }));
    // The one worker is busy from here on: what follows waits in the queue.
    ASSERT_TRUE(started.WaitForNotificationWithTimeout(absl::Seconds(60)));
    EXPECT_TRUE(pool.TrySchedule([&] { ++ran; }));
    EXPECT_TRUE(pool.TrySchedule([&] { ++ran; }));
    EXPECT_FALSE(pool.TrySchedule([&] { ran += 100; }));
    pool.Schedule([&] { ++ran; });  // a continuation is always taken
    release.Notify();
  }
  EXPECT_EQ(ran, 4);
}

}  // namespace
}  // namespace cohorte::transport
