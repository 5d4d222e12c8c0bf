// The change feed through the real binaries: a Watch resumed with its last
// cursor after kill -9 of the server gets every later change exactly once;
// `cohorte watch --cursor-file` killed and restarted misses and repeats
// nothing; the demo ally's service token sees the cohort's shareable
// changes and nothing of its closed groups.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cohorte/v1/changes.grpc.pb.h"
#include "cohorte/v1/cohorts.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace cohorte {
namespace {

using ::cohorte::testing::ProcessResult;
using ::cohorte::testing::RunProcess;
using ::cohorte::testing::ServerProcess;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// A background `cohorte watch`, its stdout to a file.
class WatchProcess {
 public:
  WatchProcess(const std::vector<std::string>& args,
               const std::vector<std::string>& env, const std::string& out) {
    pid_ = fork();
    if (pid_ == 0) {
      const int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(fd, 1);
      for (const std::string& e : env) putenv(strdup(e.c_str()));
      std::vector<char*> argv;
      for (const std::string& a : args) argv.push_back(strdup(a.c_str()));
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~WatchProcess() { Kill(); }
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    EXPECT_TRUE(::cohorte::testing::WaitForExit(pid_, std::chrono::seconds(60))
                    .has_value())
        << "`cohorte watch` outlived SIGKILL";
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

// Waits (30 s at most) until `done` holds, looking every 20 ms: the
// condition is in another process's output.
bool Eventually(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

class FeedE2eTest : public ::testing::Test {
 protected:
  void CreateCohort(const std::string& id) {
    auto stub = v1::CohortService::NewStub(server_->channel());
    grpc::ClientContext ctx;
    ::cohorte::testing::AddToken(&ctx, server_->AdminToken());
    v1::CreateCohortRequest req;
    req.set_cohort_id(id);
    req.mutable_cohort()->set_display_name(id);
    v1::Cohort out;
    ASSERT_TRUE(stub->CreateCohort(&ctx, req, &out).ok()) << id;
  }

  // The cohort names in `events`, in order.
  static std::vector<std::string> Cohorts(
      const std::vector<v1::ChangeEvent>& events) {
    std::vector<std::string> out;
    for (const v1::ChangeEvent& e : events) {
      if (e.resource_type() == "cohorte.v1.Cohort") {
        out.push_back(e.resource_name());
      }
    }
    return out;
  }

  // Reads `stream` until `n` events have come; each response's cursor is
  // kept in `cursor`.
  static std::vector<v1::ChangeEvent> ReadEvents(
      grpc::ClientReader<v1::WatchResponse>* stream, size_t n,
      std::string* cursor) {
    std::vector<v1::ChangeEvent> out;
    v1::WatchResponse r;
    while (out.size() < n && stream->Read(&r)) {
      for (const v1::ChangeEvent& e : r.events()) out.push_back(e);
      *cursor = r.cursor().token();
    }
    return out;
  }

  ::cohorte::testing::TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(FeedE2eTest, AWatchResumedAfterKill9GetsEveryLaterChangeExactlyOnce) {
  const std::string data = dir_.path() + "/data";
  server_ = ServerProcess::Start(data);
  ASSERT_NE(server_, nullptr);
  const std::string admin = server_->AdminToken();

  v1::WatchRequest req;
  req.mutable_filter()->add_resource_types("Cohort");
  std::string cursor;
  std::vector<std::string> seen;
  {
    auto stub = v1::ChangeService::NewStub(server_->channel());
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(60));
    ::cohorte::testing::AddToken(&ctx, admin);
    std::unique_ptr<grpc::ClientReader<v1::WatchResponse>> stream =
        stub->Watch(&ctx, req);
    v1::WatchResponse first;
    ASSERT_TRUE(stream->Read(&first));  // at once: the starting cursor
    EXPECT_EQ(first.events_size(), 0);
    for (int i = 1; i <= 10; ++i) CreateCohort(absl::StrCat("c", i));
    // The consumer handles 6 events, then dies.
    std::vector<v1::ChangeEvent> events;
    v1::WatchResponse r;
    while (events.size() < 6 && stream->Read(&r)) {
      for (const v1::ChangeEvent& e : r.events()) {
        if (events.size() < 6) {
          events.push_back(e);
          cursor = e.cursor().token();
        }
      }
    }
    ASSERT_EQ(events.size(), 6u);
    seen = Cohorts(events);
    ctx.TryCancel();
  }
  EXPECT_EQ(server_->Stop(SIGKILL), 128 + SIGKILL);
  server_ = ServerProcess::Start(data);
  ASSERT_NE(server_, nullptr);
  for (int i = 11; i <= 15; ++i) CreateCohort(absl::StrCat("c", i));

  auto stub = v1::ChangeService::NewStub(server_->channel());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  ::cohorte::testing::AddToken(&ctx, admin);
  req.set_since(cursor);
  std::unique_ptr<grpc::ClientReader<v1::WatchResponse>> stream =
      stub->Watch(&ctx, req);
  std::string last;
  for (const std::string& c : Cohorts(ReadEvents(stream.get(), 9, &last))) {
    seen.push_back(c);
  }
  std::vector<std::string> expected;
  for (int i = 1; i <= 15; ++i)
    expected.push_back(absl::StrCat("cohorts/c", i));
  EXPECT_EQ(seen, expected);
  ctx.TryCancel();

  // A cursor of the future, and a malformed one.
  for (const std::string& bad :
       {cursor.substr(0, cursor.rfind('.')) + ".999999", std::string("x")}) {
    grpc::ClientContext c2;
    ::cohorte::testing::AddToken(&c2, admin);
    v1::ListChangesRequest list;
    list.set_since(bad);
    v1::ListChangesResponse out;
    EXPECT_EQ(stub->ListChanges(&c2, list, &out).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT)
        << bad;
  }
}

TEST_F(FeedE2eTest, TheCliWatchKilledAndRestartedMissesAndRepeatsNothing) {
  server_ = ServerProcess::Start(dir_.path() + "/data");
  ASSERT_NE(server_, nullptr);
  const std::string cursor_file = dir_.path() + "/cursor";
  const std::vector<std::string> env = {
      "COHORTE_SERVER=" + server_->address(),
      "COHORTE_TOKEN=" + server_->AdminToken()};
  const std::vector<std::string> args = {COHORTE_CLI_PATH, "watch",
                                         "--kind",         "Cohort",
                                         "--cursor-file",  cursor_file};
  auto lines = [](const std::string& path) {
    std::vector<std::string> out;
    for (absl::string_view l : absl::StrSplit(ReadAll(path), '\n')) {
      if (!l.empty()) out.emplace_back(l);
    }
    return out;
  };
  const std::string out1 = dir_.path() + "/out1";
  auto watch = std::make_unique<WatchProcess>(args, env, out1);
  ASSERT_TRUE(Eventually([&] { return !FirstLine(cursor_file).empty(); }));
  for (int i = 1; i <= 5; ++i) CreateCohort(absl::StrCat("w", i));
  ASSERT_TRUE(Eventually([&] { return lines(out1).size() == 5; }));
  // Killed once its cursor file holds the fifth event's revision.
  const std::string fifth = lines(out1).back();
  ASSERT_TRUE(Eventually([&] {
    const std::string c = FirstLine(cursor_file);
    const std::string rev = c.substr(c.rfind('.') + 1);
    return absl::StrContains(fifth, "\"revision\":\"" + rev + "\"");
  })) << fifth;
  watch->Kill();
  for (int i = 6; i <= 8; ++i) CreateCohort(absl::StrCat("w", i));
  const std::string out2 = dir_.path() + "/out2";
  watch = std::make_unique<WatchProcess>(args, env, out2);
  ASSERT_TRUE(Eventually([&] { return lines(out2).size() >= 3; }));
  watch->Kill();
  std::vector<std::string> all = lines(out1);
  for (const std::string& l : lines(out2)) all.push_back(l);
  ASSERT_EQ(all.size(), 8u);
  for (int i = 1; i <= 8; ++i) {
    EXPECT_TRUE(absl::StrContains(
        all[i - 1], absl::StrCat("\"resourceName\":\"cohorts/w", i, "\"")))
        << all[i - 1];
  }
}

TEST_F(FeedE2eTest, TheDemoAllySeesTheCohortsShareableChangesNotItsGroups) {
  const std::string data = dir_.path() + "/data";
  server_ = ServerProcess::Start(data, {"--seed-demo"});
  ASSERT_NE(server_, nullptr);
  auto as = [&](const std::string& token_file) {
    return RunProcess(
        {COHORTE_CLI_PATH, "changes", "list", "--all", "-o", "json"},
        {"COHORTE_SERVER=" + server_->address(),
         "COHORTE_TOKEN_FILE=" + data + "/demo-tokens/" + token_file});
  };
  const ProcessResult ally = as("ally-service.token");
  ASSERT_EQ(ally.exit_code, 0) << ally.err;
  EXPECT_TRUE(absl::StrContains(ally.out, "cohorte.v1.Session")) << ally.out;
  EXPECT_FALSE(absl::StrContains(ally.out, "cohorte.v1.Message"));
  EXPECT_FALSE(absl::StrContains(ally.out, "/exchanges/"));
  EXPECT_FALSE(absl::StrContains(ally.out, "Master Plan n'a pas"));
  const ProcessResult elu = as("marie-dubois.token");
  ASSERT_EQ(elu.exit_code, 0) << elu.err;
  EXPECT_TRUE(absl::StrContains(elu.out, "Master Plan n'a pas"));
}

}  // namespace
}  // namespace cohorte
