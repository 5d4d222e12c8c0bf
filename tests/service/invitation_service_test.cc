// Invitations: the lifecycle (invite, accept once, revoke, expire), who may
// invite whom, the e-mail rules, and every bad input with its field.

#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "storage/codec.h"
#include "storage/keys.h"
#include "tests/service/access_fixture.h"

namespace cohorte::service {
namespace {

using ::cohorte::testing::InvalidFieldIs;
using ::cohorte::testing::IsOk;
using ::cohorte::testing::StatusIs;
using google::protobuf::util::TimeUtil;

class InvitationServiceTest : public AccessFixture {
 protected:
  v1::CreateInvitationRequest Invite(const std::string& email,
                                     v1::College college = v1::ELU) {
    v1::CreateInvitationRequest req;
    req.set_parent(kOccitanie);
    req.mutable_invitation()->set_email(email);
    req.mutable_invitation()->set_role(v1::Member::MEMBER);
    req.mutable_invitation()->set_college(college);
    req.mutable_invitation()->set_territory(kPetr);
    return req;
  }

  v1::AcceptInvitationRequest Accept(const std::string& secret) {
    v1::AcceptInvitationRequest req;
    req.set_secret(secret);
    req.set_given_name("Hélène");
    req.set_family_name("Ébrard");
    req.set_organisation("PETR des Vallées");
    return req;
  }

  // Moves `name`'s expiry into the past, as time passing would.
  void ExpireNow(const std::string& name) {
    storage::Mutation m;
    m.apply = [&](storage::Txn& txn) -> absl::StatusOr<std::string> {
      v1::Invitation inv;
      absl::Status s = txn.GetEntity<v1::Invitation>(name, &inv);
      if (!s.ok()) return s;
      *inv.mutable_expire_time() = TimeUtil::NanosecondsToTimestamp(
          absl::ToUnixNanos(absl::Now() - absl::Seconds(1)));
      txn.PutEntity(inv);
      return std::string();
    };
    ASSERT_THAT(store_->Commit(std::move(m)), IsOk());
  }
};

TEST_F(InvitationServiceTest, AcceptedInvitationMakesAMemberWithAToken) {
  absl::StatusOr<v1::CreateInvitationResponse> invited =
      services_.invitations->CreateInvitation(who("coordinator"),
                                              Invite("helene@example.org"));
  ASSERT_THAT(invited, IsOk());
  EXPECT_EQ(invited->invitation().state(), v1::Invitation::PENDING);
  EXPECT_EQ(invited->invitation().inviter(), "members/coordinator");
  EXPECT_THAT(invited->secret(), ::testing::MatchesRegex("inv_[0-9a-f]{64}"));

  absl::StatusOr<v1::AcceptInvitationResponse> accepted =
      services_.invitations->AcceptInvitation(Accept(invited->secret()));
  ASSERT_THAT(accepted, IsOk());
  EXPECT_EQ(accepted->member().name(), "members/helene-ebrard");
  EXPECT_EQ(accepted->member().email(), "helene@example.org");
  EXPECT_EQ(accepted->member().college(), v1::ELU);
  EXPECT_THAT(accepted->member().delegations(), ::testing::ElementsAre(kPetr));

  // The new élue's token works, and she is in the élus group at once.
  absl::StatusOr<Principal> helene = As(accepted->token().secret());
  ASSERT_THAT(helene, IsOk());
  EXPECT_EQ(helene->member, "members/helene-ebrard");
  v1::ListGroupMembersRequest elus;
  elus.set_name("cohorts/occitanie/groups/elus");
  EXPECT_THAT(services_.groups->ListGroupMembers(*helene, elus), IsOk());

  v1::GetInvitationRequest get;
  get.set_name(invited->invitation().name());
  absl::StatusOr<v1::Invitation> after =
      services_.invitations->GetInvitation(who("coordinator"), get);
  ASSERT_THAT(after, IsOk());
  EXPECT_EQ(after->state(), v1::Invitation::ACCEPTED);
  EXPECT_EQ(after->member(), "members/helene-ebrard");

  // Used once only.
  const int64_t revision = store_->revision();
  EXPECT_THAT(
      services_.invitations->AcceptInvitation(Accept(invited->secret())),
      StatusIs(absl::StatusCode::kFailedPrecondition, kReasonInvitationUsed));
  EXPECT_EQ(store_->revision(), revision);
}

TEST_F(InvitationServiceTest, ASecondPersonOfTheSameNameGetsAnotherId) {
  absl::StatusOr<v1::CreateInvitationResponse> first =
      services_.invitations->CreateInvitation(admin_, Invite("a@example.org"));
  absl::StatusOr<v1::CreateInvitationResponse> second =
      services_.invitations->CreateInvitation(admin_, Invite("b@example.org"));
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second, IsOk());
  absl::StatusOr<v1::AcceptInvitationResponse> a =
      services_.invitations->AcceptInvitation(Accept(first->secret()));
  absl::StatusOr<v1::AcceptInvitationResponse> b =
      services_.invitations->AcceptInvitation(Accept(second->secret()));
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_EQ(a->member().name(), "members/helene-ebrard");
  EXPECT_THAT(b->member().name(),
              ::testing::MatchesRegex("members/helene-ebrard-[0-9a-f]{10}"));
}

TEST_F(InvitationServiceTest, RevokedAndExpiredInvitationsCannotBeAccepted) {
  absl::StatusOr<v1::CreateInvitationResponse> revoked =
      services_.invitations->CreateInvitation(who("coordinator"),
                                              Invite("r@example.org"));
  ASSERT_THAT(revoked, IsOk());
  v1::RevokeInvitationRequest revoke;
  revoke.set_name(revoked->invitation().name());
  ASSERT_THAT(
      services_.invitations->RevokeInvitation(who("coordinator"), revoke),
      IsOk());
  EXPECT_THAT(
      services_.invitations->AcceptInvitation(Accept(revoked->secret())),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               kReasonInvitationRevoked));
  EXPECT_THAT(
      services_.invitations->RevokeInvitation(who("coordinator"), revoke),
      StatusIs(absl::StatusCode::kFailedPrecondition, kReasonWrongState));
  // The e-mail is free again once revoked.
  EXPECT_THAT(services_.invitations->CreateInvitation(who("coordinator"),
                                                      Invite("r@example.org")),
              IsOk());

  absl::StatusOr<v1::CreateInvitationResponse> expiring =
      services_.invitations->CreateInvitation(who("coordinator"),
                                              Invite("e@example.org"));
  ASSERT_THAT(expiring, IsOk());
  ExpireNow(expiring->invitation().name());
  EXPECT_THAT(
      services_.invitations->AcceptInvitation(Accept(expiring->secret())),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               kReasonInvitationExpired));
  v1::GetInvitationRequest get;
  get.set_name(expiring->invitation().name());
  EXPECT_EQ(
      services_.invitations->GetInvitation(who("coordinator"), get)->state(),
      v1::Invitation::EXPIRED);
  // An expired invitation no longer holds its e-mail.
  EXPECT_THAT(services_.invitations->CreateInvitation(who("coordinator"),
                                                      Invite("e@example.org")),
              IsOk());
}

TEST_F(InvitationServiceTest, UnknownOrMalformedSecretsAreNotFound) {
  for (const std::string& secret :
       {std::string(""), std::string("inv_") + std::string(64, '0'),
        std::string("coh_") + std::string(64, '0'), std::string(5000, 'i')}) {
    EXPECT_THAT(
        services_.invitations->AcceptInvitation(Accept(secret)),
        StatusIs(absl::StatusCode::kNotFound, kReasonInvitationUnknown));
  }
}

TEST_F(InvitationServiceTest, OnlyAdminAndTheCohortsCoordinatorsInvite) {
  for (const char* id : {"elu-petr", "ally", "coordinator-autre"}) {
    EXPECT_THAT(services_.invitations->CreateInvitation(
                    who(id), Invite("x@example.org")),
                StatusIs(absl::StatusCode::kPermissionDenied))
        << id;
    v1::ListInvitationsRequest list;
    list.set_parent(kOccitanie);
    EXPECT_THAT(services_.invitations->ListInvitations(who(id), list),
                StatusIs(absl::StatusCode::kPermissionDenied))
        << id;
  }
  // A coordinator invites members and allies, not coordinators.
  v1::CreateInvitationRequest req = Invite("c@example.org");
  req.mutable_invitation()->set_role(v1::Member::COORDINATOR);
  req.mutable_invitation()->clear_college();
  req.mutable_invitation()->clear_territory();
  EXPECT_THAT(services_.invitations->CreateInvitation(who("coordinator"), req),
              StatusIs(absl::StatusCode::kPermissionDenied));
  absl::StatusOr<v1::CreateInvitationResponse> coordinator =
      services_.invitations->CreateInvitation(admin_, req);
  ASSERT_THAT(coordinator, IsOk());
  absl::StatusOr<v1::AcceptInvitationResponse> accepted =
      services_.invitations->AcceptInvitation(Accept(coordinator->secret()));
  ASSERT_THAT(accepted, IsOk());
  EXPECT_THAT(accepted->member().cohorts(), ::testing::ElementsAre(kOccitanie));
}

TEST_F(InvitationServiceTest, EmailsOfMembersAndPendingInvitationsAreTaken) {
  EXPECT_THAT(services_.invitations->CreateInvitation(
                  admin_, Invite("ELU-PETR@example.org")),
              StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_THAT(services_.invitations->CreateInvitation(
                  admin_, Invite("new@example.org")),
              IsOk());
  EXPECT_THAT(services_.invitations->CreateInvitation(
                  who("coordinator"), Invite("New@Example.org")),
              StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_F(InvitationServiceTest,
       ValidateOnlyAnswersAsACreationWouldAndWritesNothing) {
  const int64_t before = store_->revision();
  v1::CreateInvitationRequest req = Invite("valid@example.org");
  req.set_validate_only(true);
  absl::StatusOr<v1::CreateInvitationResponse> would =
      services_.invitations->CreateInvitation(who("coordinator"), req);
  ASSERT_THAT(would, IsOk());
  EXPECT_EQ(would->invitation().name(), "");
  EXPECT_EQ(would->secret(), "");
  EXPECT_EQ(would->invitation().email(), "valid@example.org");
  EXPECT_EQ(would->invitation().state(), v1::Invitation::PENDING);
  // What the server alone knows is checked too: a member's e-mail, a
  // territory that does not exist, a caller who may not invite.
  req = Invite("ELU-PETR@example.org");
  req.set_validate_only(true);
  EXPECT_THAT(services_.invitations->CreateInvitation(admin_, req),
              StatusIs(absl::StatusCode::kAlreadyExists));
  req = Invite("other@example.org");
  req.mutable_invitation()->set_territory(std::string(kOccitanie) +
                                          "/territories/nulle-part");
  req.set_validate_only(true);
  EXPECT_THAT(services_.invitations->CreateInvitation(admin_, req),
              InvalidFieldIs("invitation.territory"));
  req = Invite("other@example.org");
  req.set_validate_only(true);
  EXPECT_THAT(services_.invitations->CreateInvitation(who("agent-petr"), req),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(store_->revision(), before);
  // Nothing is pending: the real creation goes through.
  EXPECT_THAT(services_.invitations->CreateInvitation(
                  admin_, Invite("valid@example.org")),
              IsOk());
}

TEST_F(InvitationServiceTest, AnEmailTakenMeanwhileRefusesTheAcceptance) {
  absl::StatusOr<v1::CreateInvitationResponse> invited =
      services_.invitations->CreateInvitation(admin_,
                                              Invite("late@example.org"));
  ASSERT_THAT(invited, IsOk());
  v1::CreateMemberRequest member;
  member.set_member_id("late");
  member.mutable_member()->set_given_name("Late");
  member.mutable_member()->set_family_name("Comer");
  member.mutable_member()->set_email("late@example.org");
  member.mutable_member()->set_role(v1::Member::ALLY);
  ASSERT_THAT(services_.members->CreateMember(admin_, member), IsOk());
  const int64_t revision = store_->revision();
  EXPECT_THAT(
      services_.invitations->AcceptInvitation(Accept(invited->secret())),
      StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(store_->revision(), revision);
}

TEST_F(InvitationServiceTest, BadInvitationsNameTheirFieldAndWriteNothing) {
  const int64_t before = store_->revision();
  auto refused = [&](const v1::CreateInvitationRequest& req,
                     const std::string& field) {
    EXPECT_THAT(services_.invitations->CreateInvitation(admin_, req),
                InvalidFieldIs(field));
    EXPECT_EQ(store_->revision(), before) << field;
  };
  refused(Invite("not-an-email"), "invitation.email");
  refused(Invite(std::string(kMaxEmailLength, 'a') + "@example.org"),
          "invitation.email");
  refused(Invite("a@example.org", v1::COLLEGE_UNSPECIFIED),
          "invitation.college");
  v1::CreateInvitationRequest req = Invite("a@example.org");
  req.mutable_invitation()->set_territory(kAilleurs);
  refused(req, "invitation.territory");
  req.mutable_invitation()->set_territory(
      "cohorts/occitanie/territories/absent");
  refused(req, "invitation.territory");
  req = Invite("a@example.org");
  req.mutable_invitation()->set_role(v1::Member::ALLY);
  refused(req, "invitation.college");
  req.mutable_invitation()->clear_college();
  refused(req, "invitation.territory");
  req.mutable_invitation()->set_role(v1::Member::ADMIN);
  refused(req, "invitation.role");
  req = Invite("a@example.org");
  *req.mutable_invitation()->mutable_expire_time() =
      TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(
          absl::Now() + absl::Hours(24 * (kMaxInvitationLifetimeDays + 1))));
  refused(req, "invitation.expire_time");
  *req.mutable_invitation()->mutable_expire_time() =
      TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(
          absl::Now() + absl::Hours(24 * kMaxInvitationLifetimeDays - 1)));
  EXPECT_THAT(services_.invitations->CreateInvitation(admin_, req), IsOk());
}

TEST_F(InvitationServiceTest, BadAcceptancesNameTheirFieldAndWriteNothing) {
  absl::StatusOr<v1::CreateInvitationResponse> invited =
      services_.invitations->CreateInvitation(admin_, Invite("n@example.org"));
  ASSERT_THAT(invited, IsOk());
  const int64_t before = store_->revision();
  v1::AcceptInvitationRequest req = Accept(invited->secret());
  req.set_given_name("");
  EXPECT_THAT(services_.invitations->AcceptInvitation(req),
              InvalidFieldIs("given_name"));
  req = Accept(invited->secret());
  req.set_family_name(std::string(kMaxPersonNameChars + 1, 'x'));
  EXPECT_THAT(services_.invitations->AcceptInvitation(req),
              InvalidFieldIs("family_name"));
  req = Accept(invited->secret());
  req.set_organisation(std::string(kMaxOrganisationChars + 1, 'x'));
  EXPECT_THAT(services_.invitations->AcceptInvitation(req),
              InvalidFieldIs("organisation"));
  req = Accept(invited->secret());
  req.set_token_display_name(std::string(kMaxTokenDisplayNameChars + 1, 'x'));
  EXPECT_THAT(services_.invitations->AcceptInvitation(req),
              InvalidFieldIs("token_display_name"));
  EXPECT_EQ(store_->revision(), before);
  // The invitation is still good after all that.
  EXPECT_THAT(
      services_.invitations->AcceptInvitation(Accept(invited->secret())),
      IsOk());
}

}  // namespace
}  // namespace cohorte::service
