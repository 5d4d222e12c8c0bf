// File: server/service/identity/token_service.h
//
// TokenService: service tokens for integrations, and the management of every
// token (read, list, revoke, rotate). Personal tokens are minted by
// MemberService::CreateToken. A secret is returned once, by the call that
// makes it; afterwards nobody can read it, the administrator included.
// Revocation and rotation take effect on the very next call, since
// authentication reads committed state. Every change is in the audit log.
// No gRPC. Thread-safe; `store` must outlive it.
#ifndef COHORTE_SERVER_SERVICE_IDENTITY_TOKEN_SERVICE_H_
#define COHORTE_SERVER_SERVICE_IDENTITY_TOKEN_SERVICE_H_

#include "absl/status/statusor.h"
#include "cohorte/v1/tokens.pb.h"
#include "server/service/access/principal.h"
#include "storage/store.h"

namespace cohorte::service {

class TokenService {
 public:
  explicit TokenService(storage::Store* store) : store_(*store) {}
  TokenService(const TokenService&) = delete;
  TokenService& operator=(const TokenService&) = delete;

  // Administrator only. INVALID_ARGUMENT naming the field for a missing
  // display name, access or cohort, an unknown or repeated cohort, more
  // than kMaxServiceTokenCohorts cohorts, or a bad expiry.
  absl::StatusOr<v1::TokenSecret> CreateServiceToken(
      const Principal& caller, const v1::CreateServiceTokenRequest& req);
  // The administrator reads any token; a member their personal tokens.
  // PERMISSION_DENIED for anything else, whether or not it exists.
  absl::StatusOr<v1::Token> GetToken(const Principal& caller,
                                     const v1::GetTokenRequest& req);
  // The administrator lists every token (or `member`'s); a member lists
  // their own (`member` empty or themselves). Active tokens only unless
  // `show_inactive`.
  absl::StatusOr<v1::ListTokensResponse> ListTokens(
      const Principal& caller, const v1::ListTokensRequest& req);
  // FAILED_PRECONDITION (WRONG_STATE) if already revoked; ABORTED on a
  // stale etag.
  absl::StatusOr<v1::Token> RevokeToken(const Principal& caller,
                                        const v1::RevokeTokenRequest& req);
  // FAILED_PRECONDITION (WRONG_STATE) if revoked or expired.
  absl::StatusOr<v1::TokenSecret> RotateToken(
      const Principal& caller, const v1::RotateTokenRequest& req);

 private:
  storage::Store& store_;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_IDENTITY_TOKEN_SERVICE_H_
