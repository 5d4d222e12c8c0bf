// File: tests/service/access_fixture.h
//
// AccessFixture: a small real world for the tests of tokens, invitations,
// the audit log and chantiers. Cohorts `occitanie` (territories `petr`,
// `coteaux`) and `autre` (territory `ailleurs`); members elu-petr,
// agent-petr, elu-coteaux, a coordinator and an ally of occitanie, a
// coordinator of autre, and an élu of autre; principals as the services
// see them.
#ifndef COHORTE_TESTS_SERVICE_ACCESS_FIXTURE_H_
#define COHORTE_TESTS_SERVICE_ACCESS_FIXTURE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/service/access/tokens.h"
#include "storage/store.h"
#include "tests/testing/principals.h"
#include "tests/testing/services.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace cohorte::service {

inline constexpr char kOccitanie[] = "cohorts/occitanie";
inline constexpr char kAutre[] = "cohorts/autre";
inline constexpr char kPetr[] = "cohorts/occitanie/territories/petr";
inline constexpr char kCoteaux[] = "cohorts/occitanie/territories/coteaux";
inline constexpr char kAilleurs[] = "cohorts/autre/territories/ailleurs";

class AccessFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* id : {"occitanie", "autre"}) {
      v1::CreateCohortRequest req;
      req.set_cohort_id(id);
      req.mutable_cohort()->set_display_name(id);
      ASSERT_THAT(services_.cohorts->CreateCohort(admin_, req),
                  ::cohorte::testing::IsOk());
    }
    for (const auto& [parent, id] :
         std::vector<std::pair<std::string, std::string>>{
             {kOccitanie, "petr"},
             {kOccitanie, "coteaux"},
             {kAutre, "ailleurs"}}) {
      v1::CreateTerritoryRequest req;
      req.set_parent(parent);
      req.set_territory_id(id);
      req.mutable_territory()->set_display_name(id);
      req.mutable_territory()->set_kind(v1::Territory::COMMUNE);
      ASSERT_THAT(services_.territories->CreateTerritory(admin_, req),
                  ::cohorte::testing::IsOk());
    }
    AddMember("elu-petr", v1::Member::MEMBER, v1::ELU, kPetr, "");
    AddMember("agent-petr", v1::Member::MEMBER, v1::AGENT, kPetr, "");
    AddMember("elu-coteaux", v1::Member::MEMBER, v1::ELU, kCoteaux, "");
    AddMember("elu-ailleurs", v1::Member::MEMBER, v1::ELU, kAilleurs, "");
    AddMember("coordinator", v1::Member::COORDINATOR, v1::COLLEGE_UNSPECIFIED,
              "", kOccitanie);
    AddMember("coordinator-autre", v1::Member::COORDINATOR,
              v1::COLLEGE_UNSPECIFIED, "", kAutre);
    AddMember("ally", v1::Member::ALLY, v1::COLLEGE_UNSPECIFIED, "",
              kOccitanie);
    // Each arrival in a college group was announced to its members; the
    // fixture's people start with those read.
    for (const auto& [id, p] : who_) {
      v1::MarkInboxReadRequest read;
      read.set_all(true);
      ASSERT_THAT(services_.inbox->MarkInboxRead(p, read),
                  ::cohorte::testing::IsOk());
    }
  }

  void AddMember(const std::string& id, v1::Member::Role role,
                 v1::College college, const std::string& delegation,
                 const std::string& cohort) {
    v1::CreateMemberRequest req;
    req.set_member_id(id);
    v1::Member* m = req.mutable_member();
    m->set_given_name(id);
    m->set_family_name("Test");
    m->set_email(id + "@example.org");
    m->set_role(role);
    m->set_college(college);
    if (!delegation.empty()) m->add_delegations(delegation);
    if (!cohort.empty()) m->add_cohorts(cohort);
    absl::StatusOr<v1::Member> created =
        services_.members->CreateMember(admin_, req);
    ASSERT_THAT(created, ::cohorte::testing::IsOk());
    who_[id] = Principal::FromMember(*created, "tokens/test");
  }

  // A thematic group `club` of occitanie with `members`, made by the
  // coordinator.
  std::string CreateClub(const std::vector<std::string>& members) {
    v1::CreateGroupRequest req;
    req.set_parent(kOccitanie);
    req.set_group_id("club");
    req.mutable_group()->set_display_name("Club sobriété");
    req.mutable_group()->set_kind(v1::PeerGroup::THEMATIC);
    for (const std::string& m : members) req.mutable_group()->add_members(m);
    absl::StatusOr<v1::PeerGroup> g =
        services_.groups->CreateGroup(who("coordinator"), req);
    EXPECT_THAT(g, ::cohorte::testing::IsOk());
    return g.ok() ? g->name() : "";
  }

  // The principal a bearer secret resolves to, through the real
  // Authenticator, now (or at `at`).
  absl::StatusOr<Principal> As(const std::string& secret,
                               absl::Time at = absl::Now()) {
    return Authenticator(store_.get()).Authenticate("Bearer " + secret, at);
  }

  const Principal& who(const std::string& id) { return who_.at(id); }

  const Principal admin_ =
      ::cohorte::testing::MakePrincipal("members/admin", v1::Member::ADMIN);
  ::cohorte::testing::TempDir dir_;
  ::cohorte::testing::Services services_{dir_.path()};
  std::unique_ptr<storage::Store>& store_ = services_.store;
  std::map<std::string, Principal> who_;
};

}  // namespace cohorte::service

#endif  // COHORTE_TESTS_SERVICE_ACCESS_FIXTURE_H_
