// CallLog: lines reach the descriptor whole, in order, in writes of at most
// PIPE_BUF bytes, on Flush, on the timer and when the buffer fills.

#include "server/transport/call_log.h"

#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace cohorte::transport {
namespace {

// A SOCK_SEQPACKET pair keeps each write(2) as one packet, so the test
// sees the writes themselves.
class CallLogTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds_), 0);
    const int size = 8 << 20;
    setsockopt(fds_[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    setsockopt(fds_[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  }
  void TearDown() override {
    close(fds_[0]);
    close(fds_[1]);
  }
  // The writes received so far, waiting up to `wait_ms` for the first.
  std::vector<std::string> Writes(int wait_ms) {
    std::vector<std::string> writes;
    pollfd p{fds_[1], POLLIN, 0};
    int timeout = wait_ms;
    while (poll(&p, 1, timeout) == 1) {
      std::string packet(1 << 20, '\0');
      const ssize_t n = recv(fds_[1], packet.data(), packet.size(), 0);
      if (n <= 0) break;
      packet.resize(static_cast<size_t>(n));
      writes.push_back(packet);
      timeout = 0;
    }
    return writes;
  }
  int fds_[2];
};

TEST_F(CallLogTest, FlushWritesWholeLinesInOrderWithinPipeBuf) {
  CallLog log(fds_[0]);
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    const std::string line =
        absl::StrCat("msg=call n=", i, " ", std::string(i % 97, 'x'), "\n");
    log.Append(line);
    expected += line;
  }
  log.Flush();
  std::string received;
  const std::vector<std::string> writes = Writes(0);
  for (const std::string& w : writes) {
    EXPECT_LE(w.size(), static_cast<size_t>(PIPE_BUF));
    EXPECT_EQ(w.back(), '\n');
    received += w;
  }
  EXPECT_EQ(received, expected);
  EXPECT_GT(writes.size(), 1u);
  EXPECT_LT(writes.size(), 1000u) << "one write per line";
}

TEST_F(CallLogTest, ALineLongerThanPipeBufIsWrittenWhole) {
  CallLog log(fds_[0]);
  const std::string longer = std::string(3 * PIPE_BUF, 'y') + "\n";
  log.Append("before\n");
  log.Append(longer);
  log.Append("after\n");
  log.Flush();
  const std::vector<std::string> writes = Writes(0);
  ASSERT_EQ(writes.size(), 3u);
  EXPECT_EQ(writes[0], "before\n");
  EXPECT_EQ(writes[1], longer);
  EXPECT_EQ(writes[2], "after\n");
}

TEST_F(CallLogTest, LinesAreWrittenWithoutFlushByTheTimer) {
  CallLog log(fds_[0]);
  log.Append("alone\n");
  // The flusher writes within kFlushInterval; 30 s is a bound, not a
  // measurement.
  const std::vector<std::string> writes = Writes(30000);
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0], "alone\n");
}

TEST_F(CallLogTest, AFullBufferIsWrittenByTheCallThatFilledIt) {
  CallLog log(fds_[0]);
  const std::string line(1023, 'z');
  size_t appended = 0;
  while (appended < CallLog::kFlushBytes) {
    log.Append(line + "\n");
    appended += line.size() + 1;
  }
  // No wait: the last Append wrote the buffer itself.
  std::string received;
  for (const std::string& w : Writes(0)) received += w;
  EXPECT_EQ(received.size(), appended);
}

TEST_F(CallLogTest, TheDestructorWritesWhatIsLeft) {
  {
    CallLog log(fds_[0]);
    log.Append("last words\n");
  }
  const std::vector<std::string> writes = Writes(0);
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0], "last words\n");
}

TEST(CallLogFailureTest, AFailedWriteDropsTheBatchAndServingGoesOn) {
  CallLog log(-1);  // EBADF on every write
  log.Append("nobody reads this\n");
  log.Flush();
  log.Append("nor this\n");
  log.Flush();
}

}  // namespace
}  // namespace cohorte::transport
