// File: server/service/access/tokens.h
//
// Bearer tokens: minting, hashing, storing and resolving them. A token's
// secret is "coh_" followed by 64 hex digits (256 random bits); it is shown
// once, when minted, and only its SHA-256 is stored, as the key of the
// token index (storage/FORMAT.md).
#ifndef COHORTE_SERVER_SERVICE_ACCESS_TOKENS_H_
#define COHORTE_SERVER_SERVICE_ACCESS_TOKENS_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cohorte/storage/v1/records.pb.h"
#include "cohorte/v1/members.pb.h"
#include "cohorte/v1/tokens.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "server/service/access/commit.h"
#include "server/service/access/principal.h"
#include "server/service/access/reader.h"
#include "storage/store.h"

namespace cohorte::service {

inline constexpr absl::string_view kTokenPrefix = "coh_";

// A new random secret: `prefix` + 64 hex digits (256 random bits).
std::string NewTokenSecret(absl::string_view prefix = kTokenPrefix);

// Raw SHA-256 of `secret` (32 bytes).
std::string TokenSecretHash(absl::string_view secret);

// The API view of a stored token: everything but its hash.
v1::Token TokenToApi(const storage::v1::TokenRecord& record);

// Stamps `record` with the mutation's revision as etag and writes it; when
// `secret` is not empty, makes it the token's secret (record hash and index
// entry; the caller deletes the index entry of a secret it replaces). The
// change log gets the API view, never the hash.
void SaveToken(storage::Txn& txn, storage::v1::TokenRecord& record,
               absl::string_view secret);

// OK if `expire_time` is in the future and at most `max_days` after `now`;
// INVALID_ARGUMENT naming `field` otherwise.
absl::Status CheckExpireTime(absl::string_view field,
                             const google::protobuf::Timestamp& expire_time,
                             absl::Time now, int max_days);

// Authenticator resolves the `authorization` metadata of a call to its
// Principal. It reads committed state only, so a revocation or a role change
// takes effect on the next call. Principals it resolved are kept, by secret
// hash, while no member and no token was written since they were resolved
// (Store::LastWriteRevision of both kinds, set before the writing call is
// answered; any such write drops them all): the calls of a busy instance,
// posts included, skip the three store reads, and no revocation, removal or
// role change can be missed. Thread-safe; `store` must outlive it.
class Authenticator {
 public:
  explicit Authenticator(const storage::Store* store) : store_(store) {}
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  // `authorization` is the metadata value, "Bearer <secret>".
  // UNAUTHENTICATED (reason TOKEN_MISSING) if empty; UNAUTHENTICATED (reason
  // TOKEN_INVALID) if malformed, unknown, revoked, expired, rotated out, or
  // of a member that no longer exists. A SERVICE token resolves to a
  // service principal (Principal::ForService). The message never echoes the
  // secret.
  absl::StatusOr<Principal> Authenticate(absl::string_view authorization,
                                         absl::Time now) const;

 private:
  // Principals kept at most; past it the cache starts again empty.
  static constexpr size_t kMaxCached = 4096;

  struct Resolved {
    Principal principal;
    int64_t expire_nanos;  // INT64_MAX for a token without expiry
  };

  // The last revision that wrote a member or a token: what a principal is
  // resolved from.
  int64_t CredentialRevision() const;
  // Reads the token whose secret hashes to `hash`, and its member.
  absl::StatusOr<Resolved> Resolve(const std::string& hash) const;

  const storage::Store* const store_;
  // State below is protected by mu_.
  mutable absl::Mutex mu_;
  // The CredentialRevision the cached principals were resolved at.
  mutable int64_t cached_revision_ ABSL_GUARDED_BY(mu_) = -1;
  mutable absl::flat_hash_map<std::string, Resolved> cache_
      ABSL_GUARDED_BY(mu_);
};

// A token as its reader may see it (the TokenRecord rule: the admin, or
// the owner of a personal token).
template <>
struct Presenter<v1::Token> {
  static absl::StatusOr<v1::Token> Present(const Reader& reader,
                                           v1::Token token) {
    storage::v1::TokenRecord record;
    record.set_name(token.name());
    record.set_member(token.member());
    record.set_kind(token.kind());
    COHORTE_RETURN_IF_ERROR(reader.Present(record).status());
    return token;
  }
};
// A new secret is shown once, to who made or rotated the token, who may
// read the token.
template <>
struct Presenter<v1::TokenSecret> {
  static absl::StatusOr<v1::TokenSecret> Present(const Reader& reader,
                                                 v1::TokenSecret secret) {
    COHORTE_ASSIGN_OR_RETURN(
        *secret.mutable_token(),
        Presenter<v1::Token>::Present(reader, secret.token()));
    return secret;
  }
};

// CreateToken's answer: the new token and its secret, to the administrator
// who made it.
template <>
struct Presenter<v1::CreateTokenResponse> {
  static absl::StatusOr<v1::CreateTokenResponse> Present(
      const Reader& reader, v1::CreateTokenResponse r) {
    COHORTE_RETURN_IF_ERROR(reader.MayRead(r.name()));
    return r;
  }
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_ACCESS_TOKENS_H_
