// Links between instances, end to end: two regional `cohorted` (Occitanie
// with the demo, Bretagne) and a national one following a cohort of each
// through the CLI's `links create`. Content made on each side converges
// on the national instance (the same resources as the regional instance
// shows the link's token, compared through ListSnapshot on both sides);
// the follower and the followed are killed with SIGKILL mid-stream; the
// followed is restored from a backup (a new epoch: the follower takes a
// new snapshot and drops what the home no longer has); writes to replicas
// are refused; and the follower's whole store, scanned key by key once it
// is stopped, holds nothing said in a closed group.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cohorte/v1/admin.grpc.pb.h"
#include "cohorte/v1/changes.grpc.pb.h"
#include "cohorte/v1/cohorts.grpc.pb.h"
#include "cohorte/v1/exchanges.grpc.pb.h"
#include "cohorte/v1/groups.pb.h"
#include "cohorte/v1/links.grpc.pb.h"
#include "cohorte/v1/records.grpc.pb.h"
#include "cohorte/v1/territories.grpc.pb.h"
#include "cohorte/v1/tokens.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "tests/testing/pseudo_random.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace cohorte {
namespace {

namespace fs = std::filesystem;
using ::cohorte::testing::AddToken;
using ::cohorte::testing::ProcessResult;
using ::cohorte::testing::RunProcess;
using ::cohorte::testing::ServerProcess;
using ::testing::HasSubstr;

// What is said in the élus group of Occitanie, by the demo and by this
// test: none of it may reach another instance.
const std::vector<std::string>& ClosedMarkers() {
  static const auto* m = new std::vector<std::string>{
      "Comment embarquer le conseil communautaire",
      "comment avez-vous évité que la",
      "binôme élu-agent",
      "Quel tableau de bord des chantiers",
      "tableur qui ne suffit plus",
      "SECRET-ENTRE-ELUS",
  };
  return *m;
}

template <typename Stub, typename Req, typename Resp>
grpc::Status Call(const std::string& token, Stub* stub,
                  grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&,
                                               Resp*),
                  const Req& req, Resp* resp) {
  grpc::ClientContext ctx;
  AddToken(&ctx, token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return (stub->*method)(&ctx, req, resp);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::string s((std::istreambuf_iterator<char>(in)), {});
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Every resource of `cohort` `token` may read on `channel`, of the types
// links follow, by name; the replica-only fields cleared.
std::map<std::string, std::string> Visible(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& token,
    const std::string& cohort) {
  auto stub = v1::ChangeService::NewStub(channel);
  v1::ListSnapshotRequest req;
  req.mutable_filter()->add_cohorts(cohort);
  for (const char* t :
       {"Cohort", "Territory", "Chantier", "PeerGroup", "Session",
        "ExperienceReport", "Record", "RecordVersion"}) {
    req.mutable_filter()->add_resource_types(t);
  }
  std::map<std::string, std::string> out;
  do {
    v1::ListSnapshotResponse resp;
    grpc::Status s = Call(token, stub.get(),
                          &v1::ChangeService::Stub::ListSnapshot, req, &resp);
    if (!s.ok()) {
      ADD_FAILURE() << "ListSnapshot: " << s.error_message();
      return out;
    }
    for (const v1::ChangeEvent& e : resp.events()) {
      std::string bytes;
      if (e.resource().Is<v1::Cohort>()) {
        v1::Cohort c;
        e.resource().UnpackTo(&c);
        c.clear_home();
        bytes = c.SerializeAsString();
      } else if (e.resource().Is<v1::PeerGroup>()) {
        v1::PeerGroup g;
        e.resource().UnpackTo(&g);
        g.clear_members();
        g.clear_facilitators();
        bytes = g.SerializeAsString();
      } else {
        bytes = e.resource().value();
      }
      out[e.resource_name()] = bytes;
    }
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  return out;
}

// Where `server`'s change feed is now (its cursor).
v1::Cursor FeedCursor(const ServerProcess& server) {
  auto stub = v1::ChangeService::NewStub(server.channel());
  v1::ListSnapshotRequest req;
  req.mutable_filter()->add_cohorts("cohorts/none");
  req.set_page_size(1);
  v1::ListSnapshotResponse resp;
  grpc::Status s = Call(server.AdminToken(), stub.get(),
                        &v1::ChangeService::Stub::ListSnapshot, req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp.cursor();
}

// Waits (deadline: 60 s) until `link` on `follower` satisfies `done`
// (`awaited` says what that is, for the failure message); returns it as
// last read. Not a poll: a link's state, cursor and error are stored by
// the commits that change them, so the follower's change feed, watched by
// its administrator from before the first read, pushes each change of the
// link, and the link is read again after each. On failure the message
// names what was awaited, the time waited, the last state read and the
// last error.
v1::Link WaitLink(const ServerProcess& follower, const std::string& link,
                  const std::string& awaited,
                  const std::function<bool(const v1::Link&)>& done) {
  const auto started = std::chrono::steady_clock::now();
  auto links = v1::LinkService::NewStub(follower.channel());
  auto changes = v1::ChangeService::NewStub(follower.channel());
  v1::WatchRequest watch;
  watch.set_since(FeedCursor(follower).token());
  watch.mutable_filter()->set_name_prefix(link);
  v1::Link l;
  std::string last_error;
  auto read = [&] {
    v1::GetLinkRequest req;
    req.set_name(link);
    grpc::Status s = Call(follower.AdminToken(), links.get(),
                          &v1::LinkService::Stub::GetLink, req, &l);
    if (!s.ok()) last_error = "GetLink: " + s.error_message();
    return s.ok() && done(l);
  };
  if (read()) return l;
  grpc::ClientContext ctx;
  AddToken(&ctx, follower.AdminToken());
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  std::unique_ptr<grpc::ClientReader<v1::WatchResponse>> stream =
      changes->Watch(&ctx, watch);
  v1::WatchResponse response;
  bool reached = false;
  while (!reached && stream->Read(&response)) {
    if (response.events_size() > 0) reached = read();
  }
  if (reached) ctx.TryCancel();
  grpc::Status ended = stream->Finish();
  if (reached) return l;
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  read();
  ADD_FAILURE() << link << " did not reach " << awaited << " in "
                << waited.count() << " ms; last read: " << l.ShortDebugString()
                << (last_error.empty() ? "" : "; last error: " + last_error)
                << "; the watch of the follower's feed ended with "
                << ended.error_code() << " " << ended.error_message();
  return l;
}

class LinksE2eTest : public ::testing::Test {
 protected:
  ProcessResult Cli(const std::vector<std::string>& args,
                    const ServerProcess& server) {
    std::vector<std::string> argv = {COHORTE_CLI_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, {"COHORTE_SERVER=" + server.address(),
                             "COHORTE_TOKEN=" + server.AdminToken()});
  }

  // A SERVICE token of `server` reaching `cohort`, written to a file.
  std::string ServiceToken(const ServerProcess& server,
                           const std::string& cohort) {
    ProcessResult r = Cli({"tokens", "create-service", "--display-name",
                           "national", "--cohort", cohort, "--access", "read"},
                          server);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string secret = r.out;
    while (!secret.empty() && secret.back() == '\n') secret.pop_back();
    const std::string path = dir_.path() + "/" + cohort + ".token";
    std::ofstream(path) << secret << "\n";
    return path;
  }

  // Waits (deadline: 60 s) until `link` on `follower` has applied the
  // peer's revision `revision` or later, and is FOLLOWING.
  void WaitCaughtUp(const ServerProcess& follower, const std::string& link,
                    int64_t revision) {
    WaitLink(follower, link,
             absl::StrCat("FOLLOWING with the peer's revision ", revision,
                          " applied"),
             [&](const v1::Link& l) {
               return l.state() == v1::Link::FOLLOWING &&
                      l.cursor().revision() >= revision;
             });
  }

  // The peer's current revision, from its feed.
  int64_t Revision(const ServerProcess& server) {
    return FeedCursor(server).revision();
  }

  // The content of record version `version` as `token` reads it.
  static std::string Content(const ServerProcess& server,
                             const std::string& token,
                             const std::string& version) {
    auto stub = v1::RecordService::NewStub(server.channel());
    grpc::ClientContext ctx;
    AddToken(&ctx, token);
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(60));
    v1::ReadRecordVersionRequest req;
    req.set_name(version);
    auto reader = stub->ReadRecordVersion(&ctx, req);
    v1::ReadRecordVersionResponse piece;
    std::string out;
    while (reader->Read(&piece)) out += piece.data();
    grpc::Status s = reader->Finish();
    if (!s.ok()) {
      ADD_FAILURE() << "reading " << version << ": " << s.error_message();
    }
    return out;
  }

  // The same resources on both sides, and every record version with the
  // same bytes.
  void ExpectConverged(const ServerProcess& home, const std::string& token,
                       const ServerProcess& follower,
                       const std::string& cohort) {
    const auto at_home = Visible(home.channel(), token, cohort);
    const auto here =
        Visible(follower.channel(), follower.AdminToken(), cohort);
    for (const auto& [name, bytes] : at_home) {
      if (name.find("/versions/") == std::string::npos) continue;
      EXPECT_EQ(Content(home, token, name),
                Content(follower, follower.AdminToken(), name))
          << "the content of " << name << " differs on the follower";
    }
    EXPECT_GT(at_home.size(), 0u);
    EXPECT_EQ(at_home.size(), here.size());
    for (const auto& [name, bytes] : at_home) {
      auto it = here.find(name);
      if (it == here.end()) {
        ADD_FAILURE() << name << " is missing on the follower";
        continue;
      }
      EXPECT_EQ(it->second, bytes) << name << " differs on the follower";
    }
    for (const auto& [name, bytes] : here) {
      EXPECT_TRUE(at_home.count(name)) << name << " is not at home any more";
    }
  }

  grpc::Status CreateTerritory(const ServerProcess& server,
                               const std::string& cohort,
                               const std::string& id) {
    auto stub = v1::TerritoryService::NewStub(server.channel());
    v1::CreateTerritoryRequest req;
    req.set_parent(cohort);
    req.set_territory_id(id);
    req.mutable_territory()->set_display_name("Territoire " + id);
    req.mutable_territory()->set_kind(v1::Territory::COMMUNE);
    v1::Territory out;
    return Call(server.AdminToken(), stub.get(),
                &v1::TerritoryService::Stub::CreateTerritory, req, &out);
  }

  ::cohorte::testing::TempDir dir_;
};

TEST_F(LinksE2eTest, ThreeInstancesConvergeThroughKillsAndARestore) {
  const std::string occ_dir = dir_.path() + "/occitanie";
  const std::string bzh_dir = dir_.path() + "/bretagne";
  const std::string nat_dir = dir_.path() + "/national";
  const std::string backups = dir_.path() + "/occitanie-backups";
  auto occ = ServerProcess::Start(
      occ_dir,
      {"--seed-demo", "--instance-name=Occitanie", "--backup-dir=" + backups});
  auto bzh = ServerProcess::Start(bzh_dir, {"--instance-name=Bretagne"});
  auto nat = ServerProcess::Start(nat_dir, {"--instance-name=National"});
  ASSERT_NE(occ, nullptr);
  ASSERT_NE(bzh, nullptr);
  ASSERT_NE(nat, nullptr);
  const int occ_port = occ->port();

  // Bretagne's cohort; an élu of Occitanie says something in the élus
  // group.
  {
    auto cohorts = v1::CohortService::NewStub(bzh->channel());
    v1::CreateCohortRequest req;
    req.set_cohort_id("bretagne");
    req.mutable_cohort()->set_display_name("Cohorte Bretagne");
    v1::Cohort out;
    ASSERT_TRUE(Call(bzh->AdminToken(), cohorts.get(),
                     &v1::CohortService::Stub::CreateCohort, req, &out)
                    .ok());
    ASSERT_TRUE(CreateTerritory(*bzh, "cohorts/bretagne", "brest").ok());
  }
  const std::string marie =
      ReadFile(occ_dir + "/demo-tokens/marie-dubois.token");
  {
    auto exchanges = v1::ExchangeService::NewStub(occ->channel());
    v1::CreateExchangeRequest req;
    req.set_parent("cohorts/occitanie/groups/elus");
    req.mutable_exchange()->set_title("Entre nous SECRET-ENTRE-ELUS");
    req.mutable_exchange()->set_kind(v1::Exchange::QUESTION);
    req.set_first_message("SECRET-ENTRE-ELUS : ce qui se dit ici reste ici");
    v1::Exchange out;
    grpc::Status s =
        Call(marie, exchanges.get(), &v1::ExchangeService::Stub::CreateExchange,
             req, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // A record of the élus group, its bytes said among them only; and a
  // document of the cohort's, pushed with the real CLI.
  {
    const std::string secret = dir_.path() + "/secret.txt";
    std::ofstream(secret) << "SECRET-ENTRE-ELUS : le compte-rendu du bureau\n";
    ProcessResult pushed = RunProcess(
        {COHORTE_CLI_PATH, "records", "push", secret, "--cohort", "occitanie",
         "--record", "bureau", "--title", "Bureau", "--visibility", "group",
         "--group", "elus"},
        {"COHORTE_SERVER=" + occ->address(), "COHORTE_TOKEN=" + marie});
    ASSERT_EQ(pushed.exit_code, 0) << pushed.err;
    const std::string shared = dir_.path() + "/feuille-de-route.bin";
    std::ofstream(shared, std::ios::binary)
        << ::cohorte::testing::PseudoRandomBytes(5 << 20, 12);
    pushed = RunProcess(
        {COHORTE_CLI_PATH, "records", "push", shared, "--cohort", "occitanie",
         "--record", "feuille-de-route", "--title", "Feuille de route",
         "--visibility", "network"},
        {"COHORTE_SERVER=" + occ->address(), "COHORTE_TOKEN=" + marie});
    ASSERT_EQ(pushed.exit_code, 0) << pushed.err;
  }

  // The national instance follows a cohort of each, through the CLI.
  const std::string occ_token = ServiceToken(*occ, "occitanie");
  const std::string bzh_token = ServiceToken(*bzh, "bretagne");
  ProcessResult made =
      Cli({"links", "create", "--id", "occitanie", "--display-name",
           "Occitanie", "--endpoint", occ->address(), "--cohort", "occitanie",
           "--peer-token-file", occ_token},
          *nat);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  made = Cli({"links", "create", "--id", "bretagne", "--display-name",
              "Bretagne", "--endpoint", bzh->address(), "--cohort", "bretagne",
              "--peer-token-file", bzh_token},
             *nat);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  WaitCaughtUp(*nat, "links/occitanie", Revision(*occ));
  WaitCaughtUp(*nat, "links/bretagne", Revision(*bzh));
  ExpectConverged(*occ, ReadFile(occ_token), *nat, "cohorts/occitanie");
  ExpectConverged(*bzh, ReadFile(bzh_token), *nat, "cohorts/bretagne");
  ProcessResult listed = Cli({"links", "list"}, *nat);
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_THAT(listed.out, HasSubstr("links/occitanie"));
  EXPECT_THAT(listed.out, HasSubstr("FOLLOWING"));

  // A replica refuses writes, naming its home.
  {
    auto cohorts = v1::CohortService::NewStub(nat->channel());
    v1::UpdateCohortRequest req;
    req.mutable_cohort()->set_name("cohorts/occitanie");
    req.mutable_cohort()->set_description("écrit ailleurs");
    req.mutable_update_mask()->add_paths("description");
    v1::Cohort out;
    grpc::Status s = Call(nat->AdminToken(), cohorts.get(),
                          &v1::CohortService::Stub::UpdateCohort, req, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(s.error_message(), HasSubstr("'Occitanie'"));
    EXPECT_THAT(s.error_details(), HasSubstr("REPLICA_READ_ONLY"));
    EXPECT_EQ(CreateTerritory(*nat, "cohorts/occitanie", "intrus").error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
  }

  // Writes on the home go on while the follower is killed, then the home.
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  auto writer = [&](int from) {
    for (int i = from; !stop.load(); ++i) {
      if (!CreateTerritory(*occ, "cohorts/occitanie", absl::StrCat("t", i))
               .ok()) {
        return;
      }
      ++written;
    }
  };
  std::thread w1(writer, 0);
  auto wait_written = [&](int n) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (written.load() < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_GE(written.load(), n);
  };
  wait_written(20);
  ASSERT_EQ(nat->Stop(SIGKILL), 128 + SIGKILL);
  wait_written(60);
  nat = ServerProcess::Start(nat_dir, {"--instance-name=National"});
  ASSERT_NE(nat, nullptr);
  wait_written(100);
  stop.store(true);
  w1.join();
  WaitCaughtUp(*nat, "links/occitanie", Revision(*occ));
  ExpectConverged(*occ, ReadFile(occ_token), *nat, "cohorts/occitanie");

  ASSERT_EQ(occ->Stop(SIGKILL), 128 + SIGKILL);
  occ = ServerProcess::Start(
      occ_dir, {"--listen=127.0.0.1:" + std::to_string(occ_port),
                "--instance-name=Occitanie", "--backup-dir=" + backups});
  ASSERT_NE(occ, nullptr) << ReadFile(occ_dir + ".log");
  ASSERT_TRUE(CreateTerritory(*occ, "cohorts/occitanie", "apres-kill").ok());
  WaitCaughtUp(*nat, "links/occitanie", Revision(*occ));
  ExpectConverged(*occ, ReadFile(occ_token), *nat, "cohorts/occitanie");

  // A backup, then a write the restore will not have.
  {
    auto admin = v1::AdminService::NewStub(occ->channel());
    v1::Backup backup;
    grpc::Status s = Call(occ->AdminToken(), admin.get(),
                          &v1::AdminService::Stub::CreateBackup,
                          v1::CreateBackupRequest(), &backup);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  ASSERT_TRUE(CreateTerritory(*occ, "cohorts/occitanie", "perdu").ok());
  WaitCaughtUp(*nat, "links/occitanie", Revision(*occ));
  const std::string admin_token = occ->AdminToken();
  ASSERT_EQ(occ->Stop(SIGKILL), 128 + SIGKILL);
  const std::string restored_dir = dir_.path() + "/occitanie-restored";
  ProcessResult restored =
      RunProcess({COHORTED_PATH, "restore", "--from=" + backups,
                  "--data-dir=" + restored_dir});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  fs::copy_file(occ_dir + "/admin.token", restored_dir + "/admin.token");
  occ = ServerProcess::Start(restored_dir,
                             {"--listen=127.0.0.1:" + std::to_string(occ_port),
                              "--instance-name=Occitanie"});
  ASSERT_NE(occ, nullptr);
  ASSERT_TRUE(CreateTerritory(*occ, "cohorts/occitanie", "apres-restore").ok());
  WaitCaughtUp(*nat, "links/occitanie", Revision(*occ));
  ExpectConverged(*occ, ReadFile(occ_token), *nat, "cohorts/occitanie");
  {
    auto territories = v1::TerritoryService::NewStub(nat->channel());
    v1::GetTerritoryRequest req;
    req.set_name("cohorts/occitanie/territories/perdu");
    v1::Territory out;
    EXPECT_EQ(Call(nat->AdminToken(), territories.get(),
                   &v1::TerritoryService::Stub::GetTerritory, req, &out)
                  .error_code(),
              grpc::StatusCode::NOT_FOUND)
        << "what the restored home no longer has is dropped";
  }
  ExpectConverged(*bzh, ReadFile(bzh_token), *nat, "cohorts/bretagne");

  // Nothing said in a closed group is anywhere in the follower's store.
  ASSERT_EQ(nat->Stop(SIGTERM), 0);
  std::vector<std::string> families;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(),
                                              nat_dir + "/store", &families)
                  .ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& f : families) {
    descriptors.emplace_back(f, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(),
                                           nat_dir + "/store", descriptors,
                                           &handles, &raw)
                  .ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  int64_t scanned = 0;
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), h));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++scanned;
      const std::string value = it->value().ToString();
      for (const std::string& marker : ClosedMarkers()) {
        EXPECT_EQ(value.find(marker), std::string::npos)
            << "closed-group content in the follower's store, family "
            << h->GetName() << ": " << marker;
      }
    }
    EXPECT_TRUE(it->status().ok());
  }
  EXPECT_GT(scanned, 100);
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
}

// Waits (deadline: 60 s) until `link` is in ERROR; returns it.
v1::Link WaitError(const ServerProcess& follower, const std::string& link) {
  return WaitLink(follower, link, "ERROR", [](const v1::Link& l) {
    return l.state() == v1::Link::ERROR;
  });
}

// A TCP server that answers every connection with garbage.
class GarbageServer {
 public:
  GarbageServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(fd_, 16);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      while (true) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        const char junk[] = "HTTP/1.0 200 OK\r\n\r\n\xff\xfe garbage \x00\x01";
        (void)!write(c, junk, sizeof(junk));
        close(c);
      }
    });
  }
  ~GarbageServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(LinksE2eTest, ABadPeerPutsTheLinkInErrorWithItsReason) {
  const std::string home_dir = dir_.path() + "/home";
  const std::string nat_dir = dir_.path() + "/national";
  auto home = ServerProcess::Start(home_dir, {"--seed-demo"});
  auto nat = ServerProcess::Start(nat_dir);
  ASSERT_NE(home, nullptr);
  ASSERT_NE(nat, nullptr);
  const std::string token = ServiceToken(*home, "occitanie");
  auto create = [&](const std::string& id, const std::string& endpoint,
                    const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"links",
                                     "create",
                                     "--id",
                                     id,
                                     "--display-name",
                                     id,
                                     "--endpoint",
                                     endpoint,
                                     "--cohort",
                                     "occitanie",
                                     "--peer-token-file",
                                     token};
    args.insert(args.end(), extra.begin(), extra.end());
    ProcessResult r = Cli(args, *nat);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  };
  // A peer that answers garbage.
  GarbageServer garbage;
  create("garbage", "127.0.0.1:" + std::to_string(garbage.port()), {});
  v1::Link l = WaitError(*nat, "links/garbage");
  EXPECT_EQ(l.error_reason(), "PEER_UNAVAILABLE") << l.error_message();
  EXPECT_TRUE(l.has_next_retry_time());
  // One link per followed cohort: this one goes.
  ProcessResult gone = Cli({"links", "delete", "garbage"}, *nat);
  EXPECT_EQ(gone.exit_code, 0) << gone.err;
  // Another instance than the one registered.
  create("imposteur", home->address(),
         {"--peer-instance", "0123456789abcdef0123456789abcdef"});
  l = WaitError(*nat, "links/imposteur");
  EXPECT_EQ(l.error_reason(), "PEER_INSTANCE_MISMATCH") << l.error_message();
  // A token the peer revoked.
  ProcessResult deleted = Cli({"links", "delete", "imposteur"}, *nat);
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  create("revoque", home->address(), {});
  WaitCaughtUp(*nat, "links/revoque", 1);
  // Revoke the peer's service tokens made for the national instance.
  auto tokens = v1::TokenService::NewStub(home->channel());
  v1::ListTokensRequest list;
  v1::ListTokensResponse all;
  ASSERT_TRUE(Call(home->AdminToken(), tokens.get(),
                   &v1::TokenService::Stub::ListTokens, list, &all)
                  .ok());
  for (const v1::Token& t : all.tokens()) {
    if (t.kind() != v1::Token::SERVICE || t.display_name() != "national") {
      continue;
    }
    v1::RevokeTokenRequest revoke;
    revoke.set_name(t.name());
    v1::Token out;
    ASSERT_TRUE(Call(home->AdminToken(), tokens.get(),
                     &v1::TokenService::Stub::RevokeToken, revoke, &out)
                    .ok());
  }
  l = WaitError(*nat, "links/revoque");
  EXPECT_EQ(l.error_reason(), "PEER_UNAUTHENTICATED") << l.error_message();
  // What it copied stays, read-only; pausing stops the retries.
  ProcessResult paused = Cli({"links", "pause", "revoque"}, *nat);
  EXPECT_EQ(paused.exit_code, 0) << paused.err;
  EXPECT_THAT(paused.out, HasSubstr("PAUSED"));
  ProcessResult again = Cli({"links", "pause", "revoque"}, *nat);
  EXPECT_NE(again.exit_code, 0);
  EXPECT_THAT(again.err, HasSubstr("already paused"));
}

// Export and import of one cohort through the real CLI: `cohorts export`
// on the demo instance (as its administrator), `cohorts import` on
// another. The importer then shows the same resources as the home shows a
// service token of the cohort (a replica naming its home), importing again
// changes nothing, the replica refuses writes, a tampered bundle is refused
// with nothing written, and no file of the bundle holds what was said in
// the élus group.
TEST_F(LinksE2eTest, AnExportedCohortImportsAsAReadOnlyReplica) {
  auto occ = ServerProcess::Start(dir_.path() + "/occitanie",
                                  {"--seed-demo", "--instance-name=Occitanie"});
  auto nat = ServerProcess::Start(dir_.path() + "/national",
                                  {"--instance-name=National"});
  ASSERT_NE(occ, nullptr);
  ASSERT_NE(nat, nullptr);
  const std::string bundle = dir_.path() + "/bundle";
  ProcessResult exported =
      Cli({"cohorts", "export", "occitanie", "--to", bundle}, *occ);
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_THAT(exported.err, HasSubstr("record contents"));

  // Nothing said in a closed group is in any file of the bundle.
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(bundle)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    for (const std::string& marker : ClosedMarkers()) {
      EXPECT_EQ(bytes.find(marker), std::string::npos)
          << entry.path() << " holds " << marker;
    }
  }
  EXPECT_GE(files, 3);  // manifest.json, events.pb, record contents

  ProcessResult imported = Cli({"cohorts", "import", bundle}, *nat);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_THAT(imported.out, HasSubstr("Imported cohorts/occitanie from "
                                      "instance 'Occitanie'"));
  const std::string token = ReadFile(ServiceToken(*occ, "occitanie"));
  ExpectConverged(*occ, token, *nat, "cohorts/occitanie");
  const auto first =
      Visible(nat->channel(), nat->AdminToken(), "cohorts/occitanie");

  // Again: the same, nothing deleted.
  imported = Cli({"cohorts", "import", bundle}, *nat);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_THAT(imported.out, HasSubstr(" 0 deleted"));
  EXPECT_EQ(Visible(nat->channel(), nat->AdminToken(), "cohorts/occitanie"),
            first);

  // Read-only here, naming its home.
  grpc::Status s = CreateTerritory(*nat, "cohorts/occitanie", "intrus");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_details(), HasSubstr("REPLICA_READ_ONLY"));
  ProcessResult got = Cli({"cohorts", "get", "occitanie", "-o", "json"}, *nat);
  EXPECT_EQ(got.exit_code, 0) << got.err;
  EXPECT_THAT(got.out, HasSubstr("\"imported\""));

  // A letter of events.pb changed (it still decodes): refused, nothing
  // written.
  {
    std::string bytes;
    {
      std::ifstream in(bundle + "/events.pb", std::ios::binary);
      bytes.assign((std::istreambuf_iterator<char>(in)), {});
    }
    const size_t at = bytes.find("Occitanie");
    ASSERT_NE(at, std::string::npos);
    bytes[at] = 'X';
    std::ofstream(bundle + "/events.pb", std::ios::binary | std::ios::trunc)
        << bytes;
  }
  ProcessResult tampered = Cli({"cohorts", "import", bundle}, *nat);
  EXPECT_NE(tampered.exit_code, 0);
  EXPECT_THAT(tampered.err, HasSubstr("corrupt"));
  EXPECT_EQ(Visible(nat->channel(), nat->AdminToken(), "cohorts/occitanie"),
            first);
}

}  // namespace
}  // namespace cohorte
