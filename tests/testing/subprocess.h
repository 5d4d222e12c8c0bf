// File: tests/testing/subprocess.h
//
// Running the real binaries from tests: RunProcess runs one to completion
// and captures its output; ServerProcess starts `cohorted` on a free
// loopback port with its own data directory, waits on the health service,
// and stops it with a signal. Neither sleeps: they block on pipes, health
// calls with wait_for_ready, and the child's pidfd. Every wait has a
// deadline: a child that outlives it is killed (SIGKILL) and the test
// fails with a message naming the command and what it printed, instead of
// hanging until ctest's timeout.
#ifndef COHORTE_TESTS_TESTING_SUBPROCESS_H_
#define COHORTE_TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"

namespace cohorte::testing {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal number if killed by a signal
  std::string out;
  std::string err;
};

// How long RunProcess waits for its child, ServerProcess::Start for the
// server to listen and be SERVING, and ServerProcess::Stop for its exit.
// Generous: a loaded machine and sanitizer builds are slow, a hung child
// is infinitely slow.
inline constexpr std::chrono::seconds kProcessTimeout{120};
inline constexpr std::chrono::seconds kServerStartTimeout{60};
inline constexpr std::chrono::seconds kServerStopTimeout{60};

// Runs `argv` with `env` added to this process's environment ("K=V" each).
// If it has not exited (and closed its output) within `timeout`, it is
// killed, the test gets a failure naming it, and exit_code is
// 128 + SIGKILL; `out` and `err` hold what it wrote until then.
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env = {},
                         std::chrono::milliseconds timeout = kProcessTimeout);

// Waits up to `timeout` for child `pid` to exit and reaps it. Its exit
// code (128 + signal number if killed by a signal), or nullopt if it still
// runs at the deadline (then it is not reaped) or is not this process's
// child.
std::optional<int> WaitForExit(pid_t pid, std::chrono::milliseconds timeout);

class ServerProcess {
 public:
  // Starts COHORTED_PATH with --listen=127.0.0.1:0 (unless `extra_args`
  // has a --listen=) --data-dir=`data_dir` plus `extra_args`, reads the
  // port it prints and waits until health
  // says SERVING. Null (with a gtest failure) if it does not start within
  // kServerStartTimeout (then it is killed).
  static std::unique_ptr<ServerProcess> Start(
      const std::string& data_dir,
      const std::vector<std::string>& extra_args = {});

  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  // Kills the server if it still runs.
  ~ServerProcess();

  int port() const { return port_; }
  // The server's process id (for reading /proc), -1 once stopped.
  pid_t pid() const { return pid_; }
  std::string address() const;
  // The admin token written on first start.
  std::string AdminToken() const;
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  // Sends `signal` and waits for the exit; returns the exit code (128 +
  // signal if killed). Everything the server wrote to stdout is in output().
  // If it has not exited within `timeout`, the test gets a failure saying
  // so, the server is killed with SIGKILL and 128 + SIGKILL is returned.
  int Stop(int signal, std::chrono::milliseconds timeout = kServerStopTimeout);
  const std::string& output() const { return output_; }

 private:
  ServerProcess() = default;

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
  std::string data_dir_;
  std::string output_;
  std::shared_ptr<grpc::Channel> channel_;
};

// Adds "authorization: Bearer <token>" to `context`.
void AddToken(grpc::ClientContext* context, const std::string& token);

}  // namespace cohorte::testing

#endif  // COHORTE_TESTS_TESTING_SUBPROCESS_H_
