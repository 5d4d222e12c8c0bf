// OpenSSL 3's one-shot SHA256() fetches the digest's implementation (a
// lock and a string copy) on every call, and a token is hashed on every
// authenticated call: the low-level functions, deprecated in OpenSSL 3 but
// kept, hash without it (as content_check.cc does).
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "server/service/access/tokens.h"

#include <openssl/sha.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/core/entities.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
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

std::string NewTokenSecret(absl::string_view prefix) {
  return absl::StrCat(prefix,
                      storage::HexEncode(storage::SecureRandomBytes(32)));
}

std::string TokenSecretHash(absl::string_view secret) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, secret.data(), secret.size());
  SHA256_Final(digest, &ctx);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

v1::Token TokenToApi(const storage::v1::TokenRecord& record) {
  v1::Token token;
  token.set_name(record.name());
  token.set_kind(record.kind() == v1::Token::SERVICE ? v1::Token::SERVICE
                                                     : v1::Token::PERSONAL);
  token.set_member(record.member());
  token.set_display_name(record.display_name());
  *token.mutable_cohorts() = record.cohorts();
  token.set_access(static_cast<v1::Token::Access>(record.access()));
  if (record.has_create_time()) {
    *token.mutable_create_time() = record.create_time();
  }
  if (record.has_expire_time()) {
    *token.mutable_expire_time() = record.expire_time();
  }
  if (record.has_revoke_time()) {
    *token.mutable_revoke_time() = record.revoke_time();
  }
  if (record.has_rotate_time()) {
    *token.mutable_rotate_time() = record.rotate_time();
  }
  token.set_etag(record.etag());
  return token;
}

void SaveToken(storage::Txn& txn, storage::v1::TokenRecord& record,
               absl::string_view secret) {
  record.set_etag(NextEtag(record.etag()));
  if (!secret.empty()) {
    record.set_secret_hash(TokenSecretHash(secret));
    txn.PutIndex(storage::IndexKey(storage::IndexKind::kTokenBySecretHash,
                                   record.secret_hash()),
                 record.name());
  }
  // The change log gets the API view, never the hash.
  txn.PutEntity(record.name(), record, TokenToApi(record));
}

absl::Status CheckExpireTime(absl::string_view field,
                             const google::protobuf::Timestamp& expire_time,
                             absl::Time now, int max_days) {
  if (expire_time.seconds() < TimeUtil::kTimestampMinSeconds ||
      expire_time.seconds() > TimeUtil::kTimestampMaxSeconds ||
      expire_time.nanos() < 0 || expire_time.nanos() > 999999999) {
    return InvalidField(field, "is not a valid timestamp");
  }
  const absl::Time expire =
      absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(expire_time));
  if (expire <= now || expire > now + absl::Hours(24 * max_days)) {
    return InvalidField(field, absl::StrCat("must be in the future and within ",
                                            max_days, " days"));
  }
  return absl::OkStatus();
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

  const std::string hash = TokenSecretHash(secret);
  const int64_t now_nanos = absl::ToUnixNanos(now);
  // Read before the store: what Resolve reads is at least this recent.
  const int64_t revision = CredentialRevision();
  {
    absl::ReaderMutexLock lock(&mu_);
    if (cached_revision_ == revision) {
      auto it = cache_.find(hash);
      if (it != cache_.end() && now_nanos < it->second.expire_nanos) {
        return it->second.principal;
      }
    }
  }
  absl::StatusOr<Resolved> resolved = Resolve(hash);
  if (!resolved.ok()) return resolved.status();
  if (resolved->expire_nanos <= now_nanos) return Invalid();
  absl::MutexLock lock(&mu_);
  if (revision > cached_revision_) {
    cache_.clear();
    cached_revision_ = revision;
  }
  if (revision == cached_revision_) {
    if (cache_.size() >= kMaxCached) cache_.clear();
    cache_.insert_or_assign(hash, *resolved);
  }
  return resolved->principal;
}

int64_t Authenticator::CredentialRevision() const {
  return std::max(store_->LastWriteRevision(storage::EntityKind::kMember),
                  store_->LastWriteRevision(storage::EntityKind::kToken));
}

absl::StatusOr<Authenticator::Resolved> Authenticator::Resolve(
    const std::string& hash) const {
  const storage::View& committed =
      store_->committed(storage::CommittedReadKey());
  std::string token_name;
  absl::Status s = committed.Get(
      storage::Table::kIndexes,
      storage::IndexKey(storage::IndexKind::kTokenBySecretHash, hash),
      &token_name);
  if (absl::IsNotFound(s)) return Invalid();
  if (!s.ok()) return s;

  storage::v1::TokenRecord token;
  s = committed.GetEntity<storage::v1::TokenRecord>(token_name, &token);
  if (absl::IsNotFound(s)) return Invalid();
  if (!s.ok()) return s;
  if (token.has_revoke_time()) return Invalid();
  // A rotated-out secret whose index entry survived still fails here.
  if (!token.secret_hash().empty() && token.secret_hash() != hash) {
    return Invalid();
  }
  const int64_t expire_nanos =
      token.has_expire_time()
          ? TimeUtil::TimestampToNanoseconds(token.expire_time())
          : std::numeric_limits<int64_t>::max();

  if (token.kind() == v1::Token::SERVICE) {
    return Resolved{
        Principal::ForService(token.name(),
                              std::vector<std::string>(token.cohorts().begin(),
                                                       token.cohorts().end()),
                              token.access() == v1::Token::READ_WRITE),
        expire_nanos};
  }

  v1::Member member;
  s = committed.GetEntity<v1::Member>(token.member(), &member);
  if (absl::IsNotFound(s)) return Invalid();
  if (!s.ok()) return s;
  return Resolved{Principal::FromMember(member, token.name()), expire_nanos};
}

}  // namespace cohorte::service
