// Limits of the domain not covered beside their feature: each at its bound
// (accepted) and past it (refused, naming the field, writing nothing).

#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/core/limits.h"
#include "tests/service/access_fixture.h"

namespace cohorte::service {
namespace {

using ::cohorte::testing::InvalidFieldIs;
using ::cohorte::testing::IsOk;
using google::protobuf::util::TimeUtil;

class BoundsTest : public AccessFixture {};

TEST_F(BoundsTest, SessionMinutesAtAndPastTheirBound) {
  v1::CreateSessionRequest req;
  req.set_parent(kOccitanie);
  req.set_session_id("s");
  v1::Session* s = req.mutable_session();
  s->set_kind(v1::Session::WEBINAIRE);
  s->set_title("Webinaire");
  *s->mutable_start_time() = TimeUtil::SecondsToTimestamp(1900000000);
  *s->mutable_end_time() = TimeUtil::SecondsToTimestamp(1900003600);
  s->set_minutes(std::string(kMaxSessionMinutesChars + 1, 'x'));
  const int64_t before = store_->revision();
  EXPECT_THAT(services_.sessions->CreateSession(admin_, req),
              InvalidFieldIs("session.minutes"));
  EXPECT_EQ(store_->revision(), before);
  s->set_minutes(std::string(kMaxSessionMinutesChars, 'x'));
  EXPECT_THAT(services_.sessions->CreateSession(admin_, req), IsOk());
}

TEST_F(BoundsTest, FlagNotesAndHideReasonsAtAndPastTheirBounds) {
  v1::CreateReportRequest report;
  report.set_parent(kOccitanie);
  report.set_report_id("r");
  report.mutable_report()->set_title("REX");
  report.mutable_report()->set_territory(kPetr);
  report.mutable_report()->set_visibility(v1::COHORT);
  ASSERT_THAT(services_.reports->CreateReport(who("elu-petr"), report), IsOk());
  v1::PublishReportRequest publish;
  publish.set_name(std::string(kOccitanie) + "/reports/r");
  ASSERT_THAT(services_.reports->PublishReport(who("elu-petr"), publish),
              IsOk());

  const int64_t before = store_->revision();
  v1::FlagContentRequest flag;
  flag.set_parent(kOccitanie);
  flag.mutable_flag()->set_target(publish.name());
  flag.mutable_flag()->set_reason(v1::ContentFlag::OTHER);
  flag.mutable_flag()->set_note(std::string(kMaxFlagNoteChars + 1, 'x'));
  EXPECT_THAT(services_.moderation->FlagContent(who("agent-petr"), flag),
              InvalidFieldIs("flag.note"));
  v1::HideContentRequest hide;
  hide.set_target(publish.name());
  EXPECT_THAT(services_.moderation->HideContent(who("coordinator"), hide),
              InvalidFieldIs("reason"));
  hide.set_reason(std::string(kMaxHiddenReasonChars + 1, 'x'));
  EXPECT_THAT(services_.moderation->HideContent(who("coordinator"), hide),
              InvalidFieldIs("reason"));
  EXPECT_EQ(store_->revision(), before);

  flag.mutable_flag()->set_note(std::string(kMaxFlagNoteChars, 'x'));
  EXPECT_THAT(services_.moderation->FlagContent(who("agent-petr"), flag),
              IsOk());
  hide.set_reason(std::string(kMaxHiddenReasonChars, 'x'));
  EXPECT_THAT(services_.moderation->HideContent(who("coordinator"), hide),
              IsOk());
  // Hidden: no narrative for anyone, its authors included.
  v1::GetReportRequest get;
  get.set_name(publish.name());
  absl::StatusOr<v1::ExperienceReport> r =
      services_.reports->GetReport(who("ally"), get);
  ASSERT_THAT(r, IsOk());
  EXPECT_TRUE(r->hidden());
}

TEST_F(BoundsTest, InboxMarksAtMostAThousandAtOnce) {
  v1::MarkInboxReadRequest req;
  for (int i = 0; i <= 1000; ++i) {
    req.add_items(absl::StrCat("members/elu-petr/inbox/i", i));
  }
  EXPECT_THAT(services_.inbox->MarkInboxRead(who("elu-petr"), req),
              InvalidFieldIs("items"));
  req.mutable_items()->RemoveLast();
  absl::StatusOr<v1::MarkInboxReadResponse> marked =
      services_.inbox->MarkInboxRead(who("elu-petr"), req);
  ASSERT_THAT(marked, IsOk());
  EXPECT_EQ(marked->marked(), 0);
}

TEST_F(BoundsTest, AServiceTokenReachesAtMostThirtyTwoCohorts) {
  v1::CreateServiceTokenRequest req;
  req.mutable_token()->set_display_name("outil");
  req.mutable_token()->set_access(v1::Token::READ);
  for (int i = 0; i < kMaxServiceTokenCohorts; ++i) {
    v1::CreateCohortRequest cohort;
    cohort.set_cohort_id(absl::StrCat("c", i));
    cohort.mutable_cohort()->set_display_name("c");
    ASSERT_THAT(services_.cohorts->CreateCohort(admin_, cohort), IsOk());
    req.mutable_token()->add_cohorts(absl::StrCat("cohorts/c", i));
  }
  EXPECT_THAT(services_.tokens->CreateServiceToken(admin_, req), IsOk());
  req.mutable_token()->add_cohorts(kOccitanie);
  EXPECT_THAT(services_.tokens->CreateServiceToken(admin_, req),
              InvalidFieldIs("token.cohorts"));
}

TEST_F(BoundsTest, ATerritoryHasOneDelegationGroup) {
  v1::CreateGroupRequest req;
  req.set_parent(kOccitanie);
  req.set_group_id("delegation-petr");
  req.mutable_group()->set_display_name("Délégation");
  req.mutable_group()->set_kind(v1::PeerGroup::DELEGATION);
  req.mutable_group()->set_territory(kPetr);
  ASSERT_THAT(services_.groups->CreateGroup(admin_, req), IsOk());
  req.set_group_id("delegation-petr-bis");
  EXPECT_THAT(services_.groups->CreateGroup(admin_, req),
              ::cohorte::testing::StatusIs(absl::StatusCode::kAlreadyExists));
  req.mutable_group()->set_territory(kCoteaux);
  EXPECT_THAT(services_.groups->CreateGroup(admin_, req), IsOk());
}

TEST_F(BoundsTest, ACohortsCreationIsAuditedWithItsCollegeGroups) {
  v1::ListAuditEventsRequest req;
  req.set_parent(kOccitanie);
  absl::StatusOr<v1::ListAuditEventsResponse> events =
      services_.audit->ListAuditEvents(admin_, req);
  ASSERT_THAT(events, IsOk());
  ASSERT_GT(events->events_size(), 0);
  const v1::AuditEvent& first = events->events(0);
  EXPECT_EQ(first.method(), "CreateCohort");
  ASSERT_EQ(first.changes_size(), 5);
  EXPECT_EQ(first.changes(1).resource(), "cohorts/occitanie/groups/elus");
}

// Counts at their bound are accepted (past it, each feature's test
// refuses them).
TEST_F(BoundsTest, CountsAtTheirBoundAreAccepted) {
  for (int i = 0; i < kMaxChantierCarriers; ++i) {
    AddMember(absl::StrCat("p", i), v1::Member::MEMBER, v1::AGENT, kPetr, "");
  }
  v1::CreateChantierRequest chantier;
  chantier.set_parent(kPetr);
  chantier.mutable_chantier()->set_display_name("Chantier");
  for (int i = 0; i < kMaxChantierCarriers; ++i) {
    chantier.mutable_chantier()->add_carriers(absl::StrCat("members/p", i));
  }
  EXPECT_THAT(services_.territories->CreateChantier(admin_, chantier), IsOk());

  v1::CreateExchangeRequest x;
  x.set_parent("cohorts/occitanie/groups/elus");
  x.mutable_exchange()->set_title("Tags");
  x.mutable_exchange()->set_kind(v1::Exchange::DEBATE);
  for (int i = 1; i <= kMaxTagsPerItem; ++i) {
    x.mutable_exchange()->add_tags(i <= 6
                                       ? absl::StrCat("engagement-", i)
                                       : absl::StrCat("cooperation-", i - 6));
  }
  absl::StatusOr<v1::Exchange> e =
      services_.exchanges->CreateExchange(who("elu-petr"), x);
  ASSERT_THAT(e, IsOk());
  v1::PostMessageRequest post;
  post.set_parent(e->name());
  post.mutable_message()->set_body("dix pièces jointes");
  for (int i = 0; i < kMaxAttachmentsPerMessage; ++i) {
    v1::CreateRecordRequest record;
    record.set_parent(kOccitanie);
    record.set_record_id(absl::StrCat("r", i));
    record.mutable_record()->set_title("Pièce jointe");
    record.mutable_record()->set_kind(v1::Record::OTHER);
    record.mutable_record()->set_visibility(v1::COHORT);
    ASSERT_THAT(services_.all->records.CreateRecord(who("elu-petr"), record),
                IsOk());
    post.mutable_message()->add_attachments(
        absl::StrCat("cohorts/occitanie/records/r", i));
  }
  EXPECT_THAT(services_.exchanges->PostMessage(who("elu-petr"), post), IsOk());

  v1::CreateReportRequest report;
  report.set_parent(kOccitanie);
  v1::ExperienceReport* r = report.mutable_report();
  r->set_title("REX");
  r->set_territory(kPetr);
  r->set_visibility(v1::COHORT);
  // The creator is one of the authors: a draft is read by its authors
  // only, and a write returns what its caller may read.
  r->add_authors("members/elu-petr");
  for (int i = 1; i < kMaxReportAuthors; ++i) {
    r->add_authors(absl::StrCat("members/p", i));
  }
  for (int i = 0; i < kMaxReportThemes; ++i) {
    r->add_themes(i == 0 ? std::string(kMaxThemeChars, 't')
                         : absl::StrCat("thème ", i));
  }
  EXPECT_THAT(services_.reports->CreateReport(who("elu-petr"), report), IsOk());
}

}  // namespace
}  // namespace cohorte::service
