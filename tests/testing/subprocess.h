// File: tests/testing/subprocess.h
//
// Running the real binaries from tests: RunProcess runs one to completion
// and captures its output; ServerProcess starts `cohorted` on a free
// loopback port with its own data directory, waits on the health service,
// and stops it with a signal. Neither sleeps: they block on pipes, health
// calls with wait_for_ready, and waitpid.
#ifndef COHORTE_TESTS_TESTING_SUBPROCESS_H_
#define COHORTE_TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"

namespace cohorte::testing {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal number if killed by a signal
  std::string out;
  std::string err;
};

// Runs `argv` with `env` added to this process's environment ("K=V" each).
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env = {});

class ServerProcess {
 public:
  // Starts COHORTED_PATH with --listen=127.0.0.1:0 (unless `extra_args`
  // has a --listen=) --data-dir=`data_dir` plus `extra_args`, reads the port it prints and waits until health
  // says SERVING. Null (with a gtest failure) if it does not start.
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
  int Stop(int signal);
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
