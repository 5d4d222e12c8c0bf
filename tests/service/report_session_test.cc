// Experience reports (lifecycle, référentiel tags, authors, filters,
// limits), sessions (registrations racing for the last seats, the waiting
// list, attendance, audience, limits), and the référentiel served.

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cohorte/internal/v1/referentiel_file.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/content/referentiel.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "server/service/inbox/fan_out.h"
#include "tests/service/access_fixture.h"
#include "tests/testing/raw_access.h"

namespace cohorte::service {
namespace {

using ::cohorte::testing::InvalidFieldIs;
using ::cohorte::testing::IsOk;
using ::cohorte::testing::StatusIs;
using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp InHours(double hours) {
  return TimeUtil::NanosecondsToTimestamp(
      absl::ToUnixNanos(absl::Now() + absl::Seconds(hours * 3600)));
}

TEST(ReferentielTest, TheServedReferentielIsTheProjectsFile) {
  std::ifstream in(std::string(COHORTE_SOURCE_DIR) +
                   "/server/service/content/data/referentiel.json");
  ASSERT_TRUE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  internal::v1::ReferentielFile file;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(text.str(), &file).ok());
  absl::StatusOr<v1::Referentiel> served = ReferentielService().GetReferentiel(
      ::cohorte::testing::MakePrincipal("members/x", v1::Member::MEMBER), {});
  ASSERT_THAT(served, IsOk());
  ASSERT_EQ(served->fundamentals_size(), file.axes_size());
  ASSERT_EQ(file.axes_size(), 4);
  for (int i = 0; i < file.axes_size(); ++i) {
    const auto& axis = file.axes(i);
    const auto& f = served->fundamentals(i);
    EXPECT_EQ(f.id(), axis.id());
    EXPECT_EQ(f.title(), axis.title());
    ASSERT_EQ(f.balises_size(), axis.balises_size());
    for (int b = 0; b < axis.balises_size(); ++b) {
      EXPECT_EQ(f.balises(b).id(), axis.balises(b).id());
      EXPECT_EQ(f.balises(b).title(), axis.balises(b).title());
    }
    ASSERT_EQ(f.modes_de_faire_size(), axis.modes_de_faire_size());
    ASSERT_EQ(f.dispositifs_size(), axis.dispositifs_size());
    if (axis.dispositifs_size() > 0) {
      EXPECT_EQ(f.dispositifs(0).id(), axis.id() + "-d-1");
      EXPECT_EQ(f.dispositifs(0).title(), axis.dispositifs(0));
    }
  }
  EXPECT_THAT(ReferentielService().GetReferentiel(Principal(), {}),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST(ReferentielTest, ABrokenFileIsRefused) {
  EXPECT_FALSE(Referentiel::Parse("{").ok());
  EXPECT_FALSE(Referentiel::Parse(R"({"axes": []})").ok());
  EXPECT_FALSE(
      Referentiel::Parse(R"({"axes": [{"id": "a", "balises": [{"id": "a"}]}]})")
          .ok());
}

class ReportTest : public AccessFixture {
 protected:
  v1::CreateReportRequest Request(const std::string& id) {
    v1::CreateReportRequest req;
    req.set_parent(kOccitanie);
    req.set_report_id(id);
    v1::ExperienceReport* r = req.mutable_report();
    r->set_title("Cantine bio : deux échecs majeurs, puis une réussite");
    r->set_territory(kPetr);
    r->add_authors("members/agent-petr");
    r->set_visibility(v1::COHORT);
    r->add_balises("engagement-6");
    r->add_themes("Alimentation");
    r->set_what_failed("Deux échecs majeurs : l'appel d'offres, la régie.");
    return req;
  }
};

TEST_F(ReportTest, ADraftIsItsAuthorsUntilPublished) {
  absl::StatusOr<v1::ExperienceReport> created =
      services_.reports->CreateReport(who("elu-petr"), Request("cantine"));
  ASSERT_THAT(created, IsOk());
  EXPECT_EQ(created->state(), v1::ExperienceReport::DRAFT);
  // "À quatre voix": the creator joins the named authors; a balise brings
  // its fundamental.
  EXPECT_THAT(created->authors(),
              ::testing::ElementsAre("members/agent-petr", "members/elu-petr"));
  EXPECT_THAT(created->fundamentals(), ::testing::ElementsAre("engagement"));

  v1::GetReportRequest get;
  get.set_name(created->name());
  EXPECT_THAT(services_.reports->GetReport(who("coordinator"), get),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(services_.reports->GetReport(who("agent-petr"), get), IsOk());

  v1::PublishReportRequest publish;
  publish.set_name(created->name());
  EXPECT_THAT(services_.reports->PublishReport(who("coordinator"), publish),
              StatusIs(absl::StatusCode::kPermissionDenied));
  absl::StatusOr<v1::ExperienceReport> published =
      services_.reports->PublishReport(who("agent-petr"), publish);
  ASSERT_THAT(published, IsOk());
  EXPECT_EQ(published->state(), v1::ExperienceReport::PUBLISHED);
  EXPECT_TRUE(published->has_publish_time());
  EXPECT_THAT(services_.reports->GetReport(who("coordinator"), get), IsOk());
  EXPECT_THAT(
      services_.reports->PublishReport(who("agent-petr"), publish),
      StatusIs(absl::StatusCode::kFailedPrecondition, kReasonWrongState));

  v1::ArchiveReportRequest archive;
  archive.set_name(created->name());
  ASSERT_THAT(services_.reports->ArchiveReport(who("coordinator"), archive),
              IsOk());
  v1::ListReportsRequest list;
  list.set_parent(kOccitanie);
  EXPECT_EQ(services_.reports->ListReports(who("ally"), list)->reports_size(),
            0);
  list.set_state(v1::ExperienceReport::ARCHIVED);
  EXPECT_EQ(services_.reports->ListReports(who("ally"), list)->reports_size(),
            1);
}

// The REPORT_PUBLISHED items in `member`'s inbox that point at `report`.
int PublishedItems(InboxService& inbox, const Principal& member,
                   const std::string& report) {
  v1::ListInboxRequest req;
  req.set_page_size(1000);
  absl::StatusOr<v1::ListInboxResponse> items = inbox.ListInbox(member, req);
  EXPECT_THAT(items, IsOk());
  int n = 0;
  for (const v1::InboxItem& item : items->items()) {
    if (item.kind() == v1::InboxItem::REPORT_PUBLISHED &&
        item.resource() == report) {
      ++n;
    }
  }
  return n;
}

TEST_F(ReportTest, APublicationCommitsAloneAndReachesALargeCohortInBatches) {
  constexpr int kAgents = NotificationFanOut::kMembersPerBatch + 44;
  for (int i = 0; i < kAgents; ++i) {
    AddMember(absl::StrCat("agent-", i), v1::Member::MEMBER, v1::AGENT, kPetr,
              "");
  }
  absl::StatusOr<v1::ExperienceReport> created =
      services_.reports->CreateReport(who("agent-petr"), Request("cantine"));
  ASSERT_THAT(created, IsOk());
  const int64_t before = store_->revision();
  v1::PublishReportRequest publish;
  publish.set_name(created->name());
  ASSERT_THAT(services_.reports->PublishReport(who("agent-petr"), publish),
              IsOk());

  // The publication's own mutation writes no inbox item; two batches (or
  // more) after it do, each one committed alone.
  absl::StatusOr<std::vector<storage::v1::ChangeRecord>> changes =
      storage::testing::RawAccess::ReadChanges(*store_, before + 1,
                                               /*limit=*/100);
  ASSERT_THAT(changes, IsOk());
  ASSERT_GE(changes->size(), 3u);
  EXPECT_EQ((*changes)[0].method(), "PublishReport");
  for (const storage::v1::Change& c : (*changes)[0].changes()) {
    EXPECT_EQ(c.resource_name().find("/inbox/"), std::string::npos)
        << c.resource_name();
  }
  for (size_t i = 1; i < changes->size(); ++i) {
    EXPECT_EQ((*changes)[i].method(), "DeliverNotifications");
  }
  // Every agent of the cohort once; not the author, not another cohort.
  for (int i = 0; i < kAgents; ++i) {
    EXPECT_EQ(PublishedItems(*services_.inbox, who(absl::StrCat("agent-", i)),
                             created->name()),
              1)
        << i;
  }
  EXPECT_EQ(
      PublishedItems(*services_.inbox, who("elu-coteaux"), created->name()), 1);
  EXPECT_EQ(
      PublishedItems(*services_.inbox, who("agent-petr"), created->name()), 0);
  EXPECT_EQ(
      PublishedItems(*services_.inbox, who("elu-ailleurs"), created->name()),
      0);
}

TEST_F(ReportTest, APendingNotificationReachesOnlyWhoMayReadItWhenDelivered) {
  absl::StatusOr<v1::ExperienceReport> created =
      services_.reports->CreateReport(who("agent-petr"), Request("cantine"));
  ASSERT_THAT(created, IsOk());
  v1::PublishReportRequest publish;
  publish.set_name(created->name());
  ASSERT_THAT(services_.reports->PublishReport(who("agent-petr"), publish),
              IsOk());
  // A notification left pending (as by a stop between the announcement's
  // commit and its delivery)...
  v1::InboxItem item;
  item.set_resource(created->name());
  item.set_context(kPetr);
  item.set_title(created->title());
  item.set_actor("members/agent-petr");
  item.set_kind(v1::InboxItem::REPORT_PUBLISHED);
  storage::Mutation pending;
  pending.actor = "members/agent-petr";
  pending.method = "PublishReport";
  pending.apply = [&](storage::Txn& txn) -> absl::StatusOr<std::string> {
    NotificationFanOut::Schedule(txn, item);
    return std::string();
  };
  ASSERT_THAT(store_->Commit(std::move(pending)).status(), IsOk());
  // ... while elu-coteaux leaves the cohort for another one (UpdateMember
  // delivers what is pending after its own commit: the job is delivered
  // then, or by the call below).
  const int64_t before = store_->revision();
  v1::UpdateMemberRequest move;
  move.mutable_member()->set_name("members/elu-coteaux");
  move.mutable_member()->add_delegations(kAilleurs);
  move.mutable_update_mask()->add_paths("delegations");
  ASSERT_THAT(services_.members->UpdateMember(admin_, move), IsOk());
  ASSERT_THAT(services_.all->fan_out.DeliverPending(), IsOk());
  EXPECT_EQ(PublishedItems(*services_.inbox, who("elu-petr"), created->name()),
            2);
  // What the delivery wrote: nothing for the one who left.
  absl::StatusOr<std::vector<storage::v1::ChangeRecord>> changes =
      storage::testing::RawAccess::ReadChanges(*store_, before + 1,
                                               /*limit=*/100);
  ASSERT_THAT(changes, IsOk());
  std::vector<std::string> written;
  for (const storage::v1::ChangeRecord& record : *changes) {
    for (const storage::v1::Change& c : record.changes()) {
      written.push_back(c.resource_name());
    }
  }
  EXPECT_THAT(written, ::testing::Contains(
                           ::testing::StartsWith("members/elu-petr/inbox/")));
  EXPECT_THAT(written, ::testing::Not(::testing::Contains(
                           ::testing::StartsWith("members/elu-coteaux/"))));
  // Nothing is left to deliver.
  const int64_t revision = store_->revision();
  ASSERT_THAT(services_.all->fan_out.DeliverPending(), IsOk());
  EXPECT_EQ(store_->revision(), revision);
}

TEST_F(ReportTest, ListsFilterByTerritoryFundamentalBaliseAndTheme) {
  for (const char* id : {"a", "b"}) {
    v1::CreateReportRequest req = Request(id);
    if (std::string(id) == "b") {
      req.mutable_report()->clear_balises();
      req.mutable_report()->add_fundamentals("cooperation");
      req.mutable_report()->clear_themes();
      req.mutable_report()->add_themes("mobilité");
    }
    absl::StatusOr<v1::ExperienceReport> r =
        services_.reports->CreateReport(who("agent-petr"), req);
    ASSERT_THAT(r, IsOk());
    v1::PublishReportRequest publish;
    publish.set_name(r->name());
    ASSERT_THAT(services_.reports->PublishReport(who("agent-petr"), publish),
                IsOk());
  }
  auto count = [&](const v1::ListReportsRequest& req) {
    absl::StatusOr<v1::ListReportsResponse> r =
        services_.reports->ListReports(who("coordinator"), req);
    EXPECT_THAT(r, IsOk());
    return r.ok() ? r->reports_size() : -1;
  };
  v1::ListReportsRequest req;
  req.set_parent(kOccitanie);
  EXPECT_EQ(count(req), 2);
  req.set_theme("ALIMENTATION");
  EXPECT_EQ(count(req), 1);
  req.clear_theme();
  req.set_fundamental("cooperation");
  EXPECT_EQ(count(req), 1);
  req.clear_fundamental();
  req.set_balise("engagement-6");
  EXPECT_EQ(count(req), 1);
  req.clear_balise();
  req.set_territory(kCoteaux);
  EXPECT_EQ(count(req), 0);
  req.clear_territory();
  req.set_balise("engagement-42");
  EXPECT_THAT(services_.reports->ListReports(who("coordinator"), req),
              InvalidFieldIs("balise"));
}

// Who may not write a report is told so in the words of reports.
TEST_F(ReportTest, ARefusedAuthorIsToldOfReports) {
  const int64_t before = store_->revision();
  for (const char* who_id : {"ally", "elu-coteaux"}) {
    absl::StatusOr<v1::ExperienceReport> r =
        services_.reports->CreateReport(who(who_id), Request("refusee"));
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied)) << who_id;
    EXPECT_THAT(std::string(r.status().message()),
                ::testing::HasSubstr("create reports in cohorts/occitanie"))
        << who_id;
  }
  EXPECT_EQ(store_->revision(), before);
}

TEST_F(ReportTest, EveryLimitAndReferenceNamesItsFieldAndWritesNothing) {
  const int64_t before = store_->revision();
  auto refused = [&](const v1::CreateReportRequest& req,
                     const std::string& field) {
    EXPECT_THAT(services_.reports->CreateReport(who("elu-petr"), req),
                InvalidFieldIs(field));
    EXPECT_EQ(store_->revision(), before) << field;
  };
  v1::CreateReportRequest req = Request("x");
  req.mutable_report()->set_title(std::string(kMaxReportTitleChars + 1, 'x'));
  refused(req, "report.title");
  req = Request("x");
  req.mutable_report()->set_lessons(
      std::string(kMaxReportNarrativeChars + 1, 'x'));
  refused(req, "report.lessons");
  req = Request("x");
  req.mutable_report()->add_balises("engagement-42");
  refused(req, "report.balises");
  req = Request("x");
  req.mutable_report()->add_fundamentals("bonheur");
  refused(req, "report.fundamentals");
  req = Request("x");
  for (int i = 0; i <= kMaxReportThemes; ++i) {
    req.mutable_report()->add_themes(absl::StrCat("t", i));
  }
  refused(req, "report.themes");
  req = Request("x");
  req.mutable_report()->add_themes(std::string(kMaxThemeChars + 1, 'x'));
  refused(req, "report.themes");
  req = Request("x");
  for (int i = 0; i < kMaxReportAuthors; ++i) {
    req.mutable_report()->add_authors(absl::StrCat("members/m", i));
  }
  refused(req, "report.authors");
  req = Request("x");
  req.mutable_report()->add_authors("members/elu-ailleurs");
  refused(req, "report.authors");
  req = Request("x");
  req.mutable_report()->set_visibility(v1::VISIBILITY_UNSPECIFIED);
  refused(req, "report.visibility");
  req = Request("x");
  req.mutable_report()->set_visibility(v1::GROUP);
  req.mutable_report()->set_group("cohorts/occitanie/groups/elus");
  refused(req, "report.group");  // the agent author is not an élu
  req = Request("x");
  req.mutable_report()->add_chantiers(
      "cohorts/occitanie/territories/petr/chantiers/absent");
  refused(req, "report.chantiers");
  req = Request("x");
  req.mutable_report()->add_sessions("cohorts/occitanie/sessions/absent");
  refused(req, "report.sessions");
  req = Request("x");
  req.mutable_report()->set_territory(kAilleurs);
  EXPECT_THAT(services_.reports->CreateReport(who("elu-petr"), req),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // At the bounds: accepted.
  req = Request("x");
  req.mutable_report()->set_title(std::string(kMaxReportTitleChars, 'x'));
  req.mutable_report()->set_lessons(std::string(kMaxReportNarrativeChars, 'x'));
  EXPECT_THAT(services_.reports->CreateReport(who("elu-petr"), req), IsOk());
}

class SessionTest : public AccessFixture {
 protected:
  absl::StatusOr<v1::Session> Create(const std::string& id, int capacity,
                                     double start_hours = 48) {
    v1::CreateSessionRequest req;
    req.set_parent(kOccitanie);
    req.set_session_id(id);
    v1::Session* s = req.mutable_session();
    s->set_kind(v1::Session::VOYAGE_ETUDE);
    s->set_title("Voyage d'étude dans le Trièves");
    *s->mutable_start_time() = InHours(start_hours);
    *s->mutable_end_time() = InHours(start_hours + 30);
    s->set_capacity(capacity);
    return services_.sessions->CreateSession(who("coordinator"), req);
  }

  absl::StatusOr<v1::Registration> Register(const Principal& p,
                                            const std::string& session) {
    v1::RegisterRequest req;
    req.set_session(std::string(kOccitanie) + "/sessions/" + session);
    return services_.sessions->Register(p, req);
  }
};

TEST_F(SessionTest, RacingRegistrationsNeverExceedTheCapacity) {
  constexpr int kCapacity = 5;
  constexpr int kPeople = 40;
  ASSERT_THAT(Create("voyage", kCapacity), IsOk());
  std::vector<Principal> people;
  for (int i = 0; i < kPeople; ++i) {
    const std::string id = absl::StrCat("elu-", i);
    AddMember(id, v1::Member::MEMBER, v1::ELU, kPetr, "");
    people.push_back(who(id));
  }
  std::vector<absl::StatusOr<v1::Registration>> results(kPeople);
  std::vector<std::thread> threads;
  for (int i = 0; i < kPeople; ++i) {
    threads.emplace_back(
        [&, i] { results[i] = Register(people[i], "voyage"); });
  }
  for (std::thread& t : threads) t.join();
  int registered = 0, waitlisted = 0;
  for (const auto& r : results) {
    ASSERT_THAT(r, IsOk());
    registered += r->state() == v1::Registration::REGISTERED;
    waitlisted += r->state() == v1::Registration::WAITLISTED;
  }
  EXPECT_EQ(registered, kCapacity);
  EXPECT_EQ(waitlisted, kPeople - kCapacity);
  v1::GetSessionRequest get;
  get.set_name(std::string(kOccitanie) + "/sessions/voyage");
  absl::StatusOr<v1::Session> s =
      services_.sessions->GetSession(who("coordinator"), get);
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(s->registered_count(), kCapacity);
  EXPECT_EQ(s->waitlist_count(), kPeople - kCapacity);

  // A seat freed goes to the first on the waiting list.
  int first_waiting = -1;
  int64_t lowest = INT64_MAX;
  int a_registered = -1;
  for (int i = 0; i < kPeople; ++i) {
    if (results[i]->state() == v1::Registration::WAITLISTED &&
        results[i]->sequence() < lowest) {
      lowest = results[i]->sequence();
      first_waiting = i;
    }
    if (results[i]->state() == v1::Registration::REGISTERED) a_registered = i;
  }
  v1::CancelRegistrationRequest cancel;
  cancel.set_session(get.name());
  ASSERT_THAT(
      services_.sessions->CancelRegistration(people[a_registered], cancel),
      IsOk());
  absl::StatusOr<v1::ListUpcomingSessionsResponse> mine =
      services_.sessions->ListUpcomingSessions(people[first_waiting], {});
  ASSERT_THAT(mine, IsOk());
  ASSERT_EQ(mine->registrations_size(), 1);
  EXPECT_EQ(mine->registrations(0).state(), v1::Registration::REGISTERED);
  s = services_.sessions->GetSession(who("coordinator"), get);
  EXPECT_EQ(s->registered_count(), kCapacity);
  EXPECT_EQ(s->waitlist_count(), kPeople - kCapacity - 1);
}

TEST_F(SessionTest, AttendanceIsForRegisteredMembersOnly) {
  ASSERT_THAT(Create("journee", 0), IsOk());
  ASSERT_THAT(Register(who("elu-petr"), "journee"), IsOk());
  EXPECT_THAT(Register(who("elu-petr"), "journee"),
              StatusIs(absl::StatusCode::kAlreadyExists));
  v1::RecordAttendanceRequest req;
  req.set_session(std::string(kOccitanie) + "/sessions/journee");
  req.set_member("members/elu-petr");
  req.set_attended(true);
  EXPECT_THAT(services_.sessions->RecordAttendance(who("elu-petr"), req),
              StatusIs(absl::StatusCode::kPermissionDenied));
  absl::StatusOr<v1::Registration> r =
      services_.sessions->RecordAttendance(who("coordinator"), req);
  ASSERT_THAT(r, IsOk());
  EXPECT_TRUE(r->attended());
  req.set_member("members/agent-petr");
  EXPECT_THAT(
      services_.sessions->RecordAttendance(who("coordinator"), req),
      StatusIs(absl::StatusCode::kFailedPrecondition, kReasonWrongState));
}

TEST_F(SessionTest, TheAudienceAndTheCalendarDecideWhoRegisters) {
  v1::CreateSessionRequest req;
  req.set_parent(kOccitanie);
  req.set_session_id("elus-only");
  v1::Session* s = req.mutable_session();
  s->set_kind(v1::Session::ATELIER);
  s->set_title("Atelier des élus");
  *s->mutable_start_time() = InHours(2);
  *s->mutable_end_time() = InHours(4);
  s->add_audience_colleges(v1::ELU);
  ASSERT_THAT(services_.sessions->CreateSession(admin_, req), IsOk());
  EXPECT_THAT(Register(who("agent-petr"), "elus-only"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(Register(who("elu-petr"), "elus-only"), IsOk());
  EXPECT_THAT(Register(who("elu-ailleurs"), "elus-only"),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // The agent's upcoming list does not offer it.
  absl::StatusOr<v1::ListUpcomingSessionsResponse> upcoming =
      services_.sessions->ListUpcomingSessions(who("agent-petr"), {});
  ASSERT_THAT(upcoming, IsOk());
  EXPECT_EQ(upcoming->sessions_size(), 0);

  // A past session takes no registration.
  req.set_session_id("past");
  s->clear_audience_colleges();
  *s->mutable_start_time() = InHours(-30);
  *s->mutable_end_time() = InHours(-20);
  ASSERT_THAT(services_.sessions->CreateSession(admin_, req), IsOk());
  EXPECT_THAT(Register(who("elu-petr"), "past"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(SessionTest, EveryLimitNamesItsFieldAndWritesNothing) {
  const int64_t before = store_->revision();
  v1::CreateSessionRequest base;
  base.set_parent(kOccitanie);
  v1::Session* s = base.mutable_session();
  s->set_kind(v1::Session::WEBINAIRE);
  s->set_title("Webinaire");
  *s->mutable_start_time() = InHours(1);
  *s->mutable_end_time() = InHours(2);
  auto refused = [&](const std::function<void(v1::Session*)>& change,
                     const std::string& field) {
    v1::CreateSessionRequest req = base;
    change(req.mutable_session());
    EXPECT_THAT(services_.sessions->CreateSession(admin_, req),
                InvalidFieldIs(field));
    EXPECT_EQ(store_->revision(), before) << field;
  };
  refused([](v1::Session* s) { s->set_capacity(-1); }, "session.capacity");
  refused([](v1::Session* s) { s->set_capacity(kMaxSessionCapacity + 1); },
          "session.capacity");
  refused([](v1::Session* s) { s->set_title(""); }, "session.title");
  refused([](v1::Session* s) { s->set_kind(v1::Session::KIND_UNSPECIFIED); },
          "session.kind");
  refused([](v1::Session* s) { *s->mutable_end_time() = s->start_time(); },
          "session.end_time");
  refused(
      [](v1::Session* s) {
        *s->mutable_end_time() = InHours(1 + 24 * (kMaxSessionDays + 1));
      },
      "session.end_time");
  refused([](v1::Session* s) { s->set_time_zone("Europe/Nowhere"); },
          "session.time_zone");
  refused([](v1::Session* s) { s->set_video_link("http://visio.example"); },
          "session.video_link");
  refused([](v1::Session* s) { s->add_audience_territories(kAilleurs); },
          "session.audience_territories");
  refused([](v1::Session* s) { s->clear_start_time(); }, "session.start_time");
  // At the bounds: accepted, in Paris time by default.
  v1::CreateSessionRequest ok = base;
  ok.mutable_session()->set_capacity(kMaxSessionCapacity);
  ok.mutable_session()->set_video_link("https://visio.example/cohorte");
  absl::StatusOr<v1::Session> created =
      services_.sessions->CreateSession(admin_, ok);
  ASSERT_THAT(created, IsOk());
  EXPECT_EQ(created->time_zone(), "Europe/Paris");
}

}  // namespace
}  // namespace cohorte::service
