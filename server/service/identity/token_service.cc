#include "server/service/identity/token_service.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cohorte/v1/cohorts.pb.h"
#include "cohorte/v1/members.pb.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/access/commit.h"
#include "server/service/access/policy.h"
#include "server/service/access/tokens.h"
#include "server/service/audit/audit.h"
#include "server/service/core/entities.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "server/service/core/validation.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace cohorte::service {
namespace {

using google::protobuf::util::TimeUtil;
using storage::EntityKind;
using storage::Table;
using storage::Txn;
using storage::v1::TokenRecord;

bool Expired(const TokenRecord& t, absl::Time now) {
  return t.has_expire_time() && TimeUtil::TimestampToNanoseconds(
                                    t.expire_time()) <= absl::ToUnixNanos(now);
}

// Inside a mutation: the token `name` if `caller` may manage it (the
// administrator, or the member owning this personal token);
// PERMISSION_DENIED otherwise, whether or not it exists.
absl::StatusOr<TokenRecord> LoadManageable(const Txn& txn,
                                           const Principal& caller,
                                           absl::string_view name) {
  TokenRecord record;
  absl::Status s = txn.GetProto(
      Table::kEntities, storage::EntityKeyOf<storage::v1::TokenRecord>(name),
      &record);
  if (absl::IsNotFound(s)) {
    if (caller.is_admin()) return NotFound(name);
    return PermissionDenied(absl::StrCat("manage ", name));
  }
  COHORTE_RETURN_IF_ERROR(s);
  if (!Authorize(caller, Resource::kToken, Action::kUpdate,
                 MemberScope(record.kind() == v1::Token::SERVICE
                                 ? absl::string_view()
                                 : absl::string_view(record.member())))
           .ok()) {
    return PermissionDenied(absl::StrCat("manage ", name));
  }
  return record;
}

// The cohorts whose coordinators see changes of `record`: those of its
// member (personal) or its scope (service).
std::set<std::string> TouchedCohorts(const Txn& txn,
                                     const TokenRecord& record) {
  if (record.kind() == v1::Token::SERVICE) {
    return std::set<std::string>(record.cohorts().begin(),
                                 record.cohorts().end());
  }
  absl::StatusOr<v1::Member> owner =
      LoadEntity<v1::Member>(txn, record.member());
  if (!owner.ok()) return {};
  return CohortsOfMember(*owner);
}

absl::Status Audit(Txn& txn, const Principal& caller, absl::string_view method,
                   const TokenRecord* before, const TokenRecord& after) {
  AuditLog audit(caller.actor(), method);
  const v1::Token after_api = TokenToApi(after);
  if (before == nullptr) {
    audit.Change(after.name(), nullptr, &after_api);
  } else {
    const v1::Token before_api = TokenToApi(*before);
    audit.Change(after.name(), &before_api, &after_api);
  }
  for (const std::string& c : TouchedCohorts(txn, after)) audit.Touch(c);
  return audit.Write(txn);
}

absl::Status CheckName(absl::string_view name) {
  return ParseTopLevelName("name", name, "tokens").status();
}

}  // namespace

absl::StatusOr<v1::TokenSecret> TokenService::CreateServiceToken(
    const Principal& caller, const v1::CreateServiceTokenRequest& req) {
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kToken, Action::kCreate));
  const v1::Token& t = req.token();
  COHORTE_RETURN_IF_ERROR(CheckText("token.display_name", t.display_name(), 1,
                                    kMaxTokenDisplayNameChars,
                                    TextKind::kSingleLine));
  if (t.access() != v1::Token::READ && t.access() != v1::Token::READ_WRITE) {
    return InvalidField("token.access", "must be READ or READ_WRITE");
  }
  if (t.cohorts().empty()) {
    return InvalidField("token.cohorts", "needs at least one cohort");
  }
  if (t.cohorts_size() > kMaxServiceTokenCohorts) {
    return InvalidField("token.cohorts", absl::StrCat("has more than ",
                                                      kMaxServiceTokenCohorts));
  }
  std::set<std::string> seen;
  for (const std::string& c : t.cohorts()) {
    COHORTE_RETURN_IF_ERROR(
        ParseTopLevelName("token.cohorts", c, "cohorts").status());
    if (!seen.insert(c).second) {
      return InvalidField("token.cohorts", absl::StrCat(c, " twice"));
    }
  }
  if (!t.member().empty()) {
    return InvalidField("token.member", "is only for personal tokens");
  }
  if (t.has_expire_time()) {
    COHORTE_RETURN_IF_ERROR(CheckExpireTime("token.expire_time",
                                            t.expire_time(), absl::Now(),
                                            kMaxTokenLifetimeDays));
  }
  const std::string secret = NewTokenSecret();
  const std::string name = GenerateId("tokens/service-");
  return CommitForResponse<v1::TokenSecret>(
      store_, caller, "CreateServiceToken", req, /*request_id=*/"",
      [&](Txn& txn, [[maybe_unused]] const Reader& reader)
          -> absl::StatusOr<v1::TokenSecret> {
        // Checked again against the caller as this mutation sees them.
        COHORTE_RETURN_IF_ERROR(
            Authorize(reader.caller(), Resource::kToken, Action::kCreate));
        for (const std::string& c : t.cohorts()) {
          absl::Status s = LoadEntity<v1::Cohort>(txn, c).status();
          if (absl::IsNotFound(s)) {
            return InvalidField("token.cohorts",
                                absl::StrCat(c, " does not exist"));
          }
          COHORTE_RETURN_IF_ERROR(s);
        }
        TokenRecord record;
        record.set_name(name);
        record.set_kind(v1::Token::SERVICE);
        record.set_display_name(t.display_name());
        *record.mutable_cohorts() = t.cohorts();
        record.set_access(t.access());
        *record.mutable_create_time() = ToTimestamp(txn.commit_time());
        if (t.has_expire_time())
          *record.mutable_expire_time() = t.expire_time();
        SaveToken(txn, record, secret);
        COHORTE_RETURN_IF_ERROR(
            Audit(txn, caller, "CreateServiceToken", nullptr, record));
        v1::TokenSecret response;
        *response.mutable_token() = TokenToApi(record);
        response.set_secret(secret);
        return response;
      });
}

absl::StatusOr<v1::Token> TokenService::GetToken(
    const Principal& caller, const v1::GetTokenRequest& req) {
  // `tokens/me`: the credential of the call itself, for any caller (a
  // service token learns its own scope this way).
  if (req.name() == "tokens/me" && caller.authenticated() &&
      !caller.token.empty()) {
    COHORTE_ASSIGN_OR_RETURN(
        TokenRecord record,
        Reader(store_, caller).Get<TokenRecord>(caller.token));
    return TokenToApi(record);
  }
  if (!caller.authenticated() || caller.service)
    return PermissionDenied(absl::StrCat("manage ", req.name()));
  COHORTE_RETURN_IF_ERROR(CheckName(req.name()));
  COHORTE_ASSIGN_OR_RETURN(TokenRecord record,
                           Reader(store_, caller).Get<TokenRecord>(req.name()));
  return TokenToApi(record);
}

absl::StatusOr<v1::ListTokensResponse> TokenService::ListTokens(
    const Principal& caller, const v1::ListTokensRequest& req) {
  std::string member = req.member();
  if (member == "members/me" || (member.empty() && !caller.is_admin())) {
    member = caller.member;
  }
  if (!req.member().empty() && req.member() != "members/me") {
    COHORTE_RETURN_IF_ERROR(
        ParseTopLevelName("member", req.member(), "members").status());
  }
  if (caller.service || (!caller.is_admin() && member.empty())) {
    return PermissionDenied(absl::StrCat("manage ", "tokens"));
  }
  COHORTE_RETURN_IF_ERROR(
      Authorize(caller, Resource::kToken, Action::kRead, MemberScope(member)));
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  const absl::Time now = absl::Now();
  google::protobuf::RepeatedPtrField<TokenRecord> records;
  v1::ListTokensResponse response;
  COHORTE_ASSIGN_OR_RETURN(
      *response.mutable_next_page_token(),
      Reader(store_, caller)
          .List<TokenRecord>(
              storage::CollectionPrefixOf<storage::v1::TokenRecord>("",
                                                                    "tokens"),
              page,
              [&](TokenRecord& t) {
                if (!member.empty() &&
                    (t.kind() == v1::Token::SERVICE || t.member() != member)) {
                  return false;
                }
                return req.show_inactive() ||
                       (!t.has_revoke_time() && !Expired(t, now));
              },
              &records));
  for (const TokenRecord& t : records) *response.add_tokens() = TokenToApi(t);
  return response;
}

absl::StatusOr<v1::Token> TokenService::RevokeToken(
    const Principal& caller, const v1::RevokeTokenRequest& req) {
  if (!caller.authenticated() || caller.service)
    return PermissionDenied(absl::StrCat("manage ", req.name()));
  COHORTE_RETURN_IF_ERROR(CheckName(req.name()));
  return CommitForResponse<v1::Token>(
      store_, caller, "RevokeToken", req, /*request_id=*/"",
      [&](Txn& txn,
          [[maybe_unused]] const Reader& reader) -> absl::StatusOr<v1::Token> {
        COHORTE_ASSIGN_OR_RETURN(
            TokenRecord record,
            LoadManageable(txn, reader.caller(), req.name()));
        COHORTE_RETURN_IF_ERROR(
            CheckEtag(record.name(), record.etag(), req.etag()));
        if (record.has_revoke_time()) {
          return ErrorWithReason(
              absl::StatusCode::kFailedPrecondition, kReasonWrongState,
              absl::StrCat(req.name(), " is already revoked"));
        }
        const TokenRecord before = record;
        *record.mutable_revoke_time() = ToTimestamp(txn.commit_time());
        if (!record.secret_hash().empty()) {
          txn.DeleteIndex(storage::IndexKey(
              storage::IndexKind::kTokenBySecretHash, record.secret_hash()));
        }
        SaveToken(txn, record, /*secret=*/"");
        COHORTE_RETURN_IF_ERROR(
            Audit(txn, caller, "RevokeToken", &before, record));
        return TokenToApi(record);
      });
}

absl::StatusOr<v1::TokenSecret> TokenService::RotateToken(
    const Principal& caller, const v1::RotateTokenRequest& req) {
  if (!caller.authenticated() || caller.service)
    return PermissionDenied(absl::StrCat("manage ", req.name()));
  COHORTE_RETURN_IF_ERROR(CheckName(req.name()));
  const std::string secret = NewTokenSecret();
  return CommitForResponse<v1::TokenSecret>(
      store_, caller, "RotateToken", req, /*request_id=*/"",
      [&](Txn& txn, [[maybe_unused]] const Reader& reader)
          -> absl::StatusOr<v1::TokenSecret> {
        COHORTE_ASSIGN_OR_RETURN(
            TokenRecord record,
            LoadManageable(txn, reader.caller(), req.name()));
        COHORTE_RETURN_IF_ERROR(
            CheckEtag(record.name(), record.etag(), req.etag()));
        if (record.has_revoke_time() || Expired(record, txn.commit_time())) {
          return ErrorWithReason(
              absl::StatusCode::kFailedPrecondition, kReasonWrongState,
              absl::StrCat(req.name(),
                           " is revoked or expired: create a new token"));
        }
        const TokenRecord before = record;
        if (!record.secret_hash().empty()) {
          txn.DeleteIndex(storage::IndexKey(
              storage::IndexKind::kTokenBySecretHash, record.secret_hash()));
        }
        *record.mutable_rotate_time() = ToTimestamp(txn.commit_time());
        SaveToken(txn, record, secret);
        COHORTE_RETURN_IF_ERROR(
            Audit(txn, caller, "RotateToken", &before, record));
        v1::TokenSecret response;
        *response.mutable_token() = TokenToApi(record);
        response.set_secret(secret);
        return response;
      });
}

}  // namespace cohorte::service
