#include "server/service/tokens.h"

#include <openssl/sha.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/errors.h"
#include "server/service/limits.h"
#include "storage/keys.h"
#include "storage/random.h"

namespace cohorte::service {
namespace {

using google::protobuf::util::TimeUtil;

absl::Status Invalid() {
  return ErrorWithReason(absl::StatusCode::kUnauthenticated,
                         kReasonTokenInvalid,
                         "the bearer token is not valid (unknown, revoked or "
                         "expired)");
}

}  // namespace

std::string NewTokenSecret() {
  return absl::StrCat(kTokenPrefix,
                      storage::HexEncode(storage::SecureRandomBytes(32)));
}

std::string TokenSecretHash(absl::string_view secret) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
         digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

void PutToken(storage::Txn& txn, const storage::v1::TokenRecord& record,
              absl::string_view secret) {
  txn.PutProto(storage::Table::kEntities,
               storage::EntityKey(storage::EntityKind::kToken, record.name()),
               record);
  txn.Put(storage::Table::kIndexes,
          storage::IndexKey(storage::IndexKind::kTokenBySecretHash,
                            TokenSecretHash(secret)),
          record.name());
}

absl::StatusOr<Principal> Authenticator::Authenticate(
    absl::string_view authorization, absl::Time now) const {
  if (authorization.empty()) {
    return ErrorWithReason(
        absl::StatusCode::kUnauthenticated, kReasonTokenMissing,
        "a bearer token is required (metadata 'authorization: Bearer ...')");
  }
  constexpr absl::string_view kScheme = "bearer ";
  if (static_cast<int>(authorization.size()) > kMaxAuthorizationLength ||
      !absl::StartsWithIgnoreCase(authorization, kScheme)) {
    return Invalid();
  }
  absl::string_view secret =
      absl::StripAsciiWhitespace(authorization.substr(kScheme.size()));
  if (!absl::StartsWith(secret, kTokenPrefix)) return Invalid();

  std::string token_name;
  absl::Status s =
      store_->Get(storage::Table::kIndexes,
                  storage::IndexKey(storage::IndexKind::kTokenBySecretHash,
                                    TokenSecretHash(secret)),
                  &token_name);
  if (absl::IsNotFound(s)) return Invalid();
  if (!s.ok()) return s;

  storage::v1::TokenRecord token;
  s = store_->GetProto(
      storage::Table::kEntities,
      storage::EntityKey(storage::EntityKind::kToken, token_name), &token);
  if (absl::IsNotFound(s)) return Invalid();
  if (!s.ok()) return s;
  const int64_t now_nanos = absl::ToUnixNanos(now);
  if (token.has_revoke_time()) return Invalid();
  if (token.has_expire_time() &&
      TimeUtil::TimestampToNanoseconds(token.expire_time()) <= now_nanos) {
    return Invalid();
  }

  v1::Member member;
  s = store_->GetProto(
      storage::Table::kEntities,
      storage::EntityKey(storage::EntityKind::kMember, token.member()),
      &member);
  if (absl::IsNotFound(s)) return Invalid();
  if (!s.ok()) return s;

  return Principal::FromMember(member, token.name());
}

}  // namespace cohorte::service
