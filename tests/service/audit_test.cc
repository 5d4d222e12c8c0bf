// The audit log: what each change records (who, when, what, before/after,
// changed fields), who reads which events, redaction by the read rules, and
// paging.

#include "server/service/audit/audit.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/service/core/errors.h"
#include "tests/service/access_fixture.h"

namespace cohorte::service {
namespace {

using ::cohorte::testing::InvalidFieldIs;
using ::cohorte::testing::IsOk;
using ::cohorte::testing::StatusIs;

class AuditTest : public AccessFixture {
 protected:
  std::vector<v1::AuditEvent> Events(const Principal& reader,
                                     const std::string& parent,
                                     int page_size = 0) {
    std::vector<v1::AuditEvent> events;
    v1::ListAuditEventsRequest req;
    req.set_parent(parent);
    req.set_page_size(page_size);
    do {
      absl::StatusOr<v1::ListAuditEventsResponse> page =
          services_.audit->ListAuditEvents(reader, req);
      EXPECT_THAT(page, IsOk());
      if (!page.ok()) break;
      events.insert(events.end(), page->events().begin(), page->events().end());
      req.set_page_token(page->next_page_token());
    } while (!req.page_token().empty());
    return events;
  }

  absl::StatusOr<v1::PeerGroup> MakeClub() {
    v1::CreateGroupRequest req;
    req.set_parent(kOccitanie);
    req.set_group_id("club");
    req.mutable_group()->set_display_name("Club sobriété");
    req.mutable_group()->set_kind(v1::PeerGroup::THEMATIC);
    req.mutable_group()->add_members("members/elu-petr");
    return services_.groups->CreateGroup(who("coordinator"), req);
  }
};

TEST_F(AuditTest, GroupMembershipChangesAreRecordedWithBeforeAndAfter) {
  ASSERT_THAT(MakeClub(), IsOk());
  v1::SetGroupMembersRequest set;
  set.set_name("cohorts/occitanie/groups/club");
  set.add_add_members("members/agent-petr");
  ASSERT_THAT(services_.groups->SetGroupMembers(who("coordinator"), set),
              IsOk());

  std::vector<v1::AuditEvent> events = Events(admin_, kOccitanie);
  ASSERT_FALSE(events.empty());
  const v1::AuditEvent& last = events.back();
  EXPECT_EQ(last.method(), "SetGroupMembers");
  EXPECT_EQ(last.actor(), "members/coordinator");
  // Events have their own sequence: neither the name nor (for anyone but
  // the administrator) the revision says anything of other writes.
  EXPECT_EQ(last.revision(), store_->revision());
  EXPECT_NE(last.name(),
            absl::StrFormat("auditEvents/%020d", store_->revision()));
  EXPECT_EQ(Events(who("coordinator"), kOccitanie).back().revision(), 0);
  EXPECT_TRUE(last.has_time());
  ASSERT_EQ(last.changes_size(), 1);
  const v1::AuditEvent::ResourceChange& change = last.changes(0);
  EXPECT_EQ(change.resource(), "cohorts/occitanie/groups/club");
  EXPECT_THAT(change.changed_fields(), ::testing::ElementsAre("members"));
  // Neither the administrator nor the coordinator is in the club: the
  // snapshots show no member list, though the changed field is named.
  v1::PeerGroup before, after;
  ASSERT_TRUE(change.before().UnpackTo(&before));
  ASSERT_TRUE(change.after().UnpackTo(&after));
  EXPECT_EQ(before.members_size(), 0);
  EXPECT_EQ(after.members_size(), 0);
  EXPECT_EQ(after.display_name(), "Club sobriété");
}

TEST_F(AuditTest, CoordinatorsReadTheirCohortsEventsOnly) {
  ASSERT_THAT(MakeClub(), IsOk());
  std::vector<v1::AuditEvent> occitanie =
      Events(who("coordinator"), kOccitanie);
  ASSERT_FALSE(occitanie.empty());
  for (const v1::AuditEvent& e : occitanie) {
    EXPECT_THAT(e.cohorts(), ::testing::Contains(kOccitanie)) << e.name();
  }
  v1::ListAuditEventsRequest req;
  req.set_parent(kOccitanie);
  for (const char* id : {"coordinator-autre", "ally", "elu-petr"}) {
    EXPECT_THAT(services_.audit->ListAuditEvents(who(id), req),
                StatusIs(absl::StatusCode::kPermissionDenied))
        << id;
  }
  req.set_parent("");
  EXPECT_THAT(services_.audit->ListAuditEvents(who("coordinator"), req),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // Permission before existence, then the shape of the name.
  req.set_parent("cohorts/absent");
  EXPECT_THAT(services_.audit->ListAuditEvents(who("coordinator"), req),
              StatusIs(absl::StatusCode::kPermissionDenied));
  req.set_parent("not a cohort");
  EXPECT_THAT(services_.audit->ListAuditEvents(admin_, req),
              InvalidFieldIs("parent"));
}

TEST_F(AuditTest, AMemberMovingCohortsShowsInBoth) {
  v1::UpdateMemberRequest update;
  update.mutable_member()->set_name("members/agent-petr");
  update.mutable_member()->add_delegations(kAilleurs);
  update.mutable_update_mask()->add_paths("delegations");
  ASSERT_THAT(services_.members->UpdateMember(admin_, update), IsOk());
  for (const char* coordinator : {"coordinator", "coordinator-autre"}) {
    const std::string cohort =
        std::string(coordinator) == "coordinator" ? kOccitanie : kAutre;
    std::vector<v1::AuditEvent> events = Events(who(coordinator), cohort);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().method(), "UpdateMember") << coordinator;
    EXPECT_THAT(events.back().changes(0).changed_fields(),
                ::testing::ElementsAre("delegations"));
    // Each snapshot goes through the member's read rule: it is shown (with
    // the e-mail) to the coordinators of a cohort the member takes part in
    // at that point, and not at all to others: occitanie's see the member
    // before the move, autre's after it.
    const bool occitanie = cohort == kOccitanie;
    const auto& change = events.back().changes(0);
    EXPECT_EQ(change.has_before(), occitanie) << coordinator;
    EXPECT_EQ(change.has_after(), !occitanie) << coordinator;
    v1::Member seen;
    ASSERT_TRUE((occitanie ? change.before() : change.after()).UnpackTo(&seen));
    EXPECT_EQ(seen.email(), "agent-petr@example.org");
  }
}

TEST_F(AuditTest, ATokenMintedForSomeoneShowsInTheirCohortsLog) {
  // The trace of anyone who would act as an élu: the coordinators see it.
  v1::CreateTokenRequest token;
  token.set_parent("members/elu-petr");
  absl::StatusOr<v1::CreateTokenResponse> created =
      services_.members->CreateToken(admin_, token);
  ASSERT_THAT(created, IsOk());
  std::vector<v1::AuditEvent> events = Events(who("coordinator"), kOccitanie);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().method(), "CreateToken");
  EXPECT_EQ(events.back().actor(), "members/admin");
  v1::Token after;
  ASSERT_TRUE(events.back().changes(0).after().UnpackTo(&after));
  EXPECT_EQ(after.member(), "members/elu-petr");
  EXPECT_EQ(events.back().changes(0).resource(), created->name());
}

TEST_F(AuditTest, PagesTogetherAreTheWholeLogInOrder) {
  ASSERT_THAT(MakeClub(), IsOk());
  std::vector<v1::AuditEvent> whole = Events(admin_, "", /*page_size=*/1000);
  std::vector<v1::AuditEvent> paged = Events(admin_, "", /*page_size=*/2);
  ASSERT_EQ(whole.size(), paged.size());
  ASSERT_GE(whole.size(), 8u);
  for (size_t i = 0; i < whole.size(); ++i) {
    EXPECT_EQ(whole[i].name(), paged[i].name());
    if (i > 0) {
      EXPECT_LT(whole[i - 1].revision(), whole[i].revision());
    }
  }
  std::vector<v1::AuditEvent> cohort_paged =
      Events(admin_, kOccitanie, /*page_size=*/3);
  std::vector<v1::AuditEvent> cohort_whole = Events(admin_, kOccitanie);
  ASSERT_EQ(cohort_paged.size(), cohort_whole.size());
  for (size_t i = 0; i < cohort_whole.size(); ++i) {
    EXPECT_EQ(cohort_whole[i].name(), cohort_paged[i].name());
  }
}

TEST(ChangedFieldsTest, NamesTheFieldsThatDifferAndSkipsMetadata) {
  v1::Member a;
  a.set_name("members/x");
  a.set_given_name("A");
  a.set_etag("1");
  v1::Member b = a;
  b.set_given_name("B");
  b.set_etag("2");
  b.add_delegations(kPetr);
  EXPECT_THAT(ChangedFields(&a, &b),
              ::testing::ElementsAre("given_name", "delegations"));
  EXPECT_THAT(ChangedFields(nullptr, &a), ::testing::ElementsAre("given_name"));
  EXPECT_TRUE(ChangedFields(&a, &a).empty());
}

}  // namespace
}  // namespace cohorte::service
