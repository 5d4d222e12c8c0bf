#include "tests/testing/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"

extern char** environ;

namespace cohorte::testing {
namespace {

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
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

ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env) {
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
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        sinks[i]->append(buf, n);
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = DecodeWaitStatus(status);
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

  // Block on the pipe until the "listening on" line (or EOF if it died).
  const std::string marker = "listening on 127.0.0.1:";
  while (server->port_ == 0) {
    char buf[512];
    ssize_t n = read(server->stdout_fd_, buf, sizeof(buf));
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
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status s = health->Check(&ctx, req, &resp);
  if (!s.ok() ||
      resp.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    int status = 0;
    const bool exited = waitpid(server->pid_, &status, WNOHANG) == server->pid_;
    ADD_FAILURE() << "cohorted is not SERVING: " << s.error_message()
                  << (exited ? "; it exited: " +
                                   std::to_string(DecodeWaitStatus(status))
                             : std::string("; it runs"))
                  << "; stdout:\n"
                  << server->output_ << "\nlog: " << log_path;
    if (exited) server->pid_ = -1;
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

int ServerProcess::Stop(int signal) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal);
  char buf[4096];
  ssize_t n;
  while ((n = read(stdout_fd_, buf, sizeof(buf))) > 0) output_.append(buf, n);
  close(stdout_fd_);
  stdout_fd_ = -1;
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return DecodeWaitStatus(status);
}

void AddToken(grpc::ClientContext* context, const std::string& token) {
  context->AddMetadata("authorization", "Bearer " + token);
}

}  // namespace cohorte::testing
