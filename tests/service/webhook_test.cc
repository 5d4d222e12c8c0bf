// Webhooks: who may make and manage them, the secret shown once and never
// logged, the allow list (SSRF guard), the signature, and delivery through
// the dispatcher with a fake feed and a fake receiver: order, headers,
// retries with backoff, the bounded delivery log, and the pause after
// failing too long, told in the creator's inbox.

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/service/core/limits.h"
#include "server/service/webhooks/dispatcher.h"
#include "server/service/webhooks/signature.h"
#include "server/service/webhooks/url_guard.h"
#include "server/service/webhooks/webhook_service.h"
#include "tests/service/access_fixture.h"
#include "tests/testing/raw_access.h"

namespace cohorte::service {
namespace {

using ::cohorte::testing::InvalidFieldIs;
using ::cohorte::testing::IsOk;
using ::cohorte::testing::StatusIs;

TEST(WebhookSignatureTest, HmacMatchesTheKnownVector) {
  EXPECT_EQ(HmacSha256Hex("key", "The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}

TEST(WebhookSignatureTest, SignsTimestampDotBody) {
  EXPECT_EQ(WebhookSignature("whsec_test", 1700000000, R"({"revision":"5"})"),
            "t=1700000000,v1=7b952b062ad8fbfb0c4ac3963e2da4ce8dd387162b8efd00"
            "05cb6b6299961d72");
}

TEST(WebhookBackoffTest, DoublesFromOneSecondUpToTenMinutes) {
  EXPECT_EQ(WebhookBackoff(1), absl::Seconds(1));
  EXPECT_EQ(WebhookBackoff(2), absl::Seconds(2));
  EXPECT_EQ(WebhookBackoff(3), absl::Seconds(4));
  EXPECT_EQ(WebhookBackoff(10), absl::Seconds(512));
  EXPECT_EQ(WebhookBackoff(11), absl::Minutes(10));
  EXPECT_EQ(WebhookBackoff(1000), absl::Minutes(10));
}

TEST(WebhookAllowListTest, AllowsNothingByDefault) {
  EXPECT_THAT(WebhookAllowList().Check("webhook.url", "http://127.0.0.1/h"),
              InvalidFieldIs("webhook.url"));
}

TEST(WebhookAllowListTest, RefusesWhatIsNotHttpOrOutsideTheList) {
  absl::StatusOr<WebhookAllowList> allow =
      WebhookAllowList::Parse({"127.0.0.0/8", "hooks.invalid"});
  ASSERT_THAT(allow, IsOk());
  for (const char* url :
       {"ftp://127.0.0.1/x", "file:///etc/passwd", "gopher://127.0.0.1/",
        "http://10.0.0.1/x", "http://[::1]/x", "http://user:pw@127.0.0.1/x",
        "http://does-not-resolve.invalid/x", "not a url", ""}) {
    EXPECT_THAT(allow->Check("webhook.url", url), InvalidFieldIs("webhook.url"))
        << url;
  }
}

TEST(WebhookAllowListTest, AllowsAddressesInsideAnAllowedNetwork) {
  absl::StatusOr<WebhookAllowList> allow =
      WebhookAllowList::Parse({"127.0.0.0/8"});
  ASSERT_THAT(allow, IsOk());
  absl::StatusOr<CheckedUrl> checked =
      allow->Check("webhook.url", "https://127.0.0.2:8443/hook?x=1");
  ASSERT_THAT(checked, IsOk());
  EXPECT_EQ(checked->host, "127.0.0.2");
  EXPECT_EQ(checked->port, 8443);
  EXPECT_EQ(checked->address, "127.0.0.2");
  // `localhost` resolves into the network.
  EXPECT_THAT(allow->Check("webhook.url", "http://localhost:1/"), IsOk());
}

TEST(WebhookAllowListTest, RefusesMalformedEntries) {
  EXPECT_THAT(WebhookAllowList::Parse({"10.0.0.0/33"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(WebhookAllowList::Parse({"http://x"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// A feed that serves a fixed list of events, as ListChanges would.
struct FakeFeed {
  std::string instance;
  int64_t epoch = 1;
  std::vector<v1::ChangeEvent> events;
  absl::Status error;
  std::vector<std::string> callers;

  void Add(int64_t revision, const std::string& name) {
    v1::ChangeEvent e;
    e.set_revision(revision);
    e.set_type(v1::ChangeEvent::UPDATED);
    e.set_resource_name(name);
    e.set_resource_type("cohorte.v1.Cohort");
    v1::Cohort cohort;
    cohort.set_name(name);
    e.mutable_resource()->PackFrom(cohort);
    e.mutable_cursor()->set_revision(revision);
    e.mutable_cursor()->set_token(FeedCursorToken(instance, epoch, revision));
    events.push_back(e);
  }

  FeedSource Source(const storage::Store* store) {
    return [this, store](const Principal& caller,
                         const v1::ListChangesRequest& req)
               -> absl::StatusOr<v1::ListChangesResponse> {
      callers.push_back(caller.token);
      if (!error.ok()) return error;
      const int64_t since = FeedCursorRevision(req.since());
      v1::ListChangesResponse out;
      for (const v1::ChangeEvent& e : events) {
        if (e.revision() > since && out.events_size() < req.page_size()) {
          *out.add_events() = e;
        }
      }
      const int64_t at = out.events().empty()
                             ? store->revision()
                             : out.events().rbegin()->revision();
      out.mutable_cursor()->set_token(FeedCursorToken(instance, epoch, at));
      return out;
    };
  }
};

// A receiver that answers what it is told, and remembers every POST.
struct FakeReceiver {
  std::vector<HttpPost> posts;
  std::vector<int> answers;  // consumed in order; then 204
  HttpPoster Poster() {
    return [this](const HttpPost& post) {
      posts.push_back(post);
      HttpOutcome out;
      out.status = 204;
      if (!answers.empty()) {
        out.status = answers.front();
        answers.erase(answers.begin());
      }
      if (!out.ok()) out.error = absl::StrCat("HTTP ", out.status);
      return out;
    };
  }
};

std::string Header(const HttpPost& post, const std::string& name) {
  for (const auto& [k, v] : post.headers) {
    if (k == name) return v;
  }
  return "";
}

class WebhookTest : public AccessFixture {
 protected:
  void SetUp() override {
    AccessFixture::SetUp();
    v1::CreateServiceTokenRequest req;
    req.mutable_token()->set_display_name("outil");
    req.mutable_token()->add_cohorts(kOccitanie);
    req.mutable_token()->set_access(v1::Token::READ);
    absl::StatusOr<v1::TokenSecret> t =
        services_.tokens->CreateServiceToken(admin_, req);
    ASSERT_THAT(t, IsOk());
    token_ = t->token().name();
    token_secret_ = t->secret();
    feed_.instance = store_->instance_id();
    feed_.epoch = store_->epoch();
  }

  v1::CreateWebhookRequest Request(const std::string& url) {
    v1::CreateWebhookRequest req;
    req.mutable_webhook()->set_token(token_);
    req.mutable_webhook()->set_url(url);
    req.mutable_webhook()->set_display_name("évaluation");
    return req;
  }

  // A webhook made by the coordinator of occitanie.
  v1::WebhookSecret Create() {
    absl::StatusOr<v1::WebhookSecret> w = services_.webhooks->CreateWebhook(
        who("coordinator"), Request("http://127.0.0.1:9/hook"));
    EXPECT_THAT(w, IsOk());
    return w.ok() ? *w : v1::WebhookSecret();
  }

  // Commits `n` writes (cohort updates), returning their revisions.
  std::vector<int64_t> Writes(int n) {
    std::vector<int64_t> revisions;
    for (int i = 0; i < n; ++i) {
      v1::UpdateCohortRequest req;
      req.mutable_cohort()->set_name(kOccitanie);
      req.mutable_cohort()->set_description(absl::StrCat("v", i));
      req.mutable_update_mask()->add_paths("description");
      EXPECT_THAT(services_.cohorts->UpdateCohort(admin_, req), IsOk());
      revisions.push_back(store_->revision());
    }
    return revisions;
  }

  v1::Webhook Get(const std::string& name) {
    v1::GetWebhookRequest req;
    req.set_name(name);
    absl::StatusOr<v1::Webhook> w = services_.webhooks->GetWebhook(admin_, req);
    EXPECT_THAT(w, IsOk());
    return w.ok() ? *w : v1::Webhook();
  }

  std::vector<v1::WebhookDelivery> Deliveries(const std::string& name) {
    v1::ListWebhookDeliveriesRequest req;
    req.set_parent(name);
    req.set_page_size(1000);
    absl::StatusOr<v1::ListWebhookDeliveriesResponse> r =
        services_.webhooks->ListWebhookDeliveries(admin_, req);
    EXPECT_THAT(r, IsOk());
    if (!r.ok()) return {};
    return {r->deliveries().begin(), r->deliveries().end()};
  }

  std::unique_ptr<WebhookDispatcher> Dispatcher(
      absl::Duration pause_after = absl::Hours(24)) {
    DispatcherOptions options;
    options.pause_after = pause_after;
    options.poll_interval = absl::ZeroDuration();  // re-read at every pass
    options.now = [this] { return now_; };
    return std::make_unique<WebhookDispatcher>(
        store_.get(), feed_.Source(store_.get()), receiver_.Poster(), options);
  }

  std::string token_;
  std::string token_secret_;
  FakeFeed feed_;
  FakeReceiver receiver_;
  absl::Time now_ = absl::FromUnixSeconds(1800000000);
};

TEST_F(WebhookTest, CoordinatorOfEveryCohortOfTheTokenCreatesOne) {
  v1::WebhookSecret w = Create();
  EXPECT_TRUE(absl::StartsWith(w.secret(), "whsec_"));
  EXPECT_EQ(w.secret().size(), 6u + 64u);
  EXPECT_EQ(w.webhook().state(), v1::Webhook::ACTIVE);
  EXPECT_EQ(w.webhook().creator(), "members/coordinator");
  EXPECT_EQ(w.webhook().cohorts(0), kOccitanie);
  EXPECT_EQ(FeedCursorRevision(w.webhook().cursor()), store_->revision());
}

TEST_F(WebhookTest, OthersMayNotCreateOne) {
  for (const char* id :
       {"coordinator-autre", "ally", "elu-petr", "agent-petr"}) {
    EXPECT_THAT(services_.webhooks->CreateWebhook(
                    who(id), Request("http://127.0.0.1:9/hook")),
                StatusIs(absl::StatusCode::kPermissionDenied))
        << id;
  }
  // Nor learn whether a token exists.
  v1::CreateWebhookRequest absent = Request("http://127.0.0.1:9/hook");
  absent.mutable_webhook()->set_token("tokens/absent");
  EXPECT_THAT(services_.webhooks->CreateWebhook(who("coordinator"), absent),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(services_.webhooks->CreateWebhook(admin_, absent),
              InvalidFieldIs("webhook.token"));
}

TEST_F(WebhookTest, UrlOutsideTheAllowListIsRefusedNamingIt) {
  for (const char* url : {"http://10.1.2.3/hook", "ftp://127.0.0.1/hook",
                          "http://169.254.169.254/latest/meta-data"}) {
    EXPECT_THAT(services_.webhooks->CreateWebhook(admin_, Request(url)),
                InvalidFieldIs("webhook.url"))
        << url;
  }
}

TEST_F(WebhookTest, SecretIsShownOnceAndNeverLoggedNorRead) {
  v1::WebhookSecret w = Create();
  const int64_t created = store_->revision();
  v1::Webhook got = Get(w.webhook().name());
  EXPECT_FALSE(absl::StrContains(got.SerializeAsString(), w.secret()));
  absl::StatusOr<std::vector<storage::v1::ChangeRecord>> log =
      storage::testing::RawAccess::ReadChanges(*store_, 1, 100000);
  ASSERT_THAT(log, IsOk());
  bool logged = false;
  for (const storage::v1::ChangeRecord& r : *log) {
    EXPECT_FALSE(absl::StrContains(r.SerializeAsString(), w.secret()))
        << "revision " << r.revision() << " holds the secret";
    logged = logged || r.revision() == created;
  }
  EXPECT_TRUE(logged);
  v1::ListAuditEventsRequest audit;
  audit.set_parent(kOccitanie);
  absl::StatusOr<v1::ListAuditEventsResponse> events =
      services_.audit->ListAuditEvents(who("coordinator"), audit);
  ASSERT_THAT(events, IsOk());
  EXPECT_FALSE(absl::StrContains(events->SerializeAsString(), w.secret()));
  // The feed shows the webhook to who may read it, without its secret.
  v1::ListChangesRequest changes;
  changes.set_page_size(1000);
  for (const Principal& p : {admin_, who("coordinator")}) {
    absl::StatusOr<v1::ListChangesResponse> feed =
        services_.all->changes.ListChanges(p, changes);
    ASSERT_THAT(feed, IsOk());
    bool shown = false;
    for (const v1::ChangeEvent& e : feed->events()) {
      shown = shown || e.resource_name() == w.webhook().name();
    }
    EXPECT_TRUE(shown) << p.member;
    EXPECT_FALSE(absl::StrContains(feed->SerializeAsString(), w.secret()))
        << p.member;
  }
}

TEST_F(WebhookTest, OnlyAdminAndTheCohortsCoordinatorsReadIt) {
  const std::string name = Create().webhook().name();
  v1::GetWebhookRequest get;
  get.set_name(name);
  EXPECT_THAT(services_.webhooks->GetWebhook(who("coordinator"), get), IsOk());
  for (const char* id : {"coordinator-autre", "ally", "elu-petr"}) {
    EXPECT_THAT(services_.webhooks->GetWebhook(who(id), get),
                StatusIs(absl::StatusCode::kPermissionDenied))
        << id;
  }
  v1::ListWebhooksRequest list;
  absl::StatusOr<v1::ListWebhooksResponse> mine =
      services_.webhooks->ListWebhooks(who("coordinator"), list);
  ASSERT_THAT(mine, IsOk());
  EXPECT_EQ(mine->webhooks_size(), 1);
  absl::StatusOr<v1::ListWebhooksResponse> theirs =
      services_.webhooks->ListWebhooks(who("coordinator-autre"), list);
  ASSERT_THAT(theirs, IsOk());
  EXPECT_EQ(theirs->webhooks_size(), 0);
}

TEST_F(WebhookTest, PauseResumeAndDelete) {
  const std::string name = Create().webhook().name();
  v1::PauseWebhookRequest pause;
  pause.set_name(name);
  absl::StatusOr<v1::Webhook> paused =
      services_.webhooks->PauseWebhook(who("coordinator"), pause);
  ASSERT_THAT(paused, IsOk());
  EXPECT_EQ(paused->state(), v1::Webhook::PAUSED);
  EXPECT_THAT(services_.webhooks->PauseWebhook(who("coordinator"), pause),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  v1::ResumeWebhookRequest resume;
  resume.set_name(name);
  resume.set_etag("999");
  EXPECT_THAT(services_.webhooks->ResumeWebhook(who("coordinator"), resume),
              StatusIs(absl::StatusCode::kAborted));
  resume.set_etag(paused->etag());
  absl::StatusOr<v1::Webhook> resumed =
      services_.webhooks->ResumeWebhook(who("coordinator"), resume);
  ASSERT_THAT(resumed, IsOk());
  EXPECT_EQ(resumed->state(), v1::Webhook::ACTIVE);
  v1::DeleteWebhookRequest del;
  del.set_name(name);
  EXPECT_THAT(services_.webhooks->DeleteWebhook(who("coordinator-autre"), del),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(services_.webhooks->DeleteWebhook(who("coordinator"), del),
              IsOk());
  v1::GetWebhookRequest get;
  get.set_name(name);
  EXPECT_THAT(services_.webhooks->GetWebhook(admin_, get),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(WebhookTest, DeliversEachEventInOrderSignedAsTheServiceToken) {
  v1::WebhookSecret w = Create();
  const std::vector<int64_t> revs = Writes(3);
  for (int64_t r : revs) feed_.Add(r, kOccitanie);
  auto dispatcher = Dispatcher();
  absl::StatusOr<int> posts = dispatcher->RunOnce();
  ASSERT_THAT(posts, IsOk());
  EXPECT_EQ(*posts, 3);
  ASSERT_EQ(receiver_.posts.size(), 3u);
  EXPECT_EQ(feed_.callers.front(), token_);
  for (size_t i = 0; i < 3; ++i) {
    const HttpPost& p = receiver_.posts[i];
    EXPECT_EQ(p.url, "http://127.0.0.1:9/hook");
    EXPECT_EQ(Header(p, "Content-Type"), "application/json");
    EXPECT_EQ(Header(p, "Cohorte-Delivery"), absl::StrCat(revs[i]));
    EXPECT_EQ(Header(p, "Cohorte-Signature"),
              WebhookSignature(w.secret(), absl::ToUnixSeconds(now_), p.body));
    v1::ChangeEvent event;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(p.body, &event).ok())
        << p.body;
    EXPECT_EQ(event.revision(), revs[i]);
    EXPECT_TRUE(absl::StrContains(p.body,
                                  "\"@type\":"
                                  "\"type.googleapis.com/"
                                  "cohorte.v1.Cohort\""))
        << p.body;
  }
  const v1::Webhook after = Get(w.webhook().name());
  EXPECT_EQ(FeedCursorRevision(after.cursor()), revs.back());
  const std::vector<v1::WebhookDelivery> log = Deliveries(w.webhook().name());
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].revision(), revs.back());  // newest first
  EXPECT_EQ(log[0].status(), v1::WebhookDelivery::DELIVERED);
  EXPECT_EQ(log[0].http_status(), 204);
  // Nothing new: nothing sent again (its own delivery writes are not in
  // the token's feed).
  ASSERT_THAT(dispatcher->RunOnce(), IsOk());
  EXPECT_EQ(receiver_.posts.size(), 3u);
}

TEST_F(WebhookTest, FailureRetriesTheSameEventAfterBackoffThenGoesOn) {
  v1::WebhookSecret w = Create();
  const std::vector<int64_t> revs = Writes(2);
  for (int64_t r : revs) feed_.Add(r, kOccitanie);
  receiver_.answers = {500, 503};
  auto dispatcher = Dispatcher();
  ASSERT_THAT(dispatcher->RunOnce(), IsOk());
  ASSERT_EQ(receiver_.posts.size(), 1u);  // stops at the first failure
  v1::Webhook hook = Get(w.webhook().name());
  EXPECT_EQ(hook.consecutive_failures(), 1);
  EXPECT_EQ(hook.last_error(), "HTTP 500");
  // Not before the backoff.
  now_ += absl::Milliseconds(999);
  ASSERT_THAT(dispatcher->RunOnce(), IsOk());
  EXPECT_EQ(receiver_.posts.size(), 1u);
  now_ += absl::Milliseconds(1);
  ASSERT_THAT(dispatcher->RunOnce(), IsOk());
  ASSERT_EQ(receiver_.posts.size(), 2u);
  EXPECT_EQ(Header(receiver_.posts[1], "Cohorte-Delivery"),
            absl::StrCat(revs[0]));
  now_ += absl::Milliseconds(1999);
  ASSERT_THAT(dispatcher->RunOnce(), IsOk());
  EXPECT_EQ(receiver_.posts.size(), 2u);  // the second wait is 2 s
  now_ += absl::Milliseconds(1);
  ASSERT_THAT(dispatcher->RunOnce(), IsOk());
  ASSERT_EQ(receiver_.posts.size(), 4u);
  EXPECT_EQ(Header(receiver_.posts[2], "Cohorte-Delivery"),
            absl::StrCat(revs[0]));
  EXPECT_EQ(Header(receiver_.posts[3], "Cohorte-Delivery"),
            absl::StrCat(revs[1]));
  const std::vector<v1::WebhookDelivery> log = Deliveries(w.webhook().name());
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[3].status(), v1::WebhookDelivery::FAILED);
  EXPECT_EQ(log[3].attempt(), 1);
  EXPECT_EQ(log[2].http_status(), 503);
  EXPECT_EQ(log[2].attempt(), 2);
  EXPECT_EQ(log[1].status(), v1::WebhookDelivery::DELIVERED);
  EXPECT_EQ(log[1].attempt(), 3);
  EXPECT_EQ(Get(w.webhook().name()).consecutive_failures(), 0);
}

TEST_F(WebhookTest, DeliveryLogKeepsTheLastAttemptsOnly) {
  v1::WebhookSecret w = Create();
  feed_.Add(Writes(1)[0], kOccitanie);
  receiver_.answers = std::vector<int>(kMaxWebhookDeliveriesKept + 5, 500);
  auto dispatcher = Dispatcher();
  for (int i = 0; i < kMaxWebhookDeliveriesKept + 5; ++i) {
    ASSERT_THAT(dispatcher->RunOnce(), IsOk());
    now_ += absl::Minutes(10);
  }
  EXPECT_EQ(receiver_.posts.size(), kMaxWebhookDeliveriesKept + 5u);
  const std::vector<v1::WebhookDelivery> log = Deliveries(w.webhook().name());
  ASSERT_EQ(log.size(), static_cast<size_t>(kMaxWebhookDeliveriesKept));
  EXPECT_EQ(log.front().attempt(), kMaxWebhookDeliveriesKept + 5);
}

TEST_F(WebhookTest, FailingForADayPausesItAndTellsItsCreator) {
  v1::WebhookSecret w = Create();
  feed_.Add(Writes(1)[0], kOccitanie);
  receiver_.answers = std::vector<int>(1000, 502);
  auto dispatcher = Dispatcher();
  const absl::Time start = now_;
  int rounds = 0;
  while (Get(w.webhook().name()).state() == v1::Webhook::ACTIVE &&
         rounds < 1000) {
    ASSERT_THAT(dispatcher->RunOnce(), IsOk());
    now_ += absl::Minutes(10);
    ++rounds;
  }
  const v1::Webhook hook = Get(w.webhook().name());
  ASSERT_EQ(hook.state(), v1::Webhook::PAUSED);
  EXPECT_GE(now_ - start, absl::Hours(24));
  EXPECT_LE(now_ - start, absl::Hours(24) + absl::Minutes(20));
  EXPECT_TRUE(absl::StrContains(hook.pause_reason(), "HTTP 502"))
      << hook.pause_reason();
  // Paused: no more attempts.
  const size_t posts = receiver_.posts.size();
  now_ += absl::Hours(1);
  ASSERT_THAT(dispatcher->RunOnce(), IsOk());
  EXPECT_EQ(receiver_.posts.size(), posts);
  v1::ListInboxRequest inbox;
  absl::StatusOr<v1::ListInboxResponse> items =
      services_.inbox->ListInbox(who("coordinator"), inbox);
  ASSERT_THAT(items, IsOk());
  ASSERT_GE(items->items_size(), 1);
  EXPECT_EQ(items->items(0).kind(), v1::InboxItem::WEBHOOK_PAUSED);
  EXPECT_EQ(items->items(0).resource(), w.webhook().name());
  // Nobody else is told.
  absl::StatusOr<v1::ListInboxResponse> other =
      services_.inbox->ListInbox(who("coordinator-autre"), inbox);
  ASSERT_THAT(other, IsOk());
  EXPECT_EQ(other->items_size(), 0);
}

TEST_F(WebhookTest, ResumedWebhookDeliversAgainFromWhereItStopped) {
  v1::WebhookSecret w = Create();
  const std::vector<int64_t> revs = Writes(2);
  for (int64_t r : revs) feed_.Add(r, kOccitanie);
  receiver_.answers = {500, 500};
  auto dispatcher = Dispatcher(/*pause_after=*/absl::Seconds(1));
  ASSERT_THAT(dispatcher->RunOnce(), IsOk());
  now_ += absl::Seconds(1);
  ASSERT_THAT(dispatcher->RunOnce(), IsOk());
  v1::Webhook paused = Get(w.webhook().name());
  ASSERT_EQ(paused.state(), v1::Webhook::PAUSED);
  v1::ResumeWebhookRequest resume;
  resume.set_name(w.webhook().name());
  absl::StatusOr<v1::Webhook> resumed =
      services_.webhooks->ResumeWebhook(who("coordinator"), resume);
  ASSERT_THAT(resumed, IsOk());
  EXPECT_EQ(resumed->consecutive_failures(), 0);
  EXPECT_FALSE(resumed->has_next_attempt_time());
  ASSERT_THAT(dispatcher->RunOnce(), IsOk());
  ASSERT_EQ(receiver_.posts.size(), 4u);
  EXPECT_EQ(Header(receiver_.posts[2], "Cohorte-Delivery"),
            absl::StrCat(revs[0]));
  EXPECT_EQ(Header(receiver_.posts[3], "Cohorte-Delivery"),
            absl::StrCat(revs[1]));
  EXPECT_EQ(FeedCursorRevision(Get(w.webhook().name()).cursor()), revs[1]);
}

TEST_F(WebhookTest, DeletedWebhookIsNotDeliveredAnyMore) {
  v1::WebhookSecret w = Create();
  feed_.Add(Writes(1)[0], kOccitanie);
  auto dispatcher = Dispatcher();
  v1::DeleteWebhookRequest del;
  del.set_name(w.webhook().name());
  ASSERT_THAT(services_.webhooks->DeleteWebhook(admin_, del), IsOk());
  ASSERT_THAT(dispatcher->RunOnce(), IsOk());
  EXPECT_TRUE(receiver_.posts.empty());
}

TEST_F(WebhookTest, QuietWebhookSavesItsCursorAfterAnHour) {
  v1::WebhookSecret w = Create();
  Writes(2);  // nothing the (fake) feed shows
  auto dispatcher = Dispatcher();
  ASSERT_THAT(dispatcher->RunOnce(), IsOk());
  EXPECT_EQ(Get(w.webhook().name()).cursor(), w.webhook().cursor());
  now_ += absl::Hours(1);
  const int64_t reached = store_->revision();
  ASSERT_THAT(dispatcher->RunOnce(), IsOk());
  EXPECT_EQ(FeedCursorRevision(Get(w.webhook().name()).cursor()), reached);
  EXPECT_TRUE(receiver_.posts.empty());
  // Saving it was a write, which the token's feed does not show: nothing
  // more is saved.
  const int64_t after = store_->revision();
  ASSERT_THAT(dispatcher->RunOnce(), IsOk());
  EXPECT_EQ(store_->revision(), after);
}

// Through the real change feed: the payload is the service token's feed,
// exactly, never more; a closed group's exchange never reaches it, nor do
// the webhook's own writes.
TEST_F(WebhookTest, PayloadIsExactlyTheTokensFeedAndNeverAClosedGroup) {
  v1::WebhookSecret w = Create();
  v1::CreateTerritoryRequest territory;
  territory.set_parent(kOccitanie);
  territory.set_territory_id("vallee");
  territory.mutable_territory()->set_display_name("Vallée");
  territory.mutable_territory()->set_kind(v1::Territory::COMMUNE);
  ASSERT_THAT(services_.territories->CreateTerritory(admin_, territory),
              IsOk());
  v1::CreateExchangeRequest exchange;
  exchange.set_parent(absl::StrCat(kOccitanie, "/groups/elus"));
  exchange.mutable_exchange()->set_title("WEBHOOKMARK entre élus");
  exchange.mutable_exchange()->set_kind(v1::Exchange::QUESTION);
  exchange.set_first_message("WEBHOOKMARK ne sort pas du groupe");
  ASSERT_THAT(services_.exchanges->CreateExchange(who("elu-petr"), exchange),
              IsOk());
  v1::UpdateCohortRequest cohort;
  cohort.mutable_cohort()->set_name(kOccitanie);
  cohort.mutable_cohort()->set_description("suivie");
  cohort.mutable_update_mask()->add_paths("description");
  ASSERT_THAT(services_.cohorts->UpdateCohort(admin_, cohort), IsOk());

  DispatcherOptions options;
  options.poll_interval = absl::ZeroDuration();
  WebhookDispatcher dispatcher(
      store_.get(),
      [this](const Principal& caller, const v1::ListChangesRequest& req) {
        return services_.all->changes.ListChanges(caller, req);
      },
      receiver_.Poster(), options);
  ASSERT_THAT(dispatcher.RunOnce(), IsOk());
  ASSERT_THAT(dispatcher.RunOnce(), IsOk());  // nothing more

  absl::StatusOr<Principal> token = As(token_secret_);
  ASSERT_THAT(token, IsOk());
  v1::ListChangesRequest list;
  list.set_since(w.webhook().cursor());
  absl::StatusOr<v1::ListChangesResponse> feed =
      services_.all->changes.ListChanges(*token, list);
  ASSERT_THAT(feed, IsOk());
  ASSERT_GE(feed->events_size(), 2);
  ASSERT_EQ(receiver_.posts.size(), static_cast<size_t>(feed->events_size()));
  for (int i = 0; i < feed->events_size(); ++i) {
    const HttpPost& p = receiver_.posts[i];
    EXPECT_FALSE(absl::StrContains(p.body, "WEBHOOKMARK")) << p.body;
    EXPECT_FALSE(absl::StrContains(p.body, "groups/elus")) << p.body;
    v1::ChangeEvent event;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(p.body, &event).ok());
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
        event, feed->events(i)))
        << event.DebugString() << " vs " << feed->events(i).DebugString();
  }
  EXPECT_EQ(feed->events(0).resource_name(),
            "cohorts/occitanie/territories/vallee");
}

TEST_F(WebhookTest, RevokedTokenPausesIt) {
  v1::WebhookSecret w = Create();
  feed_.Add(Writes(1)[0], kOccitanie);
  v1::RevokeTokenRequest revoke;
  revoke.set_name(token_);
  ASSERT_THAT(services_.tokens->RevokeToken(admin_, revoke), IsOk());
  auto dispatcher = Dispatcher();
  ASSERT_THAT(dispatcher->RunOnce(), IsOk());
  EXPECT_TRUE(receiver_.posts.empty());
  EXPECT_EQ(Get(w.webhook().name()).state(), v1::Webhook::PAUSED);
}

TEST_F(WebhookTest, RefusedCursorPausesIt) {
  v1::WebhookSecret w = Create();
  feed_.Add(Writes(1)[0], kOccitanie);
  feed_.error = absl::FailedPreconditionError("cursor of another epoch");
  auto dispatcher = Dispatcher();
  ASSERT_THAT(dispatcher->RunOnce(), IsOk());
  const v1::Webhook hook = Get(w.webhook().name());
  EXPECT_EQ(hook.state(), v1::Webhook::PAUSED);
  EXPECT_TRUE(absl::StrContains(hook.pause_reason(), "another epoch"));
}

}  // namespace
}  // namespace cohorte::service
