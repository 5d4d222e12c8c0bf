// feed_bench: the change feed under load, against a running `cohorted
// --seed-demo`. Opens --watchers Watch streams (callback API, over 8
// channels): --insiders of them as an élue of the demo's élus group (they
// receive every post), the others as the demo ally's service token (they
// receive none: progress only). Then --posters threads post 1 KiB messages
// in the élus group for --seconds. Prints the posts' throughput and
// latency, the commit-to-delivery latency seen by the insiders (receive
// time minus the event's commit time; same machine, same clock), the
// watchers that ended early, and the server's RSS (--server-pid).
//
//   feed_bench --server 127.0.0.1:PORT --data DIR --server-pid PID
//              [--watchers 1000] [--insiders 10] [--posters 64]
//              [--seconds 10]
//
// Not a test: run by hand (tests/bench/run_feed.sh), figures in the README.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cohorte/v1/changes.grpc.pb.h"
#include "cohorte/v1/exchanges.grpc.pb.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/grpcpp.h"

namespace {

using cohorte::v1::ChangeService;
using cohorte::v1::WatchRequest;
using cohorte::v1::WatchResponse;

std::string Arg(int argc, char** argv, const std::string& name,
                const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  return fallback;
}

std::string ReadToken(const std::string& path) {
  std::ifstream in(path);
  std::string t;
  std::getline(in, t);
  return t;
}

std::string Rss(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/status");
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS", 0) == 0 || line.rfind("VmHWM", 0) == 0) {
      out += line + "  ";
    }
  }
  return out;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

class Watcher : public grpc::ClientReadReactor<WatchResponse> {
 public:
  Watcher(ChangeService::Stub* stub, const std::string& token, bool insider,
          std::mutex* mu, std::vector<double>* latencies_ms,
          std::atomic<int>* started, std::atomic<int>* ended_early)
      : insider_(insider),
        mu_(mu),
        latencies_ms_(latencies_ms),
        started_(started),
        ended_early_(ended_early) {
    ctx_.AddMetadata("authorization", "Bearer " + token);
    stub->async()->Watch(&ctx_, &request_, this);
    StartRead(&response_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    if (!first_) {
      first_ = true;
      started_->fetch_add(1);
    }
    if (insider_ && response_.events_size() > 0) {
      const int64_t now = absl::ToUnixNanos(absl::Now());
      std::lock_guard<std::mutex> lock(*mu_);
      for (const auto& e : response_.events()) {
        if (e.resource_type() != "cohorte.v1.Message") continue;
        const int64_t commit =
            google::protobuf::util::TimeUtil::TimestampToNanoseconds(
                e.commit_time());
        latencies_ms_->push_back((now - commit) / 1e6);
      }
    }
    StartRead(&response_);
  }
  void OnDone(const grpc::Status& s) override {
    if (!cancelled_ && !s.ok()) {
      ended_early_->fetch_add(1);
      std::cerr << "watch ended: " << s.error_code() << " " << s.error_message()
                << "\n";
    }
    std::lock_guard<std::mutex> lock(done_mu_);
    done_ = true;
    done_cv_.notify_all();
  }
  void Cancel() {
    cancelled_ = true;
    ctx_.TryCancel();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(done_mu_);
    done_cv_.wait(lock, [this] { return done_; });
  }

 private:
  grpc::ClientContext ctx_;
  WatchRequest request_;
  WatchResponse response_;
  const bool insider_;
  bool first_ = false;
  std::mutex* mu_;
  std::vector<double>* latencies_ms_;
  std::atomic<int>* started_;
  std::atomic<int>* ended_early_;
  std::atomic<bool> cancelled_{false};
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  bool done_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  const std::string server = Arg(argc, argv, "--server", "127.0.0.1:50051");
  const std::string data = Arg(argc, argv, "--data", "data");
  const std::string pid = Arg(argc, argv, "--server-pid", "");
  const int watchers = std::stoi(Arg(argc, argv, "--watchers", "1000"));
  const int insiders = std::stoi(Arg(argc, argv, "--insiders", "10"));
  const int posters = std::stoi(Arg(argc, argv, "--posters", "64"));
  const int seconds = std::stoi(Arg(argc, argv, "--seconds", "10"));
  const std::string elue = ReadToken(data + "/demo-tokens/marie-dubois.token");
  const std::string ally = ReadToken(data + "/demo-tokens/ally-service.token");

  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < 8; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("cohorte.bench.channel", i);  // distinct connections
    channels.push_back(grpc::CreateCustomChannel(
        server, grpc::InsecureChannelCredentials(), args));
  }

  // The élus exchange to post in.
  std::string exchange;
  {
    auto stub = cohorte::v1::ExchangeService::NewStub(channels[0]);
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + elue);
    cohorte::v1::ListExchangesRequest req;
    req.set_parent("cohorts/occitanie/groups/elus");
    cohorte::v1::ListExchangesResponse resp;
    grpc::Status s = stub->ListExchanges(&ctx, req, &resp);
    if (!s.ok() || resp.exchanges().empty()) {
      std::cerr << "no élus exchange: " << s.error_message() << "\n";
      return 1;
    }
    exchange = resp.exchanges(0).name();
  }

  std::vector<std::unique_ptr<ChangeService::Stub>> watch_stubs;
  for (auto& c : channels) watch_stubs.push_back(ChangeService::NewStub(c));
  std::mutex mu;
  std::vector<double> delivery_ms;
  std::atomic<int> started{0}, ended_early{0};
  std::vector<std::unique_ptr<Watcher>> ws;
  for (int i = 0; i < watchers; ++i) {
    const bool insider = i < insiders;
    ws.push_back(std::make_unique<Watcher>(
        watch_stubs[i % watch_stubs.size()].get(), insider ? elue : ally,
        insider, &mu, &delivery_ms, &started, &ended_early));
  }
  const absl::Time wait_until = absl::Now() + absl::Seconds(60);
  while (started.load() < watchers && absl::Now() < wait_until) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  std::cout << "watchers started: " << started.load() << "/" << watchers
            << "  server " << (pid.empty() ? "" : Rss(pid)) << "\n";

  std::atomic<int64_t> posts{0}, errors{0};
  std::vector<std::vector<double>> post_ms(posters);
  const std::string body(1024, 'x');
  const absl::Time end = absl::Now() + absl::Seconds(seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < posters; ++t) {
    threads.emplace_back([&, t] {
      auto stub =
          cohorte::v1::ExchangeService::NewStub(channels[t % channels.size()]);
      while (absl::Now() < end) {
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization", "Bearer " + elue);
        cohorte::v1::PostMessageRequest req;
        req.set_parent(exchange);
        req.mutable_message()->set_body(body);
        cohorte::v1::Message out;
        const absl::Time start = absl::Now();
        grpc::Status s = stub->PostMessage(&ctx, req, &out);
        if (s.ok()) {
          posts.fetch_add(1);
          post_ms[t].push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
        } else {
          errors.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  const std::string rss = pid.empty() ? "" : Rss(pid);
  // Let the last deliveries arrive.
  absl::SleepFor(absl::Milliseconds(500));
  for (auto& w : ws) w->Cancel();
  for (auto& w : ws) w->Wait();

  std::vector<double> all_posts;
  for (auto& v : post_ms) all_posts.insert(all_posts.end(), v.begin(), v.end());
  std::lock_guard<std::mutex> lock(mu);
  std::printf(
      "watchers=%d insiders=%d posters=%d seconds=%d\n"
      "posts: %.0f/s (errors %lld), latency p50 %.2f ms p99 %.2f ms\n"
      "deliveries to insiders: %zu, commit-to-delivery p50 %.2f ms p99 %.2f "
      "ms max %.2f ms\n"
      "watchers ended early: %d\nserver at the end of the posts: %s\n",
      watchers, insiders, posters, seconds, posts.load() / double(seconds),
      static_cast<long long>(errors.load()), Percentile(all_posts, 0.5),
      Percentile(all_posts, 0.99), delivery_ms.size(),
      Percentile(delivery_ms, 0.5), Percentile(delivery_ms, 0.99),
      Percentile(delivery_ms, 1.0), ended_early.load(), rss.c_str());
  return 0;
}
