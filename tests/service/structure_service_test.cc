// Territories, members, groups and tokens against a real store: every
// validation limit at and past its bound with the field named, and the
// rules that are not about reading (the confidentiality matrix covers
// reads).

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "server/service/structure/cohort_service.h"
#include "server/service/structure/group_service.h"
#include "server/service/structure/member_service.h"
#include "server/service/structure/territory_service.h"
#include "storage/store.h"
#include "tests/testing/principals.h"
#include "tests/testing/services.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace cohorte::service {
namespace {

using ::cohorte::testing::InvalidFieldIs;
using ::cohorte::testing::IsOk;
using ::cohorte::testing::MakePrincipal;
using ::cohorte::testing::StatusIs;

constexpr char kA[] = "cohorts/occitanie";
constexpr char kPetr[] = "cohorts/occitanie/territories/petr";

class StructureServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1::CreateCohortRequest cohort;
    cohort.set_cohort_id("occitanie");
    cohort.mutable_cohort()->set_display_name("Occitanie");
    ASSERT_THAT(cohorts_->CreateCohort(admin_, cohort), IsOk());
    ASSERT_THAT(AddTerritory("petr"), IsOk());
  }

  absl::StatusOr<v1::Territory> AddTerritory(const std::string& id,
                                             const std::string& code = "") {
    v1::CreateTerritoryRequest req;
    req.set_parent(kA);
    req.set_territory_id(id);
    req.mutable_territory()->set_display_name(id);
    req.mutable_territory()->set_kind(v1::Territory::PETR);
    req.mutable_territory()->set_official_code(code);
    return territories_->CreateTerritory(admin_, req);
  }

  v1::CreateMemberRequest MemberRequest(const std::string& id) {
    v1::CreateMemberRequest req;
    req.set_member_id(id);
    req.mutable_member()->set_given_name("Marie");
    req.mutable_member()->set_family_name("Dubois");
    req.mutable_member()->set_email(id + "@example.org");
    req.mutable_member()->set_role(v1::Member::MEMBER);
    req.mutable_member()->set_college(v1::ELU);
    req.mutable_member()->add_delegations(kPetr);
    return req;
  }

  // Asserts INVALID_ARGUMENT naming `field` and that nothing was written.
  template <typename T>
  void ExpectRefused(const absl::StatusOr<T>& result, const std::string& field,
                     int64_t revision_before) {
    EXPECT_THAT(result, InvalidFieldIs(field));
    EXPECT_EQ(store_->revision(), revision_before) << field;
  }

  const Principal admin_ = MakePrincipal("members/admin", v1::Member::ADMIN);
  ::cohorte::testing::TempDir dir_;
  ::cohorte::testing::Services services_{dir_.path()};
  std::unique_ptr<storage::Store>& store_ = services_.store;
  CohortService* cohorts_ = services_.cohorts;
  MemberService* members_ = services_.members;
  TerritoryService* territories_ = services_.territories;
  GroupService* groups_ = services_.groups;
};

TEST_F(StructureServiceTest, OfficialCodeIsInseeOrLuhnValidSiren) {
  int n = 0;
  for (const char* ok : {"31555", "2A004", "2B033", "542051180"}) {
    EXPECT_THAT(AddTerritory(absl::StrCat("ok", n++), ok), IsOk()) << ok;
  }
  for (const char* bad :
       {"3155", "2C004", "315555", "542051181", "54205118A", "ABCDE"}) {
    const int64_t before = store_->revision();
    ExpectRefused(AddTerritory(absl::StrCat("bad", n++), bad),
                  "territory.official_code", before);
  }
}

TEST_F(StructureServiceTest, TerritoryFieldLimits) {
  v1::CreateTerritoryRequest req;
  req.set_parent(kA);
  req.set_territory_id("t");
  req.mutable_territory()->set_display_name(
      std::string(kMaxTerritoryDisplayNameChars + 1, 'x'));
  req.mutable_territory()->set_kind(v1::Territory::COMMUNE);
  const int64_t before = store_->revision();
  ExpectRefused(territories_->CreateTerritory(admin_, req),
                "territory.display_name", before);
  req.mutable_territory()->set_display_name(
      std::string(kMaxTerritoryDisplayNameChars, 'x'));
  req.mutable_territory()->set_kind(v1::Territory::KIND_UNSPECIFIED);
  ExpectRefused(territories_->CreateTerritory(admin_, req), "territory.kind",
                before);
  req.mutable_territory()->set_kind(v1::Territory::COMMUNE);
  EXPECT_THAT(territories_->CreateTerritory(admin_, req), IsOk());
  req.set_parent("cohorts/absent");
  req.set_territory_id("t2");
  EXPECT_THAT(territories_->CreateTerritory(admin_, req),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(StructureServiceTest, PhaseChangesAreRecordedAndChecked) {
  ASSERT_THAT(members_->CreateMember(admin_, MemberRequest("marie")), IsOk());
  Principal marie =
      MakePrincipal("members/marie", v1::Member::MEMBER, v1::ELU, {kPetr});
  Principal elsewhere = MakePrincipal("members/x", v1::Member::MEMBER, v1::ELU,
                                      {"cohorts/occitanie/territories/other"});
  v1::ChangeTerritoryPhaseRequest req;
  req.set_name(kPetr);
  req.set_phase(v1::Territory::EMERGENCE);
  req.set_note(std::string(kMaxPhaseNoteChars + 1, 'n'));
  const int64_t before = store_->revision();
  ExpectRefused(territories_->ChangeTerritoryPhase(marie, req), "note", before);
  req.set_note(std::string(kMaxPhaseNoteChars, 'n'));
  EXPECT_THAT(territories_->ChangeTerritoryPhase(elsewhere, req),
              StatusIs(absl::StatusCode::kPermissionDenied));
  absl::StatusOr<v1::Territory> moved =
      territories_->ChangeTerritoryPhase(marie, req);
  ASSERT_THAT(moved, IsOk());
  ASSERT_EQ(moved->phase_history_size(), 1);
  EXPECT_EQ(moved->phase_history(0).actor(), "members/marie");
  EXPECT_EQ(moved->phase_history(0).from_phase(),
            v1::Territory::PARTAGE_DES_ENJEUX);
  EXPECT_THAT(
      territories_->ChangeTerritoryPhase(marie, req),
      StatusIs(absl::StatusCode::kFailedPrecondition, kReasonWrongState));
  req.set_phase(v1::Territory::PHASE_UNSPECIFIED);
  EXPECT_THAT(territories_->ChangeTerritoryPhase(marie, req),
              InvalidFieldIs("phase"));
}

TEST_F(StructureServiceTest, MemberFieldLimits) {
  const int64_t before = store_->revision();
  auto req = MemberRequest("m");
  req.mutable_member()->set_given_name(
      std::string(kMaxPersonNameChars + 1, 'g'));
  ExpectRefused(members_->CreateMember(admin_, req), "member.given_name",
                before);
  req = MemberRequest("m");
  req.mutable_member()->set_family_name("");
  ExpectRefused(members_->CreateMember(admin_, req), "member.family_name",
                before);
  req = MemberRequest("m");
  req.mutable_member()->set_organisation(
      std::string(kMaxOrganisationChars + 1, 'o'));
  ExpectRefused(members_->CreateMember(admin_, req), "member.organisation",
                before);
  for (const std::string& bad :
       {std::string(""), std::string("no-at"), std::string("a@b"),
        std::string("a@@b.fr"), std::string("a b@c.fr"), std::string("@c.fr"),
        std::string("a@c.fr."),
        std::string(65, 'a') + "@c.fr",  // local part over 64
        std::string(64, 'a') + "@" + std::string(kMaxEmailLength - 67, 'd') +
            ".fr"}) {  // 255 characters: one past the limit
    req = MemberRequest("m");
    req.mutable_member()->set_email(bad);
    ExpectRefused(members_->CreateMember(admin_, req), "member.email", before);
  }
  req = MemberRequest("m");
  req.mutable_member()->set_email(std::string(64, 'a') + "@" +
                                  std::string(kMaxEmailLength - 68, 'd') +
                                  ".fr");  // 254 characters: at the limit
  ASSERT_EQ(req.member().email().size(), static_cast<size_t>(kMaxEmailLength));
  EXPECT_THAT(members_->CreateMember(admin_, req), IsOk());
}

TEST_F(StructureServiceTest, RoleCollegeAndDelegationsMustAgree) {
  const int64_t before = store_->revision();
  auto req = MemberRequest("m");
  req.mutable_member()->set_college(v1::COLLEGE_UNSPECIFIED);
  ExpectRefused(members_->CreateMember(admin_, req), "member.college", before);
  req = MemberRequest("m");
  req.mutable_member()->set_role(v1::Member::ALLY);
  ExpectRefused(members_->CreateMember(admin_, req), "member.college", before);
  req.mutable_member()->set_college(v1::COLLEGE_UNSPECIFIED);
  ExpectRefused(members_->CreateMember(admin_, req), "member.delegations",
                before);
  req = MemberRequest("m");
  req.mutable_member()->add_cohorts(kA);
  ExpectRefused(members_->CreateMember(admin_, req), "member.cohorts", before);
  req = MemberRequest("m");
  req.mutable_member()->add_delegations("cohorts/occitanie/territories/absent");
  ExpectRefused(members_->CreateMember(admin_, req), "member.delegations",
                before);
  req = MemberRequest("m");
  req.mutable_member()->clear_delegations();
  for (int i = 0; i <= kMaxDelegationsPerMember; ++i) {
    req.mutable_member()->add_delegations(
        absl::StrCat("cohorts/occitanie/territories/t", i));
  }
  ExpectRefused(members_->CreateMember(admin_, req), "member.delegations",
                before);
}

TEST_F(StructureServiceTest, CohortsServedLimit) {
  const int64_t before = store_->revision();
  auto req = MemberRequest("ally");
  req.mutable_member()->set_role(v1::Member::ALLY);
  req.mutable_member()->set_college(v1::COLLEGE_UNSPECIFIED);
  req.mutable_member()->clear_delegations();
  for (int i = 0; i <= kMaxCohortsPerMember; ++i) {
    req.mutable_member()->add_cohorts(absl::StrCat("cohorts/c", i));
  }
  ExpectRefused(members_->CreateMember(admin_, req), "member.cohorts", before);
  req.mutable_member()->clear_cohorts();
  req.mutable_member()->add_cohorts(kA);
  EXPECT_THAT(members_->CreateMember(admin_, req), IsOk());
}

TEST_F(StructureServiceTest, EmailIsUniqueCaseInsensitivelyAndFreedOnChange) {
  ASSERT_THAT(members_->CreateMember(admin_, MemberRequest("a")), IsOk());
  auto b = MemberRequest("b");
  b.mutable_member()->set_email("A@EXAMPLE.ORG");
  EXPECT_THAT(members_->CreateMember(admin_, b),
              StatusIs(absl::StatusCode::kAlreadyExists));
  v1::UpdateMemberRequest update;
  update.mutable_member()->set_name("members/a");
  update.mutable_member()->set_email("new@example.org");
  update.mutable_update_mask()->add_paths("email");
  ASSERT_THAT(members_->UpdateMember(admin_, update), IsOk());
  EXPECT_THAT(members_->CreateMember(admin_, b), IsOk());
}

TEST_F(StructureServiceTest, OnlyTheAdministratorManagesMembersAndTokens) {
  Principal coordinator = MakePrincipal("members/c", v1::Member::COORDINATOR,
                                        v1::COLLEGE_UNSPECIFIED, {}, {kA});
  EXPECT_THAT(members_->CreateMember(coordinator, MemberRequest("m")),
              StatusIs(absl::StatusCode::kPermissionDenied));
  v1::CreateTokenRequest token;
  token.set_parent("members/admin");
  EXPECT_THAT(members_->CreateToken(coordinator, token),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(StructureServiceTest, TokenExpiryAndRequestIdRules) {
  ASSERT_THAT(members_->CreateMember(admin_, MemberRequest("m")), IsOk());
  v1::CreateTokenRequest req;
  req.set_parent("members/m");
  req.set_request_id("retry");
  EXPECT_THAT(members_->CreateToken(admin_, req), InvalidFieldIs("request_id"));
  req.clear_request_id();
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  *req.mutable_expire_time() =
      google::protobuf::util::TimeUtil::SecondsToTimestamp(now - 1);
  EXPECT_THAT(members_->CreateToken(admin_, req),
              InvalidFieldIs("expire_time"));
  *req.mutable_expire_time() =
      google::protobuf::util::TimeUtil::SecondsToTimestamp(
          now + int64_t{kMaxTokenLifetimeDays + 1} * 86400);
  EXPECT_THAT(members_->CreateToken(admin_, req),
              InvalidFieldIs("expire_time"));
  *req.mutable_expire_time() =
      google::protobuf::util::TimeUtil::SecondsToTimestamp(now + 86400);
  absl::StatusOr<v1::CreateTokenResponse> token =
      members_->CreateToken(admin_, req);
  ASSERT_THAT(token, IsOk());
  EXPECT_THAT(token->secret(), ::testing::StartsWith("coh_"));
  req.set_parent("members/absent");
  req.clear_expire_time();
  EXPECT_THAT(members_->CreateToken(admin_, req),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(StructureServiceTest, GroupFieldLimitsAndKinds) {
  const int64_t before = store_->revision();
  v1::CreateGroupRequest req;
  req.set_parent(kA);
  req.set_group_id("g");
  req.mutable_group()->set_kind(v1::PeerGroup::THEMATIC);
  req.mutable_group()->set_display_name(
      std::string(kMaxGroupDisplayNameChars + 1, 'x'));
  ExpectRefused(groups_->CreateGroup(admin_, req), "group.display_name",
                before);
  req.mutable_group()->set_display_name(
      std::string(kMaxGroupDisplayNameChars, 'x'));
  req.mutable_group()->set_description(
      std::string(kMaxGroupDescriptionChars + 1, 'd'));
  ExpectRefused(groups_->CreateGroup(admin_, req), "group.description", before);
  req.mutable_group()->clear_description();
  for (int i = 0; i <= kMaxGroupMembers; ++i) {
    req.mutable_group()->add_members(absl::StrCat("members/m", i));
  }
  ExpectRefused(groups_->CreateGroup(admin_, req), "group.members", before);
  req.mutable_group()->clear_members();
  for (int i = 0; i <= kMaxGroupFacilitators; ++i) {
    req.mutable_group()->add_facilitators(absl::StrCat("members/m", i));
  }
  ExpectRefused(groups_->CreateGroup(admin_, req), "group.facilitators",
                before);
  req.mutable_group()->clear_facilitators();
  req.mutable_group()->add_members("members/absent");
  ExpectRefused(groups_->CreateGroup(admin_, req), "group.members", before);
  req.mutable_group()->clear_members();
  req.mutable_group()->set_kind(v1::PeerGroup::COLLEGE);
  ExpectRefused(groups_->CreateGroup(admin_, req), "group.kind", before);
  req.mutable_group()->set_kind(v1::PeerGroup::DELEGATION);
  ExpectRefused(groups_->CreateGroup(admin_, req), "group.territory", before);
  req.mutable_group()->set_territory(kPetr);
  EXPECT_THAT(groups_->CreateGroup(admin_, req), IsOk());
}

TEST_F(StructureServiceTest, CollegeGroupMembersCannotBeSetByHand) {
  ASSERT_THAT(members_->CreateMember(admin_, MemberRequest("marie")), IsOk());
  v1::SetGroupMembersRequest req;
  req.set_name("cohorts/occitanie/groups/agents");
  req.add_add_members("members/marie");
  EXPECT_THAT(groups_->SetGroupMembers(admin_, req),
              InvalidFieldIs("add_members"));
  // A college group's facilitators belong to that college: an élue cannot
  // facilitate (and so read) the agents' group.
  req.clear_add_members();
  req.add_add_facilitators("members/marie");
  EXPECT_THAT(groups_->SetGroupMembers(admin_, req),
              InvalidFieldIs("add_facilitators"));
  // She can facilitate her own college's group, and is listed once.
  req.set_name("cohorts/occitanie/groups/elus");
  absl::StatusOr<v1::PeerGroup> group = groups_->SetGroupMembers(admin_, req);
  ASSERT_THAT(group, IsOk());
  Principal marie =
      MakePrincipal("members/marie", v1::Member::MEMBER, v1::ELU, {kPetr});
  v1::ListGroupMembersRequest list;
  list.set_name("cohorts/occitanie/groups/elus");
  absl::StatusOr<v1::ListGroupMembersResponse> members =
      groups_->ListGroupMembers(marie, list);
  ASSERT_THAT(members, IsOk());
  EXPECT_THAT(members->members(), ::testing::ElementsAre("members/marie"));
}

}  // namespace
}  // namespace cohorte::service
