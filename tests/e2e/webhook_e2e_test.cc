// Webhooks through the real `cohorted` (seeded with the demo, webhooks
// allowed to 127.0.0.1 only) and a receiver written here: a blocking HTTP
// server on loopback, in a thread. A scripted scenario's changes reach it
// exactly as ListChanges shows them to the webhook's service token, in
// order and signed; a closed group's exchange never does; while the
// receiver is down the delivery fails and is retried, then delivered.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cohorte/v1/changes.grpc.pb.h"
#include "cohorte/v1/cohorts.grpc.pb.h"
#include "cohorte/v1/exchanges.grpc.pb.h"
#include "cohorte/v1/territories.grpc.pb.h"
#include "cohorte/v1/tokens.grpc.pb.h"
#include "cohorte/v1/webhooks.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace cohorte {
namespace {

using ::cohorte::testing::AddToken;
using ::cohorte::testing::ServerProcess;

// One request the receiver got.
struct Received {
  std::map<std::string, std::string> headers;  // names lowercase
  std::string body;
};

// A blocking HTTP/1.1 receiver on 127.0.0.1: answers every POST 204 and
// remembers it. Thread-safe.
class Receiver {
 public:
  // Listens on `port`; fails the test if it cannot.
  explicit Receiver(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd_, 16), 0);
    thread_ = std::thread([this] { Serve(); });
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;
  ~Receiver() {
    shutdown(fd_, SHUT_RDWR);  // accept() returns
    thread_.join();
    close(fd_);
  }

  // The requests so far, once there are at least `n`, or at `deadline`.
  std::vector<Received> WaitFor(size_t n, absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return got_.size() >= n;
    };
    mu_.AwaitWithDeadline(absl::Condition(&enough), deadline);
    return got_;
  }

 private:
  void Serve() {
    while (true) {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string data;
      char buf[4096];
      size_t header_end = std::string::npos;
      size_t length = 0;
      while (true) {
        const ssize_t n = recv(c, buf, sizeof(buf), 0);
        if (n <= 0) break;
        data.append(buf, static_cast<size_t>(n));
        if (header_end == std::string::npos) {
          header_end = data.find("\r\n\r\n");
          if (header_end == std::string::npos) continue;
          for (absl::string_view line : absl::StrSplit(
                   absl::string_view(data).substr(0, header_end), "\r\n")) {
            const size_t colon = line.find(':');
            if (colon == absl::string_view::npos) continue;
            if (absl::AsciiStrToLower(line.substr(0, colon)) ==
                "content-length") {
              (void)absl::SimpleAtoi(
                  absl::StripAsciiWhitespace(line.substr(colon + 1)), &length);
            }
          }
        }
        if (data.size() >= header_end + 4 + length) break;
      }
      Received r;
      if (header_end != std::string::npos) {
        for (absl::string_view line : absl::StrSplit(
                 absl::string_view(data).substr(0, header_end), "\r\n")) {
          const size_t colon = line.find(':');
          if (colon == absl::string_view::npos) continue;
          r.headers[absl::AsciiStrToLower(line.substr(0, colon))] =
              std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
        }
        r.body = data.substr(header_end + 4, length);
      }
      const std::string answer =
          "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: "
          "close\r\n\r\n";
      (void)send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
      close(c);
      absl::MutexLock lock(&mu_);
      got_.push_back(std::move(r));
    }
  }

  int fd_ = -1;
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<Received> got_ ABSL_GUARDED_BY(mu_);
};

// A loopback port nobody listens on (for now).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string HmacHex(const std::string& key, const std::string& message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
       digest, &length);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

class WebhookE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() + "/data";
    server_ = ServerProcess::Start(
        data_, {"--seed-demo", "--webhook-allow=127.0.0.1"});
    ASSERT_NE(server_, nullptr);
    admin_ = server_->AdminToken();
    ally_ = DemoSecret("ally-service");
    marie_ = DemoSecret("marie-dubois");
    ASSERT_FALSE(ally_.empty());
    ASSERT_FALSE(marie_.empty());
  }

  std::string DemoSecret(const std::string& who) {
    std::ifstream in(data_ + "/demo-tokens/" + who + ".token");
    std::string secret;
    std::getline(in, secret);
    return secret;
  }

  // Every change ListChanges shows `secret` after `since`.
  std::vector<v1::ChangeEvent> Feed(const std::string& secret,
                                    std::string since) {
    auto stub = v1::ChangeService::NewStub(server_->channel());
    std::vector<v1::ChangeEvent> events;
    while (true) {
      grpc::ClientContext ctx;
      AddToken(&ctx, secret);
      v1::ListChangesRequest req;
      req.set_since(since);
      v1::ListChangesResponse resp;
      grpc::Status s = stub->ListChanges(&ctx, req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) return events;
      events.insert(events.end(), resp.events().begin(), resp.events().end());
      since = resp.cursor().token();
      if (resp.caught_up()) return events;
    }
  }

  std::vector<v1::WebhookDelivery> Deliveries(const std::string& webhook) {
    auto stub = v1::WebhookService::NewStub(server_->channel());
    grpc::ClientContext ctx;
    AddToken(&ctx, admin_);
    v1::ListWebhookDeliveriesRequest req;
    req.set_parent(webhook);
    v1::ListWebhookDeliveriesResponse resp;
    grpc::Status s = stub->ListWebhookDeliveries(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {resp.deliveries().begin(), resp.deliveries().end()};
  }

  ::cohorte::testing::TempDir dir_;
  std::string data_;
  std::unique_ptr<ServerProcess> server_;
  std::string admin_, ally_, marie_;
};

TEST_F(WebhookE2eTest, ReceiverGetsExactlyTheTokensFeedSignedAndRetried) {
  // The ally's service token, by name.
  std::string token;
  {
    auto tokens = v1::TokenService::NewStub(server_->channel());
    grpc::ClientContext ctx;
    AddToken(&ctx, ally_);
    v1::GetTokenRequest req;
    req.set_name("tokens/me");
    v1::Token t;
    ASSERT_TRUE(tokens->GetToken(&ctx, req, &t).ok());
    token = t.name();
  }
  // A webhook to a port where nobody listens yet.
  const int port = FreePort();
  auto webhooks = v1::WebhookService::NewStub(server_->channel());
  v1::WebhookSecret created;
  {
    grpc::ClientContext ctx;
    AddToken(&ctx, admin_);
    v1::CreateWebhookRequest req;
    req.mutable_webhook()->set_token(token);
    req.mutable_webhook()->set_url(
        absl::StrCat("http://127.0.0.1:", port, "/hook"));
    grpc::Status s = webhooks->CreateWebhook(&ctx, req, &created);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  // Outside the allow list: refused, naming the field.
  {
    grpc::ClientContext ctx;
    AddToken(&ctx, admin_);
    v1::CreateWebhookRequest req;
    req.mutable_webhook()->set_token(token);
    req.mutable_webhook()->set_url("http://169.254.169.254/latest/meta-data");
    v1::WebhookSecret refused;
    grpc::Status s = webhooks->CreateWebhook(&ctx, req, &refused);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), ::testing::HasSubstr("webhook.url"));
  }

  // The scenario: two territories and a cohort's description the token
  // may read, and an exchange of the élus group, which it may not.
  auto territories = v1::TerritoryService::NewStub(server_->channel());
  for (const char* id : {"webhook-a", "webhook-b"}) {
    grpc::ClientContext ctx;
    AddToken(&ctx, admin_);
    v1::CreateTerritoryRequest req;
    req.set_parent("cohorts/occitanie");
    req.set_territory_id(id);
    req.mutable_territory()->set_display_name(id);
    req.mutable_territory()->set_kind(v1::Territory::COMMUNE);
    v1::Territory t;
    ASSERT_TRUE(territories->CreateTerritory(&ctx, req, &t).ok());
    if (std::string(id) == "webhook-a") {
      grpc::ClientContext cx;
      AddToken(&cx, marie_);
      v1::CreateExchangeRequest ex;
      ex.set_parent("cohorts/occitanie/groups/elus");
      ex.mutable_exchange()->set_title("WEBHOOKMARK entre élus");
      ex.mutable_exchange()->set_kind(v1::Exchange::QUESTION);
      ex.set_first_message("WEBHOOKMARK ne sort pas du groupe");
      v1::Exchange e;
      grpc::Status s = v1::ExchangeService::NewStub(server_->channel())
                           ->CreateExchange(&cx, ex, &e);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
  }
  {
    grpc::ClientContext ctx;
    AddToken(&ctx, admin_);
    v1::UpdateCohortRequest req;
    req.mutable_cohort()->set_name("cohorts/occitanie");
    req.mutable_cohort()->set_description("Suivie par un webhook");
    req.mutable_update_mask()->add_paths("description");
    v1::Cohort c;
    ASSERT_TRUE(v1::CohortService::NewStub(server_->channel())
                    ->UpdateCohort(&ctx, req, &c)
                    .ok());
  }

  // The receiver is down: the first delivery fails and is logged.
  const std::string webhook = created.webhook().name();
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  std::vector<v1::WebhookDelivery> log;
  while (absl::Now() < deadline) {
    log = Deliveries(webhook);
    if (!log.empty()) break;
    absl::SleepFor(absl::Milliseconds(50));  // polling the server's log
  }
  ASSERT_FALSE(log.empty()) << "no delivery attempted";
  EXPECT_EQ(log.back().status(), v1::WebhookDelivery::FAILED);
  EXPECT_EQ(log.back().http_status(), 0);
  EXPECT_FALSE(log.back().error().empty());

  // Up: retried and delivered, exactly the token's feed.
  Receiver receiver(port);
  const std::vector<v1::ChangeEvent> expected =
      Feed(ally_, created.webhook().cursor());
  ASSERT_GE(expected.size(), 3u);
  const std::vector<Received> got =
      receiver.WaitFor(expected.size(), absl::Now() + absl::Seconds(90));
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const Received& r = got[i];
    EXPECT_EQ(r.headers.at("content-type"), "application/json");
    EXPECT_EQ(r.headers.at("cohorte-delivery"),
              absl::StrCat(expected[i].revision()));
    // t=<unix>,v1=<hex of HMAC-SHA256(secret, "<t>.<body>")>
    const std::vector<std::string> parts =
        absl::StrSplit(r.headers.at("cohorte-signature"), ',');
    ASSERT_EQ(parts.size(), 2u);
    ASSERT_TRUE(absl::StartsWith(parts[0], "t="));
    const std::string t = parts[0].substr(2);
    int64_t seconds = 0;
    ASSERT_TRUE(absl::SimpleAtoi(t, &seconds));
    EXPECT_LT(std::abs(absl::ToUnixSeconds(absl::Now()) - seconds), 300);
    EXPECT_EQ(parts[1], "v1=" + HmacHex(created.secret(), t + "." + r.body));
    v1::ChangeEvent event;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(r.body, &event).ok())
        << r.body;
    EXPECT_TRUE(
        google::protobuf::util::MessageDifferencer::Equals(event, expected[i]))
        << event.DebugString() << "\nvs\n"
        << expected[i].DebugString();
    EXPECT_FALSE(absl::StrContains(r.body, "WEBHOOKMARK")) << r.body;
    EXPECT_FALSE(absl::StrContains(r.body, "groups/elus/")) << r.body;
  }
  std::vector<std::string> names;
  for (const v1::ChangeEvent& e : expected) names.push_back(e.resource_name());
  EXPECT_THAT(names,
              ::testing::Contains("cohorts/occitanie/territories/webhook-a"));
  EXPECT_THAT(names,
              ::testing::Contains("cohorts/occitanie/territories/webhook-b"));
  EXPECT_THAT(names, ::testing::Contains("cohorts/occitanie"));

  // The log says it too, once the server has recorded the last answer
  // (after the receiver sent it).
  const absl::Time logged_by = absl::Now() + absl::Seconds(30);
  do {
    log = Deliveries(webhook);
    if (!log.empty() && log.front().revision() == expected.back().revision())
      break;
    absl::SleepFor(absl::Milliseconds(20));  // polling the server's log
  } while (absl::Now() < logged_by);
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.front().status(), v1::WebhookDelivery::DELIVERED);
  EXPECT_EQ(log.front().revision(), expected.back().revision());
}

}  // namespace
}  // namespace cohorte
