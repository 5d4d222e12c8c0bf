// Service tokens and token management: scopes, read vs read-write, expiry,
// revocation and rotation taking effect on the very next call, who may
// manage which token, and every limit with the field named.

#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "tests/service/access_fixture.h"
#include "tests/testing/raw_access.h"

namespace cohorte::service {
namespace {

using ::cohorte::testing::InvalidFieldIs;
using ::cohorte::testing::IsOk;
using ::cohorte::testing::StatusIs;
using google::protobuf::util::TimeUtil;

class TokenServiceTest : public AccessFixture {
 protected:
  v1::CreateServiceTokenRequest ServiceRequest(v1::Token::Access access) {
    v1::CreateServiceTokenRequest req;
    req.mutable_token()->set_display_name("outil d'évaluation");
    req.mutable_token()->add_cohorts(kOccitanie);
    req.mutable_token()->set_access(access);
    return req;
  }

  // A personal token of `member`, minted by the administrator.
  v1::CreateTokenResponse Personal(const std::string& member) {
    v1::CreateTokenRequest req;
    req.set_parent("members/" + member);
    absl::StatusOr<v1::CreateTokenResponse> t =
        services_.members->CreateToken(admin_, req);
    EXPECT_THAT(t, IsOk());
    return t.ok() ? *t : v1::CreateTokenResponse();
  }

  google::protobuf::Timestamp InDays(double days) {
    return TimeUtil::NanosecondsToTimestamp(
        absl::ToUnixNanos(absl::Now() + absl::Hours(24 * days)));
  }
};

TEST_F(TokenServiceTest, ReadServiceTokenReadsItsCohortAndWritesNothing) {
  absl::StatusOr<v1::TokenSecret> created =
      services_.tokens->CreateServiceToken(admin_,
                                           ServiceRequest(v1::Token::READ));
  ASSERT_THAT(created, IsOk());
  EXPECT_EQ(created->token().kind(), v1::Token::SERVICE);
  absl::StatusOr<Principal> service = As(created->secret());
  ASSERT_THAT(service, IsOk());
  EXPECT_TRUE(service->service);
  EXPECT_EQ(service->actor(), created->token().name());

  v1::ListTerritoriesRequest list;
  list.set_parent(kOccitanie);
  EXPECT_THAT(services_.territories->ListTerritories(*service, list), IsOk());
  list.set_parent(kAutre);
  EXPECT_THAT(services_.territories->ListTerritories(*service, list),
              StatusIs(absl::StatusCode::kPermissionDenied));

  v1::ChangeTerritoryPhaseRequest phase;
  phase.set_name(kPetr);
  phase.set_phase(v1::Territory::EMERGENCE);
  EXPECT_THAT(services_.territories->ChangeTerritoryPhase(*service, phase),
              StatusIs(absl::StatusCode::kPermissionDenied));
  v1::CreateChantierRequest chantier;
  chantier.set_parent(kPetr);
  chantier.mutable_chantier()->set_display_name("Mobilités");
  EXPECT_THAT(services_.territories->CreateChantier(*service, chantier),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(TokenServiceTest, ReadWriteServiceTokenWritesCohortContentOnly) {
  absl::StatusOr<v1::TokenSecret> created =
      services_.tokens->CreateServiceToken(
          admin_, ServiceRequest(v1::Token::READ_WRITE));
  ASSERT_THAT(created, IsOk());
  absl::StatusOr<Principal> service = As(created->secret());
  ASSERT_THAT(service, IsOk());

  v1::ChangeTerritoryPhaseRequest phase;
  phase.set_name(kPetr);
  phase.set_phase(v1::Territory::EMERGENCE);
  absl::StatusOr<v1::Territory> changed =
      services_.territories->ChangeTerritoryPhase(*service, phase);
  ASSERT_THAT(changed, IsOk());
  EXPECT_EQ(changed->phase_history(0).actor(), created->token().name());
  v1::CreateChantierRequest chantier;
  chantier.set_parent(kPetr);
  chantier.mutable_chantier()->set_display_name("Mobilités");
  EXPECT_THAT(services_.territories->CreateChantier(*service, chantier),
              IsOk());
  // Outside its cohort, and structure or people: never.
  phase.set_name(kAilleurs);
  EXPECT_THAT(services_.territories->ChangeTerritoryPhase(*service, phase),
              StatusIs(absl::StatusCode::kPermissionDenied));
  v1::CreateTerritoryRequest territory;
  territory.set_parent(kOccitanie);
  territory.mutable_territory()->set_display_name("x");
  territory.mutable_territory()->set_kind(v1::Territory::COMMUNE);
  EXPECT_THAT(services_.territories->CreateTerritory(*service, territory),
              StatusIs(absl::StatusCode::kPermissionDenied));
  v1::CreateGroupRequest group;
  group.set_parent(kOccitanie);
  group.mutable_group()->set_display_name("x");
  group.mutable_group()->set_kind(v1::PeerGroup::THEMATIC);
  EXPECT_THAT(services_.groups->CreateGroup(*service, group),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(services_.tokens->CreateServiceToken(
                  *service, ServiceRequest(v1::Token::READ)),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(services_.tokens->ListTokens(*service, {}),
              StatusIs(absl::StatusCode::kPermissionDenied));
  v1::ListAuditEventsRequest audit;
  audit.set_parent(kOccitanie);
  EXPECT_THAT(services_.audit->ListAuditEvents(*service, audit),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(TokenServiceTest, RevocationTakesEffectOnTheNextCall) {
  v1::CreateTokenResponse token = Personal("elu-petr");
  ASSERT_THAT(As(token.secret()), IsOk());
  v1::RevokeTokenRequest revoke;
  revoke.set_name(token.name());
  absl::StatusOr<v1::Token> revoked =
      services_.tokens->RevokeToken(who("elu-petr"), revoke);
  ASSERT_THAT(revoked, IsOk());
  EXPECT_TRUE(revoked->has_revoke_time());
  EXPECT_THAT(As(token.secret()), StatusIs(absl::StatusCode::kUnauthenticated,
                                           kReasonTokenInvalid));
  EXPECT_THAT(
      services_.tokens->RevokeToken(admin_, revoke),
      StatusIs(absl::StatusCode::kFailedPrecondition, kReasonWrongState));
}

TEST_F(TokenServiceTest, RotationReplacesTheSecretAtOnce) {
  v1::CreateTokenResponse token = Personal("agent-petr");
  v1::RotateTokenRequest rotate;
  rotate.set_name(token.name());
  rotate.set_etag("999");
  EXPECT_THAT(services_.tokens->RotateToken(admin_, rotate),
              StatusIs(absl::StatusCode::kAborted, kReasonEtagMismatch));
  rotate.clear_etag();
  absl::StatusOr<v1::TokenSecret> rotated =
      services_.tokens->RotateToken(who("agent-petr"), rotate);
  ASSERT_THAT(rotated, IsOk());
  EXPECT_NE(rotated->secret(), token.secret());
  EXPECT_EQ(rotated->token().name(), token.name());
  EXPECT_TRUE(rotated->token().has_rotate_time());
  EXPECT_THAT(As(token.secret()), StatusIs(absl::StatusCode::kUnauthenticated));
  absl::StatusOr<Principal> p = As(rotated->secret());
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->member, "members/agent-petr");

  v1::RevokeTokenRequest revoke;
  revoke.set_name(token.name());
  ASSERT_THAT(services_.tokens->RevokeToken(admin_, revoke), IsOk());
  EXPECT_THAT(
      services_.tokens->RotateToken(admin_, rotate),
      StatusIs(absl::StatusCode::kFailedPrecondition, kReasonWrongState));
}

TEST_F(TokenServiceTest, ExpiredTokensAreRefusedAndListedOnlyWhenAsked) {
  v1::CreateServiceTokenRequest req = ServiceRequest(v1::Token::READ);
  *req.mutable_token()->mutable_expire_time() = InDays(1);
  absl::StatusOr<v1::TokenSecret> created =
      services_.tokens->CreateServiceToken(admin_, req);
  ASSERT_THAT(created, IsOk());
  EXPECT_THAT(As(created->secret()), IsOk());
  EXPECT_THAT(As(created->secret(), absl::Now() + absl::Hours(25)),
              StatusIs(absl::StatusCode::kUnauthenticated));

  Personal("elu-petr");
  v1::ListTokensRequest list;
  absl::StatusOr<v1::ListTokensResponse> all =
      services_.tokens->ListTokens(admin_, list);
  ASSERT_THAT(all, IsOk());
  EXPECT_EQ(all->tokens_size(), 2);
  list.set_member("members/elu-petr");
  all = services_.tokens->ListTokens(admin_, list);
  ASSERT_THAT(all, IsOk());
  ASSERT_EQ(all->tokens_size(), 1);
  EXPECT_EQ(all->tokens(0).member(), "members/elu-petr");
}

TEST_F(TokenServiceTest, MembersManageTheirOwnTokensOnly) {
  v1::CreateTokenResponse mine = Personal("elu-petr");
  v1::CreateTokenResponse theirs = Personal("agent-petr");
  v1::ListTokensRequest list;
  absl::StatusOr<v1::ListTokensResponse> listed =
      services_.tokens->ListTokens(who("elu-petr"), list);
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->tokens_size(), 1);
  EXPECT_EQ(listed->tokens(0).name(), mine.name());
  list.set_member("members/agent-petr");
  EXPECT_THAT(services_.tokens->ListTokens(who("elu-petr"), list),
              StatusIs(absl::StatusCode::kPermissionDenied));

  for (const std::string& name :
       {theirs.name(), std::string("tokens/does-not-exist")}) {
    v1::RevokeTokenRequest revoke;
    revoke.set_name(name);
    // Same answer whether the token exists or not.
    EXPECT_THAT(services_.tokens->RevokeToken(who("elu-petr"), revoke),
                StatusIs(absl::StatusCode::kPermissionDenied))
        << name;
    v1::GetTokenRequest get;
    get.set_name(name);
    EXPECT_THAT(services_.tokens->GetToken(who("coordinator"), get),
                StatusIs(absl::StatusCode::kPermissionDenied))
        << name;
  }
  v1::GetTokenRequest get;
  get.set_name("tokens/does-not-exist");
  EXPECT_THAT(services_.tokens->GetToken(admin_, get),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(As(theirs.secret()), IsOk());
}

TEST_F(TokenServiceTest, EveryServiceTokenLimitNamesItsFieldAndWritesNothing) {
  const int64_t before = store_->revision();
  auto refused = [&](const v1::CreateServiceTokenRequest& req,
                     const std::string& field) {
    EXPECT_THAT(services_.tokens->CreateServiceToken(admin_, req),
                InvalidFieldIs(field));
    EXPECT_EQ(store_->revision(), before) << field;
  };
  v1::CreateServiceTokenRequest req = ServiceRequest(v1::Token::READ);
  req.mutable_token()->set_display_name("");
  refused(req, "token.display_name");
  req.mutable_token()->set_display_name(
      std::string(kMaxTokenDisplayNameChars + 1, 'x'));
  refused(req, "token.display_name");
  req.mutable_token()->set_display_name(
      std::string(kMaxTokenDisplayNameChars, 'x'));
  EXPECT_THAT(services_.tokens->CreateServiceToken(admin_, req), IsOk());

  const int64_t after_ok = store_->revision();
  req = ServiceRequest(v1::Token::ACCESS_UNSPECIFIED);
  EXPECT_THAT(services_.tokens->CreateServiceToken(admin_, req),
              InvalidFieldIs("token.access"));
  req = ServiceRequest(v1::Token::READ);
  req.mutable_token()->clear_cohorts();
  EXPECT_THAT(services_.tokens->CreateServiceToken(admin_, req),
              InvalidFieldIs("token.cohorts"));
  req.mutable_token()->add_cohorts("cohorts/does-not-exist");
  EXPECT_THAT(services_.tokens->CreateServiceToken(admin_, req),
              InvalidFieldIs("token.cohorts"));
  req.mutable_token()->clear_cohorts();
  req.mutable_token()->add_cohorts(kOccitanie);
  req.mutable_token()->add_cohorts(kOccitanie);
  EXPECT_THAT(services_.tokens->CreateServiceToken(admin_, req),
              InvalidFieldIs("token.cohorts"));
  req.mutable_token()->clear_cohorts();
  for (int i = 0; i <= kMaxServiceTokenCohorts; ++i) {
    req.mutable_token()->add_cohorts(absl::StrCat("cohorts/c", i));
  }
  EXPECT_THAT(services_.tokens->CreateServiceToken(admin_, req),
              InvalidFieldIs("token.cohorts"));
  req = ServiceRequest(v1::Token::READ);
  req.mutable_token()->set_member("members/elu-petr");
  EXPECT_THAT(services_.tokens->CreateServiceToken(admin_, req),
              InvalidFieldIs("token.member"));
  req = ServiceRequest(v1::Token::READ);
  *req.mutable_token()->mutable_expire_time() = InDays(-1);
  EXPECT_THAT(services_.tokens->CreateServiceToken(admin_, req),
              InvalidFieldIs("token.expire_time"));
  *req.mutable_token()->mutable_expire_time() =
      InDays(kMaxTokenLifetimeDays + 1);
  EXPECT_THAT(services_.tokens->CreateServiceToken(admin_, req),
              InvalidFieldIs("token.expire_time"));
  *req.mutable_token()->mutable_expire_time() =
      InDays(kMaxTokenLifetimeDays - 0.01);
  EXPECT_EQ(store_->revision(), after_ok);
  EXPECT_THAT(services_.tokens->CreateServiceToken(admin_, req), IsOk());
}

TEST_F(TokenServiceTest, OnlyTheAdministratorMintsServiceTokens) {
  for (const char* id : {"coordinator", "ally", "elu-petr"}) {
    EXPECT_THAT(services_.tokens->CreateServiceToken(
                    who(id), ServiceRequest(v1::Token::READ)),
                StatusIs(absl::StatusCode::kPermissionDenied))
        << id;
  }
}

TEST_F(TokenServiceTest, ServiceSecretsAreNeverStored) {
  absl::StatusOr<v1::TokenSecret> created =
      services_.tokens->CreateServiceToken(admin_,
                                           ServiceRequest(v1::Token::READ));
  ASSERT_THAT(created, IsOk());
  v1::RotateTokenRequest rotate;
  rotate.set_name(created->token().name());
  absl::StatusOr<v1::TokenSecret> rotated =
      services_.tokens->RotateToken(admin_, rotate);
  ASSERT_THAT(rotated, IsOk());
  for (storage::Table table :
       {storage::Table::kEntities, storage::Table::kIndexes,
        storage::Table::kChangelog, storage::Table::kMeta}) {
    ASSERT_THAT(storage::testing::RawAccess::Committed(*store_).Scan(
                    table, "", "",
                    [&](absl::string_view k, absl::string_view v) {
                      for (const std::string& secret :
                           {created->secret(), rotated->secret()}) {
                        EXPECT_EQ(k.find(secret), k.npos);
                        EXPECT_EQ(v.find(secret), v.npos);
                      }
                      return true;
                    }),
                IsOk());
  }
}

// `tokens/me` is the token a call is made with: a service token reads its
// own scope there (and no other token), a member their personal token.
TEST_F(TokenServiceTest, EveryCallerReadsTheTokenItCallsWith) {
  absl::StatusOr<v1::TokenSecret> service =
      services_.tokens->CreateServiceToken(admin_,
                                           ServiceRequest(v1::Token::READ));
  ASSERT_THAT(service, IsOk());
  absl::StatusOr<Principal> integration = As(service->secret());
  ASSERT_THAT(integration, IsOk());
  v1::GetTokenRequest me;
  me.set_name("tokens/me");
  absl::StatusOr<v1::Token> itself =
      services_.tokens->GetToken(*integration, me);
  ASSERT_THAT(itself, IsOk());
  EXPECT_EQ(itself->name(), service->token().name());
  EXPECT_THAT(itself->cohorts(), ::testing::ElementsAre(kOccitanie));
  EXPECT_EQ(itself->access(), v1::Token::READ);
  v1::GetTokenRequest other;
  other.set_name(Personal("elu-petr").name());
  EXPECT_THAT(services_.tokens->GetToken(*integration, other),
              StatusIs(absl::StatusCode::kPermissionDenied));
  absl::StatusOr<Principal> member = As(Personal("elu-petr").secret());
  ASSERT_THAT(member, IsOk());
  absl::StatusOr<v1::Token> mine = services_.tokens->GetToken(*member, me);
  ASSERT_THAT(mine, IsOk());
  EXPECT_EQ(mine->member(), "members/elu-petr");
}

}  // namespace
}  // namespace cohorte::service
