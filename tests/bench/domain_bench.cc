// domain_bench: the service layer's hot write and read paths on a real
// store (durable: every acknowledged write is fsynced), with 1..64
// concurrent élus of one group: messages posted per second, then one page
// of 50 messages read per second; and 64 members racing for a session's
// seats. A benchmark, not a test: it asserts nothing but that calls
// succeed; its figures are written down in the README.
//
//   build-rel/tests/domain_bench [--seconds=2]

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "tests/testing/principals.h"
#include "tests/testing/services.h"
#include "tests/testing/temp_dir.h"

namespace {

using cohorte::service::Principal;
namespace v1 = cohorte::v1;

constexpr char kCohort[] = "cohorts/bench";
constexpr char kTerritory[] = "cohorts/bench/territories/t";
constexpr char kElus[] = "cohorts/bench/groups/elus";

template <typename T>
T Must(absl::StatusOr<T> result) {
  if (!result.ok()) {
    std::fprintf(stderr, "%s\n", result.status().ToString().c_str());
    std::abort();
  }
  return *std::move(result);
}

// A cohort, one territory and `n` élus of it.
std::vector<Principal> World(cohorte::testing::Services& s, int n) {
  const Principal admin =
      cohorte::testing::MakePrincipal("members/admin", v1::Member::ADMIN);
  v1::CreateCohortRequest cohort;
  cohort.set_cohort_id("bench");
  cohort.mutable_cohort()->set_display_name("Bench");
  Must(s.cohorts->CreateCohort(admin, cohort));
  v1::CreateTerritoryRequest territory;
  territory.set_parent(kCohort);
  territory.set_territory_id("t");
  territory.mutable_territory()->set_display_name("T");
  territory.mutable_territory()->set_kind(v1::Territory::COMMUNE);
  Must(s.territories->CreateTerritory(admin, territory));
  std::vector<Principal> elus;
  for (int i = 0; i < n; ++i) {
    v1::CreateMemberRequest m;
    m.set_member_id(absl::StrCat("elu-", i));
    m.mutable_member()->set_given_name("E");
    m.mutable_member()->set_family_name("L");
    m.mutable_member()->set_email(absl::StrCat("elu-", i, "@example.org"));
    m.mutable_member()->set_role(v1::Member::MEMBER);
    m.mutable_member()->set_college(v1::ELU);
    m.mutable_member()->add_delegations(kTerritory);
    elus.push_back(
        Principal::FromMember(Must(s.members->CreateMember(admin, m)), "t"));
  }
  return elus;
}

// Runs `op(thread)` on `threads` threads for `seconds`; returns calls/s and
// the mean latency in ms.
std::pair<double, double> Measure(int threads, double seconds,
                                  const std::function<void(int)>& op) {
  std::atomic<bool> stop{false};
  std::atomic<int64_t> calls{0}, latency_us{0};
  std::vector<std::thread> pool;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      while (!stop.load(std::memory_order_relaxed)) {
        const auto t0 = std::chrono::steady_clock::now();
        op(t);
        latency_us += std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - t0)
                          .count();
        ++calls;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (std::thread& t : pool) t.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return {calls / elapsed, latency_us / 1000.0 / calls};
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--seconds=", 0) == 0) seconds = std::atof(arg.c_str() + 10);
  }
  std::printf("%-28s %8s %12s %16s\n", "operation", "threads", "calls/s",
              "mean latency ms");
  for (int threads : {1, 16, 64}) {
    cohorte::testing::TempDir dir;
    cohorte::testing::Services s(dir.path());
    std::vector<Principal> elus = World(s, threads);
    v1::CreateExchangeRequest x;
    x.set_parent(kElus);
    x.mutable_exchange()->set_title("Bench");
    x.mutable_exchange()->set_kind(v1::Exchange::DEBATE);
    const std::string exchange =
        Must(s.exchanges->CreateExchange(elus[0], x)).name();
    auto [posts, post_ms] = Measure(threads, seconds, [&](int t) {
      v1::PostMessageRequest req;
      req.set_parent(exchange);
      req.mutable_message()->set_body(std::string(400, 'm'));
      Must(s.exchanges->PostMessage(elus[t], req));
    });
    std::printf("%-28s %8d %12.0f %16.2f\n", "PostMessage (fsynced)", threads,
                posts, post_ms);
    auto [reads, read_ms] = Measure(threads, seconds, [&](int t) {
      v1::ListMessagesRequest req;
      req.set_parent(exchange);
      req.set_newest_first(true);
      Must(s.exchanges->ListMessages(elus[t], req));
    });
    std::printf("%-28s %8d %12.0f %16.2f\n", "ListMessages (50, newest)",
                threads, reads, read_ms);
    std::fflush(stdout);
  }
  // 64 members race for 10 seats of each of many sessions.
  {
    cohorte::testing::TempDir dir;
    cohorte::testing::Services s(dir.path());
    std::vector<Principal> elus = World(s, 64);
    const Principal admin =
        cohorte::testing::MakePrincipal("members/admin", v1::Member::ADMIN);
    auto make_session = [&](int id) {
      v1::CreateSessionRequest req;
      req.set_parent(kCohort);
      req.set_session_id(absl::StrCat("s", id));
      v1::Session* sess = req.mutable_session();
      sess->set_kind(v1::Session::ATELIER);
      sess->set_title("Atelier");
      *sess->mutable_start_time() =
          google::protobuf::util::TimeUtil::SecondsToTimestamp(4000000000);
      *sess->mutable_end_time() =
          google::protobuf::util::TimeUtil::SecondsToTimestamp(4000003600);
      sess->set_capacity(10);
      Must(s.sessions->CreateSession(admin, req));
    };
    for (int i = 0; i < 64; ++i) make_session(i);
    // Each member registers to every session: 4096 registrations, 10
    // seats each, so 54 of 64 end on each waiting list.
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < 64; ++t) {
      pool.emplace_back([&, t] {
        for (int i = 0; i < 64; ++i) {
          v1::RegisterRequest req;
          req.set_session(absl::StrCat(kCohort, "/sessions/s", (i + t) % 64));
          Must(s.sessions->Register(elus[t], req));
        }
      });
    }
    for (std::thread& t : pool) t.join();
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    int over = 0;
    for (int i = 0; i < 64; ++i) {
      v1::GetSessionRequest get;
      get.set_name(absl::StrCat(kCohort, "/sessions/s", i));
      v1::Session got = Must(s.sessions->GetSession(admin, get));
      over += got.registered_count() != 10 || got.waitlist_count() != 54;
    }
    std::printf("%-28s %8d %12.0f %16s  (sessions with wrong counts: %d)\n",
                "Register (10 seats, 64 race)", 64, 4096 / elapsed, "-", over);
  }
  return 0;
}
