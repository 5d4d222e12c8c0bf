// The confidentiality matrix: for every RPC of the API that reads anything,
// for every kind of caller, exactly what comes back. Every RPC declared in
// proto/cohorte/v1/*.proto must be listed here (as a read with its
// expectations, or as a write); adding an RPC without adding it makes
// EveryRpcIsInTheMatrix fail.
//
// The world: cohort `occitanie` with territories `petr` and `coteaux`;
// cohort `autre` with territory `ailleurs`. The élus group of occitanie
// has elu-petr and elu-coteaux; the thematic club has agent-petr and
// acteur-petr. The college groups' content is the test's target: what is
// said there is read by its members and nobody else. Besides: a chantier of
// petr, a pending invitation made by the coordinator, a personal token of
// elu-petr and a READ_WRITE service token scoped to occitanie (the
// "service" caller, resolved through the real Authenticator).

#include <dirent.h>

#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "server/service/access/tokens.h"
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

using ::cohorte::testing::IsOk;
using ::cohorte::testing::MakePrincipal;

constexpr char kA[] = "cohorts/occitanie";
constexpr char kPetr[] = "cohorts/occitanie/territories/petr";
constexpr char kCoteaux[] = "cohorts/occitanie/territories/coteaux";
constexpr char kElus[] = "cohorts/occitanie/groups/elus";
constexpr char kClub[] = "cohorts/occitanie/groups/club";

// The kinds of caller, in the order of every expectation row.
const std::vector<std::string>& Callers() {
  static const auto* callers = new std::vector<std::string>{
      "elu-petr",      // ELU, in the élus group
      "agent-petr",    // AGENT of the same territory, in the club
      "etat-petr",     // ETAT_TERRITORIAL of the same territory
      "acteur-petr",   // ACTEUR_SOCIO_ECONOMIQUE, in the club
      "coordinator",   // coordinates occitanie, member of no group
      "ally",          // serves occitanie, member of no group
      "service",       // READ_WRITE service token scoped to occitanie
      "admin",         // instance administrator
      "elu-ailleurs",  // an élu of another cohort
      "anonymous",     // no principal at all
  };
  return *callers;
}

// An outcome: "OK <what was visible>" or the status code name.
template <typename T>
std::string Outcome(const absl::StatusOr<T>& result,
                    const std::function<std::string(const T&)>& show) {
  if (!result.ok()) return absl::StatusCodeToString(result.status().code());
  return "OK " + show(*result);
}

class ConfidentialityMatrixTest : public ::testing::Test {
 protected:
  void SetUp() override { BuildWorld(); }

  void BuildWorld() {
    const Principal admin = MakePrincipal("members/admin", v1::Member::ADMIN);
    for (const char* id : {"occitanie", "autre"}) {
      v1::CreateCohortRequest req;
      req.set_cohort_id(id);
      req.mutable_cohort()->set_display_name(id);
      ASSERT_THAT(cohorts_->CreateCohort(admin, req), IsOk());
    }
    for (const auto& [parent, id] :
         std::vector<std::pair<std::string, std::string>>{
             {kA, "petr"}, {kA, "coteaux"}, {"cohorts/autre", "ailleurs"}}) {
      v1::CreateTerritoryRequest req;
      req.set_parent(parent);
      req.set_territory_id(id);
      req.mutable_territory()->set_display_name(id);
      req.mutable_territory()->set_kind(v1::Territory::COMMUNE);
      ASSERT_THAT(territories_->CreateTerritory(admin, req), IsOk());
    }
    struct M {
      std::string id;
      v1::Member::Role role;
      v1::College college;
      std::string delegation;
      std::string cohort;
    };
    for (const M& m : std::vector<M>{
             {"admin", v1::Member::ADMIN, v1::COLLEGE_UNSPECIFIED, "", ""},
             {"elu-petr", v1::Member::MEMBER, v1::ELU, kPetr, ""},
             {"agent-petr", v1::Member::MEMBER, v1::AGENT, kPetr, ""},
             {"etat-petr", v1::Member::MEMBER, v1::ETAT_TERRITORIAL, kPetr, ""},
             {"acteur-petr", v1::Member::MEMBER, v1::ACTEUR_SOCIO_ECONOMIQUE,
              kPetr, ""},
             {"elu-coteaux", v1::Member::MEMBER, v1::ELU, kCoteaux, ""},
             {"coordinator", v1::Member::COORDINATOR, v1::COLLEGE_UNSPECIFIED,
              "", kA},
             {"ally", v1::Member::ALLY, v1::COLLEGE_UNSPECIFIED, "", kA},
             {"elu-ailleurs", v1::Member::MEMBER, v1::ELU,
              "cohorts/autre/territories/ailleurs", ""}}) {
      v1::CreateMemberRequest req;
      req.set_member_id(m.id);
      v1::Member* member = req.mutable_member();
      member->set_given_name(m.id);
      member->set_family_name("Test");
      member->set_email(m.id + "@example.org");
      member->set_role(m.role);
      member->set_college(m.college);
      if (!m.delegation.empty()) member->add_delegations(m.delegation);
      if (!m.cohort.empty()) member->add_cohorts(m.cohort);
      absl::StatusOr<v1::Member> created = members_->CreateMember(admin, req);
      ASSERT_THAT(created, IsOk());
      principals_[m.id] = Principal::FromMember(*created, "tokens/x");
    }
    principals_["anonymous"] = Principal();

    v1::CreateGroupRequest club;
    club.set_parent(kA);
    club.set_group_id("club");
    club.mutable_group()->set_display_name("Club sobriété");
    club.mutable_group()->set_kind(v1::PeerGroup::THEMATIC);
    club.mutable_group()->add_members("members/agent-petr");
    club.mutable_group()->add_members("members/acteur-petr");
    ASSERT_THAT(groups_->CreateGroup(admin, club), IsOk());

    v1::CreateChantierRequest chantier;
    chantier.set_parent(kPetr);
    chantier.set_chantier_id("alimentation");
    chantier.mutable_chantier()->set_display_name("Alimentation locale");
    chantier.mutable_chantier()->add_carriers("members/acteur-petr");
    ASSERT_THAT(territories_->CreateChantier(admin, chantier), IsOk());

    v1::CreateInvitationRequest invite;
    invite.set_parent(kA);
    invite.mutable_invitation()->set_email("nouvelle@example.org");
    invite.mutable_invitation()->set_role(v1::Member::MEMBER);
    invite.mutable_invitation()->set_college(v1::AGENT);
    invite.mutable_invitation()->set_territory(kCoteaux);
    absl::StatusOr<v1::CreateInvitationResponse> invited =
        services_.invitations->CreateInvitation(principals_.at("coordinator"),
                                                invite);
    ASSERT_THAT(invited, IsOk());
    invitation_ = invited->invitation().name();

    v1::CreateTokenRequest personal;
    personal.set_parent("members/elu-petr");
    absl::StatusOr<v1::CreateTokenResponse> token =
        members_->CreateToken(admin, personal);
    ASSERT_THAT(token, IsOk());
    elu_token_ = token->name();

    v1::CreateServiceTokenRequest service;
    service.mutable_token()->set_display_name("evaluation tool");
    service.mutable_token()->add_cohorts(kA);
    service.mutable_token()->set_access(v1::Token::READ_WRITE);
    absl::StatusOr<v1::TokenSecret> service_token =
        services_.tokens->CreateServiceToken(admin, service);
    ASSERT_THAT(service_token, IsOk());
    absl::StatusOr<Principal> service_principal =
        Authenticator(store_.get())
            .Authenticate("Bearer " + service_token->secret(), absl::Now());
    ASSERT_THAT(service_principal, IsOk());
    ASSERT_TRUE(service_principal->service);
    principals_["service"] = *service_principal;
    BuildContent();
  }

  // What the cohort says: an exchange in the élus group (with a mention of
  // the agent, who may not read it), one in the club, reports of each
  // visibility and a draft, a session, flags.
  void BuildContent() {
    const Principal& elu = principals_.at("elu-petr");
    v1::CreateExchangeRequest x;
    x.set_parent(kElus);
    x.mutable_exchange()->set_title("Entre nous : la cantine bio");
    x.mutable_exchange()->set_kind(v1::Exchange::QUESTION);
    x.set_first_message("Comment avez-vous convaincu le conseil ?");
    absl::StatusOr<v1::Exchange> elus_exchange =
        services_.exchanges->CreateExchange(elu, x);
    ASSERT_THAT(elus_exchange, IsOk());
    elus_exchange_ = elus_exchange->name();
    v1::PostMessageRequest post;
    post.set_parent(elus_exchange_);
    post.mutable_message()->set_body(
        "Sans passer par les services. @agent-petr ne doit pas le lire.");
    post.mutable_message()->set_reply_to(elus_exchange_ + "/messages/m000001");
    absl::StatusOr<v1::Message> reply =
        services_.exchanges->PostMessage(principals_.at("elu-coteaux"), post);
    ASSERT_THAT(reply, IsOk());
    elus_message_ = reply->name();

    x.set_parent(kClub);
    x.mutable_exchange()->set_title("Club : achats groupés");
    absl::StatusOr<v1::Exchange> club_exchange =
        services_.exchanges->CreateExchange(principals_.at("agent-petr"), x);
    ASSERT_THAT(club_exchange, IsOk());
    club_exchange_ = club_exchange->name();

    auto report = [&](const std::string& id, v1::Visibility visibility,
                      bool publish) {
      v1::CreateReportRequest req;
      req.set_parent(kA);
      req.set_report_id(id);
      v1::ExperienceReport* r = req.mutable_report();
      r->set_title("REX " + id);
      r->set_territory(kPetr);
      r->set_visibility(visibility);
      if (visibility == v1::GROUP) r->set_group(kElus);
      r->add_balises("engagement-6");
      r->add_themes("alimentation");
      r->set_what_failed("deux échecs majeurs");
      ASSERT_THAT(services_.reports->CreateReport(elu, req), IsOk());
      if (!publish) return;
      v1::PublishReportRequest pub;
      pub.set_name(std::string(kA) + "/reports/" + id);
      ASSERT_THAT(services_.reports->PublishReport(elu, pub), IsOk());
    };
    report("cohort", v1::COHORT, true);
    report("draft", v1::COHORT, false);
    report("group", v1::GROUP, true);
    report("network", v1::NETWORK, true);

    v1::CreateSessionRequest session;
    session.set_parent(kA);
    session.set_session_id("voyage");
    v1::Session* sess = session.mutable_session();
    sess->set_kind(v1::Session::VOYAGE_ETUDE);
    sess->set_title("Voyage d'étude");
    *sess->mutable_start_time() =
        google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
            absl::ToUnixNanos(absl::Now() + absl::Hours(240)));
    *sess->mutable_end_time() =
        google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
            absl::ToUnixNanos(absl::Now() + absl::Hours(264)));
    ASSERT_THAT(services_.sessions->CreateSession(principals_.at("coordinator"),
                                                  session),
                IsOk());
    v1::RegisterRequest reg;
    reg.set_session(std::string(kA) + "/sessions/voyage");
    ASSERT_THAT(services_.sessions->Register(elu, reg), IsOk());

    v1::FlagContentRequest flag;
    flag.set_parent(kA);
    flag.mutable_flag()->set_target(elus_message_);
    flag.mutable_flag()->set_reason(v1::ContentFlag::CONFIDENTIALITY);
    ASSERT_THAT(services_.moderation->FlagContent(elu, flag), IsOk());
    flag.mutable_flag()->set_target(std::string(kA) + "/reports/cohort");
    flag.mutable_flag()->set_reason(v1::ContentFlag::OTHER);
    ASSERT_THAT(
        services_.moderation->FlagContent(principals_.at("agent-petr"), flag),
        IsOk());
  }

  // Calls `rpc` as every caller and compares with `expected` (one entry per
  // caller of Callers(), in order).
  void ExpectMatrix(const std::string& rpc,
                    const std::function<std::string(const Principal&)>& call,
                    const std::vector<std::string>& expected) {
    ASSERT_EQ(expected.size(), Callers().size()) << rpc;
    covered_.insert(rpc);
    for (size_t i = 0; i < Callers().size(); ++i) {
      EXPECT_EQ(call(principals_.at(Callers()[i])), expected[i])
          << rpc << " as " << Callers()[i];
    }
  }

  // Each runs the matrix rows of one service.
  void CheckCohortReads();
  void CheckTerritoryReads();
  void CheckMemberReads();
  void CheckGroupReads();
  void CheckChantierReads();
  void CheckInvitationReads();
  void CheckTokenReads();
  void CheckAuditReads();
  void CheckExchangeReads();
  void CheckReportReads();
  void CheckSessionReads();
  void CheckInboxAndModerationReads();

  ::cohorte::testing::TempDir dir_;
  ::cohorte::testing::Services services_{dir_.path()};
  std::unique_ptr<storage::Store>& store_ = services_.store;
  CohortService* cohorts_ = services_.cohorts;
  MemberService* members_ = services_.members;
  TerritoryService* territories_ = services_.territories;
  GroupService* groups_ = services_.groups;
  std::map<std::string, Principal> principals_;
  std::string invitation_;
  std::string elu_token_;
  std::string elus_exchange_, elus_message_, club_exchange_;
  // The RPCs whose rows ran.
  std::set<std::string> covered_;
};

constexpr char kDenied[] = "PERMISSION_DENIED";

// Reads ---------------------------------------------------------------------

void ConfidentialityMatrixTest::CheckCohortReads() {
  ExpectMatrix(
      "CohortService.GetCohort",
      [&](const Principal& p) {
        v1::GetCohortRequest req;
        req.set_name(kA);
        return Outcome<v1::Cohort>(
            cohorts_->GetCohort(p, req),
            [](const v1::Cohort& c) { return c.name(); });
      },
      {"OK cohorts/occitanie", "OK cohorts/occitanie", "OK cohorts/occitanie",
       "OK cohorts/occitanie", "OK cohorts/occitanie", "OK cohorts/occitanie",
       "OK cohorts/occitanie", "OK cohorts/occitanie", "OK cohorts/occitanie",
       kDenied});
  ExpectMatrix(
      "CohortService.ListCohorts",
      [&](const Principal& p) {
        return Outcome<v1::ListCohortsResponse>(
            cohorts_->ListCohorts(p, {}), [](const v1::ListCohortsResponse& r) {
              return std::to_string(r.cohorts_size());
            });
      },
      {"OK 2", "OK 2", "OK 2", "OK 2", "OK 2", "OK 2", "OK 2", "OK 2", "OK 2",
       kDenied});
}

void ConfidentialityMatrixTest::CheckTerritoryReads() {
  ExpectMatrix("TerritoryService.GetTerritory",
               [&](const Principal& p) {
                 v1::GetTerritoryRequest req;
                 req.set_name(kPetr);
                 return Outcome<v1::Territory>(
                     territories_->GetTerritory(p, req),
                     [](const v1::Territory& t) { return t.name(); });
               },
               {"OK " + std::string(kPetr), "OK " + std::string(kPetr),
                "OK " + std::string(kPetr), "OK " + std::string(kPetr),
                "OK " + std::string(kPetr), "OK " + std::string(kPetr),
                "OK " + std::string(kPetr), "OK " + std::string(kPetr), kDenied,
                kDenied});
  ExpectMatrix("TerritoryService.ListTerritories",
               [&](const Principal& p) {
                 v1::ListTerritoriesRequest req;
                 req.set_parent(kA);
                 return Outcome<v1::ListTerritoriesResponse>(
                     territories_->ListTerritories(p, req),
                     [](const v1::ListTerritoriesResponse& r) {
                       return std::to_string(r.territories_size());
                     });
               },
               {"OK 2", "OK 2", "OK 2", "OK 2", "OK 2", "OK 2", "OK 2", "OK 2",
                kDenied, kDenied});
}

void ConfidentialityMatrixTest::CheckMemberReads() {
  // What is visible of elu-petr: their name, and the e-mail only for self,
  // admin and the cohort's coordinator.
  ExpectMatrix(
      "MemberService.GetMember",
      [&](const Principal& p) {
        v1::GetMemberRequest req;
        req.set_name("members/elu-petr");
        return Outcome<v1::Member>(members_->GetMember(p, req),
                                   [](const v1::Member& m) {
                                     return m.name() + " email=" + m.email();
                                   });
      },
      {"OK members/elu-petr email=elu-petr@example.org",
       "OK members/elu-petr email=", "OK members/elu-petr email=",
       "OK members/elu-petr email=",
       "OK members/elu-petr email=elu-petr@example.org",
       "OK members/elu-petr email=", "OK members/elu-petr email=",
       "OK members/elu-petr email=elu-petr@example.org", kDenied, kDenied});
  ExpectMatrix(
      "MemberService.ListMembers",
      [&](const Principal& p) {
        return Outcome<v1::ListMembersResponse>(
            members_->ListMembers(p, {}), [](const v1::ListMembersResponse& r) {
              int emails = 0;
              for (const auto& m : r.members()) emails += !m.email().empty();
              return absl::StrCat(r.members_size(), " emails=", emails);
            });
      },
      // occitanie has 7 participants; admin sees all 9 members; the élu of
      // the other cohort sees only themself; the service token sees the
      // participants of its cohort and no e-mail.
      {"OK 7 emails=1", "OK 7 emails=1", "OK 7 emails=1", "OK 7 emails=1",
       "OK 7 emails=7", "OK 7 emails=1", "OK 7 emails=0", "OK 9 emails=9",
       "OK 1 emails=1", kDenied});
}

void ConfidentialityMatrixTest::CheckGroupReads() {
  ExpectMatrix("GroupService.GetGroup",
               [&](const Principal& p) {
                 v1::GetGroupRequest req;
                 req.set_name(kClub);
                 return Outcome<v1::PeerGroup>(
                     groups_->GetGroup(p, req), [](const v1::PeerGroup& g) {
                       return absl::StrCat(g.name(), " members=",
                                           absl::StrJoin(g.members(), ","));
                     });
               },
               {"OK cohorts/occitanie/groups/club members=",
                "OK cohorts/occitanie/groups/club "
                "members=members/acteur-petr,members/agent-petr",
                "OK cohorts/occitanie/groups/club members=",
                "OK cohorts/occitanie/groups/club "
                "members=members/acteur-petr,members/agent-petr",
                "OK cohorts/occitanie/groups/club members=",
                "OK cohorts/occitanie/groups/club members=",
                "OK cohorts/occitanie/groups/club members=",
                "OK cohorts/occitanie/groups/club members=", kDenied, kDenied});
  ExpectMatrix(
      "GroupService.ListGroups",
      [&](const Principal& p) {
        v1::ListGroupsRequest req;
        req.set_parent(kA);
        return Outcome<v1::ListGroupsResponse>(
            groups_->ListGroups(p, req), [](const v1::ListGroupsResponse& r) {
              int listed = 0;
              for (const auto& g : r.groups()) listed += g.members_size();
              return absl::StrCat(r.groups_size(), " members=", listed);
            });
      },
      {"OK 5 members=0", "OK 5 members=2", "OK 5 members=0", "OK 5 members=2",
       "OK 5 members=0", "OK 5 members=0", "OK 5 members=0", "OK 5 members=0",
       kDenied, kDenied});
  auto list_members = [&](const char* group) {
    return [this, group](const Principal& p) {
      v1::ListGroupMembersRequest req;
      req.set_name(group);
      return Outcome<v1::ListGroupMembersResponse>(
          groups_->ListGroupMembers(p, req),
          [](const v1::ListGroupMembersResponse& r) {
            return absl::StrJoin(r.members(), ",");
          });
    };
  };
  // The élus group: its members only. Not the agent of the same territory,
  // not the coordinator, not the ally, not a service token, not the
  // administrator.
  ExpectMatrix("GroupService.ListGroupMembers", list_members(kElus),
               {"OK members/elu-coteaux,members/elu-petr", kDenied, kDenied,
                kDenied, kDenied, kDenied, kDenied, kDenied, kDenied, kDenied});
  ExpectMatrix("GroupService.ListGroupMembers (club)", list_members(kClub),
               {kDenied, "OK members/acteur-petr,members/agent-petr", kDenied,
                "OK members/acteur-petr,members/agent-petr", kDenied, kDenied,
                kDenied, kDenied, kDenied, kDenied});
}

void ConfidentialityMatrixTest::CheckChantierReads() {
  const std::string chantier = std::string(kPetr) + "/chantiers/alimentation";
  const std::string ok = "OK " + chantier;
  ExpectMatrix("TerritoryService.GetChantier",
               [&](const Principal& p) {
                 v1::GetChantierRequest req;
                 req.set_name(chantier);
                 return Outcome<v1::Chantier>(
                     territories_->GetChantier(p, req),
                     [](const v1::Chantier& c) { return c.name(); });
               },
               {ok, ok, ok, ok, ok, ok, ok, ok, kDenied, kDenied});
  ExpectMatrix("TerritoryService.ListChantiers",
               [&](const Principal& p) {
                 v1::ListChantiersRequest req;
                 req.set_parent(kPetr);
                 return Outcome<v1::ListChantiersResponse>(
                     territories_->ListChantiers(p, req),
                     [](const v1::ListChantiersResponse& r) {
                       return std::to_string(r.chantiers_size());
                     });
               },
               {"OK 1", "OK 1", "OK 1", "OK 1", "OK 1", "OK 1", "OK 1", "OK 1",
                kDenied, kDenied});
}

void ConfidentialityMatrixTest::CheckInvitationReads() {
  // Invitations (e-mails of people not yet in the cohort): the
  // administrator and the cohort's coordinators only.
  ExpectMatrix("InvitationService.GetInvitation",
               [&](const Principal& p) {
                 v1::GetInvitationRequest req;
                 req.set_name(invitation_);
                 return Outcome<v1::Invitation>(
                     services_.invitations->GetInvitation(p, req),
                     [](const v1::Invitation& i) { return i.email(); });
               },
               {kDenied, kDenied, kDenied, kDenied, "OK nouvelle@example.org",
                kDenied, kDenied, "OK nouvelle@example.org", kDenied, kDenied});
  ExpectMatrix("InvitationService.ListInvitations",
               [&](const Principal& p) {
                 v1::ListInvitationsRequest req;
                 req.set_parent(kA);
                 return Outcome<v1::ListInvitationsResponse>(
                     services_.invitations->ListInvitations(p, req),
                     [](const v1::ListInvitationsResponse& r) {
                       return std::to_string(r.invitations_size());
                     });
               },
               {kDenied, kDenied, kDenied, kDenied, "OK 1", kDenied, kDenied,
                "OK 1", kDenied, kDenied});
}

void ConfidentialityMatrixTest::CheckTokenReads() {
  // A token is read by the administrator and by the member it acts for;
  // never its secret (the API has no field for it outside creation).
  ExpectMatrix("TokenService.GetToken",
               [&](const Principal& p) {
                 v1::GetTokenRequest req;
                 req.set_name(elu_token_);
                 return Outcome<v1::Token>(
                     services_.tokens->GetToken(p, req),
                     [](const v1::Token& t) { return t.member(); });
               },
               {"OK members/elu-petr", kDenied, kDenied, kDenied, kDenied,
                kDenied, kDenied, "OK members/elu-petr", kDenied, kDenied});
  // Each caller lists their own tokens; the administrator lists all.
  ExpectMatrix("TokenService.ListTokens",
               [&](const Principal& p) {
                 return Outcome<v1::ListTokensResponse>(
                     services_.tokens->ListTokens(p, {}),
                     [](const v1::ListTokensResponse& r) {
                       return std::to_string(r.tokens_size());
                     });
               },
               {"OK 1", "OK 0", "OK 0", "OK 0", "OK 0", "OK 0", kDenied, "OK 2",
                "OK 0", kDenied});
}

void ConfidentialityMatrixTest::CheckAuditReads() {
  // The cohort's audit log: the administrator and its coordinators. Group
  // snapshots in it show no member list to readers outside the group.
  ExpectMatrix("AuditService.ListAuditEvents",
               [&](const Principal& p) {
                 v1::ListAuditEventsRequest req;
                 req.set_parent(kA);
                 return Outcome<v1::ListAuditEventsResponse>(
                     services_.audit->ListAuditEvents(p, req),
                     [](const v1::ListAuditEventsResponse& r) {
                       int group_members = 0;
                       for (const auto& e : r.events()) {
                         for (const auto& c : e.changes()) {
                           v1::PeerGroup g;
                           if (c.after().UnpackTo(&g))
                             group_members += g.members_size();
                         }
                       }
                       return absl::StrCat(r.events_size(),
                                           " group_members=", group_members);
                     });
               },
               {kDenied, kDenied, kDenied, kDenied, "OK 12 group_members=0",
                kDenied, kDenied, "OK 12 group_members=0", kDenied, kDenied});
  ExpectMatrix("AuditService.ListAuditEvents (instance)",
               [&](const Principal& p) {
                 return Outcome<v1::ListAuditEventsResponse>(
                     services_.audit->ListAuditEvents(p, {}),
                     [](const v1::ListAuditEventsResponse& r) {
                       return std::to_string(r.events_size());
                     });
               },
               {kDenied, kDenied, kDenied, kDenied, kDenied, kDenied, kDenied,
                "OK 15", kDenied, kDenied});
}

void ConfidentialityMatrixTest::CheckExchangeReads() {
  ExpectMatrix("ReferentielService.GetReferentiel",
               [&](const Principal& p) {
                 return Outcome<v1::Referentiel>(
                     services_.referentiel.GetReferentiel(p, {}),
                     [](const v1::Referentiel& r) {
                       return std::to_string(r.fundamentals_size());
                     });
               },
               {"OK 4", "OK 4", "OK 4", "OK 4", "OK 4", "OK 4", "OK 4", "OK 4",
                "OK 4", kDenied});
  // The élus group's exchange: élus only. elu-coteaux (who wrote in it) is
  // not a caller of the matrix; elu-petr stands for the élus.
  const std::vector<std::string> elus_only = {
      "OK",    kDenied, kDenied, kDenied, kDenied,
      kDenied, kDenied, kDenied, kDenied, kDenied};
  ExpectMatrix(
      "ExchangeService.GetExchange",
      [&](const Principal& p) {
        v1::GetExchangeRequest req;
        req.set_name(elus_exchange_);
        absl::StatusOr<v1::Exchange> r =
            services_.exchanges->GetExchange(p, req);
        return r.ok() ? "OK" : absl::StatusCodeToString(r.status().code());
      },
      elus_only);
  ExpectMatrix("ExchangeService.ListExchanges",
               [&](const Principal& p) {
                 v1::ListExchangesRequest req;
                 req.set_parent(kElus);
                 return Outcome<v1::ListExchangesResponse>(
                     services_.exchanges->ListExchanges(p, req),
                     [](const v1::ListExchangesResponse& r) {
                       return absl::StrCat(r.exchanges_size(), " unread=",
                                           r.exchanges(0).unread_count());
                     });
               },
               {"OK 1 unread=2", kDenied, kDenied, kDenied, kDenied, kDenied,
                kDenied, kDenied, kDenied, kDenied});
  ExpectMatrix("ExchangeService.ListExchanges (club)",
               [&](const Principal& p) {
                 v1::ListExchangesRequest req;
                 req.set_parent(kClub);
                 return Outcome<v1::ListExchangesResponse>(
                     services_.exchanges->ListExchanges(p, req),
                     [](const v1::ListExchangesResponse& r) {
                       return std::to_string(r.exchanges_size());
                     });
               },
               {kDenied, "OK 1", kDenied, "OK 1", kDenied, kDenied, kDenied,
                kDenied, kDenied, kDenied});
  ExpectMatrix(
      "ExchangeService.GetMessage",
      [&](const Principal& p) {
        v1::GetMessageRequest req;
        req.set_name(elus_message_);
        absl::StatusOr<v1::Message> r = services_.exchanges->GetMessage(p, req);
        return r.ok() ? "OK" : absl::StatusCodeToString(r.status().code());
      },
      elus_only);
  ExpectMatrix("ExchangeService.ListMessages",
               [&](const Principal& p) {
                 v1::ListMessagesRequest req;
                 req.set_parent(elus_exchange_);
                 return Outcome<v1::ListMessagesResponse>(
                     services_.exchanges->ListMessages(p, req),
                     [](const v1::ListMessagesResponse& r) {
                       return std::to_string(r.messages_size());
                     });
               },
               {"OK 2", kDenied, kDenied, kDenied, kDenied, kDenied, kDenied,
                kDenied, kDenied, kDenied});
}

void ConfidentialityMatrixTest::CheckReportReads() {
  auto get = [&](const char* id) {
    return [this, id](const Principal& p) {
      v1::GetReportRequest req;
      req.set_name(std::string(kA) + "/reports/" + id);
      absl::StatusOr<v1::ExperienceReport> r =
          services_.reports->GetReport(p, req);
      return r.ok() ? "OK" : absl::StatusCodeToString(r.status().code());
    };
  };
  ExpectMatrix(
      "ReportService.GetReport", get("cohort"),
      {"OK", "OK", "OK", "OK", "OK", "OK", "OK", "OK", kDenied, kDenied});
  // A draft: its authors only; a GROUP report: the group's members only.
  ExpectMatrix("ReportService.GetReport (draft)", get("draft"),
               {"OK", kDenied, kDenied, kDenied, kDenied, kDenied, kDenied,
                kDenied, kDenied, kDenied});
  ExpectMatrix("ReportService.GetReport (group)", get("group"),
               {"OK", kDenied, kDenied, kDenied, kDenied, kDenied, kDenied,
                kDenied, kDenied, kDenied});
  ExpectMatrix("ReportService.GetReport (network)", get("network"),
               {"OK", "OK", "OK", "OK", "OK", "OK", "OK", "OK", "OK", kDenied});
  auto list = [&](const std::string& parent, const std::string& balise) {
    return [this, parent, balise](const Principal& p) {
      v1::ListReportsRequest req;
      req.set_parent(parent);
      req.set_balise(balise);
      return Outcome<v1::ListReportsResponse>(
          services_.reports->ListReports(p, req),
          [](const v1::ListReportsResponse& r) {
            std::string ids;
            for (const auto& x : r.reports()) {
              ids += x.name().substr(x.name().rfind('/') + 1) + " ";
            }
            return ids;
          });
    };
  };
  const std::vector<std::string> listed = {"OK cohort draft group network ",
                                           "OK cohort network ",
                                           "OK cohort network ",
                                           "OK cohort network ",
                                           "OK cohort network ",
                                           "OK cohort network ",
                                           "OK cohort network ",
                                           "OK cohort network ",
                                           "OK network ",
                                           kDenied};
  ExpectMatrix("ReportService.ListReports", list(kA, ""), listed);
  ExpectMatrix("ReportService.ListReports (all cohorts, by balise)",
               list("cohorts/-", "engagement-6"), listed);
}

void ConfidentialityMatrixTest::CheckSessionReads() {
  const std::string voyage = std::string(kA) + "/sessions/voyage";
  ExpectMatrix(
      "SessionService.GetSession",
      [&](const Principal& p) {
        v1::GetSessionRequest req;
        req.set_name(voyage);
        absl::StatusOr<v1::Session> r = services_.sessions->GetSession(p, req);
        return r.ok() ? absl::StrCat("OK registered=", r->registered_count())
                      : absl::StatusCodeToString(r.status().code());
      },
      {"OK registered=1", "OK registered=1", "OK registered=1",
       "OK registered=1", "OK registered=1", "OK registered=1",
       "OK registered=1", "OK registered=1", kDenied, kDenied});
  ExpectMatrix("SessionService.ListSessions",
               [&](const Principal& p) {
                 v1::ListSessionsRequest req;
                 req.set_parent(kA);
                 return Outcome<v1::ListSessionsResponse>(
                     services_.sessions->ListSessions(p, req),
                     [](const v1::ListSessionsResponse& r) {
                       return std::to_string(r.sessions_size());
                     });
               },
               {"OK 1", "OK 1", "OK 1", "OK 1", "OK 1", "OK 1", "OK 1", "OK 1",
                kDenied, kDenied});
  ExpectMatrix("SessionService.ListUpcomingSessions",
               [&](const Principal& p) {
                 return Outcome<v1::ListUpcomingSessionsResponse>(
                     services_.sessions->ListUpcomingSessions(p, {}),
                     [](const v1::ListUpcomingSessionsResponse& r) {
                       return absl::StrCat(r.sessions_size(), " registered=",
                                           r.registrations_size());
                     });
               },
               {"OK 1 registered=1", "OK 1 registered=0", "OK 1 registered=0",
                "OK 1 registered=0", "OK 1 registered=0", "OK 1 registered=0",
                kDenied, "OK 0 registered=0", "OK 0 registered=0", kDenied});
  ExpectMatrix("SessionService.ListRegistrations",
               [&](const Principal& p) {
                 v1::ListRegistrationsRequest req;
                 req.set_session(voyage);
                 return Outcome<v1::ListRegistrationsResponse>(
                     services_.sessions->ListRegistrations(p, req),
                     [](const v1::ListRegistrationsResponse& r) {
                       return std::to_string(r.registrations_size());
                     });
               },
               {kDenied, kDenied, kDenied, kDenied, "OK 1", kDenied, kDenied,
                "OK 1", kDenied, kDenied});
}

void ConfidentialityMatrixTest::CheckInboxAndModerationReads() {
  // Each inbox: its items, and how many come from the élus group. Only
  // élus get any (elu-petr also heard that elu-coteaux joined the group);
  // the agent's mention in the élus group reached nobody.
  ExpectMatrix(
      "InboxService.ListInbox",
      [&](const Principal& p) {
        return Outcome<v1::ListInboxResponse>(
            services_.inbox->ListInbox(p, {}),
            [](const v1::ListInboxResponse& r) {
              int elus = 0;
              for (const auto& item : r.items()) {
                elus +=
                    item.resource().find("/groups/elus") != std::string::npos ||
                    item.resource().find("/reports/group") != std::string::npos;
              }
              return absl::StrCat(r.items_size(), " unread=", r.unread_count(),
                                  " elus=", elus);
            });
      },
      {"OK 3 unread=3 elus=2", "OK 3 unread=3 elus=0", "OK 3 unread=3 elus=0",
       "OK 3 unread=3 elus=0", "OK 2 unread=2 elus=0", "OK 3 unread=3 elus=0",
       kDenied, "OK 0 unread=0 elus=0", "OK 0 unread=0 elus=0", kDenied});
  ExpectMatrix("InboxService.ListFollows",
               [&](const Principal& p) {
                 return Outcome<v1::ListFollowsResponse>(
                     services_.inbox->ListFollows(p, {}),
                     [](const v1::ListFollowsResponse& r) {
                       return std::to_string(r.targets_size());
                     });
               },
               {"OK 0", "OK 0", "OK 0", "OK 0", "OK 0", "OK 0", kDenied, "OK 0",
                "OK 0", kDenied});
  // The queue: the flag on the élus message is seen by nobody here (the
  // coordinator is not in the group); the coordinator sees the report's.
  ExpectMatrix(
      "ModerationService.ListFlags",
      [&](const Principal& p) {
        v1::ListFlagsRequest req;
        req.set_parent(kA);
        return Outcome<v1::ListFlagsResponse>(
            services_.moderation->ListFlags(p, req),
            [](const v1::ListFlagsResponse& r) {
              std::string targets;
              for (const auto& f : r.flags()) targets += f.target();
              return targets;
            });
      },
      {"OK ", "OK ", "OK ", "OK ", "OK cohorts/occitanie/reports/cohort", "OK ",
       kDenied, kDenied, kDenied, kDenied});
}

// A closed group stays closed when its content is asked for through an
// absent group name too: same answer for outsiders as for a real group.
TEST_F(ConfidentialityMatrixTest, OutsidersCannotTellWhetherAGroupExists) {
  for (const char* who : {"elu-ailleurs", "anonymous"}) {
    for (const char* name :
         {kElus, "cohorts/occitanie/groups/does-not-exist"}) {
      v1::ListGroupMembersRequest req;
      req.set_name(name);
      EXPECT_EQ(
          groups_->ListGroupMembers(principals_.at(who), req).status().code(),
          absl::StatusCode::kPermissionDenied)
          << who << " " << name;
    }
  }
}

// Membership follows a member's college and delegation: leaving the
// delegation (or changing college) removes access at once.
TEST_F(ConfidentialityMatrixTest, CollegeGroupFollowsCollegeAndDelegation) {
  const Principal admin = principals_.at("admin");
  v1::ListGroupMembersRequest list;
  list.set_name(kElus);

  v1::UpdateMemberRequest update;
  update.mutable_member()->set_name("members/agent-petr");
  update.mutable_member()->set_college(v1::ELU);
  update.mutable_update_mask()->add_paths("college");
  absl::StatusOr<v1::Member> became_elu = members_->UpdateMember(admin, update);
  ASSERT_THAT(became_elu, IsOk());
  Principal now_elu = Principal::FromMember(*became_elu, "tokens/x");
  EXPECT_THAT(groups_->ListGroupMembers(now_elu, list), IsOk());

  update.mutable_member()->clear_college();
  update.mutable_member()->set_college(v1::ELU);
  update.mutable_update_mask()->Clear();
  update.mutable_update_mask()->add_paths("delegations");
  update.mutable_member()->add_delegations(
      "cohorts/autre/territories/ailleurs");
  absl::StatusOr<v1::Member> moved = members_->UpdateMember(admin, update);
  ASSERT_THAT(moved, IsOk());
  Principal left = Principal::FromMember(*moved, "tokens/x");
  EXPECT_EQ(groups_->ListGroupMembers(left, list).status().code(),
            absl::StatusCode::kPermissionDenied);
  // And the remaining members no longer see them listed.
  absl::StatusOr<v1::ListGroupMembersResponse> remaining =
      groups_->ListGroupMembers(principals_.at("elu-petr"), list);
  ASSERT_THAT(remaining, IsOk());
  EXPECT_THAT(
      remaining->members(),
      ::testing::ElementsAre("members/elu-coteaux", "members/elu-petr"));
}

// Nobody joins a closed group by role: the administrator cannot be added.
TEST_F(ConfidentialityMatrixTest, AdministratorCannotBeAddedToAGroup) {
  v1::SetGroupMembersRequest req;
  req.set_name(kClub);
  req.add_add_members("members/admin");
  EXPECT_THAT(groups_->SetGroupMembers(principals_.at("admin"), req),
              ::cohorte::testing::InvalidFieldIs("add_members"));
  req.clear_add_members();
  req.add_add_members("members/elu-ailleurs");  // another cohort's
  EXPECT_THAT(groups_->SetGroupMembers(principals_.at("coordinator"), req),
              ::cohorte::testing::InvalidFieldIs("add_members"));
}

// Writes are access-checked by their own tests; they are listed so that
// the matrix knows every RPC.
const std::set<std::string>& Writes() {
  static const auto* writes = new std::set<std::string>{
      "CohortService.CreateCohort",
      "CohortService.UpdateCohort",
      "CohortService.DeleteCohort",
      "CohortService.UndeleteCohort",
      "CohortService.ArchiveCohort",
      "CohortService.UnarchiveCohort",
      "MemberService.CreateMember",
      "MemberService.UpdateMember",
      "MemberService.CreateToken",
      "TerritoryService.CreateTerritory",
      "TerritoryService.UpdateTerritory",
      "TerritoryService.ChangeTerritoryPhase",
      "GroupService.CreateGroup",
      "GroupService.SetGroupMembers",
      "TerritoryService.CreateChantier",
      "TerritoryService.UpdateChantier",
      "TokenService.CreateServiceToken",
      "TokenService.RevokeToken",
      "TokenService.RotateToken",
      "InvitationService.CreateInvitation",
      "InvitationService.RevokeInvitation",
      "InvitationService.AcceptInvitation",
      "ExchangeService.CreateExchange",
      "ExchangeService.UpdateExchange",
      "ExchangeService.PostMessage",
      "ExchangeService.EditMessage",
      "ExchangeService.DeleteMessage",
      "ExchangeService.UndeleteMessage",
      "ExchangeService.MarkExchangeRead",
      "InboxService.MarkInboxRead",
      "InboxService.Follow",
      "InboxService.Unfollow",
      "ReportService.CreateReport",
      "ReportService.UpdateReport",
      "ReportService.PublishReport",
      "ReportService.ArchiveReport",
      "SessionService.CreateSession",
      "SessionService.UpdateSession",
      "SessionService.Register",
      "SessionService.CancelRegistration",
      "SessionService.RecordAttendance",
      "ModerationService.FlagContent",
      "ModerationService.HideContent",
      "ModerationService.UnhideContent",
      "ModerationService.DismissFlag",
  };
  return *writes;
}

// Every `rpc X(` of every `service S {` in the project's protos.
std::set<std::string> DeclaredRpcs() {
  std::set<std::string> rpcs;
  const std::string dir = std::string(COHORTE_PROTO_DIR) + "/cohorte/v1";
  DIR* d = opendir(dir.c_str());
  EXPECT_NE(d, nullptr) << dir;
  if (d == nullptr) return rpcs;
  const std::regex service_re(R"(^service\s+(\w+))");
  const std::regex rpc_re(R"(^\s*rpc\s+(\w+)\s*\()");
  while (dirent* e = readdir(d)) {
    std::string file = e->d_name;
    if (file.size() < 6 || file.substr(file.size() - 6) != ".proto") continue;
    std::ifstream in(dir + "/" + file);
    std::string line, service;
    std::smatch m;
    while (std::getline(in, line)) {
      if (std::regex_search(line, m, service_re)) service = m[1];
      if (std::regex_search(line, m, rpc_re))
        rpcs.insert(service + "." + m[1].str());
    }
  }
  closedir(d);
  return rpcs;
}

// Every read RPC as every kind of caller; then every RPC the protos declare
// must have been covered here or be listed as a write.
TEST_F(ConfidentialityMatrixTest,
       EveryRpcAsEveryCallerReturnsExactlyWhatItMay) {
  CheckCohortReads();
  CheckTerritoryReads();
  CheckMemberReads();
  CheckGroupReads();
  CheckChantierReads();
  CheckInvitationReads();
  CheckTokenReads();
  CheckAuditReads();
  CheckExchangeReads();
  CheckReportReads();
  CheckSessionReads();
  CheckInboxAndModerationReads();

  const std::set<std::string> declared = DeclaredRpcs();
  ASSERT_GE(declared.size(), 20u);  // the scan found the protos
  for (const std::string& rpc : declared) {
    const bool read = covered_.count(rpc) > 0;
    const bool write = Writes().count(rpc) > 0;
    EXPECT_TRUE(read || write)
        << rpc << " is not in the confidentiality matrix: add its "
        << "expectations for every kind of caller";
    EXPECT_FALSE(read && write) << rpc;
  }
}

}  // namespace
}  // namespace cohorte::service
