// The read gate and the rules of issue 8, each as a test that failed before:
// a write's response is a read (a coordinator outside a closed group cannot
// archive, nor see, its report), a draft's existence does not leak, a
// closed group's moderation shows nothing in the audit log, whoever starts
// reading a closed group is announced to it, write checks are atomic with
// the write (a member removed in the same commit window cannot post), and
// ids and etags reveal nothing about other resources.

#include <atomic>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/access/commit.h"
#include "server/service/access/reader.h"
#include "server/service/core/errors.h"
#include "storage/entity_types.h"
#include "tests/service/access_fixture.h"
#include "tests/testing/raw_access.h"

namespace cohorte::service {
namespace {

using ::cohorte::testing::InvalidFieldIs;
using ::cohorte::testing::IsOk;
using ::cohorte::testing::StatusIs;
using google::protobuf::util::TimeUtil;

constexpr char kElus[] = "cohorts/occitanie/groups/elus";
constexpr char kMarker[] = "MARQUEUR-ELUS-7f3a";

class GateTest : public AccessFixture {
 protected:
  // A published report of the élus group, every text field marked.
  std::string PublishElusReport(const std::string& id, bool publish = true) {
    v1::CreateReportRequest req;
    req.set_parent(kOccitanie);
    req.set_report_id(id);
    v1::ExperienceReport* r = req.mutable_report();
    r->set_title(absl::StrCat("Titre ", kMarker));
    r->set_context(absl::StrCat("Contexte ", kMarker));
    r->set_what_failed(absl::StrCat("Échec ", kMarker));
    r->set_lessons(absl::StrCat("Leçons ", kMarker));
    r->add_themes(absl::StrCat("thème ", kMarker).substr(0, 40));
    r->set_territory(kPetr);
    r->set_visibility(v1::GROUP);
    r->set_group(kElus);
    absl::StatusOr<v1::ExperienceReport> created =
        services_.reports->CreateReport(who("elu-petr"), req);
    EXPECT_THAT(created, IsOk());
    if (!created.ok()) return "";
    if (publish) {
      v1::PublishReportRequest p;
      p.set_name(created->name());
      EXPECT_THAT(services_.reports->PublishReport(who("elu-petr"), p), IsOk());
    }
    return created->name();
  }

  std::vector<v1::InboxItem> Announcements(const std::string& id) {
    std::vector<v1::InboxItem> out;
    absl::StatusOr<v1::ListInboxResponse> r =
        services_.inbox->ListInbox(who(id), {});
    EXPECT_THAT(r, IsOk());
    if (!r.ok()) return out;
    for (const v1::InboxItem& item : r->items()) {
      if (item.kind() == v1::InboxItem::GROUP_READER_ADDED) {
        out.push_back(item);
      }
    }
    return out;
  }
};

// Leak 1: ArchiveReport by the cohort's coordinator, who is not in the
// élus group, on its published GROUP report.
TEST_F(GateTest, ACoordinatorOutsideTheGroupCannotArchiveNorSeeItsReport) {
  const std::string name = PublishElusReport("rex-elus");
  v1::ArchiveReportRequest archive;
  archive.set_name(name);
  absl::StatusOr<v1::ExperienceReport> archived =
      services_.reports->ArchiveReport(who("coordinator"), archive);
  EXPECT_THAT(archived, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_FALSE(absl::StrContains(archived.status().ToString(), kMarker));
  // Nothing changed: the élus still read it published.
  v1::GetReportRequest get;
  get.set_name(name);
  absl::StatusOr<v1::ExperienceReport> seen =
      services_.reports->GetReport(who("elu-petr"), get);
  ASSERT_THAT(seen, IsOk());
  EXPECT_EQ(seen->state(), v1::ExperienceReport::PUBLISHED);
  // The author may archive it.
  EXPECT_THAT(services_.reports->ArchiveReport(who("elu-petr"), archive),
              IsOk());
}

// Leak 3: on someone's draft the answer is the one for an unknown name.
TEST_F(GateTest, ADraftAndAnUnknownNameGetTheSameAnswer) {
  const std::string draft = PublishElusReport("brouillon", /*publish=*/false);
  const std::string unknown = "cohorts/occitanie/reports/inconnu";
  for (const char* id : {"coordinator", "elu-coteaux", "agent-petr"}) {
    v1::ArchiveReportRequest a;
    a.set_name(draft);
    absl::Status on_draft =
        services_.reports->ArchiveReport(who(id), a).status();
    a.set_name(unknown);
    absl::Status on_unknown =
        services_.reports->ArchiveReport(who(id), a).status();
    EXPECT_EQ(on_draft.code(), absl::StatusCode::kPermissionDenied) << id;
    EXPECT_EQ(on_unknown.code(), on_draft.code()) << id;
    EXPECT_EQ(absl::StrReplaceAll(on_draft.message(), {{draft, "X"}}),
              absl::StrReplaceAll(on_unknown.message(), {{unknown, "X"}}))
        << id;
    EXPECT_FALSE(absl::StrContains(on_draft.message(), "DRAFT")) << id;
    v1::PublishReportRequest p;
    p.set_name(draft);
    EXPECT_THAT(services_.reports->PublishReport(who(id), p),
                StatusIs(absl::StatusCode::kPermissionDenied))
        << id;
  }
}

// Leak 2: the hiding of an élus message, with its reason, reaches no audit
// reader outside the group.
TEST_F(GateTest, HidingAnElusMessageShowsNothingInTheAuditLog) {
  v1::SetGroupMembersRequest facilitate;
  facilitate.set_name(kElus);
  facilitate.add_add_facilitators("members/elu-coteaux");
  ASSERT_THAT(services_.groups->SetGroupMembers(admin_, facilitate), IsOk());
  v1::CreateExchangeRequest ex;
  ex.set_parent(kElus);
  ex.mutable_exchange()->set_title("Entre nous");
  ex.mutable_exchange()->set_kind(v1::Exchange::DEBATE);
  ex.set_first_message(absl::StrCat("Message ", kMarker));
  absl::StatusOr<v1::Exchange> e =
      services_.exchanges->CreateExchange(who("elu-petr"), ex);
  ASSERT_THAT(e, IsOk());
  const std::string message = e->name() + "/messages/m000001";
  v1::HideContentRequest hide;
  hide.set_target(message);
  hide.set_reason(absl::StrCat("Raison ", kMarker));
  ASSERT_THAT(services_.moderation->HideContent(who("elu-coteaux"), hide),
              IsOk());
  for (const Principal* reader : {&admin_, &who("coordinator")}) {
    for (const std::string& parent : {std::string(), std::string(kOccitanie)}) {
      if (reader != &admin_ && parent.empty()) continue;
      v1::ListAuditEventsRequest req;
      req.set_parent(parent);
      req.set_page_size(1000);
      absl::StatusOr<v1::ListAuditEventsResponse> events =
          services_.audit->ListAuditEvents(*reader, req);
      ASSERT_THAT(events, IsOk());
      const std::string text = events->DebugString();
      EXPECT_FALSE(absl::StrContains(text, kMarker)) << reader->member;
      EXPECT_FALSE(absl::StrContains(text, message)) << reader->member;
      EXPECT_FALSE(absl::StrContains(text, "HideContent")) << reader->member;
    }
  }
}

// Leak 4: a coordinator cannot make herself (or an agent) read the élus
// college group, and whoever starts reading a club is announced to it.
TEST_F(GateTest, NobodyReadsAClosedGroupWithoutTheGroupSeeingIt) {
  for (const char* outsider : {"members/coordinator", "members/agent-petr"}) {
    v1::SetGroupMembersRequest req;
    req.set_name(kElus);
    req.add_add_facilitators(outsider);
    EXPECT_THAT(services_.groups->SetGroupMembers(who("coordinator"), req),
                InvalidFieldIs("add_facilitators"))
        << outsider;
  }
  const std::string club = CreateClub({"members/agent-petr"});
  EXPECT_TRUE(Announcements("agent-petr").empty());  // a group's founders
  v1::SetGroupMembersRequest join;
  join.set_name(club);
  join.add_add_members("members/coordinator");
  ASSERT_THAT(services_.groups->SetGroupMembers(who("coordinator"), join),
              IsOk());
  std::vector<v1::InboxItem> told = Announcements("agent-petr");
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0].resource(), club);
  EXPECT_EQ(told[0].subject(), "members/coordinator");
  EXPECT_EQ(told[0].actor(), "members/coordinator");
  // And the group's member list, which its members read, shows her.
  v1::ListGroupMembersRequest list;
  list.set_name(club);
  absl::StatusOr<v1::ListGroupMembersResponse> members =
      services_.groups->ListGroupMembers(who("agent-petr"), list);
  ASSERT_THAT(members, IsOk());
  EXPECT_THAT(members->members(), ::testing::Contains("members/coordinator"));
  // Who reads the club is for its members: the agent, once out of it, no
  // longer sees the announcement.
  v1::SetGroupMembersRequest leave;
  leave.set_name(club);
  leave.add_remove_members("members/agent-petr");
  ASSERT_THAT(services_.groups->SetGroupMembers(who("coordinator"), leave),
              IsOk());
  EXPECT_TRUE(Announcements("agent-petr").empty());

  // A member whose delegation brings them into the élus college group is
  // announced to the élus.
  v1::UpdateMemberRequest update;
  update.mutable_member()->set_name("members/elu-ailleurs");
  update.mutable_member()->add_delegations(kCoteaux);
  update.mutable_update_mask()->add_paths("delegations");
  ASSERT_THAT(services_.members->UpdateMember(admin_, update), IsOk());
  bool announced = false;
  for (const v1::InboxItem& item : Announcements("elu-petr")) {
    announced |=
        item.resource() == kElus && item.subject() == "members/elu-ailleurs";
  }
  EXPECT_TRUE(announced);
}

// A member who joins a college group is announced to the college after
// their own commit, by the fan-out's batches (a college spans a cohort):
// never inside the mutation that adds them, where it held every writer.
TEST_F(GateTest,
       AJoiningDelegationMemberIsAnnouncedToTheCollegeAfterTheCommit) {
  const int64_t before = store_->revision();
  AddMember("elu-nouvelle", v1::Member::MEMBER, v1::ELU, kPetr, "");

  absl::StatusOr<std::vector<storage::v1::ChangeRecord>> changes =
      storage::testing::RawAccess::ReadChanges(*store_, before + 1,
                                               /*limit=*/100);
  ASSERT_THAT(changes, IsOk());
  ASSERT_GE(changes->size(), 2u);
  EXPECT_EQ((*changes)[0].method(), "CreateMember");
  for (const storage::v1::Change& c : (*changes)[0].changes()) {
    EXPECT_EQ(c.resource_name().find("/inbox/"), std::string::npos)
        << c.resource_name();
  }
  std::set<std::string> told;
  for (size_t i = 1; i < changes->size(); ++i) {
    EXPECT_EQ((*changes)[i].method(), "DeliverNotifications");
    for (const storage::v1::Change& c : (*changes)[i].changes()) {
      told.insert(
          c.resource_name().substr(0, c.resource_name().find("/inbox/")));
    }
  }
  // The élus of the cohort, and only they: not the newcomer, not an agent,
  // not an élue of another cohort.
  EXPECT_EQ(told,
            (std::set<std::string>{"members/elu-coteaux", "members/elu-petr"}));
  auto about_her = [&](const std::string& id) {
    std::vector<v1::InboxItem> items;
    for (const v1::InboxItem& item : Announcements(id)) {
      if (item.subject() == "members/elu-nouvelle") items.push_back(item);
    }
    return items;
  };
  for (const char* id : {"elu-petr", "elu-coteaux"}) {
    std::vector<v1::InboxItem> items = about_her(id);
    ASSERT_EQ(items.size(), 1u) << id;
    EXPECT_EQ(items[0].resource(), kElus);
    EXPECT_EQ(items[0].actor(), admin_.member);
  }
  EXPECT_TRUE(about_her("elu-nouvelle").empty());
  EXPECT_TRUE(about_her("agent-petr").empty());
  // Nothing is left to deliver.
  const int64_t revision = store_->revision();
  ASSERT_THAT(services_.all->fan_out.DeliverPending(), IsOk());
  EXPECT_EQ(store_->revision(), revision);
}

// A write's response is presented through Reader::AfterWrites
// (access/commit.h), which re-reads the caller's member record only when
// the transaction may have written it: a mutation that moves the caller to
// another college is presented as the caller is after it; one that wrote
// nothing of theirs, as they were.
TEST_F(GateTest, TheReaderAfterAWriteSeesTheCallersMemberAsWritten) {
  const Principal elu = who("elu-petr");
  storage::Mutation m;
  m.actor = elu.member;
  m.method = "Test";
  m.apply = [&](storage::Txn& txn) -> absl::StatusOr<std::string> {
    COHORTE_ASSIGN_OR_RETURN(Reader before, Reader::InTxn(txn, elu));
    COHORTE_ASSIGN_OR_RETURN(Reader unchanged,
                             Reader::AfterWrites(txn, before));
    EXPECT_EQ(unchanged.caller().college, v1::ELU);
    v1::Member member;
    COHORTE_RETURN_IF_ERROR(txn.GetEntity<v1::Member>(elu.member, &member));
    member.set_college(v1::AGENT);
    txn.PutEntity(member);
    COHORTE_ASSIGN_OR_RETURN(Reader after, Reader::AfterWrites(txn, before));
    EXPECT_EQ(after.caller().college, v1::AGENT);
    EXPECT_EQ(after.caller().member, elu.member);
    EXPECT_EQ(before.caller().college, v1::ELU);
    return absl::AbortedError("rolled back on purpose");
  };
  EXPECT_THAT(store_->Commit(std::move(m)),
              StatusIs(absl::StatusCode::kAborted));
  // Rolled back: the member is still an élu.
  EXPECT_EQ(Reader(*store_, admin_).Get<v1::Member>(elu.member)->college(),
            v1::ELU);
}

// The same through CommitForResponse: a write that moves its own caller out
// of the élus college cannot answer them with the élus' report (a read
// after the write), so it is refused and rolls back.
TEST_F(GateTest,
       AWriteThatMovesItsCallerOutOfTheCollegeCannotAnswerWithItsReport) {
  const std::string report = PublishElusReport("apres-l-ecriture");
  ASSERT_FALSE(report.empty());
  const Principal elu = who("elu-petr");
  v1::GetReportRequest get;
  get.set_name(report);
  ASSERT_THAT(services_.reports->GetReport(elu, get), IsOk());
  absl::StatusOr<v1::ExperienceReport> answered =
      CommitForResponse<v1::ExperienceReport>(
          *store_, elu, "Test", get, /*request_id=*/"",
          [&](storage::Txn& txn,
              const Reader& reader) -> absl::StatusOr<v1::ExperienceReport> {
            // Readable before the write.
            COHORTE_ASSIGN_OR_RETURN(v1::ExperienceReport r,
                                     reader.Load<v1::ExperienceReport>(report));
            v1::Member member;
            COHORTE_RETURN_IF_ERROR(
                txn.GetEntity<v1::Member>(elu.member, &member));
            member.set_college(v1::AGENT);
            txn.PutEntity(member);
            return r;
          });
  EXPECT_THAT(answered, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(Reader(*store_, admin_).Get<v1::Member>(elu.member)->college(),
            v1::ELU);
  EXPECT_THAT(services_.reports->GetReport(elu, get), IsOk());
}

// Reader::Find answers nullopt alike for an entity that does not exist and
// for one the caller may not see, like Get's one PERMISSION_DENIED.
TEST_F(GateTest, FindAnswersAlikeForAbsentAndNotTheCallers) {
  const std::string exchange = "cohorts/occitanie/groups/elus/exchanges/e1";
  auto marker_of = [&](const std::string& member) {
    std::string name = member;
    name.push_back('\0');
    return name + exchange;
  };
  const std::string petr = who("elu-petr").member;
  storage::Mutation m;
  m.actor = petr;
  m.method = "Test";
  m.apply = [&](storage::Txn& txn) -> absl::StatusOr<std::string> {
    storage::v1::ReadMarkerRecord marker;
    marker.set_member(petr);
    marker.set_exchange(exchange);
    marker.set_last_read(7);
    txn.PutEntity(marker_of(petr), marker);
    return std::string();
  };
  ASSERT_THAT(store_->Commit(std::move(m)), IsOk());

  using Marker = storage::v1::ReadMarkerRecord;
  absl::StatusOr<std::optional<Marker>> own =
      Reader(*store_, who("elu-petr")).Find<Marker>(marker_of(petr));
  ASSERT_THAT(own, IsOk());
  ASSERT_TRUE(own->has_value());
  EXPECT_EQ((*own)->last_read(), 7);
  // Another élu's reading is not theirs to see; their own absent marker
  // gets the same answer.
  const Reader coteaux(*store_, who("elu-coteaux"));
  absl::StatusOr<std::optional<Marker>> others =
      coteaux.Find<Marker>(marker_of(petr));
  ASSERT_THAT(others, IsOk());
  EXPECT_FALSE(others->has_value());
  absl::StatusOr<std::optional<Marker>> absent =
      coteaux.Find<Marker>(marker_of(who("elu-coteaux").member));
  ASSERT_THAT(absent, IsOk());
  EXPECT_FALSE(absent->has_value());
  // Get says the same with its one denial.
  EXPECT_THAT(coteaux.Get<Marker>(marker_of(petr)),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

// The check-then-act race: posts by a member racing their removal from the
// group. No post of theirs commits after the revision that removed them.
TEST_F(GateTest, AMemberRemovedInTheSameCommitWindowCannotPost) {
  const std::string club =
      CreateClub({"members/agent-petr", "members/elu-petr"});
  v1::CreateExchangeRequest ex;
  ex.set_parent(club);
  ex.mutable_exchange()->set_title("Course");
  ex.mutable_exchange()->set_kind(v1::Exchange::SHARING);
  absl::StatusOr<v1::Exchange> e =
      services_.exchanges->CreateExchange(who("elu-petr"), ex);
  ASSERT_THAT(e, IsOk());
  const Principal agent = who("agent-petr");
  constexpr int kRounds = 20;
  constexpr int kPosters = 8;
  for (int round = 0; round < kRounds; ++round) {
    if (round > 0) {
      v1::SetGroupMembersRequest back;
      back.set_name(club);
      back.add_add_members("members/agent-petr");
      ASSERT_THAT(services_.groups->SetGroupMembers(admin_, back), IsOk());
    }
    std::atomic<bool> removed{false};
    absl::Mutex mu;
    int accepted = 0;  // guarded by mu
    std::vector<std::thread> posters;
    for (int t = 0; t < kPosters; ++t) {
      posters.emplace_back([&] {
        v1::PostMessageRequest post;
        post.set_parent(e->name());
        post.mutable_message()->set_body("encore un");
        // Post until the removal is acknowledged and one more refusal.
        for (int i = 0; i < 10000; ++i) {
          const bool after = removed.load();
          absl::Status s =
              services_.exchanges->PostMessage(agent, post).status();
          if (s.ok()) {
            absl::MutexLock lock(&mu);
            ++accepted;
          } else {
            EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
            if (after) return;
          }
        }
      });
    }
    // The removal lands in the middle of a steady stream of posts.
    {
      absl::MutexLock lock(&mu);
      ASSERT_TRUE(mu.AwaitWithTimeout(
          absl::Condition(
              +[](int* n) { return *n >= 4 * kPosters; }, &accepted),
          absl::Seconds(60)));
    }
    v1::SetGroupMembersRequest remove;
    remove.set_name(club);
    remove.add_remove_members("members/agent-petr");
    ASSERT_THAT(services_.groups->SetGroupMembers(admin_, remove), IsOk());
    removed.store(true);
    for (std::thread& t : posters) t.join();
  }
  // In the change log: every SetGroupMembers that removed the agent, and no
  // PostMessage of theirs after one but before the next re-adding.
  absl::StatusOr<std::vector<storage::v1::ChangeRecord>> log =
      storage::testing::RawAccess::ReadChanges(*store_, 1, 1 << 20);
  ASSERT_THAT(log, IsOk());
  bool member = true;
  int removals = 0, posts = 0;
  for (const storage::v1::ChangeRecord& r : *log) {
    if (r.method() == "SetGroupMembers") {
      for (const storage::v1::Change& c : r.changes()) {
        v1::PeerGroup g;
        if (c.resource_name() == club && c.resource().UnpackTo(&g)) {
          member = std::find(g.members().begin(), g.members().end(),
                             "members/agent-petr") != g.members().end();
          removals += !member;
        }
      }
    }
    if (r.method() == "PostMessage" && r.actor() == "members/agent-petr") {
      ++posts;
      EXPECT_TRUE(member) << "a post committed at revision " << r.revision()
                          << " after the agent left the club";
    }
  }
  EXPECT_EQ(removals, kRounds);
  EXPECT_GT(posts, 0);
}

// Etags are versions of their own resource and ids number their own
// collection: an outsider counts nothing of the élus' writes through them.
TEST_F(GateTest, EtagsAndIdsRevealNothingOfOtherWrites) {
  v1::CreateSessionRequest s;
  s.set_parent(kOccitanie);
  s.set_session_id("atelier");
  s.mutable_session()->set_kind(v1::Session::ATELIER);
  s.mutable_session()->set_title("Atelier");
  *s.mutable_session()->mutable_start_time() = TimeUtil::NanosecondsToTimestamp(
      absl::ToUnixNanos(absl::Now() + absl::Hours(48)));
  *s.mutable_session()->mutable_end_time() = TimeUtil::NanosecondsToTimestamp(
      absl::ToUnixNanos(absl::Now() + absl::Hours(50)));
  ASSERT_THAT(services_.sessions->CreateSession(who("coordinator"), s), IsOk());
  v1::RegisterRequest reg;
  reg.set_session("cohorts/occitanie/sessions/atelier");
  absl::StatusOr<v1::Registration> first =
      services_.sessions->Register(who("agent-petr"), reg);
  ASSERT_THAT(first, IsOk());

  // Meanwhile the élus write a lot.
  v1::CreateExchangeRequest ex;
  ex.set_parent(kElus);
  ex.mutable_exchange()->set_title("Bavard");
  ex.mutable_exchange()->set_kind(v1::Exchange::SHARING);
  absl::StatusOr<v1::Exchange> e =
      services_.exchanges->CreateExchange(who("elu-petr"), ex);
  ASSERT_THAT(e, IsOk());
  for (int i = 0; i < 7; ++i) {
    v1::PostMessageRequest post;
    post.set_parent(e->name());
    post.mutable_message()->set_body("bla");
    ASSERT_THAT(services_.exchanges->PostMessage(who("elu-petr"), post),
                IsOk());
  }

  v1::CancelRegistrationRequest cancel;
  cancel.set_session(reg.session());
  absl::StatusOr<v1::Registration> second =
      services_.sessions->CancelRegistration(who("agent-petr"), cancel);
  ASSERT_THAT(second, IsOk());
  // The waiting-list order is the session's own: 1 for its first
  // registration, whatever was written elsewhere.
  EXPECT_EQ(first->sequence(), 1);
  int64_t before = 0, after = 0;
  ASSERT_TRUE(absl::SimpleAtoi(first->etag(), &before));
  ASSERT_TRUE(absl::SimpleAtoi(second->etag(), &after));
  EXPECT_EQ(after, before + 1);

  // The agents' first exchange is their group's first, whatever the élus
  // did.
  ex.set_parent("cohorts/occitanie/groups/agents");
  absl::StatusOr<v1::Exchange> agents =
      services_.exchanges->CreateExchange(who("agent-petr"), ex);
  ASSERT_THAT(agents, IsOk());
  EXPECT_EQ(agents->name(),
            "cohorts/occitanie/groups/agents/exchanges/e000000000001");
  EXPECT_EQ(agents->etag(), "1");
}

// Every state change is in the change log with the kind of entity it
// touches: inbox items and read markers included.
TEST_F(GateTest, TheChangeLogHoldsEveryEntityWriteWithItsKind) {
  v1::FollowRequest follow;
  follow.set_target(kElus);
  ASSERT_THAT(services_.inbox->Follow(who("elu-coteaux"), follow), IsOk());
  v1::CreateExchangeRequest ex;
  ex.set_parent(kElus);
  ex.mutable_exchange()->set_title("Suivi");
  ex.mutable_exchange()->set_kind(v1::Exchange::SHARING);
  ex.set_first_message("premier");
  absl::StatusOr<v1::Exchange> e =
      services_.exchanges->CreateExchange(who("elu-petr"), ex);
  ASSERT_THAT(e, IsOk());
  v1::MarkExchangeReadRequest read;
  read.set_name(e->name());
  ASSERT_THAT(services_.exchanges->MarkExchangeRead(who("elu-coteaux"), read),
              IsOk());
  absl::StatusOr<std::vector<storage::v1::ChangeRecord>> log =
      storage::testing::RawAccess::ReadChanges(*store_, 1, 1 << 20);
  ASSERT_THAT(log, IsOk());
  std::set<uint32_t> kinds;
  for (const auto& r : *log) {
    for (const auto& c : r.changes()) {
      EXPECT_NE(c.entity_kind(), 0u) << c.resource_name();
      kinds.insert(c.entity_kind());
    }
  }
  for (storage::EntityKind k :
       {storage::EntityKind::kInboxItem, storage::EntityKind::kReadMarker,
        storage::EntityKind::kExchange, storage::EntityKind::kMessage,
        storage::EntityKind::kAuditEvent}) {
    EXPECT_TRUE(kinds.count(static_cast<uint32_t>(k))) << static_cast<int>(k);
  }
}

// Found in review: writes that told the caller about a closed group's
// members, and writes refused for want of an author.
TEST_F(GateTest, AReportForAGroupNeedsAWriterWhoReadsIt) {
  // An agent naming the élus group and an élu as author learns nothing
  // about who is in it: the group is not theirs to read.
  v1::CreateReportRequest req;
  req.set_parent(kOccitanie);
  v1::ExperienceReport* r = req.mutable_report();
  r->set_title("Sonde");
  r->set_territory(kPetr);
  r->set_visibility(v1::GROUP);
  r->set_group(kElus);
  r->add_authors("members/elu-petr");
  absl::Status probe =
      services_.reports->CreateReport(who("agent-petr"), req).status();
  EXPECT_EQ(probe.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_FALSE(absl::StrContains(probe.message(), "elu-petr"));
  r->clear_authors();
  r->add_authors("members/elu-ailleurs");
  EXPECT_EQ(services_.reports->CreateReport(who("agent-petr"), req)
                .status()
                .message(),
            probe.message());
  // A coordinator's draft is hers (she is made an author); the
  // administrator writes none.
  r->set_visibility(v1::COHORT);
  r->clear_group();
  r->clear_authors();
  absl::StatusOr<v1::ExperienceReport> mine =
      services_.reports->CreateReport(who("coordinator"), req);
  ASSERT_THAT(mine, IsOk());
  EXPECT_THAT(mine->authors(), ::testing::Contains("members/coordinator"));
  EXPECT_THAT(services_.reports->CreateReport(admin_, req),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // An existing report's id answers as an unknown one to who may not see
  // it.
  req.set_report_id("rex-elus");
  ASSERT_FALSE(PublishElusReport("rex-elus", /*publish=*/false).empty());
  EXPECT_THAT(services_.reports->CreateReport(who("agent-petr"), req),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(GateTest, AFacilitatorWhoLeavesTheCollegeStopsReadingItsGroup) {
  v1::SetGroupMembersRequest facilitate;
  facilitate.set_name(kElus);
  facilitate.add_add_facilitators("members/elu-coteaux");
  ASSERT_THAT(services_.groups->SetGroupMembers(admin_, facilitate), IsOk());
  v1::UpdateMemberRequest update;
  update.mutable_member()->set_name("members/elu-coteaux");
  update.mutable_member()->set_college(v1::AGENT);
  update.mutable_update_mask()->add_paths("college");
  absl::StatusOr<v1::Member> agent =
      services_.members->UpdateMember(admin_, update);
  ASSERT_THAT(agent, IsOk());
  v1::ListExchangesRequest list;
  list.set_parent(kElus);
  EXPECT_THAT(services_.exchanges->ListExchanges(
                  Principal::FromMember(*agent, "tokens/test"), list),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

// An edit replaces the text: members read the new text and that it was
// edited; the previous text only its author and the group's facilitators.
TEST_F(GateTest, AnEditedOutTextIsReadOnlyByItsAuthorAndTheFacilitators) {
  v1::SetGroupMembersRequest facilitate;
  facilitate.set_name(kElus);
  facilitate.add_add_facilitators("members/elu-coteaux");
  ASSERT_THAT(services_.groups->SetGroupMembers(admin_, facilitate), IsOk());
  AddMember("elu-petr-2", v1::Member::MEMBER, v1::ELU, kPetr, "");
  v1::CreateExchangeRequest ex;
  ex.set_parent(kElus);
  ex.mutable_exchange()->set_title("Contacts");
  ex.mutable_exchange()->set_kind(v1::Exchange::SHARING);
  ex.set_first_message("Appelez-moi au 06 12 34 56 78");
  absl::StatusOr<v1::Exchange> e =
      services_.exchanges->CreateExchange(who("elu-petr"), ex);
  ASSERT_THAT(e, IsOk());
  v1::EditMessageRequest edit;
  edit.set_name(e->name() + "/messages/m000001");
  edit.set_body("Écrivez-moi plutôt");
  absl::StatusOr<v1::Message> edited =
      services_.exchanges->EditMessage(who("elu-petr"), edit);
  ASSERT_THAT(edited, IsOk());
  ASSERT_EQ(edited->edits_size(), 1);
  EXPECT_EQ(edited->edits(0).previous_body(), "Appelez-moi au 06 12 34 56 78");
  v1::GetMessageRequest get;
  get.set_name(edit.name());
  for (const char* id : {"elu-petr", "elu-coteaux", "elu-petr-2"}) {
    absl::StatusOr<v1::Message> m =
        services_.exchanges->GetMessage(who(id), get);
    ASSERT_THAT(m, IsOk());
    EXPECT_EQ(m->body(), "Écrivez-moi plutôt");
    ASSERT_EQ(m->edits_size(), 1) << id;
    EXPECT_EQ(m->edits(0).editor(), "members/elu-petr");
    const bool may = std::string(id) != "elu-petr-2";
    EXPECT_EQ(absl::StrContains(m->DebugString(), "06 12 34"), may) << id;
  }
  v1::ListMessagesRequest list;
  list.set_parent(e->name());
  absl::StatusOr<v1::ListMessagesResponse> listed =
      services_.exchanges->ListMessages(who("elu-petr-2"), list);
  ASSERT_THAT(listed, IsOk());
  EXPECT_FALSE(absl::StrContains(listed->DebugString(), "06 12 34"));
}

// The change log read through the gate: what the change feed, search and
// sync will read. Outsiders get nothing of the élus' exchanges; the élus
// get them, presented (a hidden message without its text).
TEST_F(GateTest, TheChangeLogThroughTheGateShowsEachReaderWhatTheyMayRead) {
  const std::string report = PublishElusReport("rex-feed");
  v1::CreateExchangeRequest ex;
  ex.set_parent(kElus);
  ex.mutable_exchange()->set_title(absl::StrCat("Titre ", kMarker));
  ex.mutable_exchange()->set_kind(v1::Exchange::DEBATE);
  ex.set_first_message(absl::StrCat("Corps ", kMarker));
  absl::StatusOr<v1::Exchange> e =
      services_.exchanges->CreateExchange(who("elu-petr"), ex);
  ASSERT_THAT(e, IsOk());
  auto feed = [&](const Principal& p) {
    absl::StatusOr<std::vector<storage::v1::ChangeRecord>> changes =
        Reader(*store_, p).VisibleChanges(1, 1 << 20);
    EXPECT_THAT(changes, IsOk());
    std::string text;
    int records = 0;
    if (changes.ok()) {
      for (const auto& r : *changes) {
        text += r.DebugString();
        ++records;
      }
    }
    return std::make_pair(records, text);
  };
  for (const char* outsider :
       {"agent-petr", "coordinator", "ally", "elu-ailleurs"}) {
    auto [records, text] = feed(who(outsider));
    EXPECT_GT(records, 0) << outsider;  // they see the cohort's structure
    EXPECT_FALSE(absl::StrContains(text, kMarker)) << outsider;
    EXPECT_FALSE(absl::StrContains(text, e->name())) << outsider;
    EXPECT_FALSE(absl::StrContains(text, report)) << outsider;
  }
  for (const Principal* p : {&admin_, &who("elu-coteaux")}) {
    auto [records, text] = feed(*p);
    EXPECT_EQ(absl::StrContains(text, e->name()), p != &admin_);
    EXPECT_EQ(absl::StrContains(text, kMarker), p != &admin_);
  }
  EXPECT_THAT(feed(Principal()).first, 0);
}

}  // namespace
}  // namespace cohorte::service
