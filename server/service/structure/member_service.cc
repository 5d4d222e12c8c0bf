#include "server/service/structure/member_service.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cohorte/v1/cohorts.pb.h"
#include "cohorte/v1/territories.pb.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/access/commit.h"
#include "server/service/access/policy.h"
#include "server/service/access/tokens.h"
#include "server/service/audit/audit.h"
#include "server/service/core/entities.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "server/service/core/pagination.h"
#include "server/service/core/validation.h"
#include "server/service/structure/group_service.h"
#include "storage/codec.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace cohorte::service {
namespace {

using storage::EntityKind;
using storage::Table;
using storage::Txn;
using v1::Member;

const std::vector<std::string>& MutablePaths() {
  static const auto* paths = new std::vector<std::string>{
      "given_name", "family_name", "email",       "organisation",
      "college",    "role",        "delegations", "cohorts"};
  return *paths;
}

std::string EmailKey(absl::string_view email) {
  return storage::IndexKey(storage::IndexKind::kMemberByEmail,
                           absl::AsciiStrToLower(email));
}

// Checks the fields of a complete member (after a merge): formats, limits,
// and that college/delegations/cohorts fit the role.
absl::Status CheckMember(const Member& m) {
  COHORTE_RETURN_IF_ERROR(CheckText("member.given_name", m.given_name(), 1,
                                    kMaxPersonNameChars,
                                    TextKind::kSingleLine));
  COHORTE_RETURN_IF_ERROR(CheckText("member.family_name", m.family_name(), 1,
                                    kMaxPersonNameChars,
                                    TextKind::kSingleLine));
  COHORTE_RETURN_IF_ERROR(CheckEmail("member.email", m.email()));
  COHORTE_RETURN_IF_ERROR(CheckText("member.organisation", m.organisation(), 0,
                                    kMaxOrganisationChars,
                                    TextKind::kSingleLine));
  if (m.role() == Member::ROLE_UNSPECIFIED || !Member::Role_IsValid(m.role())) {
    return InvalidField("member.role", "is required");
  }
  const bool delegate = m.role() == Member::MEMBER;
  if (delegate && (m.college() == v1::COLLEGE_UNSPECIFIED ||
                   !v1::College_IsValid(m.college()))) {
    return InvalidField("member.college", "is required for role MEMBER");
  }
  if (!delegate && m.college() != v1::COLLEGE_UNSPECIFIED) {
    return InvalidField("member.college", "is only for role MEMBER");
  }
  if (!delegate && !m.delegations().empty()) {
    return InvalidField("member.delegations", "are only for role MEMBER");
  }
  const bool serves =
      m.role() == Member::ALLY || m.role() == Member::COORDINATOR;
  if (!serves && !m.cohorts().empty()) {
    return InvalidField("member.cohorts",
                        "are only for roles ALLY and COORDINATOR");
  }
  if (m.delegations_size() > kMaxDelegationsPerMember) {
    return InvalidField(
        "member.delegations",
        absl::StrCat("has more than ", kMaxDelegationsPerMember));
  }
  if (m.cohorts_size() > kMaxCohortsPerMember) {
    return InvalidField("member.cohorts",
                        absl::StrCat("has more than ", kMaxCohortsPerMember));
  }
  std::set<std::string> seen;
  for (const std::string& t : m.delegations()) {
    COHORTE_RETURN_IF_ERROR(
        ParseCohortChildName("member.delegations", t, "territories").status());
    if (!seen.insert(t).second) {
      return InvalidField("member.delegations", absl::StrCat(t, " twice"));
    }
  }
  for (const std::string& c : m.cohorts()) {
    COHORTE_RETURN_IF_ERROR(
        ParseTopLevelName("member.cohorts", c, "cohorts").status());
    if (!seen.insert(c).second) {
      return InvalidField("member.cohorts", absl::StrCat(c, " twice"));
    }
  }
  return absl::OkStatus();
}

// Inside a mutation: the referenced territories and cohorts exist.
absl::Status CheckReferences(const Txn& txn, const Member& m) {
  for (const std::string& t : m.delegations()) {
    absl::Status s = LoadEntity<v1::Territory>(txn, t).status();
    if (absl::IsNotFound(s)) {
      return InvalidField("member.delegations",
                          absl::StrCat(t, " does not exist"));
    }
    COHORTE_RETURN_IF_ERROR(s);
  }
  for (const std::string& c : m.cohorts()) {
    absl::Status s = LoadEntity<v1::Cohort>(txn, c).status();
    if (absl::IsNotFound(s)) {
      return InvalidField("member.cohorts", absl::StrCat(c, " does not exist"));
    }
    COHORTE_RETURN_IF_ERROR(s);
  }
  return absl::OkStatus();
}

// Inside a mutation: claims `email` for `name`; ALREADY_EXISTS if another
// member holds it.
absl::Status ClaimEmail(Txn& txn, absl::string_view email,
                        absl::string_view name) {
  std::string holder;
  absl::Status s = txn.Get(Table::kIndexes, EmailKey(email), &holder);
  if (s.ok() && holder != name) {
    return ErrorWithReason(absl::StatusCode::kAlreadyExists,
                           kReasonAlreadyExists,
                           "member.email: another member has this e-mail");
  }
  if (!s.ok() && !absl::IsNotFound(s)) return s;
  txn.PutIndex(EmailKey(email), name);
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckMemberFields(const v1::Member& member) {
  return CheckMember(member);
}

absl::Status ClaimMemberEmail(storage::Txn& txn, absl::string_view email,
                              absl::string_view name) {
  return ClaimEmail(txn, email, name);
}

bool EmailTaken(const storage::Txn& txn, absl::string_view email) {
  absl::StatusOr<bool> taken = txn.Exists(Table::kIndexes, EmailKey(email));
  return !taken.ok() || *taken;
}

absl::Status CheckEmail(absl::string_view field, absl::string_view email) {
  if (email.empty()) return InvalidField(field, "is required");
  if (static_cast<int>(email.size()) > kMaxEmailLength) {
    return InvalidField(
        field, absl::StrCat("is longer than ", kMaxEmailLength, " characters"));
  }
  const size_t at = email.find('@');
  const bool shape = at != absl::string_view::npos && at > 0 && at <= 64 &&
                     email.find('@', at + 1) == absl::string_view::npos &&
                     email.find('.', at + 2) != absl::string_view::npos &&
                     email.back() != '.';
  bool chars = true;
  for (char c : email) {
    chars = chars && c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != '<' &&
            c != '>' && c != '(' && c != ')' && c != ';';
  }
  if (!shape || !chars) {
    return InvalidField(field, "is not an e-mail address (local@domain.tld)");
  }
  return absl::OkStatus();
}

MemberService::MemberService(storage::Store* store, NotificationFanOut* fan_out)
    : store_(*store), fan_out_(*fan_out) {
  fan_out->SetAudience(v1::InboxItem::GROUP_READER_ADDED, GroupReaderAudience);
}

absl::StatusOr<Member> MemberService::CreateMember(
    const Principal& caller, const v1::CreateMemberRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      Authorize(caller, Resource::kMember, Action::kCreate));
  if (!req.member_id().empty()) {
    COHORTE_RETURN_IF_ERROR(CheckResourceId("member_id", req.member_id()));
    if (req.member_id() == "me") {
      return InvalidField("member_id", "'me' is reserved");
    }
  }
  COHORTE_RETURN_IF_ERROR(CheckMember(req.member()));
  COHORTE_RETURN_IF_ERROR(CheckRequestId("request_id", req.request_id()));
  const std::string name =
      absl::StrCat("members/", req.member_id().empty() ? GenerateId("member-")
                                                       : req.member_id());
  absl::StatusOr<Member> created = CommitForResponse<Member>(
      store_, caller, "CreateMember", req, req.request_id(),
      [&](Txn& txn,
          [[maybe_unused]] const Reader& reader) -> absl::StatusOr<Member> {
        // Checked again against the caller as this mutation sees them.
        COHORTE_RETURN_IF_ERROR(
            Authorize(reader.caller(), Resource::kMember, Action::kCreate));
        COHORTE_ASSIGN_OR_RETURN(bool exists,
                                 txn.EntityExists<v1::Member>((name)));
        if (exists) return AlreadyExists(name);
        COHORTE_RETURN_IF_ERROR(CheckReferences(txn, req.member()));
        COHORTE_RETURN_IF_ERROR(ClaimEmail(txn, req.member().email(), name));
        Member m;
        for (const std::string& path : MutablePaths()) {
          google::protobuf::FieldMask mask;
          mask.add_paths(path);
          google::protobuf::util::FieldMaskUtil::MergeMessageTo(req.member(),
                                                                mask, {}, &m);
        }
        m.set_name(name);
        CreateEntity(txn, m);
        COHORTE_RETURN_IF_ERROR(
            AnnounceCollegeReader(txn, nullptr, m, caller.actor()));
        AuditLog audit(caller.actor(), "CreateMember");
        audit.Change(name, nullptr, &m);
        for (const std::string& c : CohortsOfMember(m)) audit.Touch(c);
        COHORTE_RETURN_IF_ERROR(audit.Write(txn));
        return m;
      });
  // The member is durable: their announcement to a college group they
  // joined (if any) is delivered now; one that fails stays pending and is
  // resumed by the next delivery (or at start-up).
  if (created.ok()) (void)fan_out_.DeliverPending();
  return created;
}

absl::StatusOr<Member> MemberService::GetMember(
    const Principal& caller, const v1::GetMemberRequest& req) {
  if (req.name() == "members/me" && caller.service) {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition, kReasonWrongState,
        absl::StrCat("name: members/me: the caller is the service token ",
                     caller.token, ", which acts as no member"));
  }
  const std::string name =
      req.name() == "members/me" ? caller.member : req.name();
  COHORTE_RETURN_IF_ERROR(
      Authorize(caller, Resource::kMember, Action::kRead, MemberScope(name)));
  COHORTE_RETURN_IF_ERROR(ParseTopLevelName("name", name, "members").status());
  // Permission before existence: the gate answers an absent member and one
  // the caller may not see alike.
  return Reader(store_, caller).Get<Member>(name);
}

absl::StatusOr<v1::ListMembersResponse> MemberService::ListMembers(
    const Principal& caller, const v1::ListMembersRequest& req) {
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kMember, Action::kRead));
  if (!req.cohort().empty()) {
    COHORTE_RETURN_IF_ERROR(
        ParseTopLevelName("cohort", req.cohort(), "cohorts").status());
  }
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  v1::ListMembersResponse response;
  COHORTE_ASSIGN_OR_RETURN(
      *response.mutable_next_page_token(),
      Reader(store_, caller)
          .List<Member>(
              storage::CollectionPrefixOf<v1::Member>("", "members"), page,
              [&](Member& m) {
                if (!req.cohort().empty() &&
                    !CohortsOfMember(m).count(req.cohort())) {
                  return false;
                }
                return true;
              },
              response.mutable_members()));
  return response;
}

absl::StatusOr<Member> MemberService::UpdateMember(
    const Principal& caller, const v1::UpdateMemberRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      Authorize(caller, Resource::kMember, Action::kUpdate));
  const std::string& name = req.member().name();
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("member.name", name, "members").status());
  google::protobuf::FieldMask mask = req.update_mask();
  COHORTE_RETURN_IF_ERROR(
      CheckUpdateMask(
          mask,
          std::set<std::string>(MutablePaths().begin(), MutablePaths().end()),
          "Member")
          .status());
  COHORTE_RETURN_IF_ERROR(CheckRequestId("request_id", req.request_id()));
  google::protobuf::util::FieldMaskUtil::MergeOptions merge;
  merge.set_replace_repeated_fields(true);
  absl::StatusOr<Member> updated = CommitForResponse<Member>(
      store_, caller, "UpdateMember", req, req.request_id(),
      [&](Txn& txn,
          [[maybe_unused]] const Reader& reader) -> absl::StatusOr<Member> {
        // Checked again against the caller as this mutation sees them.
        COHORTE_RETURN_IF_ERROR(
            Authorize(reader.caller(), Resource::kMember, Action::kUpdate));
        COHORTE_ASSIGN_OR_RETURN(Member m, LoadEntity<Member>(txn, name));
        COHORTE_RETURN_IF_ERROR(CheckEtag(name, m.etag(), req.member().etag()));
        const Member before = m;
        const std::string old_email = m.email();
        google::protobuf::util::FieldMaskUtil::MergeMessageTo(req.member(),
                                                              mask, merge, &m);
        COHORTE_RETURN_IF_ERROR(CheckMember(m));
        COHORTE_RETURN_IF_ERROR(CheckReferences(txn, m));
        if (absl::AsciiStrToLower(old_email) !=
            absl::AsciiStrToLower(m.email())) {
          COHORTE_RETURN_IF_ERROR(ClaimEmail(txn, m.email(), name));
          if (!old_email.empty()) txn.DeleteIndex(EmailKey(old_email));
        }
        SaveEntity(txn, m);
        COHORTE_RETURN_IF_ERROR(
            AnnounceCollegeReader(txn, &before, m, caller.actor()));
        AuditLog audit(caller.actor(), "UpdateMember");
        audit.Change(name, &before, &m);
        for (const std::string& c : CohortsOfMember(before)) audit.Touch(c);
        for (const std::string& c : CohortsOfMember(m)) audit.Touch(c);
        COHORTE_RETURN_IF_ERROR(audit.Write(txn));
        return m;
      });
  // The member is durable: their announcement to a college group they
  // joined (if any) is delivered now; one that fails stays pending and is
  // resumed by the next delivery (or at start-up).
  if (updated.ok()) (void)fan_out_.DeliverPending();
  return updated;
}

absl::StatusOr<v1::CreateTokenResponse> MemberService::CreateToken(
    const Principal& caller, const v1::CreateTokenRequest& req) {
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kToken, Action::kCreate));
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("parent", req.parent(), "members").status());
  COHORTE_RETURN_IF_ERROR(CheckText("display_name", req.display_name(), 0,
                                    kMaxTokenDisplayNameChars,
                                    TextKind::kSingleLine));
  if (!req.request_id().empty()) {
    return InvalidField("request_id",
                        "is not accepted: a token's secret is shown once and "
                        "never stored, so it cannot be replayed");
  }
  if (req.has_expire_time()) {
    COHORTE_RETURN_IF_ERROR(CheckExpireTime(
        "expire_time", req.expire_time(), absl::Now(), kMaxTokenLifetimeDays));
  }
  const std::string secret = NewTokenSecret();
  const std::string token_name = GenerateId("tokens/token-");
  return CommitForResponse<v1::CreateTokenResponse>(
      store_, caller, "CreateToken", req, /*request_id=*/"",
      [&](Txn& txn, [[maybe_unused]] const Reader& reader)
          -> absl::StatusOr<v1::CreateTokenResponse> {
        // Checked again against the caller as this mutation sees them.
        COHORTE_RETURN_IF_ERROR(
            Authorize(reader.caller(), Resource::kToken, Action::kCreate));
        COHORTE_ASSIGN_OR_RETURN(Member owner,
                                 LoadEntity<Member>(txn, req.parent()));
        storage::v1::TokenRecord record;
        record.set_name(token_name);
        record.set_member(req.parent());
        record.set_display_name(req.display_name());
        *record.mutable_create_time() = ToTimestamp(txn.commit_time());
        if (req.has_expire_time()) {
          *record.mutable_expire_time() = req.expire_time();
        }
        record.set_kind(v1::Token::PERSONAL);
        SaveToken(txn, record, secret);
        // A coordinator sees a token minted for someone of their cohort:
        // the trace of anyone who would act as that person.
        AuditLog audit(caller.actor(), "CreateToken");
        const v1::Token api = TokenToApi(record);
        audit.Change(record.name(), nullptr, &api);
        for (const std::string& c : CohortsOfMember(owner)) audit.Touch(c);
        COHORTE_RETURN_IF_ERROR(audit.Write(txn));
        v1::CreateTokenResponse response;
        response.set_name(token_name);
        response.set_secret(secret);
        *response.mutable_expire_time() = record.expire_time();
        return response;
      });
}

}  // namespace cohorte::service
