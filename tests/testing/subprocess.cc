#include "tests/testing/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"

extern char** environ;

namespace cohorte::testing {
namespace {

using Clock = std::chrono::steady_clock;

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// What is left until `deadline`, as poll()'s timeout (0 once past).
int MillisLeft(Clock::time_point deadline) {
  const int64_t left = std::chrono::duration_cast<std::chrono::milliseconds>(
                           deadline - Clock::now())
                           .count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, INT_MAX));
}

// "1.5 s" for the failure messages.
std::string InSeconds(std::chrono::milliseconds duration) {
  std::ostringstream out;
  out << duration.count() / 1000.0 << " s";
  return out.str();
}

std::string CommandLine(const std::vector<std::string>& argv) {
  std::string line;
  for (const std::string& a : argv) {
    if (!line.empty()) line += ' ';
    line += a;
  }
  return line;
}

// Reads the open descriptors of `fds` (closing each at EOF) into the
// matching `sinks` until all are closed or `deadline` passes. True if all
// reached EOF.
bool ReadUntilEof(pollfd* fds, std::string* const* sinks, int count,
                  Clock::time_point deadline) {
  int open_fds = 0;
  for (int i = 0; i < count; ++i) open_fds += fds[i].fd >= 0 ? 1 : 0;
  while (open_fds > 0) {
    const int ready = poll(fds, count, MillisLeft(deadline));
    if (ready < 0) {
      if (errno == EINTR) continue;
      ADD_FAILURE() << "poll: " << std::strerror(errno);
      return false;
    }
    if (ready == 0) return false;  // the deadline passed
    for (int i = 0; i < count; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      const ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        sinks[i]->append(buf, n);
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  return true;
}

// Kills `pid` and reaps it: 128 + SIGKILL, or -1 (with a failure) if even
// SIGKILL does not end it in time.
int KillAndReap(pid_t pid) {
  kill(pid, SIGKILL);
  std::optional<int> code = WaitForExit(pid, kServerStopTimeout);
  if (!code.has_value()) {
    ADD_FAILURE() << "process " << pid << " outlived SIGKILL for "
                  << InSeconds(kServerStopTimeout);
    return -1;
  }
  return *code;
}

// Forks and execs `argv` with `env` added, its stdout and stderr going to
// the given fds (or inherited when -1).
pid_t Spawn(const std::vector<std::string>& argv,
            const std::vector<std::string>& env, int out_fd, int err_fd) {
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  for (const std::string& e : env) env_strings.push_back(e);
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = fork();
  if (pid == 0) {
    // The test may have blocked signals; the child starts clean.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    // Never the test runner's terminal: a command that would prompt or
    // open an editor on a terminal behaves as in a script.
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    if (out_fd >= 0) dup2(out_fd, STDOUT_FILENO);
    if (err_fd >= 0) dup2(err_fd, STDERR_FILENO);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

std::optional<int> WaitForExit(pid_t pid, std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  // A pidfd becomes readable when the process exits: poll it with the
  // deadline, then reap without blocking.
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    pollfd fd = {pidfd, POLLIN, 0};
    while (poll(&fd, 1, MillisLeft(deadline)) < 0 && errno == EINTR) {
    }
    close(pidfd);
  }
  while (true) {
    int status = 0;
    const pid_t reaped = waitpid(pid, &status, WNOHANG);
    if (reaped == pid) return DecodeWaitStatus(status);
    if (reaped < 0 && errno == EINTR) continue;
    if (reaped < 0) return std::nullopt;  // not a child of this process
    // Still running. With a pidfd, the poll above waited until the deadline;
    // without (kernels before 5.3) there is nothing to block on but time.
    if (pidfd >= 0 || Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env,
                         std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return {};
  }
  pid_t pid = Spawn(argv, env, out_pipe[1], err_pipe[1]);
  close(out_pipe[1]);
  close(err_pipe[1]);

  ProcessResult result;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* const sinks[2] = {&result.out, &result.err};
  std::optional<int> code;
  if (ReadUntilEof(fds, sinks, 2, deadline)) {
    code = WaitForExit(pid, std::chrono::milliseconds(MillisLeft(deadline)));
  }
  for (const pollfd& fd : fds) {
    if (fd.fd >= 0) close(fd.fd);
  }
  if (!code.has_value()) {
    result.exit_code = KillAndReap(pid);
    ADD_FAILURE() << "`" << CommandLine(argv) << "` did not exit within "
                  << InSeconds(timeout) << ": killed. Its stdout so far:\n"
                  << result.out << "\nits stderr so far:\n"
                  << result.err;
    return result;
  }
  result.exit_code = *code;
  return result;
}

std::unique_ptr<ServerProcess> ServerProcess::Start(
    const std::string& data_dir, const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv = {COHORTED_PATH, "--data-dir=" + data_dir};
  // A --listen in `extra_args` (a restart on the same port) wins.
  if (std::none_of(
          extra_args.begin(), extra_args.end(),
          [](const std::string& a) { return a.rfind("--listen=", 0) == 0; })) {
    argv.push_back("--listen=127.0.0.1:0");
  }
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  int out_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return nullptr;
  }
  // The server's log goes next to its data, for post-mortems.
  const std::string log_path = data_dir + ".log";
  int log_fd =
      open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  auto server = std::unique_ptr<ServerProcess>(new ServerProcess());
  server->data_dir_ = data_dir;
  server->pid_ = Spawn(argv, {}, out_pipe[1], log_fd);
  close(out_pipe[1]);
  if (log_fd >= 0) close(log_fd);
  server->stdout_fd_ = out_pipe[0];

  // Block on the pipe until the "listening on" line (or EOF if it died,
  // or the deadline).
  const Clock::time_point deadline = Clock::now() + kServerStartTimeout;
  const std::string marker = "listening on 127.0.0.1:";
  while (server->port_ == 0) {
    pollfd fd = {server->stdout_fd_, POLLIN, 0};
    const int ready = poll(&fd, 1, MillisLeft(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      ADD_FAILURE() << "cohorted did not print its port within "
                    << InSeconds(kServerStartTimeout)
                    << " (it is killed); stdout:\n"
                    << server->output_ << "\nlog: " << log_path;
      return nullptr;  // the destructor kills it
    }
    char buf[512];
    ssize_t n = ready < 0 ? -1 : read(server->stdout_fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    server->output_.append(buf, n);
    size_t at = server->output_.find(marker);
    size_t eol = at == std::string::npos ? at : server->output_.find('\n', at);
    if (eol != std::string::npos) {
      server->port_ =
          std::atoi(server->output_.substr(at + marker.size(), eol).c_str());
    }
  }
  if (server->port_ == 0) {
    ADD_FAILURE() << "cohorted did not start; stdout:\n"
                  << server->output_ << "\nlog: " << log_path;
    return nullptr;
  }

  // Its own connections: a server restarted on the same port must not be
  // reached through a broken connection to its predecessor.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  server->channel_ = grpc::CreateCustomChannel(
      server->address(), grpc::InsecureChannelCredentials(), args);
  auto health = grpc::health::v1::Health::NewStub(server->channel_);
  grpc::ClientContext ctx;
  ctx.set_wait_for_ready(true);
  ctx.set_deadline(std::chrono::system_clock::now() + kServerStartTimeout);
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status s = health->Check(&ctx, req, &resp);
  if (!s.ok() ||
      resp.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    const std::optional<int> exited =
        WaitForExit(server->pid_, std::chrono::milliseconds(0));
    ADD_FAILURE() << "cohorted is not SERVING within "
                  << InSeconds(kServerStartTimeout) << ": " << s.error_message()
                  << (exited.has_value()
                          ? "; it exited: " + std::to_string(*exited)
                          : std::string("; it runs"))
                  << "; stdout:\n"
                  << server->output_ << "\nlog: " << log_path;
    if (exited.has_value()) server->pid_ = -1;
    return nullptr;
  }
  return server;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Stop(SIGKILL);
}

std::string ServerProcess::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

std::string ServerProcess::AdminToken() const {
  std::ifstream in(data_dir_ + "/admin.token");
  std::string token;
  std::getline(in, token);
  return token;
}

int ServerProcess::Stop(int signal, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  const Clock::time_point deadline = Clock::now() + timeout;
  kill(pid_, signal);
  // Its stdout reaches EOF when it exits.
  pollfd fds[1] = {{stdout_fd_, POLLIN, 0}};
  std::string* const sinks[1] = {&output_};
  std::optional<int> code;
  if (ReadUntilEof(fds, sinks, 1, deadline)) {
    code = WaitForExit(pid_, std::chrono::milliseconds(MillisLeft(deadline)));
  }
  if (fds[0].fd >= 0) close(fds[0].fd);
  stdout_fd_ = -1;
  if (!code.has_value()) {
    ADD_FAILURE() << "cohorted (pid " << pid_ << ") did not exit within "
                  << InSeconds(timeout) << " of signal " << signal
                  << ": killed. Its stdout:\n"
                  << output_ << "\nlog: " << data_dir_ << ".log";
    code = KillAndReap(pid_);
  }
  pid_ = -1;
  return *code;
}

void AddToken(grpc::ClientContext* context, const std::string& token) {
  context->AddMetadata("authorization", "Bearer " + token);
}

}  // namespace cohorte::testing
