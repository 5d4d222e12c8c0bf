// Tokens, the Authenticator and first-start bootstrap, on a real store.

#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "cohorte/v1/cohorts.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "server/service/access/tokens.h"
#include "server/service/core/errors.h"
#include "server/service/identity/bootstrap.h"
#include "server/service/inbox/fan_out.h"
#include "server/service/structure/member_service.h"
#include "storage/keys.h"
#include "storage/status_macros.h"
#include "storage/store.h"
#include "tests/testing/principals.h"
#include "tests/testing/raw_access.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace cohorte::service {
namespace {

using ::cohorte::testing::IsOk;
using ::cohorte::testing::StatusIs;
using google::protobuf::util::TimeUtil;

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::StoreOptions options;
    options.path = dir_.path() + "/db";
    store_ = *storage::Store::Open(options);
    token_path_ = dir_.path() + "/admin.token";
    absl::StatusOr<BootstrapResult> boot = BootstrapAdmin(*store_, token_path_);
    ASSERT_THAT(boot, IsOk());
    ASSERT_TRUE(boot->created);
    std::ifstream in(token_path_);
    std::getline(in, admin_secret_);
  }

  // Stores a token for members/admin with the given expiry/revocation.
  std::string AddToken(const std::string& id, absl::Time expire, bool revoked) {
    const std::string secret = NewTokenSecret();
    storage::Mutation m;
    m.apply = [&](storage::Txn& txn) -> absl::StatusOr<std::string> {
      storage::v1::TokenRecord record;
      record.set_name("tokens/" + id);
      record.set_member("members/admin");
      if (expire != absl::InfiniteFuture()) {
        *record.mutable_expire_time() =
            TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(expire));
      }
      if (revoked) *record.mutable_revoke_time() = TimeUtil::GetCurrentTime();
      SaveToken(txn, record, secret);
      return std::string();
    };
    EXPECT_THAT(store_->Commit(std::move(m)), IsOk());
    return secret;
  }

  ::cohorte::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::string token_path_;
  std::string admin_secret_;
};

// Stores hold these hashes: whatever computes them must give SHA-256 itself
// (FIPS 180-2's test vectors), or every stored token stops working.
TEST(TokenSecretHashTest, IsSha256OfTheSecret) {
  EXPECT_EQ(absl::BytesToHexString(TokenSecretHash("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(absl::BytesToHexString(TokenSecretHash("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(absl::BytesToHexString(TokenSecretHash(
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_F(AuthTest, BootstrapWritesAPrivateTokenFileOfEnoughEntropy) {
  struct stat st;
  ASSERT_EQ(::stat(token_path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  // "coh_" + 64 hex digits = 256 random bits (at least 128 required).
  EXPECT_THAT(admin_secret_, ::testing::MatchesRegex("coh_[0-9a-f]{64}"));
}

TEST_F(AuthTest, TheSecretIsStoredOnlyAsAHash) {
  bool found_plain = false;
  for (storage::Table table :
       {storage::Table::kEntities, storage::Table::kIndexes,
        storage::Table::kChangelog, storage::Table::kMeta}) {
    ASSERT_THAT(storage::testing::RawAccess::Committed(*store_).Scan(
                    table, "", "",
                    [&](absl::string_view k, absl::string_view v) {
                      if (k.find(admin_secret_) != k.npos ||
                          v.find(admin_secret_) != v.npos) {
                        found_plain = true;
                      }
                      return true;
                    }),
                IsOk());
  }
  EXPECT_FALSE(found_plain);
}

TEST_F(AuthTest, SecondBootstrapKeepsTheAdminAndItsToken) {
  absl::StatusOr<BootstrapResult> again = BootstrapAdmin(*store_, token_path_);
  ASSERT_THAT(again, IsOk());
  EXPECT_FALSE(again->created);
  Authenticator auth(store_.get());
  EXPECT_THAT(auth.Authenticate("Bearer " + admin_secret_, absl::Now()),
              IsOk());
}

TEST_F(AuthTest, ValidTokenResolvesToItsMember) {
  Authenticator auth(store_.get());
  absl::StatusOr<Principal> p =
      auth.Authenticate("Bearer " + admin_secret_, absl::Now());
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->member, "members/admin");
  EXPECT_EQ(p->role, v1::Member::ADMIN);
  EXPECT_EQ(p->token, "tokens/admin-bootstrap");
  // The scheme is case-insensitive (RFC 7235).
  EXPECT_THAT(auth.Authenticate("bearer " + admin_secret_, absl::Now()),
              IsOk());
}

TEST_F(AuthTest, MissingMalformedAndUnknownTokensAreUnauthenticated) {
  Authenticator auth(store_.get());
  EXPECT_THAT(
      auth.Authenticate("", absl::Now()),
      StatusIs(absl::StatusCode::kUnauthenticated, kReasonTokenMissing));
  for (const std::string& bad :
       {std::string("Basic abc"), std::string("Bearer"),
        std::string("Bearer ") + "coh_" + std::string(64, '0'),
        std::string("Bearer not-a-cohorte-token"),
        std::string("Bearer ") + admin_secret_ + "x",
        std::string("Bearer ") + std::string(600, 'a')}) {
    absl::Status s = auth.Authenticate(bad, absl::Now()).status();
    EXPECT_THAT(
        s, StatusIs(absl::StatusCode::kUnauthenticated, kReasonTokenInvalid))
        << bad;
    EXPECT_EQ(std::string(s.message()).find("coh_"), std::string::npos);
  }
}

TEST_F(AuthTest, ExpiredAndRevokedTokensAreRefusedAtOnce) {
  Authenticator auth(store_.get());
  const absl::Time now = absl::Now();
  std::string expiring = AddToken("expiring", now + absl::Hours(1), false);
  EXPECT_THAT(auth.Authenticate("Bearer " + expiring, now), IsOk());
  EXPECT_THAT(auth.Authenticate("Bearer " + expiring, now + absl::Hours(1)),
              StatusIs(absl::StatusCode::kUnauthenticated));
  std::string revoked = AddToken("revoked", absl::InfiniteFuture(), true);
  EXPECT_THAT(auth.Authenticate("Bearer " + revoked, now),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(AuthTest, AKeptPrincipalIsDroppedByARevocationAndAtExpiry) {
  Authenticator auth(store_.get());
  const absl::Time now = absl::Now();
  const std::string secret =
      AddToken("kept", now + absl::Hours(1), /*revoked=*/false);
  // Resolved twice at the same revision: the second comes from the cache.
  ASSERT_THAT(auth.Authenticate("Bearer " + secret, now), IsOk());
  ASSERT_THAT(auth.Authenticate("Bearer " + secret, now), IsOk());
  // Expiry needs no commit to take effect.
  EXPECT_THAT(auth.Authenticate("Bearer " + secret, now + absl::Hours(2)),
              StatusIs(absl::StatusCode::kUnauthenticated));
  ASSERT_THAT(auth.Authenticate("Bearer " + secret, now), IsOk());

  // Revoked underneath the Authenticator: the very next call is refused.
  storage::Mutation revoke;
  revoke.apply = [&](storage::Txn& txn) -> absl::StatusOr<std::string> {
    storage::v1::TokenRecord record;
    COHORTE_RETURN_IF_ERROR(
        txn.GetEntity<storage::v1::TokenRecord>("tokens/kept", &record));
    *record.mutable_revoke_time() = TimeUtil::GetCurrentTime();
    SaveToken(txn, record, /*secret=*/"");
    return std::string();
  };
  ASSERT_THAT(store_->Commit(std::move(revoke)), IsOk());
  EXPECT_THAT(auth.Authenticate("Bearer " + secret, now),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(AuthTest, AKeptPrincipalOutlivesCommitsThatWriteNoMemberNorToken) {
  Authenticator auth(store_.get());
  const absl::Time now = absl::Now();
  const std::string secret =
      AddToken("kept", absl::InfiniteFuture(), /*revoked=*/false);
  ASSERT_THAT(auth.Authenticate("Bearer " + secret, now), IsOk());

  // The secret's index entry is deleted by a commit that writes no member
  // and no token (nothing but this test does that): the kept principal is
  // still served, so the commits of posts and the like keep the cache.
  storage::Mutation unindex;
  unindex.apply = [&](storage::Txn& txn) -> absl::StatusOr<std::string> {
    txn.DeleteIndex(storage::IndexKey(storage::IndexKind::kTokenBySecretHash,
                                      TokenSecretHash(secret)));
    v1::Cohort cohort;
    cohort.set_name("cohorts/elsewhere");
    txn.PutEntity(cohort);
    return std::string();
  };
  ASSERT_THAT(store_->Commit(std::move(unindex)), IsOk());
  EXPECT_THAT(auth.Authenticate("Bearer " + secret, now), IsOk());

  // A commit that writes any member drops every kept principal: the next
  // call reads the store again and finds no such secret.
  storage::Mutation member;
  member.apply = [&](storage::Txn& txn) -> absl::StatusOr<std::string> {
    v1::Member m;
    m.set_name("members/someone-else");
    m.set_role(v1::Member::ALLY);
    txn.PutEntity(m);
    return std::string();
  };
  ASSERT_THAT(store_->Commit(std::move(member)), IsOk());
  EXPECT_THAT(auth.Authenticate("Bearer " + secret, now),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(AuthTest, ARoleChangeOrARemovedMemberTakesEffectOnTheVeryNextCall) {
  Authenticator auth(store_.get());
  const absl::Time now = absl::Now();
  const std::string secret =
      AddToken("kept", absl::InfiniteFuture(), /*revoked=*/false);
  absl::StatusOr<Principal> before = auth.Authenticate("Bearer " + secret, now);
  ASSERT_THAT(before, IsOk());
  ASSERT_TRUE(before->is_admin());

  storage::Mutation demote;
  demote.apply = [&](storage::Txn& txn) -> absl::StatusOr<std::string> {
    v1::Member m;
    COHORTE_RETURN_IF_ERROR(txn.GetEntity<v1::Member>("members/admin", &m));
    m.set_role(v1::Member::ALLY);
    txn.PutEntity(m);
    return std::string();
  };
  ASSERT_THAT(store_->Commit(std::move(demote)), IsOk());
  absl::StatusOr<Principal> after = auth.Authenticate("Bearer " + secret, now);
  ASSERT_THAT(after, IsOk());
  EXPECT_FALSE(after->is_admin());

  storage::Mutation remove;
  remove.apply = [&](storage::Txn& txn) -> absl::StatusOr<std::string> {
    txn.DeleteEntity<v1::Member>("members/admin");
    return std::string();
  };
  ASSERT_THAT(store_->Commit(std::move(remove)), IsOk());
  EXPECT_THAT(auth.Authenticate("Bearer " + secret, now),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(AuthTest, MembersReadThemselvesAndOnlyAdminsReadOthers) {
  NotificationFanOut fan_out(store_.get());
  MemberService members(store_.get(), &fan_out);
  Principal admin =
      ::cohorte::testing::MakePrincipal("members/admin", v1::Member::ADMIN);
  Principal elu = ::cohorte::testing::MakePrincipal(
      "members/elu", v1::Member::MEMBER, v1::ELU);
  v1::GetMemberRequest me;
  me.set_name("members/me");
  EXPECT_EQ(members.GetMember(admin, me)->name(), "members/admin");
  v1::GetMemberRequest other;
  other.set_name("members/admin");
  EXPECT_THAT(members.GetMember(elu, other),
              StatusIs(absl::StatusCode::kPermissionDenied));
  other.set_name("members/absent");
  EXPECT_THAT(members.GetMember(elu, other),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(members.GetMember(admin, other),
              StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace cohorte::service
