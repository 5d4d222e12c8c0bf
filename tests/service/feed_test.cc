// The change feed's semantics at the service layer: what each caller's feed
// holds (through the read gate, as the resource is now), tombstones for
// lost access, cursors and their errors, paging, retention, and the Watch
// hub's live delivery and bound on a watcher that does not read.
#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/service/core/errors.h"
#include "server/service/feed/change_service.h"
#include "server/service/feed/watch_hub.h"
#include "tests/service/access_fixture.h"

namespace cohorte::service {
namespace {

using ::cohorte::testing::InvalidFieldIs;
using ::cohorte::testing::IsOk;
using ::cohorte::testing::StatusIs;

constexpr char kSecret[] = "SECRET-DU-CLUB-41";

class FeedTest : public AccessFixture {
 protected:
  ChangeService& feed() { return services_.all->changes; }

  // Every event of `who`'s feed after `since`, paging `page_size` at a time.
  std::vector<v1::ChangeEvent> Feed(const Principal& who,
                                    const std::string& since = "",
                                    int page_size = 1000,
                                    std::string* cursor = nullptr) {
    std::vector<v1::ChangeEvent> out;
    v1::ListChangesRequest req;
    req.set_since(since);
    req.set_page_size(page_size);
    for (int i = 0; i < 10000; ++i) {
      absl::StatusOr<v1::ListChangesResponse> page =
          feed().ListChanges(who, req);
      EXPECT_THAT(page, IsOk());
      if (!page.ok()) break;
      for (const v1::ChangeEvent& e : page->events()) out.push_back(e);
      req.set_since(page->cursor().token());
      if (page->caught_up()) break;
    }
    if (cursor != nullptr) *cursor = req.since();
    return out;
  }

  std::string Head() { return feed().CursorAt(store_->revision()).token(); }

  static bool Mentions(const std::vector<v1::ChangeEvent>& events,
                       absl::string_view text) {
    for (const v1::ChangeEvent& e : events) {
      if (absl::StrContains(e.SerializeAsString(), text)) return true;
    }
    return false;
  }

  static const v1::ChangeEvent* Find(const std::vector<v1::ChangeEvent>& events,
                                     absl::string_view name,
                                     v1::ChangeEvent::Type type) {
    for (const v1::ChangeEvent& e : events) {
      if (e.resource_name() == name && e.type() == type) return &e;
    }
    return nullptr;
  }

  // A new exchange of `author` in `group` whose title and first message
  // say `marker`; its name, or "" (and a failure) if refused.
  std::string Post(const std::string& group, const std::string& author,
                   absl::string_view marker = kSecret) {
    v1::CreateExchangeRequest req;
    req.set_parent(group);
    req.mutable_exchange()->set_title(absl::StrCat("Sujet ", marker));
    req.mutable_exchange()->set_kind(v1::Exchange::CALL_FOR_HELP);
    req.set_first_message(absl::StrCat("Message ", marker));
    absl::StatusOr<v1::Exchange> x =
        services_.exchanges->CreateExchange(who(author), req);
    EXPECT_THAT(x, IsOk());
    return x.ok() ? x->name() : "";
  }

  // Who reads `group` now, as its member elu-petr is told
  // (ListGroupMembers).
  std::vector<std::string> Readers(const std::string& group) {
    v1::ListGroupMembersRequest req;
    req.set_name(group);
    absl::StatusOr<v1::ListGroupMembersResponse> listed =
        services_.groups->ListGroupMembers(who("elu-petr"), req);
    EXPECT_THAT(listed, IsOk());
    if (!listed.ok()) return {};
    return {listed->members().begin(), listed->members().end()};
  }

  // `group` as its member elu-petr gets it (GetGroup: its lists).
  v1::PeerGroup GroupAsElu(const std::string& group) {
    v1::GetGroupRequest req;
    req.set_name(group);
    absl::StatusOr<v1::PeerGroup> got =
        services_.groups->GetGroup(who("elu-petr"), req);
    EXPECT_THAT(got, IsOk());
    return got.ok() ? *got : v1::PeerGroup();
  }

  // Moves `member`'s delegation to another cohort's territory: they leave
  // occitanie's college groups.
  void MoveElsewhere(const std::string& member) {
    v1::UpdateMemberRequest move;
    move.mutable_member()->set_name(member);
    move.mutable_member()->add_delegations(kAilleurs);
    move.mutable_update_mask()->add_paths("delegations");
    ASSERT_THAT(services_.members->UpdateMember(admin_, move), IsOk());
  }
};

TEST_F(FeedTest, MembersSeeTheGroupsChangesOutsidersNothingALeaverLosesAccess) {
  const std::string club =
      CreateClub({"members/elu-petr", "members/agent-petr"});
  const std::string start = Head();
  const std::string exchange = Post(club, "elu-petr");

  const std::vector<v1::ChangeEvent> agent = Feed(who("agent-petr"), start);
  const v1::ChangeEvent* created =
      Find(agent, exchange, v1::ChangeEvent::CREATED);
  ASSERT_NE(created, nullptr);
  EXPECT_EQ(created->resource_type(), "cohorte.v1.Exchange");
  EXPECT_TRUE(Mentions(agent, kSecret));
  // In revision order, each event's cursor at or before its revision.
  for (size_t i = 1; i < agent.size(); ++i) {
    EXPECT_LE(agent[i - 1].revision(), agent[i].revision());
    EXPECT_LE(agent[i].cursor().revision(), agent[i].revision());
  }

  for (const char* outsider :
       {"elu-coteaux", "coordinator", "ally", "elu-ailleurs"}) {
    const std::vector<v1::ChangeEvent> seen = Feed(who(outsider), start);
    EXPECT_FALSE(Mentions(seen, kSecret)) << outsider;
    EXPECT_FALSE(Mentions(seen, exchange)) << outsider;
  }
  EXPECT_FALSE(Mentions(Feed(admin_, start), kSecret));

  // The agent leaves the club: an ACCESS_LOST tombstone, and replaying
  // from before shows none of the content any more.
  const std::string before_leaving = Head();
  v1::SetGroupMembersRequest leave;
  leave.set_name(club);
  leave.add_remove_members("members/agent-petr");
  ASSERT_THAT(services_.groups->SetGroupMembers(who("coordinator"), leave),
              IsOk());
  const std::vector<v1::ChangeEvent> after =
      Feed(who("agent-petr"), before_leaving);
  const v1::ChangeEvent* lost = Find(after, club, v1::ChangeEvent::DELETED);
  ASSERT_NE(lost, nullptr);
  EXPECT_EQ(lost->reason(), v1::ChangeEvent::ACCESS_LOST);
  EXPECT_FALSE(Mentions(Feed(who("agent-petr"), start), kSecret));
  // The élu still reads it all.
  EXPECT_TRUE(Mentions(Feed(who("elu-petr"), start), kSecret));
}

// A member named in a club who leaves the cohort (their delegation moves to
// another cohort's territory), and an ally facilitating it who stops serving
// the cohort, read none of it from then on: not its messages, not a post,
// not in the feed; the group's members see who reads it now. The club
// itself does not change when they leave (its lists still name them): a
// change to it at the revision of their member change would tell the
// cohort who was in it.
TEST_F(FeedTest, WhoLeavesTheCohortLosesItsNamedGroupsAtOnce) {
  const std::string club =
      CreateClub({"members/elu-petr", "members/agent-petr"});
  v1::SetGroupMembersRequest facilitate;
  facilitate.set_name(club);
  facilitate.add_add_facilitators("members/ally");
  ASSERT_THAT(services_.groups->SetGroupMembers(who("coordinator"), facilitate),
              IsOk());
  const std::string start = Head();
  const std::string exchange = Post(club, "elu-petr");
  ASSERT_TRUE(Mentions(Feed(who("agent-petr"), start), kSecret));
  ASSERT_TRUE(Mentions(Feed(who("ally"), start), kSecret));

  const std::string before_leaving = Head();
  ASSERT_NO_FATAL_FAILURE(MoveElsewhere("members/agent-petr"));
  v1::UpdateMemberRequest reassign;
  reassign.mutable_member()->set_name("members/ally");
  reassign.mutable_member()->add_cohorts(kAutre);
  reassign.mutable_update_mask()->add_paths("cohorts");
  ASSERT_THAT(services_.members->UpdateMember(admin_, reassign), IsOk());

  // As they authenticate now.
  auto now = [&](const std::string& id) {
    v1::GetMemberRequest get;
    get.set_name(absl::StrCat("members/", id));
    absl::StatusOr<v1::Member> m = services_.members->GetMember(admin_, get);
    EXPECT_THAT(m, IsOk());
    return m.ok() ? Principal::FromMember(*m, "tokens/test") : Principal();
  };
  v1::ListMessagesRequest list;
  list.set_parent(exchange);
  for (const char* id : {"agent-petr", "ally"}) {
    const Principal now_id = now(id);
    EXPECT_THAT(services_.exchanges->ListMessages(now_id, list),
                StatusIs(absl::StatusCode::kPermissionDenied))
        << id;
    v1::PostMessageRequest post;
    post.set_parent(exchange);
    post.mutable_message()->set_body("encore là ?");
    EXPECT_THAT(services_.exchanges->PostMessage(now_id, post),
                StatusIs(absl::StatusCode::kPermissionDenied))
        << id;
    EXPECT_FALSE(Mentions(Feed(now_id, start), kSecret)) << id;
  }

  // The lists still name them; who reads the group is its members now.
  const v1::PeerGroup group = GroupAsElu(club);
  EXPECT_THAT(group.members(), ::testing::UnorderedElementsAre(
                                   "members/elu-petr", "members/agent-petr"));
  EXPECT_THAT(group.facilitators(), ::testing::ElementsAre("members/ally"));
  EXPECT_THAT(Readers(club), ::testing::ElementsAre("members/elu-petr"));
  // Nothing about the club changed when they left.
  EXPECT_EQ(Find(Feed(who("elu-petr"), before_leaving), club,
                 v1::ChangeEvent::UPDATED),
            nullptr);
  // The one who stays still reads it all.
  EXPECT_TRUE(Mentions(Feed(who("elu-petr"), start), kSecret));
}

// A facilitator of a college group who leaves that college reads it no
// more and is no longer listed as a reader (the group's own lists are left
// as they were, so that the group does not change when they leave).
TEST_F(FeedTest, AFacilitatorWhoLeavesTheCollegeIsNoLongerOne) {
  const std::string elus = "cohorts/occitanie/groups/elus";
  v1::SetGroupMembersRequest facilitate;
  facilitate.set_name(elus);
  facilitate.add_add_facilitators("members/elu-coteaux");
  ASSERT_THAT(services_.groups->SetGroupMembers(who("coordinator"), facilitate),
              IsOk());
  v1::UpdateMemberRequest change;
  change.mutable_member()->set_name("members/elu-coteaux");
  change.mutable_member()->set_college(v1::AGENT);
  change.mutable_update_mask()->add_paths("college");
  ASSERT_THAT(services_.members->UpdateMember(admin_, change), IsOk());

  EXPECT_THAT(GroupAsElu(elus).facilitators(),
              ::testing::ElementsAre("members/elu-coteaux"));
  EXPECT_THAT(Readers(elus), ::testing::ElementsAre("members/elu-petr"));
}

// A message's name is numbered from its exchange's count and written
// without reading whether it exists (Txn::PutNewEntity): its event must
// still say CREATED, and its exchange's, which the post rewrites, UPDATED.
TEST_F(FeedTest, APostedMessageIsCreatedAndItsExchangeUpdated) {
  const std::string club =
      CreateClub({"members/elu-petr", "members/agent-petr"});
  const std::string exchange = Post(club, "elu-petr");
  const std::string start = Head();
  v1::PostMessageRequest post;
  post.set_parent(exchange);
  post.mutable_message()->set_body("Deuxième message");
  absl::StatusOr<v1::Message> m =
      services_.exchanges->PostMessage(who("agent-petr"), post);
  ASSERT_THAT(m, IsOk());

  for (const char* member : {"elu-petr", "agent-petr"}) {
    const std::vector<v1::ChangeEvent> seen = Feed(who(member), start);
    EXPECT_NE(Find(seen, m->name(), v1::ChangeEvent::CREATED), nullptr)
        << member;
    EXPECT_EQ(Find(seen, m->name(), v1::ChangeEvent::UPDATED), nullptr)
        << member;
    EXPECT_NE(Find(seen, exchange, v1::ChangeEvent::UPDATED), nullptr)
        << member;
  }
  EXPECT_FALSE(Mentions(Feed(who("elu-coteaux"), start), m->name()));
}

TEST_F(FeedTest, ALoweredVisibilityIsADeletionForWhoCouldReadIt) {
  v1::CreateReportRequest req;
  req.set_parent(kOccitanie);
  req.set_report_id("rex");
  req.mutable_report()->set_title("REX");
  req.mutable_report()->set_territory(kPetr);
  req.mutable_report()->set_visibility(v1::COHORT);
  ASSERT_THAT(services_.reports->CreateReport(who("elu-petr"), req), IsOk());
  v1::PublishReportRequest publish;
  publish.set_name("cohorts/occitanie/reports/rex");
  ASSERT_THAT(services_.reports->PublishReport(who("elu-petr"), publish),
              IsOk());
  const std::string published = Head();
  EXPECT_NE(
      Find(Feed(who("coordinator")), publish.name(), v1::ChangeEvent::CREATED),
      nullptr);

  v1::UpdateReportRequest lower;
  lower.mutable_report()->set_name(publish.name());
  lower.mutable_report()->set_visibility(v1::GROUP);
  lower.mutable_report()->set_group("cohorts/occitanie/groups/elus");
  lower.mutable_update_mask()->add_paths("visibility");
  lower.mutable_update_mask()->add_paths("group");
  ASSERT_THAT(services_.reports->UpdateReport(who("elu-petr"), lower), IsOk());

  const std::vector<v1::ChangeEvent> coordinator =
      Feed(who("coordinator"), published);
  const v1::ChangeEvent* gone =
      Find(coordinator, publish.name(), v1::ChangeEvent::DELETED);
  ASSERT_NE(gone, nullptr);
  EXPECT_EQ(gone->reason(), v1::ChangeEvent::NO_LONGER_VISIBLE);
  EXPECT_FALSE(gone->has_resource());
  // Whoever never could read it learns nothing.
  EXPECT_FALSE(Mentions(Feed(who("elu-ailleurs")), publish.name()));
  // The élus read it, updated.
  EXPECT_NE(Find(Feed(who("elu-coteaux"), published), publish.name(),
                 v1::ChangeEvent::UPDATED),
            nullptr);
}

TEST_F(FeedTest, PagesAreGapFreeAndEndAtRevisionBoundaries) {
  CreateClub({"members/elu-petr"});
  const std::string start = Head();
  for (int i = 0; i < 5; ++i) Post("cohorts/occitanie/groups/club", "elu-petr");
  const std::vector<v1::ChangeEvent> whole = Feed(who("elu-petr"), start);
  ASSERT_GE(whole.size(), 10u);
  for (int size : {1, 3, 7}) {
    const std::vector<v1::ChangeEvent> paged =
        Feed(who("elu-petr"), start, size);
    ASSERT_EQ(paged.size(), whole.size()) << size;
    for (size_t i = 0; i < whole.size(); ++i) {
      EXPECT_EQ(paged[i].SerializeAsString(), whole[i].SerializeAsString());
    }
  }
  // Resuming from any event's cursor never skips an event: what follows
  // is a suffix of the whole, at least as long as what came after it.
  for (size_t i = 0; i < whole.size(); ++i) {
    const std::vector<v1::ChangeEvent> rest =
        Feed(who("elu-petr"), whole[i].cursor().token());
    ASSERT_GE(rest.size(), whole.size() - i - 1) << i;
    for (size_t j = 0; j < rest.size(); ++j) {
      EXPECT_EQ(rest[rest.size() - 1 - j].SerializeAsString(),
                whole[whole.size() - 1 - j].SerializeAsString());
    }
  }
}

TEST_F(FeedTest, CursorErrorsSayWhatToDo) {
  v1::ListChangesRequest req;
  for (const char* bad :
       {"x", "1.2.3", "0123.1.5", "0123456789abcdef0123456789abcdef.1.-4",
        "0123456789abcdef0123456789ABCDEF.1.4"}) {
    req.set_since(bad);
    EXPECT_THAT(feed().ListChanges(who("elu-petr"), req),
                InvalidFieldIs("since"))
        << bad;
  }
  req.set_since(absl::StrCat(std::string(32, 'a'), ".1.0"));
  absl::StatusOr<v1::ListChangesResponse> other =
      feed().ListChanges(who("elu-petr"), req);
  EXPECT_THAT(other, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ErrorReason(other.status()), kReasonCursorInstance);

  req.set_since(
      absl::StrCat(store_->instance_id(), ".", store_->epoch() + 1, ".0"));
  absl::StatusOr<v1::ListChangesResponse> epoch =
      feed().ListChanges(who("elu-petr"), req);
  EXPECT_THAT(epoch, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ErrorReason(epoch.status()), kReasonCursorEpoch);

  req.set_since(feed().CursorAt(store_->revision() + 1).token());
  EXPECT_THAT(feed().ListChanges(who("elu-petr"), req),
              InvalidFieldIs("since"));
  req.set_since("");
  req.set_page_size(-1);
  EXPECT_THAT(feed().ListChanges(who("elu-petr"), req),
              InvalidFieldIs("page_size"));
  req.set_page_size(0);
  req.mutable_filter()->add_resource_types("Nope");
  EXPECT_THAT(feed().ListChanges(who("elu-petr"), req),
              InvalidFieldIs("filter.resource_types[0]"));
}

TEST_F(FeedTest, RetentionCompactsAndAnOldCursorIsOutOfRange) {
  const std::string old = feed().CursorAt(0).token();
  const int64_t head = store_->revision();
  ASSERT_GT(head, 10);
  FeedOptions options;
  options.retention_age = absl::ZeroDuration();
  options.retention_count = 5;
  ChangeService compacting(store_.get(), options);
  ASSERT_THAT(compacting.Compact(absl::Now()), IsOk());
  EXPECT_EQ(store_->first_change_revision(), head - 4);

  v1::ListChangesRequest req;
  req.set_since(old);
  absl::StatusOr<v1::ListChangesResponse> r = feed().ListChanges(admin_, req);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_EQ(ErrorReason(r.status()), kReasonChangesCompacted);
  EXPECT_EQ(ErrorMetadata(r.status(), "compacted_through"),
            absl::StrCat(head - 5));
  // From the start (empty cursor): what is left, nothing older.
  for (const v1::ChangeEvent& e : Feed(admin_)) {
    EXPECT_GE(e.revision(), head - 4);
  }
  // By age: everything older than now, except the last record.
  options.retention_count = 0;
  options.retention_age = absl::Nanoseconds(1);
  ChangeService by_age(store_.get(), options);
  ASSERT_THAT(by_age.Compact(absl::Now() + absl::Seconds(1)), IsOk());
  EXPECT_EQ(store_->first_change_revision(), head);
  // The store still opens (the last record agrees with the counter).
}

// A Watch sink that records what it gets; acknowledges writes unless told.
class RecordingSink : public WatchHub::Sink {
 public:
  explicit RecordingSink(WatchHub* hub, bool reads = true)
      : hub_(hub), reads_(reads) {}
  void Bind(int64_t id) override { id_ = id; }
  void Send(const v1::WatchResponse* r) override {
    {
      absl::MutexLock lock(&mu_);
      responses_.push_back(*r);
      cv_.SignalAll();
    }
    if (reads_) hub_->WriteDone(id_, true);
  }
  void Finish(const absl::Status& status) override {
    absl::MutexLock lock(&mu_);
    finished_ = true;
    status_ = status;
    cv_.SignalAll();
  }
  // Waits (10 s at most) until `done` holds.
  bool WaitFor(const std::function<bool(const std::vector<v1::WatchResponse>&,
                                        bool finished)>& done) {
    absl::MutexLock lock(&mu_);
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!done(responses_, finished_)) {
      if (cv_.WaitWithDeadline(&mu_, deadline)) {
        return done(responses_, finished_);
      }
    }
    return true;
  }
  // Whether an event (revision, name, type) came twice.
  bool AnyTwice() {
    absl::MutexLock lock(&mu_);
    std::set<std::string> seen;
    for (const v1::WatchResponse& r : responses_) {
      for (const v1::ChangeEvent& e : r.events()) {
        if (!seen.insert(absl::StrCat(e.revision(), " ", e.resource_name(), " ",
                                      e.type()))
                 .second) {
          return true;
        }
      }
    }
    return false;
  }
  bool Mentions(absl::string_view text) {
    absl::MutexLock lock(&mu_);
    for (const v1::WatchResponse& r : responses_) {
      if (absl::StrContains(r.SerializeAsString(), text)) return true;
    }
    return false;
  }
  absl::Status status() {
    absl::MutexLock lock(&mu_);
    return status_;
  }
  std::vector<v1::WatchResponse> responses() {
    absl::MutexLock lock(&mu_);
    return responses_;
  }
  int64_t id() const { return id_; }

 private:
  WatchHub* hub_;
  const bool reads_;
  int64_t id_ = 0;
  absl::Mutex mu_;
  absl::CondVar cv_;
  std::vector<v1::WatchResponse> responses_;
  bool finished_ = false;
  absl::Status status_;
};

TEST_F(FeedTest, WatchDeliversLiveAndEndsAWatcherThatDoesNotRead) {
  WatchOptions options;
  options.progress_interval = absl::Milliseconds(50);
  options.max_lag = 20;
  WatchHub hub(&feed(), options);
  hub.Start();
  CreateClub({"members/elu-petr"});
  RecordingSink reader(&hub), outsider(&hub), stalled(&hub, /*reads=*/false);
  ASSERT_THAT(hub.Add(who("elu-petr"), {}, &reader), IsOk());
  ASSERT_THAT(hub.Add(who("elu-coteaux"), {}, &outsider), IsOk());
  ASSERT_THAT(hub.Add(who("elu-petr"), {}, &stalled), IsOk());

  const std::string exchange =
      Post("cohorts/occitanie/groups/club", "elu-petr");
  EXPECT_TRUE(reader.WaitFor([&](const auto& responses, bool) {
    for (const v1::WatchResponse& r : responses) {
      for (const v1::ChangeEvent& e : r.events()) {
        if (e.resource_name() == exchange) return true;
      }
    }
    return false;
  }));
  // The outsider's stream moves (progress) but never names it.
  const int64_t head = store_->revision();
  EXPECT_TRUE(outsider.WaitFor([&](const auto& responses, bool) {
    return !responses.empty() && responses.back().cursor().revision() >= head;
  }));
  EXPECT_FALSE(reader.AnyTwice());
  EXPECT_FALSE(outsider.Mentions(exchange));
  EXPECT_FALSE(outsider.Mentions(kSecret));
  EXPECT_TRUE(reader.Mentions(kSecret));

  // The stalled watcher never acknowledges its first write: once the
  // instance is max_lag revisions further, it ends with its cursor.
  for (int i = 0; i < 30; ++i)
    Post("cohorts/occitanie/groups/club", "elu-petr");
  EXPECT_TRUE(
      stalled.WaitFor([](const auto&, bool finished) { return finished; }));
  EXPECT_THAT(stalled.status(), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_FALSE(ErrorMetadata(stalled.status(), "cursor").empty());
  EXPECT_EQ(hub.watchers(), 3);  // its response is still out
  hub.WriteDone(stalled.id(), false);
  EXPECT_EQ(hub.watchers(), 2);
  // Writers never waited for it; the readers go on, each event once.
  EXPECT_TRUE(reader.status().ok());
  EXPECT_TRUE(reader.WaitFor([&](const auto& responses, bool) {
    return !responses.empty() &&
           responses.back().cursor().revision() >= store_->revision();
  }));
  EXPECT_FALSE(reader.AnyTwice());
  hub.Shutdown();
  EXPECT_THAT(reader.status(), StatusIs(absl::StatusCode::kUnavailable));
}

// The hub reads no log while nobody watches: a watcher that comes after a
// quiet spell (the ring filled for an earlier watcher, then left stale)
// still gets every change since its cursor, once each, and an outsider
// none of them.
TEST_F(FeedTest, AWatcherAfterAQuietSpellGetsTheWholeBacklogOnce) {
  WatchOptions options;
  options.progress_interval = absl::Milliseconds(50);
  WatchHub hub(&feed(), options);
  hub.Start();
  const std::string club = CreateClub({"members/elu-petr"});
  const std::string start = Head();
  std::set<std::string> exchanges;
  {
    RecordingSink early(&hub);
    absl::StatusOr<int64_t> id = hub.Add(who("elu-petr"), {}, &early);
    ASSERT_THAT(id, IsOk());
    exchanges.insert(Post(club, "elu-petr"));
    const int64_t head = store_->revision();
    EXPECT_TRUE(early.WaitFor([&](const auto& responses, bool) {
      return !responses.empty() && responses.back().cursor().revision() >= head;
    }));
    hub.Cancel(*id);
    EXPECT_TRUE(
        early.WaitFor([](const auto&, bool finished) { return finished; }));
  }
  // Nobody watches: these are never read into the ring.
  for (int i = 0; i < 5; ++i) exchanges.insert(Post(club, "elu-petr"));
  EXPECT_EQ(hub.watchers(), 0);
  // The hub's tick passes them by.
  EXPECT_TRUE(hub.WaitForHubThrough(store_->revision(),
                                    absl::Now() + absl::Seconds(10)));

  RecordingSink reader(&hub), outsider(&hub);
  v1::WatchRequest from_start;
  from_start.set_since(start);
  ASSERT_THAT(hub.Add(who("elu-petr"), from_start, &reader), IsOk());
  ASSERT_THAT(hub.Add(who("elu-coteaux"), from_start, &outsider), IsOk());
  exchanges.insert(Post(club, "elu-petr"));  // and one live
  const int64_t head = store_->revision();
  for (RecordingSink* sink : {&reader, &outsider}) {
    EXPECT_TRUE(sink->WaitFor([&](const auto& responses, bool) {
      return !responses.empty() && responses.back().cursor().revision() >= head;
    }));
  }
  std::set<std::string> created;
  for (const v1::WatchResponse& r : reader.responses()) {
    for (const v1::ChangeEvent& e : r.events()) {
      if (e.type() == v1::ChangeEvent::CREATED &&
          absl::StrContains(e.resource_name(), "/exchanges/") &&
          !absl::StrContains(e.resource_name(), "/messages/")) {
        created.insert(e.resource_name());
      }
    }
  }
  EXPECT_EQ(created, exchanges);
  EXPECT_FALSE(reader.AnyTwice());
  EXPECT_FALSE(outsider.Mentions(kSecret));
  hub.Shutdown();
}

// A page of the feed is presented with the caller's rights as they are
// when the page is read, never with those of an authentication that came
// before a change: the élue of coteaux, authenticated while in the élus
// group, then moved to another cohort, does not get what the group says
// after the move (the principal is read again after the page's bound).
TEST_F(FeedTest, APageIsPresentedWithRightsNoOlderThanItsChanges) {
  const std::string elus = "cohorts/occitanie/groups/elus";
  const std::string start = Head();
  const Principal authenticated_before = who("elu-coteaux");
  const std::string before = Post(elus, "elu-petr");
  ASSERT_NO_FATAL_FAILURE(MoveElsewhere("members/elu-coteaux"));
  constexpr char kAfter[] = "APRES-LE-DEPART-78";
  ASSERT_FALSE(Post(elus, "elu-petr", kAfter).empty());

  const std::vector<v1::ChangeEvent> got = Feed(authenticated_before, start);
  EXPECT_FALSE(Mentions(got, kAfter));
  // Nor what was said before the move: rights are the current ones.
  EXPECT_EQ(Find(got, before, v1::ChangeEvent::CREATED), nullptr);
  // A member who stays reads both.
  const std::vector<v1::ChangeEvent> stays = Feed(who("elu-petr"), start);
  EXPECT_TRUE(Mentions(stays, kAfter));
  EXPECT_NE(Find(stays, before, v1::ChangeEvent::CREATED), nullptr);
}

// Whether `responses` hold an event of `name` of `type` (and `reason`).
bool Delivered(
    const std::vector<v1::WatchResponse>& responses, absl::string_view name,
    v1::ChangeEvent::Type type,
    v1::ChangeEvent::Reason reason = v1::ChangeEvent::REASON_UNSPECIFIED) {
  for (const v1::WatchResponse& r : responses) {
    for (const v1::ChangeEvent& e : r.events()) {
      if (e.resource_name() == name && e.type() == type &&
          (reason == v1::ChangeEvent::REASON_UNSPECIFIED ||
           e.reason() == reason)) {
        return true;
      }
    }
  }
  return false;
}

// A member of the élus college group of occitanie watches the feed; their
// delegation moves to another cohort while they watch, which takes them out
// of the college group. The next events tell them ACCESS_LOST for the
// group, and nothing the group says afterwards reaches them, though their
// stream goes on (progress past it).
TEST_F(FeedTest, AMemberLeavingTheCollegeMidWatchLosesTheGroupAtOnce) {
  WatchOptions options;
  options.progress_interval = absl::Milliseconds(50);
  WatchHub hub(&feed(), options);
  hub.Start();
  const std::string elus = "cohorts/occitanie/groups/elus";
  RecordingSink leaver(&hub), stays(&hub);
  ASSERT_THAT(hub.Add(who("elu-coteaux"), {}, &leaver), IsOk());
  ASSERT_THAT(hub.Add(who("elu-petr"), {}, &stays), IsOk());
  const std::string before = Post(elus, "elu-petr");
  ASSERT_TRUE(leaver.WaitFor([&](const auto& responses, bool) {
    return Delivered(responses, before, v1::ChangeEvent::CREATED);
  })) << "the élu of coteaux, in the élus group, never got "
      << before;
  ASSERT_TRUE(leaver.Mentions(kSecret));

  // The move is the next revision (her announcement to the college she
  // joins is delivered after it, in revisions of its own).
  const int64_t moved_at = store_->revision() + 1;
  ASSERT_NO_FATAL_FAILURE(MoveElsewhere("members/elu-coteaux"));
  // What the group says from now on, marked apart from what came before.
  constexpr char kAfter[] = "APRES-LE-DEPART-77";
  const std::string after = Post(elus, "elu-petr", kAfter);
  ASSERT_FALSE(after.empty());
  const int64_t head = store_->revision();

  EXPECT_TRUE(leaver.WaitFor([&](const auto& responses, bool finished) {
    return finished ||
           (!responses.empty() && responses.back().cursor().revision() >= head);
  })) << "the leaver's stream did not reach revision "
      << head;
  EXPECT_TRUE(leaver.status().ok()) << leaver.status();
  const std::vector<v1::WatchResponse> got = leaver.responses();
  // The tombstone comes with the move, before anything said after it.
  int64_t lost_at = -1;
  for (const v1::WatchResponse& r : got) {
    for (const v1::ChangeEvent& e : r.events()) {
      if (e.resource_name() == elus && e.type() == v1::ChangeEvent::DELETED &&
          e.reason() == v1::ChangeEvent::ACCESS_LOST && lost_at < 0) {
        lost_at = e.revision();
      }
    }
  }
  EXPECT_EQ(lost_at, moved_at)
      << "no ACCESS_LOST tombstone of " << elus << " at the move's revision";
  EXPECT_FALSE(Delivered(got, after, v1::ChangeEvent::CREATED));
  EXPECT_FALSE(leaver.Mentions(kAfter));
  EXPECT_FALSE(leaver.Mentions(after));
  // A member who stays reads it.
  EXPECT_TRUE(stays.WaitFor([&](const auto& responses, bool) {
    return Delivered(responses, after, v1::ChangeEvent::CREATED);
  }));
  EXPECT_TRUE(stays.Mentions(kAfter));
  hub.Shutdown();
}

// A token revoked while it watches: at the next re-check of its rights the
// watch ends with UNAUTHENTICATED, and nothing committed after the
// revocation reaches it.
TEST_F(FeedTest, ATokenRevokedMidWatchEndsTheWatchUnauthenticated) {
  WatchOptions options;
  options.progress_interval = absl::Milliseconds(50);
  WatchHub hub(&feed(), options);
  hub.Start();
  const std::string elus = "cohorts/occitanie/groups/elus";
  v1::CreateTokenRequest create;
  create.set_parent("members/elu-coteaux");
  absl::StatusOr<v1::CreateTokenResponse> token =
      services_.members->CreateToken(admin_, create);
  ASSERT_THAT(token, IsOk());
  absl::StatusOr<Principal> caller = As(token->secret());
  ASSERT_THAT(caller, IsOk());
  RecordingSink watcher(&hub);
  ASSERT_THAT(hub.Add(*caller, {}, &watcher), IsOk());
  const std::string before = Post(elus, "elu-petr");
  ASSERT_TRUE(watcher.WaitFor([&](const auto& responses, bool) {
    return Delivered(responses, before, v1::ChangeEvent::CREATED);
  })) << "the token's holder, in the élus group, never got "
      << before;

  v1::RevokeTokenRequest revoke;
  revoke.set_name(token->name());
  ASSERT_THAT(services_.tokens->RevokeToken(admin_, revoke), IsOk());
  const std::string after = Post(elus, "elu-petr");

  EXPECT_TRUE(watcher.WaitFor([](const auto&, bool finished) {
    return finished;
  })) << "the watch of a revoked token did not end";
  EXPECT_THAT(watcher.status(), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_EQ(ErrorReason(watcher.status()), kReasonTokenInvalid);
  EXPECT_FALSE(watcher.Mentions(after));
  hub.Shutdown();
}

}  // namespace
}  // namespace cohorte::service
