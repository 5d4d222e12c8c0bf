// End to end: the real `cohorted` on a free loopback port with its own data
// directory, driven through generated stubs and the real `cohorte` CLI.

#include <signal.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "cohorte/v1/cohorts.grpc.pb.h"
#include "cohorte/v1/exchanges.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace cohorte {
namespace {

using ::cohorte::testing::AddToken;
using ::cohorte::testing::ProcessResult;
using ::cohorte::testing::RunProcess;
using ::cohorte::testing::ServerProcess;
using ::testing::HasSubstr;

class ServerE2eTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(); }

  void StartServer(const std::vector<std::string>& args = {}) {
    server_.reset();
    server_ = ServerProcess::Start(data_dir(), args);
    ASSERT_NE(server_, nullptr);
    token_ = server_->AdminToken();
    ASSERT_FALSE(token_.empty());
    stub_ = v1::CohortService::NewStub(server_->channel());
  }

  std::string data_dir() const { return dir_.path() + "/data"; }

  // Runs the real CLI against the server with the admin token.
  ProcessResult Cli(const std::vector<std::string>& args,
                    const std::string& token = "<admin>") {
    std::vector<std::string> argv = {COHORTE_CLI_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(
        argv, {"COHORTE_SERVER=" + server_->address(),
               "COHORTE_TOKEN=" + (token == "<admin>" ? token_ : token)});
  }

  grpc::Status CreateCohort(const std::string& id, v1::Cohort* out,
                            const std::string& request_id = "") {
    grpc::ClientContext ctx;
    AddToken(&ctx, token_);
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(30));
    v1::CreateCohortRequest req;
    req.set_cohort_id(id);
    req.set_request_id(request_id);
    req.mutable_cohort()->set_display_name("Cohorte " + id);
    return stub_->CreateCohort(&ctx, req, out);
  }

  grpc::Status GetCohort(const std::string& id, v1::Cohort* out) {
    grpc::ClientContext ctx;
    AddToken(&ctx, token_);
    v1::GetCohortRequest req;
    req.set_name("cohorts/" + id);
    return stub_->GetCohort(&ctx, req, out);
  }

  ::cohorte::testing::TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::CohortService::Stub> stub_;
  std::string token_;
};

TEST_F(ServerE2eTest, MissingOrBadTokenIsUnauthenticatedAndWritesNothing) {
  for (const std::string& token :
       {std::string(), std::string("coh_") + std::string(64, 'a'),
        std::string("garbage")}) {
    grpc::ClientContext ctx;
    if (!token.empty()) AddToken(&ctx, token);
    v1::CreateCohortRequest req;
    req.set_cohort_id("sneaky");
    req.mutable_cohort()->set_display_name("x");
    v1::Cohort out;
    EXPECT_EQ(stub_->CreateCohort(&ctx, req, &out).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  v1::Cohort out;
  EXPECT_EQ(GetCohort("sneaky", &out).error_code(),
            grpc::StatusCode::NOT_FOUND);

  ProcessResult r = Cli({"cohorts", "list"}, /*token=*/"coh_wrong");
  EXPECT_EQ(r.exit_code, 77);
  EXPECT_THAT(r.err, HasSubstr("Error: UNAUTHENTICATED: "));
  EXPECT_EQ(r.out, "");
}

TEST_F(ServerE2eTest, ErrorsCarryReasonAndFieldInStatusDetails) {
  grpc::ClientContext ctx;
  AddToken(&ctx, token_);
  v1::CreateCohortRequest req;
  req.set_cohort_id("Not-Valid");
  req.mutable_cohort()->set_display_name("x");
  v1::Cohort out;
  grpc::Status s = stub_->CreateCohort(&ctx, req, &out);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(s.error_details()));
  google::rpc::ErrorInfo info;
  google::rpc::BadRequest bad_request;
  for (const auto& any : details.details()) {
    any.UnpackTo(&info) || any.UnpackTo(&bad_request);
  }
  EXPECT_EQ(info.reason(), "FIELD_INVALID");
  EXPECT_EQ(info.domain(), "cohorte.v1");
  ASSERT_EQ(bad_request.field_violations_size(), 1);
  EXPECT_EQ(bad_request.field_violations(0).field(), "cohort_id");
}

TEST_F(ServerE2eTest, CliWalksThroughTheCohortLifecycleWithExitCodes) {
  ProcessResult r =
      Cli({"cohorts", "create", "--id", "occitanie", "--display-name",
           "Cohorte des territoires d'Occitanie", "--region", "Occitanie",
           "--start", "2025-01-15"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("cohorts/occitanie"));

  r = Cli({"cohorts", "create", "--id", "occitanie", "--display-name", "x"});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_THAT(r.err, HasSubstr("Error: ALREADY_EXISTS: "));

  r = Cli({"-o", "json", "cohorts", "get", "occitanie"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"displayName\": "
                               "\"Cohorte des territoires d'Occitanie\""));
  v1::Cohort created;
  ASSERT_TRUE(GetCohort("occitanie", &created).ok());
  EXPECT_THAT(r.out, HasSubstr("\"etag\": \"" + created.etag() + "\""));

  r = Cli({"cohorts", "update", "occitanie", "--region", "X", "--etag", "999"});
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_THAT(r.err, HasSubstr("reason: ETAG_MISMATCH"));
  r = Cli({"cohorts", "update", "occitanie", "--region", "Occitanie-Est",
           "--etag", created.etag()});
  EXPECT_EQ(r.exit_code, 0) << r.err;

  r = Cli({"cohorts", "create", "--id", "bad", "--display-name", ""});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_THAT(r.err, HasSubstr("field: --display-name"));

  r = Cli(
      {"cohorts", "create", "--id", "bad", "--display-name", "Cohorte \xff"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_THAT(r.err, HasSubstr("--display-name is not valid UTF-8"));

  r = Cli({"cohorts", "get", "absent"});
  EXPECT_EQ(r.exit_code, 4);

  r = Cli({"cohorts", "delete", "occitanie"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Cli({"cohorts", "list"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("cohorts/occitanie")));
  r = Cli({"cohorts", "list", "--show-deleted"});
  EXPECT_THAT(r.out, HasSubstr("DELETED"));
  r = Cli({"cohorts", "undelete", "occitanie"});
  EXPECT_EQ(r.exit_code, 0) << r.err;

  r = Cli({"cohorts", "frobnicate"});
  EXPECT_EQ(r.exit_code, 64);
  r = Cli({"--no-such-flag", "cohorts", "list"});
  EXPECT_EQ(r.exit_code, 64);
  r = Cli(
      {"cohorts", "create", "--display-name", "x", "--start", "15.01.2025"});
  EXPECT_EQ(r.exit_code, 64);

  r = Cli({"health"}, /*token=*/"");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "SERVING\n");
  r = Cli({"whoami"});
  EXPECT_THAT(r.out, HasSubstr("members/admin"));
}

TEST_F(ServerE2eTest, CliListAllFollowsPageTokens) {
  for (int i = 0; i < 5; ++i) {
    v1::Cohort out;
    ASSERT_TRUE(CreateCohort(absl::StrCat("c", i), &out).ok());
  }
  ProcessResult r = Cli({"cohorts", "list", "--page-size", "2"});
  EXPECT_THAT(r.err,
              HasSubstr("more results: rerun with --all or --page-token "));
  r = Cli({"cohorts", "list", "--page-size", "2", "--all"});
  ASSERT_EQ(r.exit_code, 0);
  for (int i = 0; i < 5; ++i) {
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("cohorts/c", i)));
  }
  r = Cli({"cohorts", "list", "--page-size", "-1"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_THAT(r.err, HasSubstr("--page-size"));
}

TEST_F(ServerE2eTest, RetryWithTheSameRequestIdCreatesOnce) {
  v1::Cohort first, second;
  ASSERT_TRUE(CreateCohort("once", &first, "req-123").ok());
  grpc::Status s = CreateCohort("once", &second, "req-123");
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(second.etag(), first.etag());
  EXPECT_EQ(second.create_time().nanos(), first.create_time().nanos());
}

TEST_F(ServerE2eTest, OversizedMessageIsRefusedByTheConfiguredLimit) {
  StartServer({"--max-message-bytes=4096"});
  grpc::ClientContext ctx;
  AddToken(&ctx, token_);
  v1::CreateCohortRequest req;
  req.set_cohort_id("big");
  req.mutable_cohort()->set_display_name("x");
  req.mutable_cohort()->set_description(std::string(8192, 'a'));
  v1::Cohort out;
  EXPECT_EQ(stub_->CreateCohort(&ctx, req, &out).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(ServerE2eTest, RestartKeepsDataAndTheAdminToken) {
  v1::Cohort created;
  ASSERT_TRUE(CreateCohort("durable", &created).ok());
  EXPECT_EQ(server_->Stop(SIGTERM), 0);
  EXPECT_THAT(server_->output(), HasSubstr("stopped cleanly"));
  const std::string old_token = token_;

  StartServer();
  EXPECT_EQ(token_, old_token);
  EXPECT_THAT(server_->output(), ::testing::Not(HasSubstr("first start")));
  v1::Cohort read;
  ASSERT_TRUE(GetCohort("durable", &read).ok());
  EXPECT_EQ(read.etag(), created.etag());
}

TEST_F(ServerE2eTest, SecondServerOnTheSameDataDirectoryFailsClearly) {
  ProcessResult r = RunProcess(
      {COHORTED_PATH, "--listen=127.0.0.1:0", "--data-dir=" + data_dir()});
  EXPECT_EQ(r.exit_code, 75);
  EXPECT_THAT(r.err, HasSubstr("is locked: another cohorted is using it"));
  // The running server is untouched.
  v1::Cohort out;
  EXPECT_TRUE(CreateCohort("still-fine", &out).ok());
}

TEST_F(ServerE2eTest, PortInUseFailsClearly) {
  ::cohorte::testing::TempDir other;
  ProcessResult r = RunProcess({COHORTED_PATH, "--listen=" + server_->address(),
                                "--data-dir=" + other.path() + "/d"});
  EXPECT_EQ(r.exit_code, 69);
  EXPECT_THAT(r.err, HasSubstr("cannot listen on " + server_->address()));
}

TEST(ServerFlagsTest, BadFlagsAndUnwritableDataDirectoryFail) {
  ProcessResult r = RunProcess({COHORTED_PATH, "--no-such-flag"});
  EXPECT_EQ(r.exit_code, 64);
  r = RunProcess({COHORTED_PATH, "--workers=0"});
  EXPECT_EQ(r.exit_code, 64);
  r = RunProcess({COHORTED_PATH, "--listen=127.0.0.1:0",
                  "--data-dir=/proc/cohorte-no/data"});
  EXPECT_EQ(r.exit_code, 73);
  EXPECT_THAT(r.err, HasSubstr("cannot create data directory"));
}

TEST_F(ServerE2eTest, SigtermUnderConcurrentWritesLosesNoAcknowledgedWrite) {
  constexpr int kWriters = 8;
  constexpr int kMaxPerWriter = 2000;  // bound: the loop always ends
  constexpr int kAcksBeforeSignal = 200;
  absl::Mutex mu;
  std::vector<std::string> acknowledged;
  int writers_done = 0;
  std::atomic<bool> stop{false};

  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      auto stub = v1::CohortService::NewStub(server_->channel());
      for (int i = 0; i < kMaxPerWriter && !stop.load(); ++i) {
        const std::string id = absl::StrCat("w", w, "-", i);
        grpc::ClientContext ctx;
        AddToken(&ctx, token_);
        ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
        v1::CreateCohortRequest req;
        req.set_cohort_id(id);
        req.mutable_cohort()->set_display_name(id);
        v1::Cohort out;
        if (!stub->CreateCohort(&ctx, req, &out).ok()) break;
        absl::MutexLock lock(&mu);
        acknowledged.push_back(id);
      }
      absl::MutexLock lock(&mu);
      ++writers_done;
    });
  }
  {
    // Until enough writes are acknowledged, or every writer stopped (a
    // failed write ends a writer), or the deadline: never until ctest's
    // timeout.
    absl::MutexLock lock(&mu);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return acknowledged.size() >= kAcksBeforeSignal ||
             writers_done == kWriters;
    };
    if (!mu.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(120)) ||
        acknowledged.size() < kAcksBeforeSignal) {
      ADD_FAILURE() << "only " << acknowledged.size() << " of "
                    << kAcksBeforeSignal
                    << " writes acknowledged (within 120 s, " << writers_done
                    << " of " << kWriters << " writers stopped)";
    }
  }
  EXPECT_EQ(server_->Stop(SIGTERM), 0);
  stop = true;
  for (std::thread& t : writers) t.join();

  StartServer();
  absl::MutexLock lock(&mu);
  ASSERT_GE(acknowledged.size(), static_cast<size_t>(kAcksBeforeSignal));
  int missing = 0;
  for (const std::string& id : acknowledged) {
    v1::Cohort out;
    if (!GetCohort(id, &out).ok()) ++missing;
  }
  EXPECT_EQ(missing, 0) << "of " << acknowledged.size() << " acknowledged";
}

}  // namespace
}  // namespace cohorte

namespace cohorte {
namespace {

// The demo of `deploy/run.sh`, walked as the README walks it: the élus
// group is read by élus only, whoever else asks.
TEST(DemoE2eTest, ElusGroupIsReadByElusOnlyThroughTheCli) {
  ::cohorte::testing::TempDir dir;
  const std::string data = dir.path() + "/data";
  auto server = ServerProcess::Start(data, {"--seed-demo"});
  ASSERT_NE(server, nullptr);
  auto as = [&](const std::string& who, std::vector<std::string> args) {
    std::ifstream in(who == "admin" ? data + "/admin.token"
                                    : data + "/demo-tokens/" + who + ".token");
    std::string token;
    std::getline(in, token);
    args.insert(args.begin(), COHORTE_CLI_PATH);
    return RunProcess(args, {"COHORTE_SERVER=" + server->address(),
                             "COHORTE_TOKEN=" + token});
  };
  const std::vector<std::string> elus = {"groups", "members",
                                         "cohorts/occitanie/groups/elus"};
  ProcessResult r = as("marie-dubois", elus);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "members/anne-roux\nmembers/marie-dubois\n");
  for (const char* outsider :
       {"thomas-petit", "claire-martin", "hugo-bernard", "admin"}) {
    r = as(outsider, elus);
    EXPECT_EQ(r.exit_code, 77) << outsider;
    EXPECT_EQ(r.out, "") << outsider;
  }
  r = as("hugo-bernard", {"territories", "list", "--cohort", "occitanie"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("GOUVERNANCE_MISE_EN_OEUVRE"));
  r = as("thomas-petit", {"-o", "json", "members", "get", "marie-dubois"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("@example.org")));
}

// The leadership of queued posts goes to a task of its own pool: were it
// the handlers' pool, a handler blocked in a write's Commit (waiting for
// that leadership) would keep the task from ever running. With one
// handler thread, posts and synchronous writes (marking an exchange read)
// together froze the server within a second.
TEST(WorkersE2eTest, PostsAndOtherWritesAllCompleteWithOneHandlerThread) {
  ::cohorte::testing::TempDir dir;
  const std::string data = dir.path() + "/data";
  auto server = ServerProcess::Start(data, {"--seed-demo", "--workers=1"});
  ASSERT_NE(server, nullptr);
  std::ifstream in(data + "/demo-tokens/marie-dubois.token");
  std::string token;
  std::getline(in, token);
  const std::string exchange =
      "cohorts/occitanie/groups/elus/exchanges/e000000000001";
  constexpr int kThreads = 8;  // half post, half mark the exchange read
  constexpr int kCallsEach = 40;
  std::atomic<int> ok{0};
  absl::Mutex mu;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto stub = v1::ExchangeService::NewStub(server->channel());
      for (int i = 0; i < kCallsEach; ++i) {
        grpc::ClientContext ctx;
        AddToken(&ctx, token);
        // Each call has a deadline: a frozen server fails the test.
        ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(20));
        grpc::Status s;
        if (t % 2 == 0) {
          v1::PostMessageRequest req;
          req.set_parent(exchange);
          req.mutable_message()->set_body(absl::StrCat("post ", t, "-", i));
          v1::Message out;
          s = stub->PostMessage(&ctx, req, &out);
        } else {
          v1::MarkExchangeReadRequest req;
          req.set_name(exchange);
          v1::MarkExchangeReadResponse out;
          s = stub->MarkExchangeRead(&ctx, req, &out);
        }
        if (s.ok()) {
          ++ok;
        } else {
          absl::MutexLock lock(&mu);
          failures.push_back(
              absl::StrCat(s.error_code(), " ", s.error_message()));
          break;  // one deadline per thread is enough
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(failures, ::testing::IsEmpty());
  EXPECT_EQ(ok.load(), kThreads * kCallsEach);
  // A frozen server would not stop either (ServerProcess kills it then).
  EXPECT_EQ(server->Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace cohorte
