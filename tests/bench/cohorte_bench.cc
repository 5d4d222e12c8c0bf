// cohorte-bench: a load generator against a real `cohorted`, and this
// machine's ceilings measured the same way in the same run. A benchmark,
// not a test: it asserts nothing but that the set-up succeeds.
//
// It starts the `cohorted` built next to it on a free loopback port with
// the demo seeded (--seed-demo), acts as the demo élue marie-dubois, and
// drives each workload with N concurrent calls, each client on a channel
// (a connection) of its own by default as N users or integrations would be
// (the callback client API: each client issues its next call from the
// previous one's completion), a warm-up, then a fixed measured window:
//
//   health    grpc.health.v1.Health/Check
//   post      ExchangeService/PostMessage, a 1 KiB body, durable when acked
//   get       ReportService/GetReport of a published 4 KiB report
//   list      ExchangeService/ListMessages, one page of 50
//   mixed     45 % post, 45 % get, 10 % list
//   publish   post, while marie-dubois publishes a COHORT report every
//             second (--members=N first adds N allies to the cohort, so
//             that each publication notifies them all): the post row's
//             p99 next to post's says what the fan-out costs other writers
//   deep      lists of two exchanges of their own, one of 10,000
//             messages (`list@10k`) and one of --deep=N (default
//             1,000,000: `list@1M`), filled by 64 concurrent 1 KiB posts,
//             in three alternating rounds once the server is idle (each
//             row is its three rounds together); and the store's disk use
//             against its tables' size (*.sst) around the long fill
// and the ceilings (no cohorted), measured first:
//   store     Store::Commit of one 1 KiB put, durable, N threads
//   grpc-put  a bare gRPC service doing one group-committed synced 1 KiB
//             put per call (on a 64-thread pool, as cohorted does)
//   grpc-get  a bare gRPC service reading and parsing one 4 KiB report per
//             call, on gRPC's own threads
//
// Each workload starts once its server is idle (three half-seconds in a
// row under a tenth of a core, two minutes at most): the flushes and
// compactions of the workload before it are not charged to it.
//
// A target's two sides run in alternating rounds when both are asked for:
// grpc-put and post, grpc-get and get, --pair-rounds windows each (default
// 3), each row their rounds together. This machine's ceilings drift (the
// bare put's rate moved by half within an hour); side by side, the drift
// falls on both sides of the ratio alike.
//
// Prints one Markdown table row per workload: throughput, latency
// percentiles of the calls started in the window, errors by code, and the
// server's CPU (over the window) and RSS from /proc (the bare server's for
// grpc-put and grpc-get, which runs as a child process; for store, the
// bench process itself).
//
//   build-rel/tests/cohorte-bench [--workloads=health,post,...]
//       [--clients=64] [--channels=N]  (default: one per client; fewer
//                       multiplex the clients' calls, client c on channel
//                       c mod N)
//       [--warmup=2] [--seconds=5]
//       [--prefill=0]   (messages posted before the workloads run)
//       [--members=0]   (members added to the demo cohort first)
//       [--deep=1000000]  (messages of the exchange `deep` lists last,
//                          more than 10,000; about 1 KiB of disk each)
//       [--deadline_ms=30000]  (of each call to cohorted; short ones
//                               overload it on purpose)
//       [--pair-rounds=3]  (alternating rounds of grpc-put and post, and
//                           of grpc-get and get, when both are asked for)

#include <pthread.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "cohorte/v1/exchanges.grpc.pb.h"
#include "cohorte/v1/members.grpc.pb.h"
#include "cohorte/v1/reports.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "server/transport/worker_pool.h"
#include "storage/store.h"
#include "tests/testing/raw_access.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace cohorte::bench {
namespace {

using Clock = std::chrono::steady_clock;
// Completes one call with its status.
using Done = std::function<void(const grpc::Status&)>;
// Starts one call for client `c`; `done` runs when it completes.
using StartCall = std::function<void(int c, Done done)>;

// The messages of the exchange `deep` lists first.
constexpr int kDeepFirst = 10000;

struct Options {
  std::vector<std::string> workloads = {"health",   "post",    "get",  "list",
                                        "mixed",    "publish", "deep", "store",
                                        "grpc-put", "grpc-get"};
  int clients = 64;
  int channels = 0;  // 0: one per client
  double warmup = 2;
  double seconds = 5;
  int prefill = 0;
  int members = 0;
  int deep = 1000000;
  int deadline_ms = 30000;
  int pair_rounds = 3;
};

// The served workloads' cohorted and its directory while they run, for Die
// (set once, before any call; Die may run on a gRPC thread).
std::atomic<pid_t> g_served_pid{0};
std::atomic<const std::string*> g_served_dir{nullptr};
// The bare server of the gRPC ceilings while it runs, for Die.
std::atomic<pid_t> g_bare_pid{0};

// Exits with `what`. A cohorted started for the served workloads is killed
// and its directory removed first (after `deep`, about a gigabyte):
// exiting runs no destructor that would.
[[noreturn]] void Die(const std::string& what) {
  // One thread exits; any other that fails meanwhile waits for that exit
  // (std::exit from two threads at once is undefined).
  static std::atomic<bool> dying{false};
  if (dying.exchange(true)) {
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
  }
  std::fprintf(stderr, "cohorte-bench: %s\n", what.c_str());
  if (const pid_t pid = g_served_pid.exchange(0); pid > 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  if (const pid_t pid = g_bare_pid.exchange(0); pid > 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  if (const std::string* dir = g_served_dir.exchange(nullptr)) {
    std::error_code ignored;
    std::filesystem::remove_all(*dir, ignored);
  }
  std::exit(1);
}

template <typename T>
T Must(absl::StatusOr<T> result, const char* what) {
  if (!result.ok()) Die(absl::StrCat(what, ": ", result.status().ToString()));
  return *std::move(result);
}

void Must(const grpc::Status& status, const char* what) {
  if (!status.ok()) {
    Die(absl::StrCat(what, ": ", status.error_code(), " ",
                     status.error_message()));
  }
}

// What one client saw in the measured window.
struct ClientRecord {
  std::vector<uint32_t> latencies_us;
  std::map<int, int64_t> errors;  // by grpc::StatusCode
};

// /proc figures of a process.
struct ProcSample {
  double cpu_seconds = 0;  // user + system
  double rss_mib = 0;
  double peak_rss_mib = 0;
};

ProcSample ReadProc(pid_t pid) {
  ProcSample sample;
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string content((std::istreambuf_iterator<char>(stat)),
                      std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces): state is 3rd,
  // utime 14th, stime 15th.
  const size_t close = content.rfind(')');
  if (close != std::string::npos) {
    std::vector<std::string> fields =
        absl::StrSplit(content.substr(close + 2), ' ');
    if (fields.size() > 12) {
      double utime = 0, stime = 0;
      (void)absl::SimpleAtod(fields[11], &utime);
      (void)absl::SimpleAtod(fields[12], &stime);
      sample.cpu_seconds = (utime + stime) / ::sysconf(_SC_CLK_TCK);
    }
  }
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    double kib = 0;
    std::vector<std::string> parts =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (parts.size() < 2 || !absl::SimpleAtod(parts[1], &kib)) continue;
    if (parts[0] == "VmRSS:") sample.rss_mib = kib / 1024;
    if (parts[0] == "VmHWM:") sample.peak_rss_mib = kib / 1024;
  }
  return sample;
}

// The result of one workload.
struct Result {
  std::string workload;
  int clients = 0;
  double seconds = 0;
  std::vector<uint32_t> latencies_us;  // sorted
  std::map<int, int64_t> errors;
  ProcSample before, after;

  double Percentile(double p) const {
    if (latencies_us.empty()) return 0;
    size_t i = static_cast<size_t>(p * (latencies_us.size() - 1) + 0.5);
    return latencies_us[std::min(i, latencies_us.size() - 1)] / 1000.0;
  }
  double PerSecond() const { return latencies_us.size() / seconds; }
};

Result Collect(const std::string& workload, int clients, double seconds,
               std::vector<ClientRecord>& records) {
  Result result;
  result.workload = workload;
  result.clients = clients;
  result.seconds = seconds;
  for (ClientRecord& r : records) {
    result.latencies_us.insert(result.latencies_us.end(),
                               r.latencies_us.begin(), r.latencies_us.end());
    for (const auto& [code, n] : r.errors) result.errors[code] += n;
  }
  std::sort(result.latencies_us.begin(), result.latencies_us.end());
  return result;
}

// Runs `start` for `clients` concurrent clients, each issuing its next call
// when the previous completes; records the calls started in the window.
Result DriveCalls(const std::string& workload, const Options& options,
                  pid_t server, const StartCall& start) {
  const Clock::time_point begin = Clock::now();
  const auto measure_from =
      begin + std::chrono::duration_cast<Clock::duration>(
                  std::chrono::duration<double>(options.warmup));
  const auto end =
      measure_from + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(options.seconds));
  std::vector<ClientRecord> records(options.clients);
  std::atomic<int> running{options.clients};
  absl::Notification all_done;
  ProcSample before;
  std::atomic<bool> sampled{false};

  std::function<void(int)> next = [&](int c) {
    const Clock::time_point t0 = Clock::now();
    if (t0 >= end) {
      if (running.fetch_sub(1) == 1) all_done.Notify();
      return;
    }
    if (t0 >= measure_from && !sampled.exchange(true))
      before = ReadProc(server);
    start(c, [&, c, t0](const grpc::Status& status) {
      if (t0 >= measure_from) {
        ClientRecord& r = records[c];
        if (status.ok()) {
          r.latencies_us.push_back(static_cast<uint32_t>(
              std::chrono::duration_cast<std::chrono::microseconds>(
                  Clock::now() - t0)
                  .count()));
        } else {
          ++r.errors[status.error_code()];
        }
      }
      next(c);
    });
  };
  for (int c = 0; c < options.clients; ++c) next(c);
  all_done.WaitForNotification();
  Result result = Collect(workload, options.clients, options.seconds, records);
  result.before = before;
  result.after = ReadProc(server);
  return result;
}

// Like DriveCalls for blocking calls on `options.clients` threads.
Result DriveThreads(const std::string& workload, const Options& options,
                    const std::function<absl::Status(int thread)>& op) {
  const Clock::time_point begin = Clock::now();
  const auto measure_from =
      begin + std::chrono::duration_cast<Clock::duration>(
                  std::chrono::duration<double>(options.warmup));
  const auto end =
      measure_from + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(options.seconds));
  std::vector<ClientRecord> records(options.clients);
  std::vector<std::thread> threads;
  for (int t = 0; t < options.clients; ++t) {
    threads.emplace_back([&, t] {
      for (Clock::time_point t0 = Clock::now(); t0 < end; t0 = Clock::now()) {
        const absl::Status status = op(t);
        if (t0 < measure_from) continue;
        if (status.ok()) {
          records[t].latencies_us.push_back(static_cast<uint32_t>(
              std::chrono::duration_cast<std::chrono::microseconds>(
                  Clock::now() - t0)
                  .count()));
        } else {
          ++records[t].errors[static_cast<int>(status.code())];
        }
      }
    });
  }
  std::this_thread::sleep_until(measure_from);
  const ProcSample before = ReadProc(::getpid());
  for (std::thread& t : threads) t.join();
  Result result = Collect(workload, options.clients, options.seconds, records);
  result.before = before;
  result.after = ReadProc(::getpid());
  return result;
}

void PrintHeader() {
  std::printf(
      "| workload | clients | calls/s | p50 ms | p90 ms | p99 ms | p99.9 ms "
      "| max ms | errors | server CPU %% | server RSS MiB |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|\n");
}

// Throughput, p50 and p99 of each workload printed, for PrintTargets.
struct Printed {
  double per_second;
  double p50_ms;
  double p99_ms;
};
std::map<std::string, Printed>& PrintedResults() {
  static auto* printed = new std::map<std::string, Printed>();
  return *printed;
}

void PrintRow(const Result& r) {
  PrintedResults()[r.workload] = {r.PerSecond(), r.Percentile(0.5),
                                  r.Percentile(0.99)};
  std::vector<std::string> errors;
  for (const auto& [code, n] : r.errors) {
    errors.push_back(absl::StrCat(n, "×", code));
  }
  const double cpu =
      100 * (r.after.cpu_seconds - r.before.cpu_seconds) / r.seconds;
  std::printf(
      "| %s | %d | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %s | %.0f | "
      "%.0f |\n",
      r.workload.c_str(), r.clients, r.PerSecond(), r.Percentile(0.5),
      r.Percentile(0.9), r.Percentile(0.99), r.Percentile(0.999),
      r.latencies_us.empty() ? 0.0 : r.latencies_us.back() / 1000.0,
      errors.empty() ? "0" : absl::StrJoin(errors, " ").c_str(), cpu,
      r.after.rss_mib);
  std::fflush(stdout);
}

// About `bytes` of French prose (valid UTF-8, whole sentences).
std::string Prose(size_t bytes, int seed) {
  const char* sentences[] = {
      "Les élus du PETR ont présenté le chantier alimentation au bureau. ",
      "Nous avons réuni les agents et les acteurs socio-économiques. ",
      "La délibération-cadre a été votée après deux réunions publiques. ",
      "Le Conseil de développement a porté la démarche auprès des communes. ",
  };
  std::string text;
  for (int i = seed; text.size() < bytes; ++i) text += sentences[i % 4];
  return text;
}

// A channel of its own (no shared subchannel, so its own connection).
std::shared_ptr<grpc::Channel> NewChannel(const std::string& address, int i) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("cohorte.bench.channel", i);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   args);
}

template <typename Request, typename Response>
struct Call {
  grpc::ClientContext context;
  Request request;
  Response response;
};

// The demo world as marie-dubois sees it, through `cohorted`.
class ServerWorkloads {
 public:
  ServerWorkloads(const Options& options, testing::ServerProcess* server,
                  const std::string& data_dir)
      : options_(options), server_(server), data_dir_(data_dir) {
    std::ifstream in(data_dir + "/demo-tokens/marie-dubois.token");
    std::getline(in, token_);
    if (token_.empty()) Die("no demo token for marie-dubois");
    for (int i = 0; i < options.channels; ++i) {
      auto channel = NewChannel(server->address(), i);
      health_.push_back(grpc::health::v1::Health::NewStub(channel));
      exchanges_.push_back(v1::ExchangeService::NewStub(channel));
      reports_.push_back(v1::ReportService::NewStub(channel));
      members_.push_back(v1::MemberService::NewStub(channel));
    }
    SetUp();
  }

  // Adds `n` allies to the demo cohort, as the administrator, 64 calls at
  // a time. Allies, because a delegation member joins a college group,
  // whose announcement (a fan-out job after the member's commit) scans
  // every member of the instance: adding thousands of them one by one
  // is quadratic (README).
  void AddMembers(int n) {
    const std::string admin = server_->AdminToken();
    std::atomic<int> next{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 64; ++t) {
      threads.emplace_back([&, t] {
        auto& stub = members_[t % members_.size()];
        for (int i = next++; i < n; i = next++) {
          grpc::ClientContext context;
          context.AddMetadata("authorization", "Bearer " + admin);
          context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::seconds(60));
          v1::CreateMemberRequest request;
          request.set_member_id(absl::StrCat("bench-ally-", i));
          v1::Member* m = request.mutable_member();
          m->set_given_name("Allié");
          m->set_family_name(absl::StrCat("Banc ", i));
          m->set_email(absl::StrCat("bench-ally-", i, "@example.org"));
          m->set_role(v1::Member::ALLY);
          m->add_cohorts("cohorts/occitanie");
          v1::Member created;
          Must(stub->CreateMember(&context, request, &created),
               "adding a member");
        }
      });
    }
    for (std::thread& t : threads) t.join();
  }

  // Creates a draft COHORT report of marie-dubois and publishes it; the
  // publication's latency in ms (its fan-out to the whole cohort
  // included: it returns once every notification is delivered).
  double PublishReport(int i) {
    v1::CreateReportRequest create;
    create.set_parent("cohorts/occitanie");
    create.set_report_id(absl::StrCat("bench-annonce-", i));
    v1::ExperienceReport* r = create.mutable_report();
    r->set_title(absl::StrCat("Annonce de banc d'essai ", i));
    r->set_territory("cohorts/occitanie/territories/petr-vallees");
    r->set_visibility(v1::COHORT);
    r->set_context(Prose(600, i));
    grpc::ClientContext create_context;
    Prepare(&create_context, /*deadline_ms=*/60000);
    v1::ExperienceReport draft;
    Must(reports_[0]->CreateReport(&create_context, create, &draft),
         "creating a report to publish");
    grpc::ClientContext publish_context;
    Prepare(&publish_context, /*deadline_ms=*/60000);
    v1::PublishReportRequest publish;
    publish.set_name(draft.name());
    v1::ExperienceReport published;
    const Clock::time_point t0 = Clock::now();
    Must(reports_[0]->PublishReport(&publish_context, publish, &published),
         "publishing a report");
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  }

  pid_t pid() const { return server_->pid(); }
  const std::string& data_dir() const { return data_dir_; }

  // Opens a new exchange in the élus' group (as marie-dubois, a member):
  // its name.
  std::string CreateExchange(const std::string& title) {
    grpc::ClientContext context;
    Prepare(&context, /*deadline_ms=*/30000);
    v1::CreateExchangeRequest request;
    request.set_parent("cohorts/occitanie/groups/elus");
    request.mutable_exchange()->set_title(title);
    request.mutable_exchange()->set_kind(v1::Exchange::SHARING);
    v1::Exchange created;
    Must(exchanges_[0]->CreateExchange(&context, request, &created),
         "creating an exchange");
    return created.name();
  }

  StartCall Health() {
    return [this](int c, Done done) {
      auto* call = new Call<grpc::health::v1::HealthCheckRequest,
                            grpc::health::v1::HealthCheckResponse>();
      Prepare(&call->context);
      health_[c % health_.size()]->async()->Check(
          &call->context, &call->request, &call->response,
          [call, done](grpc::Status s) {
            done(s);
            delete call;
          });
    };
  }

  StartCall Post() { return PostOf(post_); }

  // Posts `request`, each call with `deadline_ms` (0: --deadline_ms).
  StartCall PostOf(const v1::PostMessageRequest& request, int deadline_ms = 0) {
    return [this, request, deadline_ms](int c, Done done) {
      auto* call = new Call<v1::PostMessageRequest, v1::Message>();
      Prepare(&call->context, deadline_ms);
      call->request = request;
      exchanges_[c % exchanges_.size()]->async()->PostMessage(
          &call->context, &call->request, &call->response,
          [call, done](grpc::Status s) {
            done(s);
            delete call;
          });
    };
  }

  StartCall Get() {
    return [this](int c, Done done) {
      auto* call = new Call<v1::GetReportRequest, v1::ExperienceReport>();
      Prepare(&call->context);
      call->request.set_name(report_);
      reports_[c % reports_.size()]->async()->GetReport(
          &call->context, &call->request, &call->response,
          [call, done](grpc::Status s) {
            done(s);
            delete call;
          });
    };
  }

  StartCall List() { return ListOf(exchange_); }

  // The first page of 50 of `exchange`, as `list` does.
  StartCall ListOf(const std::string& exchange) {
    return [this, exchange](int c, Done done) {
      auto* call =
          new Call<v1::ListMessagesRequest, v1::ListMessagesResponse>();
      Prepare(&call->context);
      call->request.set_parent(exchange);
      call->request.set_page_size(50);
      exchanges_[c % exchanges_.size()]->async()->ListMessages(
          &call->context, &call->request, &call->response,
          [call, done](grpc::Status s) {
            done(s);
            delete call;
          });
    };
  }

  // 45 % post, 45 % get, 10 % list, interleaved per client.
  StartCall Mixed() {
    auto turns =
        std::make_shared<std::vector<std::atomic<int>>>(options_.clients);
    return
        [turns, post = Post(), get = Get(), list = List()](int c, Done done) {
          const int turn = (*turns)[c]++ % 20;
          if (turn < 9) {
            post(c, std::move(done));
          } else if (turn < 18) {
            get(c, std::move(done));
          } else {
            list(c, std::move(done));
          }
        };
  }

  // Posts `n` messages (64 at a time, each with a deadline of a minute
  // whatever --deadline_ms says) so that lists run over a large exchange:
  // the élus' exchange that `list` reads, or `exchange`.
  void Prefill(int n, const std::string& exchange = "") {
    std::atomic<int> left{n};
    v1::PostMessageRequest request = post_;
    if (!exchange.empty()) request.set_parent(exchange);
    const StartCall post = PostOf(request, /*deadline_ms=*/60000);
    absl::Notification done;
    std::atomic<int> running{64};
    std::function<void(int)> next = [&](int c) {
      if (left.fetch_sub(1) <= 0) {
        if (running.fetch_sub(1) == 1) done.Notify();
        return;
      }
      post(c, [&, c](const grpc::Status& s) {
        Must(s, "prefill");
        next(c);
      });
    };
    for (int c = 0; c < 64; ++c) next(c);
    done.WaitForNotification();
  }

 private:
  void Prepare(grpc::ClientContext* context, int deadline_ms = 0) const {
    context->AddMetadata("authorization", "Bearer " + token_);
    context->set_deadline(
        std::chrono::system_clock::now() +
        std::chrono::milliseconds(deadline_ms > 0 ? deadline_ms
                                                  : options_.deadline_ms));
  }

  // Finds the élus' exchange and publishes a 4 KiB report.
  void SetUp() {
    grpc::ClientContext list_context;
    Prepare(&list_context, /*deadline_ms=*/30000);
    v1::ListExchangesRequest list;
    list.set_parent("cohorts/occitanie/groups/elus");
    v1::ListExchangesResponse exchanges;
    Must(exchanges_[0]->ListExchanges(&list_context, list, &exchanges),
         "listing the élus' exchanges");
    if (exchanges.exchanges().empty()) Die("the élus have no exchange");
    exchange_ = exchanges.exchanges(0).name();
    post_.set_parent(exchange_);
    post_.mutable_message()->set_body(Prose(1024, 0));

    grpc::ClientContext create_context;
    Prepare(&create_context, /*deadline_ms=*/30000);
    v1::CreateReportRequest create;
    create.set_parent("cohorts/occitanie");
    create.set_report_id("bench-rapport-4k");
    v1::ExperienceReport* r = create.mutable_report();
    r->set_title("Rapport de banc d'essai : quatre kilo-octets de retour");
    r->set_territory("cohorts/occitanie/territories/petr-vallees");
    r->set_visibility(v1::NETWORK);
    r->set_context(Prose(600, 0));
    r->set_actions(Prose(600, 1));
    r->set_results(Prose(600, 2));
    r->set_what_worked(Prose(600, 3));
    r->set_what_failed(Prose(600, 0));
    r->set_lessons(Prose(600, 1));
    v1::ExperienceReport created;
    Must(reports_[0]->CreateReport(&create_context, create, &created),
         "creating the report");
    grpc::ClientContext publish_context;
    Prepare(&publish_context, /*deadline_ms=*/30000);
    v1::PublishReportRequest publish;
    publish.set_name(created.name());
    v1::ExperienceReport published;
    Must(reports_[0]->PublishReport(&publish_context, publish, &published),
         "publishing the report");
    report_ = published.name();
    std::fprintf(stderr, "cohorte-bench: report %s is %zu bytes\n",
                 report_.c_str(), published.ByteSizeLong());
  }

  const Options& options_;
  testing::ServerProcess* const server_;
  std::string token_;
  std::vector<std::unique_ptr<grpc::health::v1::Health::Stub>> health_;
  std::vector<std::unique_ptr<v1::ExchangeService::Stub>> exchanges_;
  std::vector<std::unique_ptr<v1::ReportService::Stub>> reports_;
  std::vector<std::unique_ptr<v1::MemberService::Stub>> members_;
  const std::string data_dir_;
  std::string exchange_;
  std::string report_;
  v1::PostMessageRequest post_;
};

// The post workload while one report is published per second of the
// window (the first at its start); the publications' latencies go to
// PublishLatencies() (PrintTargets prints them).
std::vector<double>& PublishLatencies() {
  static auto* latencies = new std::vector<double>();
  return *latencies;
}

// The files of a store: all of them, its tables (*.sst), its WAL (*.log).
struct DiskUse {
  double total = 0, tables = 0, wal = 0;  // bytes
};

// What `deep` and the served workloads measured beyond their rows, for
// PrintTargets.
struct ServedFigures {
  std::string deep_first, deep_last;  // the two sizes listed: "10k", "1M"
  int64_t fill_messages = 0;          // posted into the long exchange
  double fill_per_second = 0;
  double settle_seconds = 0;        // from the end of that fill to idleness
  bool settled = false;             // false: still busy after the longest wait
  DiskUse before_fill, after_fill;  // the whole store, around that fill
  double peak_rss_mib = 0;
};
ServedFigures& Served() {
  static auto* figures = new ServedFigures();
  return *figures;
}

// Adds up the files under `dir`. A file RocksDB deletes while it is being
// counted is left out; any other error is reported on stderr and counts
// what was read until then.
DiskUse MeasureDisk(const std::string& dir) {
  DiskUse use;
  std::error_code error;
  auto it = std::filesystem::recursive_directory_iterator(dir, error);
  for (; !error && it != std::filesystem::recursive_directory_iterator();
       it.increment(error)) {
    std::error_code file_error;
    if (!it->is_regular_file(file_error)) continue;
    const uintmax_t bytes = it->file_size(file_error);
    if (file_error) continue;  // deleted meanwhile (an obsolete file)
    use.total += static_cast<double>(bytes);
    const std::string ext = it->path().extension().string();
    if (ext == ".sst") use.tables += static_cast<double>(bytes);
    if (ext == ".log") use.wal += static_cast<double>(bytes);
  }
  if (error) {
    std::fprintf(stderr, "cohorte-bench: measuring %s: %s\n", dir.c_str(),
                 error.message().c_str());
  }
  return use;
}

// Waits until `pid` is idle: three half-seconds in a row under a tenth of
// a core each (after a fill: its flushes and compactions, as far as CPU
// shows them), for at most two minutes.
struct Settled {
  double seconds = 0;
  bool idle = false;
};
Settled WaitUntilIdle(pid_t pid) {
  const Clock::time_point t0 = Clock::now();
  ProcSample last = ReadProc(pid);
  int quiet = 0;
  while (quiet < 3 && Clock::now() - t0 < std::chrono::minutes(2)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const ProcSample now = ReadProc(pid);
    quiet = now.cpu_seconds - last.cpu_seconds < 0.05 ? quiet + 1 : 0;
    last = now;
  }
  return {std::chrono::duration<double>(Clock::now() - t0).count(), quiet >= 3};
}

// "10k", "1M", or the count itself when it is not a round one.
std::string CountLabel(int n) {
  if (n % 1000000 == 0) return absl::StrCat(n / 1000000, "M");
  if (n % 1000 == 0) return absl::StrCat(n / 1000, "k");
  return absl::StrCat(n);
}

// The rounds of one workload as one: their measured calls and errors
// together, the server's CPU over their measured windows only.
Result MergeRounds(const std::vector<Result>& rounds) {
  Result merged;
  merged.workload = rounds.front().workload;
  merged.clients = rounds.front().clients;
  double cpu = 0;
  for (const Result& r : rounds) {
    merged.seconds += r.seconds;
    merged.latencies_us.insert(merged.latencies_us.end(),
                               r.latencies_us.begin(), r.latencies_us.end());
    for (const auto& [code, n] : r.errors) merged.errors[code] += n;
    cpu += r.after.cpu_seconds - r.before.cpu_seconds;
  }
  std::sort(merged.latencies_us.begin(), merged.latencies_us.end());
  merged.after = rounds.back().after;
  merged.before = merged.after;
  merged.before.cpu_seconds = merged.after.cpu_seconds - cpu;
  return merged;
}

// `deep`: two exchanges of their own, one of kDeepFirst messages and one
// of options.deep, each listed (its first page, oldest first, as `list`)
// in kDeepRounds alternating rounds once the server is idle after their
// fill (a long exchange is written over months, its compactions long done
// when it is read). Alternating rounds in the same store spread this
// machine's drift (a quarter between two windows a minute apart) over
// both lengths. The whole store's files are measured before and after the
// long exchange's fill.
constexpr int kDeepRounds = 3;

void DriveDeep(const Options& options, ServerWorkloads* load) {
  ServedFigures& figures = Served();
  const std::string shorter =
      load->CreateExchange("Banc d'essai : un fil de dix mille messages");
  load->Prefill(kDeepFirst, shorter);
  const std::string longer =
      load->CreateExchange("Banc d'essai : un fil très long");
  WaitUntilIdle(load->pid());
  const std::string store = load->data_dir() + "/store";
  figures.before_fill = MeasureDisk(store);
  const Clock::time_point t0 = Clock::now();
  figures.fill_messages = options.deep;
  load->Prefill(options.deep, longer);
  figures.fill_per_second =
      figures.fill_messages /
      std::chrono::duration<double>(Clock::now() - t0).count();
  const Settled settled = WaitUntilIdle(load->pid());
  figures.settle_seconds = settled.seconds;
  figures.settled = settled.idle;
  figures.after_fill = MeasureDisk(store);
  figures.deep_first = CountLabel(kDeepFirst);
  figures.deep_last = CountLabel(options.deep);
  std::vector<Result> first, last;
  for (int round = 0; round < kDeepRounds; ++round) {
    first.push_back(DriveCalls("list@" + figures.deep_first, options,
                               load->pid(), load->ListOf(shorter)));
    last.push_back(DriveCalls("list@" + figures.deep_last, options, load->pid(),
                              load->ListOf(longer)));
  }
  PrintRow(MergeRounds(first));
  PrintRow(MergeRounds(last));
}

Result DrivePostWhilePublishing(const Options& options, ServerWorkloads* load) {
  std::atomic<bool> done{false};
  std::thread publisher([&] {
    const Clock::time_point start =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(options.warmup));
    for (int i = 0; i < options.seconds; ++i) {
      std::this_thread::sleep_until(start + std::chrono::seconds(i));
      if (done) break;
      PublishLatencies().push_back(load->PublishReport(i));
    }
  });
  Result result = DriveCalls("publish", options, load->pid(), load->Post());
  done = true;
  publisher.join();
  return result;
}

// One durable 1 KiB put through Store::Commit.
absl::Status PutOnce(storage::Store& store, const std::string& value) {
  static std::atomic<int64_t> next_key{0};
  storage::Mutation m;
  m.actor = "members/bench";
  m.method = "Bench";
  const std::string key = absl::StrCat("bench/", next_key++);
  m.apply = [&](storage::Txn& txn) -> absl::StatusOr<std::string> {
    txn.PutIndex(key, value);
    return std::string();
  };
  return store.Commit(std::move(m)).status();
}

std::unique_ptr<storage::Store> OpenStore(const std::string& dir) {
  std::filesystem::create_directories(dir);
  storage::StoreOptions options;
  options.path = dir + "/db";
  return Must(storage::Store::Open(options), "opening a bare store");
}

constexpr char kReportKey[] = "bench/report";

// The bare gRPC services of the ceilings: nothing but the store call.
class BarePut final : public v1::ExchangeService::CallbackService {
 public:
  BarePut(storage::Store* store, transport::WorkerPool* pool)
      : store_(*store), pool_(*pool) {}
  grpc::ServerUnaryReactor* PostMessage(grpc::CallbackServerContext* context,
                                        const v1::PostMessageRequest* request,
                                        v1::Message* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    pool_.Schedule([this, request, response, reactor] {
      const absl::Status s = PutOnce(store_, request->message().body());
      response->set_name("m");
      reactor->Finish(s.ok() ? grpc::Status::OK
                             : grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                            std::string(s.message())));
    });
    return reactor;
  }

 private:
  storage::Store& store_;
  transport::WorkerPool& pool_;
};

class BareGet final : public v1::ReportService::CallbackService {
 public:
  explicit BareGet(storage::Store* store) : store_(*store) {}
  grpc::ServerUnaryReactor* GetReport(grpc::CallbackServerContext* context,
                                      const v1::GetReportRequest*,
                                      v1::ExperienceReport* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    std::string value;
    const absl::Status s = storage::testing::RawAccess::Committed(store_).Get(
        storage::Table::kIndexes, kReportKey, &value);
    reactor->Finish(s.ok() && response->ParseFromString(value)
                        ? grpc::Status::OK
                        : grpc::Status(grpc::StatusCode::INTERNAL, "get"));
    return reactor;
  }

 private:
  storage::Store& store_;
};

// The 4 KiB report the bare get serves.
v1::ExperienceReport BenchReport() {
  v1::ExperienceReport report;
  report.set_name("cohorts/occitanie/reports/bench-rapport-4k");
  report.set_title("Rapport de banc d'essai : quatre kilo-octets de retour");
  report.set_context(Prose(600, 0));
  report.set_actions(Prose(600, 1));
  report.set_results(Prose(600, 2));
  report.set_what_worked(Prose(600, 3));
  report.set_what_failed(Prose(600, 0));
  report.set_lessons(Prose(600, 1));
  return report;
}

// The child process of the gRPC ceilings (--serve-ceilings=DIR): a bare
// server over a store in DIR, its port on stdout, until SIGTERM.
int ServeCeilings(const std::string& dir) {
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);  // before any thread starts
  std::unique_ptr<storage::Store> store = OpenStore(dir);
  {
    storage::Mutation m;
    m.actor = "members/bench";
    m.method = "Bench";
    const std::string bytes = BenchReport().SerializeAsString();
    m.apply = [&](storage::Txn& txn) -> absl::StatusOr<std::string> {
      txn.PutIndex(kReportKey, bytes);
      return std::string();
    };
    Must(store->Commit(std::move(m)), "storing the report");
  }
  transport::WorkerPool pool(64);
  BarePut put(store.get(), &pool);
  BareGet get(store.get());
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&put);
  builder.RegisterService(&get);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) Die("cannot start the bare gRPC server");
  std::printf("listening on 127.0.0.1:%d\n", port);
  std::fflush(stdout);
  int signal = 0;
  sigwait(&term, &signal);
  server->Shutdown();
  return 0;
}

// The `store` ceiling, in this process.
void RunStoreCeiling(const Options& options) {
  testing::TempDir dir;
  const std::string value = Prose(1024, 0);
  std::unique_ptr<storage::Store> store = OpenStore(dir.path() + "/store");
  PrintRow(DriveThreads("store", options,
                        [&](int) { return PutOnce(*store, value); }));
}

// The gRPC ceilings: this binary run again as the bare server
// (--serve-ceilings) in a child process, so that it has threads and /proc
// figures of its own, until destroyed. Not thread-safe.
class BareServer {
 public:
  explicit BareServer(const Options& options) : options_(options) {
    int out[2];
    if (pipe(out) != 0) Die("pipe");
    const std::string flag = "--serve-ceilings=" + dir_.path() + "/grpc";
    child_ = fork();
    if (child_ < 0) Die("fork");
    if (child_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      execl("/proc/self/exe", "cohorte-bench", flag.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    g_bare_pid.store(child_);
    std::string line;
    char c;
    while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
    close(out[0]);
    const std::string marker = "listening on ";
    if (line.rfind(marker, 0) != 0) Die("the bare gRPC server did not start");
    const std::string address = line.substr(marker.size());
    for (int i = 0; i < options.channels; ++i) {
      auto channel = NewChannel(address, i);
      exchanges_.push_back(v1::ExchangeService::NewStub(channel));
      reports_.push_back(v1::ReportService::NewStub(channel));
    }
    post_.set_parent("bench");
    post_.mutable_message()->set_body(Prose(1024, 0));
  }
  BareServer(const BareServer&) = delete;
  BareServer& operator=(const BareServer&) = delete;
  ~BareServer() {
    g_bare_pid.store(0);
    kill(child_, SIGTERM);
    int status = 0;
    waitpid(child_, &status, 0);
  }

  pid_t pid() const { return child_; }

  // One window of `workload` (grpc-put or grpc-get), once the bare server
  // is idle.
  Result Run(const std::string& workload) {
    WaitUntilIdle(child_);  // as for the served workloads
    // The bare server's calls carry what the served ones carry
    // (ServerWorkloads::Prepare): a bearer token of the same length (it
    // reads none) and the same deadline, whose timer each side keeps; only
    // the server's work differs.
    const std::string bearer = "Bearer coh_" + std::string(64, '0');
    const int deadline_ms = options_.deadline_ms;
    auto prepare = [bearer, deadline_ms](grpc::ClientContext* context) {
      context->AddMetadata("authorization", bearer);
      context->set_deadline(std::chrono::system_clock::now() +
                            std::chrono::milliseconds(deadline_ms));
    };
    if (workload == "grpc-put") {
      return DriveCalls(workload, options_, child_, [&](int c, Done done) {
        auto* call = new Call<v1::PostMessageRequest, v1::Message>();
        prepare(&call->context);
        call->request = post_;
        exchanges_[c % exchanges_.size()]->async()->PostMessage(
            &call->context, &call->request, &call->response,
            [call, done](grpc::Status s) {
              done(s);
              delete call;
            });
      });
    }
    const std::string report_name = BenchReport().name();
    return DriveCalls(workload, options_, child_, [&](int c, Done done) {
      auto* call = new Call<v1::GetReportRequest, v1::ExperienceReport>();
      prepare(&call->context);
      call->request.set_name(report_name);
      reports_[c % reports_.size()]->async()->GetReport(
          &call->context, &call->request, &call->response,
          [call, done](grpc::Status s) {
            done(s);
            delete call;
          });
    });
  }

 private:
  const Options& options_;
  testing::TempDir dir_;
  pid_t child_ = -1;
  std::vector<std::unique_ptr<v1::ExchangeService::Stub>> exchanges_;
  std::vector<std::unique_ptr<v1::ReportService::Stub>> reports_;
  v1::PostMessageRequest post_;
};

// The ceiling a served workload's target compares it with.
std::string CeilingOf(const std::string& served) {
  if (served == "post") return "grpc-put";
  if (served == "get") return "grpc-get";
  return "";
}

// The issue's targets that this run measured, as ratios.
void PrintTargets() {
  const std::map<std::string, Printed>& p = PrintedResults();
  auto ratio = [&](const char* a, const char* b, double target) {
    if (p.count(a) == 0 || p.count(b) == 0 || p.at(b).per_second == 0) return;
    const double r = p.at(a).per_second / p.at(b).per_second;
    std::printf("| %s / %s throughput | %.2f | >= %.1f | %s |\n", a, b, r,
                target, r >= target ? "met" : "not met");
  };
  auto p99 = [&](const char* a, double target_ms) {
    if (p.count(a) == 0) return;
    const double v = p.at(a).p99_ms;
    std::printf("| %s p99 | %.2f ms | <= %.0f ms | %s |\n", a, v, target_ms,
                v <= target_ms ? "met" : "not met");
  };
  std::printf("\n| target | measured | wanted | |\n|---|---:|---:|---|\n");
  ratio("post", "grpc-put", 0.8);
  p99("post", 10);
  ratio("get", "grpc-get", 0.8);
  ratio("get", "health", 0.5);
  p99("get", 5);
  if (p.count("publish") > 0 && p.count("post") > 0 &&
      p.at("post").p99_ms > 0) {
    const double r = p.at("publish").p99_ms / p.at("post").p99_ms;
    std::printf("| post p99 while publishing / post p99 | %.2f | <= 2 | %s |\n",
                r, r <= 2 ? "met" : "not met");
  }
  const ServedFigures& served = Served();
  const std::string first = "list@" + served.deep_first;
  const std::string last = "list@" + served.deep_last;
  if (p.count(first) > 0 && p.count(last) > 0) {
    for (const auto& [what, of] :
         {std::pair<const char*, double Printed::*>{"p50", &Printed::p50_ms},
          {"p99", &Printed::p99_ms}}) {
      const double at_first = p.at(first).*of, at_last = p.at(last).*of;
      if (at_first <= 0 || at_last <= 0) {
        std::printf(
            "| list page %s, %s / %s messages | no list succeeded "
            "| <= 1.3 | not met |\n",
            what, served.deep_last.c_str(), served.deep_first.c_str());
        continue;
      }
      const double r = at_last / at_first;
      std::printf("| list page %s, %s / %s messages | %.2f | <= 1.3 | %s |\n",
                  what, served.deep_last.c_str(), served.deep_first.c_str(), r,
                  r <= 1.3 ? "met" : "not met");
    }
  }
  const DiskUse& after = served.after_fill;
  const DiskUse& before = served.before_fill;
  constexpr double kMiB = 1 << 20;
  if (after.tables > 0) {
    const double r = after.total / after.tables;
    std::printf(
        "| the whole store on disk / its tables, after `deep` | %.2f (%.0f / "
        "%.0f MiB) | <= 2 | %s |\n",
        r, after.total / kMiB, after.tables / kMiB, r <= 2 ? "met" : "not met");
  }
  if (served.peak_rss_mib > 0) {
    std::printf(
        "| cohorted peak RSS through the run | %.0f MiB | <= 512 MiB "
        "| %s |\n",
        served.peak_rss_mib, served.peak_rss_mib <= 512 ? "met" : "not met");
  }
  if (served.fill_messages > 0) {
    std::printf(
        "\n`deep` posted %lld messages (1 KiB of French prose each, which "
        "RocksDB's Snappy compresses) at %.0f posts/s into the exchange of "
        "list@%s (list@%s is another one's); the server was %s %.1f s after "
        "the fill. Over the fill the "
        "store grew by %.0f bytes a message (%.0f of tables). After it, the "
        "whole store held %.0f MiB: %.0f MiB of tables, %.0f MiB of WAL, "
        "%.0f MiB of other files.\n",
        static_cast<long long>(served.fill_messages), served.fill_per_second,
        served.deep_last.c_str(), served.deep_first.c_str(),
        served.settled ? "idle" : "still busy (not idle)",
        served.settle_seconds,
        (after.total - before.total) / served.fill_messages,
        (after.tables - before.tables) / served.fill_messages,
        after.total / kMiB, after.tables / kMiB, after.wal / kMiB,
        (after.total - after.tables - after.wal) / kMiB);
  }
  const std::vector<double>& published = PublishLatencies();
  if (!published.empty()) {
    std::printf(
        "\nPublications during `publish` (each notifies the whole "
        "cohort, fan-out included): %s ms\n",
        absl::StrJoin(published, ", ", [](std::string* out, double ms) {
          absl::StrAppend(out, absl::StrFormat("%.0f", ms));
        }).c_str());
  }
}

Options ParseFlags(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    bool ok = eq != std::string::npos;
    if (name == "--workloads") {
      options.workloads = absl::StrSplit(value, ',', absl::SkipEmpty());
    } else if (name == "--clients") {
      ok = ok && absl::SimpleAtoi(value, &options.clients) &&
           options.clients > 0;
    } else if (name == "--channels") {
      ok = ok && absl::SimpleAtoi(value, &options.channels) &&
           options.channels > 0;
    } else if (name == "--warmup") {
      ok = ok && absl::SimpleAtod(value, &options.warmup);
    } else if (name == "--seconds") {
      ok = ok && absl::SimpleAtod(value, &options.seconds) &&
           options.seconds > 0;
    } else if (name == "--deadline_ms") {
      ok = ok && absl::SimpleAtoi(value, &options.deadline_ms) &&
           options.deadline_ms > 0;
    } else if (name == "--prefill") {
      ok = ok && absl::SimpleAtoi(value, &options.prefill);
    } else if (name == "--deep") {
      ok = ok && absl::SimpleAtoi(value, &options.deep) &&
           options.deep > kDeepFirst;
    } else if (name == "--pair-rounds") {
      ok = ok && absl::SimpleAtoi(value, &options.pair_rounds) &&
           options.pair_rounds > 0;
    } else if (name == "--members") {
      ok = ok && absl::SimpleAtoi(value, &options.members) &&
           options.members >= 0;
    } else {
      ok = false;
    }
    if (!ok) Die(absl::StrCat("bad flag ", arg, " (see the file's header)"));
  }
  if (options.channels == 0) options.channels = options.clients;
  if (options.channels > options.clients) {
    Die(absl::StrCat("--channels=", options.channels,
                     " is more than --clients=", options.clients,
                     ": a channel would carry no call"));
  }
  return options;
}

int Main(int argc, char** argv) {
  // As cohorted's release build does (server/main.cc), so that the
  // ceilings pay for the same Mutex as the server.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const std::string serve = "--serve-ceilings=";
  if (argc == 2 && std::string(argv[1]).rfind(serve, 0) == 0) {
    return ServeCeilings(std::string(argv[1]).substr(serve.size()));
  }
  const Options options = ParseFlags(argc, argv);
  std::vector<std::string> served, ceilings;
  for (const std::string& w : options.workloads) {
    if (w == "store" || w == "grpc-put" || w == "grpc-get") {
      ceilings.push_back(w);
    } else if (w == "health" || w == "post" || w == "get" || w == "list" ||
               w == "mixed" || w == "publish" || w == "deep") {
      served.push_back(w);
    } else {
      Die(absl::StrCat("unknown workload ", w));
    }
  }
  auto wanted = [&](const std::string& w) {
    return std::find(options.workloads.begin(), options.workloads.end(), w) !=
           options.workloads.end();
  };
  PrintHeader();
  // The ceilings first, on a machine that has not yet written a million
  // messages and deleted them: what `deep` leaves behind (page cache,
  // files being freed) must not lower them. A gRPC ceiling whose served
  // workload also runs is measured with it instead, in alternating rounds.
  std::unique_ptr<BareServer> bare;
  for (const std::string& w : ceilings) {
    if (w == "store") {
      RunStoreCeiling(options);
      continue;
    }
    if (bare == nullptr) bare = std::make_unique<BareServer>(options);
    if (!wanted(w == "grpc-put" ? "post" : "get")) PrintRow(bare->Run(w));
  }
  // The served workloads still to be paired with a ceiling: the bare
  // server (and its store's memory) is gone once they have run.
  int pairs_left = 0;
  for (const std::string& w : served) {
    if (bare != nullptr && wanted(CeilingOf(w))) ++pairs_left;
  }
  if (pairs_left == 0) bare.reset();
  if (!served.empty()) {
    testing::TempDir dir;
    const std::string data_dir = dir.path() + "/data";
    std::unique_ptr<testing::ServerProcess> server =
        testing::ServerProcess::Start(data_dir, {"--seed-demo"});
    if (server == nullptr) Die("cohorted did not start");
    g_served_dir.store(&dir.path());
    g_served_pid.store(server->pid());
    ServerWorkloads load(options, server.get(), data_dir);
    if (options.prefill > 0) load.Prefill(options.prefill);
    if (options.members > 0) load.AddMembers(options.members);
    for (const std::string& w : served) {
      // Each workload starts on an idle server: the flushes and
      // compactions of the writes before it (a `post` window writes a
      // hundred megabytes) would otherwise take a core from the next one.
      WaitUntilIdle(load.pid());
      if (w == "publish") {
        PrintRow(DrivePostWhilePublishing(options, &load));
        continue;
      }
      if (w == "deep") {
        DriveDeep(options, &load);
        continue;
      }
      if (const std::string ceiling = CeilingOf(w);
          bare != nullptr && wanted(ceiling)) {
        // The ratio's two sides in alternating rounds, each on idle
        // servers: this machine's drift (the bare put's rate moved by half
        // within an hour) falls on both alike.
        std::vector<Result> bare_rounds, served_rounds;
        for (int round = 0; round < options.pair_rounds; ++round) {
          WaitUntilIdle(load.pid());
          bare_rounds.push_back(bare->Run(ceiling));
          WaitUntilIdle(bare->pid());
          WaitUntilIdle(load.pid());
          served_rounds.push_back(DriveCalls(
              w, options, load.pid(), w == "post" ? load.Post() : load.Get()));
        }
        PrintRow(MergeRounds(bare_rounds));
        PrintRow(MergeRounds(served_rounds));
        if (--pairs_left == 0) bare.reset();
        continue;
      }
      StartCall start = w == "health" ? load.Health()
                        : w == "post" ? load.Post()
                        : w == "get"  ? load.Get()
                        : w == "list" ? load.List()
                                      : load.Mixed();
      PrintRow(DriveCalls(w, options, load.pid(), start));
    }
    Served().peak_rss_mib = ReadProc(load.pid()).peak_rss_mib;
    g_served_pid.store(0);
    g_served_dir.store(nullptr);
    server->Stop(SIGTERM);
  }
  bare.reset();
  PrintTargets();
  return 0;
}

}  // namespace
}  // namespace cohorte::bench

int main(int argc, char** argv) { return cohorte::bench::Main(argc, argv); }
