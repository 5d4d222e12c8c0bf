// links_bench: a link between two running `cohorted`, measured from
// outside. Against a home (--home, its admin token file --home-token) and
// a follower (--follower, --follower-token):
//
//  1. initial sync: creates cohort `bench-<time>` at home with
//     --resources territories (32 writers), a READ service token for it,
//     then the link on the follower; times the link from its creation
//     until it follows at the home's revision: resources per second.
//  2. steady state: --rate territories per second at home for --seconds,
//     while a Watch on the follower sees each arrive; the lag of each is
//     the follower's commit time minus the home's create time (same
//     machine, same clock): p50, p99, max.
//
//   links_bench --home ADDR --home-token FILE --follower ADDR
//               --follower-token FILE [--resources 100000] [--rate 1000]
//               [--seconds 20]
//
// Not a test: run by hand (tests/bench/run_links.sh), figures in the README.
#include <algorithm>
#include <atomic>
#include <chrono>
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
#include "cohorte/v1/cohorts.grpc.pb.h"
#include "cohorte/v1/links.grpc.pb.h"
#include "cohorte/v1/territories.grpc.pb.h"
#include "cohorte/v1/tokens.grpc.pb.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/grpcpp.h"

namespace {

using namespace cohorte;  // NOLINT: a bench's brevity

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

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(60));
  return ctx;
}

void Check(const grpc::Status& s, const char* what) {
  if (!s.ok()) {
    std::cerr << what << ": " << s.error_message() << "\n";
    std::exit(1);
  }
}

absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixNanos(
      google::protobuf::util::TimeUtil::TimestampToNanoseconds(t));
}

bool CreateTerritory(v1::TerritoryService::Stub& stub, const std::string& token,
                     const std::string& cohort, const std::string& id) {
  v1::CreateTerritoryRequest req;
  req.set_parent(cohort);
  req.set_territory_id(id);
  req.mutable_territory()->set_display_name("Territoire " + id);
  req.mutable_territory()->set_kind(v1::Territory::COMMUNE);
  v1::Territory out;
  return stub.CreateTerritory(Ctx(token).get(), req, &out).ok();
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  const std::string home = Arg(argc, argv, "--home", "");
  const std::string follower = Arg(argc, argv, "--follower", "");
  const std::string home_token = ReadToken(Arg(argc, argv, "--home-token", ""));
  const std::string follower_token =
      ReadToken(Arg(argc, argv, "--follower-token", ""));
  const int resources =
      std::atoi(Arg(argc, argv, "--resources", "100000").c_str());
  const int rate = std::atoi(Arg(argc, argv, "--rate", "1000").c_str());
  const int seconds = std::atoi(Arg(argc, argv, "--seconds", "20").c_str());
  if (home.empty() || follower.empty()) {
    std::cerr << "usage: links_bench --home ADDR --home-token FILE --follower "
                 "ADDR --follower-token FILE [--resources N] [--rate R] "
                 "[--seconds S]\n";
    return 2;
  }
  auto home_ch = grpc::CreateChannel(home, grpc::InsecureChannelCredentials());
  auto fol_ch =
      grpc::CreateChannel(follower, grpc::InsecureChannelCredentials());
  auto cohorts = v1::CohortService::NewStub(home_ch);
  auto territories = v1::TerritoryService::NewStub(home_ch);
  auto tokens = v1::TokenService::NewStub(home_ch);
  auto links = v1::LinkService::NewStub(fol_ch);
  auto changes = v1::ChangeService::NewStub(home_ch);

  const std::string id =
      absl::StrCat("bench-", absl::ToUnixSeconds(absl::Now()));
  const std::string cohort = "cohorts/" + id;
  {
    v1::CreateCohortRequest req;
    req.set_cohort_id(id);
    req.mutable_cohort()->set_display_name("Banc d'essai " + id);
    v1::Cohort out;
    Check(cohorts->CreateCohort(Ctx(home_token).get(), req, &out), "cohort");
  }
  // 1. The home's content.
  const absl::Time fill_start = absl::Now();
  std::atomic<int> next{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 32; ++w) {
    writers.emplace_back([&] {
      auto stub = v1::TerritoryService::NewStub(
          grpc::CreateChannel(home, grpc::InsecureChannelCredentials()));
      for (int i = next++; i < resources; i = next++) {
        if (!CreateTerritory(*stub, home_token, cohort, absl::StrCat("t", i))) {
          std::cerr << "create failed\n";
          std::exit(1);
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  std::printf("home filled: %d territories in %.1f s\n", resources,
              absl::ToDoubleSeconds(absl::Now() - fill_start));
  v1::TokenSecret secret;
  {
    v1::CreateServiceTokenRequest req;
    req.mutable_token()->set_display_name("links_bench");
    req.mutable_token()->add_cohorts(cohort);
    req.mutable_token()->set_access(v1::Token::READ);
    Check(tokens->CreateServiceToken(Ctx(home_token).get(), req, &secret),
          "token");
  }
  int64_t head = 0;
  {
    v1::ListSnapshotRequest req;
    req.mutable_filter()->add_cohorts(cohort);
    req.set_page_size(1);
    v1::ListSnapshotResponse resp;
    Check(changes->ListSnapshot(Ctx(home_token).get(), req, &resp), "head");
    head = resp.cursor().revision();
  }
  const absl::Time sync_start = absl::Now();
  {
    v1::CreateLinkRequest req;
    req.set_link_id(id);
    req.mutable_link()->set_display_name("bench");
    req.mutable_link()->set_endpoint(home);
    req.mutable_link()->add_cohorts(cohort);
    req.set_token(secret.secret());
    v1::Link out;
    Check(links->CreateLink(Ctx(follower_token).get(), req, &out), "link");
  }
  v1::Link link;
  while (true) {
    v1::GetLinkRequest req;
    req.set_name("links/" + id);
    Check(links->GetLink(Ctx(follower_token).get(), req, &link), "get link");
    if (link.state() == v1::Link::FOLLOWING && link.cursor().revision() >= head)
      break;
    if (link.state() == v1::Link::ERROR) {
      std::cerr << "link error: " << link.error_message() << "\n";
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double sync_s = absl::ToDoubleSeconds(absl::Now() - sync_start);
  std::printf("initial sync: %d resources in %.2f s = %.0f resources/s\n",
              resources + 1, sync_s, (resources + 1) / sync_s);

  // 2. Steady state.
  std::mutex mu;
  std::vector<double> lags;
  grpc::ClientContext watch_ctx;
  watch_ctx.AddMetadata("authorization", "Bearer " + follower_token);
  v1::WatchRequest wreq;
  wreq.mutable_filter()->add_cohorts(cohort);
  wreq.mutable_filter()->add_resource_types("Territory");
  auto fol_changes = v1::ChangeService::NewStub(fol_ch);
  auto reader = fol_changes->Watch(&watch_ctx, wreq);
  std::thread watcher([&] {
    v1::WatchResponse r;
    while (reader->Read(&r)) {
      for (const v1::ChangeEvent& e : r.events()) {
        v1::Territory t;
        if (e.type() != v1::ChangeEvent::CREATED || !e.resource().UnpackTo(&t))
          continue;
        const double lag = absl::ToDoubleMilliseconds(
            FromProto(e.commit_time()) - FromProto(t.create_time()));
        std::lock_guard<std::mutex> lock(mu);
        lags.push_back(lag);
      }
    }
  });
  const int total = rate * seconds;
  const absl::Time start = absl::Now();
  std::atomic<int> sent{0};
  std::vector<std::thread> pacers;
  for (int w = 0; w < 16; ++w) {
    pacers.emplace_back([&, w] {
      auto stub = v1::TerritoryService::NewStub(
          grpc::CreateChannel(home, grpc::InsecureChannelCredentials()));
      for (int i = w; i < total; i += 16) {
        const absl::Time due = start + absl::Seconds(1) * i / rate;
        const absl::Time now = absl::Now();
        if (due > now) absl::SleepFor(due - now);
        if (CreateTerritory(*stub, home_token, cohort, absl::StrCat("s", i)))
          ++sent;
      }
    });
  }
  for (auto& t : pacers) t.join();
  const double achieved = sent / absl::ToDoubleSeconds(absl::Now() - start);
  // Wait (at most 30 s) for the last ones.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (static_cast<int>(lags.size()) >= sent) break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  watch_ctx.TryCancel();
  watcher.join();
  std::lock_guard<std::mutex> lock(mu);
  std::printf(
      "steady state: %.0f writes/s at home for %d s; %zu of %d seen on the "
      "follower; lag ms p50 %.1f p90 %.1f p99 %.1f max %.1f\n",
      achieved, seconds, lags.size(), sent.load(), Percentile(lags, 0.5),
      Percentile(lags, 0.9), Percentile(lags, 0.99), Percentile(lags, 1.0));
  return 0;
}
