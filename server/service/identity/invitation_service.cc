#include "server/service/identity/invitation_service.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cohorte/storage/v1/records.pb.h"
#include "cohorte/v1/cohorts.pb.h"
#include "cohorte/v1/members.pb.h"
#include "cohorte/v1/territories.pb.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/access/commit.h"
#include "server/service/access/policy.h"
#include "server/service/access/tokens.h"
#include "server/service/audit/audit.h"
#include "server/service/core/entities.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "server/service/core/validation.h"
#include "server/service/structure/group_service.h"
#include "server/service/structure/member_service.h"
#include "storage/keys.h"
#include "storage/random.h"
#include "storage/status_macros.h"

namespace cohorte::service {
namespace {

using google::protobuf::util::TimeUtil;
using storage::EntityKind;
using storage::IndexKind;
using storage::Table;
using storage::Txn;
using v1::Invitation;
using v1::Member;

// The longest secret worth looking up ("inv_" + 64 hex digits).
constexpr size_t kInvitationSecretLength = 68;

std::string PendingKey(absl::string_view email) {
  return storage::IndexKey(IndexKind::kPendingInvitationByEmail,
                           absl::AsciiStrToLower(email));
}

std::string SecretKey(absl::string_view secret) {
  return storage::IndexKey(IndexKind::kInvitationBySecretHash,
                           TokenSecretHash(secret));
}

bool Expired(const Invitation& inv, absl::Time now) {
  return TimeUtil::TimestampToNanoseconds(inv.expire_time()) <=
         absl::ToUnixNanos(now);
}

// The invitation as callers see it: PENDING past its expiry is EXPIRED.
Invitation WithState(Invitation inv, absl::Time now) {
  if (inv.state() == Invitation::PENDING && Expired(inv, now)) {
    inv.set_state(Invitation::EXPIRED);
  }
  return inv;
}

// A readable member id from a person's names: "Hélène Ébrard" →
// "helene-ebrard". Empty if nothing usable is left.
std::string Slug(absl::string_view given, absl::string_view family) {
  static const std::pair<const char*, const char*> kFold[] = {
      {"à", "a"}, {"â", "a"},  {"ä", "a"},  {"á", "a"}, {"é", "e"}, {"è", "e"},
      {"ê", "e"}, {"ë", "e"},  {"î", "i"},  {"ï", "i"}, {"í", "i"}, {"ô", "o"},
      {"ö", "o"}, {"ó", "o"},  {"ù", "u"},  {"û", "u"}, {"ü", "u"}, {"ú", "u"},
      {"ç", "c"}, {"œ", "oe"}, {"æ", "ae"}, {"ñ", "n"}, {"ÿ", "y"}, {"À", "a"},
      {"Â", "a"}, {"É", "e"},  {"È", "e"},  {"Ê", "e"}, {"Î", "i"}, {"Ô", "o"},
      {"Ç", "c"}, {"Œ", "oe"}};
  std::string text = absl::StrCat(given, " ", family);
  std::string lowered;
  for (size_t i = 0; i < text.size();) {
    bool folded = false;
    for (const auto& [from, to] : kFold) {
      const absl::string_view f(from);
      if (absl::string_view(text).substr(i, f.size()) == f) {
        lowered += to;
        i += f.size();
        folded = true;
        break;
      }
    }
    if (folded) continue;
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (absl::ascii_isalnum(c)) {
      lowered += absl::ascii_tolower(c);
    } else if (!lowered.empty() && lowered.back() != '-') {
      lowered += '-';
    }
    ++i;
  }
  while (!lowered.empty() && lowered.back() == '-') lowered.pop_back();
  if (lowered.size() > 40) lowered.resize(40);
  while (!lowered.empty() && lowered.back() == '-') lowered.pop_back();
  if (lowered.empty() || !absl::ascii_isalpha(lowered[0])) return "";
  return lowered;
}

absl::Status Refused(absl::StatusCode code, absl::string_view reason,
                     absl::string_view message) {
  return ErrorWithReason(code, reason, message);
}

absl::Status CheckInvitation(const Principal& caller, absl::string_view cohort,
                             const Invitation& inv) {
  COHORTE_RETURN_IF_ERROR(CheckEmail("invitation.email", inv.email()));
  switch (inv.role()) {
    case Member::MEMBER: {
      if (inv.college() == v1::COLLEGE_UNSPECIFIED ||
          !v1::College_IsValid(inv.college())) {
        return InvalidField("invitation.college",
                            "is required for role MEMBER");
      }
      COHORTE_ASSIGN_OR_RETURN(
          std::string territory_cohort,
          ParseCohortChildName("invitation.territory", inv.territory(),
                               "territories"));
      if (territory_cohort != cohort) {
        return InvalidField("invitation.territory",
                            absl::StrCat("is not a territory of ", cohort));
      }
      return absl::OkStatus();
    }
    case Member::COORDINATOR:
      if (!caller.is_admin()) {
        return ErrorWithReason(
            absl::StatusCode::kPermissionDenied, kReasonPermissionDenied,
            "the caller may not invite a coordinator (administrator only)");
      }
      [[fallthrough]];
    case Member::ALLY:
      if (inv.college() != v1::COLLEGE_UNSPECIFIED) {
        return InvalidField("invitation.college", "is only for role MEMBER");
      }
      if (!inv.territory().empty()) {
        return InvalidField("invitation.territory", "is only for role MEMBER");
      }
      return absl::OkStatus();
    default:
      return InvalidField("invitation.role",
                          "must be MEMBER, ALLY or COORDINATOR");
  }
}

}  // namespace

// An invitation's creator gets its one-time secret; its acceptor gets their
// own new member and token: each may read what they get (checked for the
// invitation; the new member is the acceptor themself).
template <>
struct Presenter<v1::CreateInvitationResponse> {
  static absl::StatusOr<v1::CreateInvitationResponse> Present(
      const Reader& reader, v1::CreateInvitationResponse r) {
    COHORTE_ASSIGN_OR_RETURN(*r.mutable_invitation(),
                             reader.Present(r.invitation()));
    return r;
  }
};
template <>
struct Presenter<v1::AcceptInvitationResponse> {
  static absl::StatusOr<v1::AcceptInvitationResponse> Present(
      const Reader&, v1::AcceptInvitationResponse r) {
    return r;
  }
};

namespace {

// What a validate_only creation's `apply` answers once every check passed,
// so that the store rolls the mutation back (no revision, nothing written).
constexpr absl::string_view kValidatedOnly =
    "validate_only: every check passed, nothing was written";

// The pending invitation `inviter` makes of request `in` at `now` (without
// its name).
Invitation PendingInvitation(const Invitation& in, const Principal& inviter,
                             absl::Time now) {
  Invitation out;
  out.set_email(in.email());
  out.set_role(in.role());
  out.set_college(in.college());
  out.set_territory(in.territory());
  out.set_inviter(inviter.actor());
  out.set_state(Invitation::PENDING);
  *out.mutable_expire_time() =
      in.has_expire_time()
          ? in.expire_time()
          : ToTimestamp(now + absl::Hours(24 * kDefaultInvitationLifetimeDays));
  return out;
}

}  // namespace

absl::StatusOr<v1::CreateInvitationResponse>
InvitationService::CreateInvitation(const Principal& caller,
                                    const v1::CreateInvitationRequest& req) {
  absl::StatusOr<v1::CreateInvitationResponse> created = Create(caller, req);
  if (!req.validate_only() || !absl::IsCancelled(created.status()) ||
      created.status().message() != kValidatedOnly) {
    return created;
  }
  // The caller's own request, as it would be stored: no name, no secret.
  v1::CreateInvitationResponse would;
  *would.mutable_invitation() =
      PendingInvitation(req.invitation(), caller, absl::Now());
  return would;
}

absl::StatusOr<v1::CreateInvitationResponse> InvitationService::Create(
    const Principal& caller, const v1::CreateInvitationRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("parent", req.parent(), "cohorts").status());
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kInvitation,
                                    Action::kCreate,
                                    CohortScope(req.parent())));
  const Invitation& inv = req.invitation();
  COHORTE_RETURN_IF_ERROR(CheckInvitation(caller, req.parent(), inv));
  const absl::Time now = absl::Now();
  if (inv.has_expire_time()) {
    COHORTE_RETURN_IF_ERROR(CheckExpireTime("invitation.expire_time",
                                            inv.expire_time(), now,
                                            kMaxInvitationLifetimeDays));
  }
  const std::string secret = NewTokenSecret(kInvitationSecretPrefix);
  const std::string name =
      absl::StrCat(req.parent(), "/invitations/", GenerateId("invitation-"));
  return CommitForResponse<v1::CreateInvitationResponse>(
      store_, caller, "CreateInvitation", req, /*request_id=*/"",
      [&](Txn& txn, [[maybe_unused]] const Reader& reader)
          -> absl::StatusOr<v1::CreateInvitationResponse> {
        COHORTE_RETURN_IF_ERROR(
            LoadEntity<v1::Cohort>(txn, req.parent()).status());
        if (inv.role() == Member::MEMBER) {
          absl::Status t =
              LoadEntity<v1::Territory>(txn, inv.territory()).status();
          if (absl::IsNotFound(t)) {
            return InvalidField("invitation.territory", "does not exist");
          }
          COHORTE_RETURN_IF_ERROR(t);
        }
        if (EmailTaken(txn, inv.email())) {
          return ErrorWithReason(
              absl::StatusCode::kAlreadyExists, kReasonAlreadyExists,
              "invitation.email: a member already has this e-mail (the "
              "administrator can add a delegation to them)");
        }
        std::string pending;
        absl::Status s =
            txn.Get(Table::kIndexes, PendingKey(inv.email()), &pending);
        if (s.ok()) {
          absl::StatusOr<Invitation> other =
              LoadEntity<Invitation>(txn, pending);
          if (other.ok() && other->state() == Invitation::PENDING &&
              !Expired(*other, txn.commit_time())) {
            return ErrorWithReason(
                absl::StatusCode::kAlreadyExists, kReasonAlreadyExists,
                reader.Load<Invitation>(pending).ok()
                    ? absl::StrCat("invitation.email: ", pending,
                                   " is pending for this e-mail; revoke it "
                                   "first")
                    : std::string("invitation.email: an invitation is "
                                  "pending for this e-mail"));
          }
        } else if (!absl::IsNotFound(s)) {
          return s;
        }
        if (req.validate_only()) return absl::CancelledError(kValidatedOnly);
        Invitation created = PendingInvitation(inv, caller, txn.commit_time());
        created.set_name(name);
        CreateEntity(txn, created);
        txn.PutIndex(PendingKey(inv.email()), name);
        txn.PutIndex(SecretKey(secret), name);
        AuditLog audit(caller.actor(), "CreateInvitation");
        audit.Change(name, nullptr, &created);
        audit.Touch(req.parent());
        COHORTE_RETURN_IF_ERROR(audit.Write(txn));
        v1::CreateInvitationResponse response;
        *response.mutable_invitation() = created;
        response.set_secret(secret);
        return response;
      });
}

absl::StatusOr<Invitation> InvitationService::GetInvitation(
    const Principal& caller, const v1::GetInvitationRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(
      std::string cohort,
      ParseCohortChildName("name", req.name(), "invitations"));
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kInvitation,
                                    Action::kRead, CohortScope(cohort)));
  COHORTE_ASSIGN_OR_RETURN(Invitation inv,
                           Reader(store_, caller).Get<Invitation>(req.name()));
  return WithState(std::move(inv), absl::Now());
}

absl::StatusOr<v1::ListInvitationsResponse> InvitationService::ListInvitations(
    const Principal& caller, const v1::ListInvitationsRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("parent", req.parent(), "cohorts").status());
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kInvitation,
                                    Action::kRead, CohortScope(req.parent())));
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  const absl::Time now = absl::Now();
  v1::ListInvitationsResponse response;
  COHORTE_ASSIGN_OR_RETURN(*response.mutable_next_page_token(),
                           Reader(store_, caller)
                               .List<Invitation>(
                                   storage::CollectionPrefixOf<v1::Invitation>(
                                       req.parent(), "invitations"),
                                   page,
                                   [&](Invitation& inv) {
                                     inv = WithState(std::move(inv), now);
                                     return true;
                                   },
                                   response.mutable_invitations()));
  return response;
}

absl::StatusOr<Invitation> InvitationService::RevokeInvitation(
    const Principal& caller, const v1::RevokeInvitationRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(
      std::string cohort,
      ParseCohortChildName("name", req.name(), "invitations"));
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kInvitation,
                                    Action::kDelete, CohortScope(cohort)));
  return CommitForResponse<Invitation>(
      store_, caller, "RevokeInvitation", req, /*request_id=*/"",
      [&](Txn& txn,
          [[maybe_unused]] const Reader& reader) -> absl::StatusOr<Invitation> {
        // Checked again against the caller as this mutation sees them.
        COHORTE_RETURN_IF_ERROR(
            Authorize(reader.caller(), Resource::kInvitation, Action::kDelete,
                      CohortScope(cohort)));
        COHORTE_ASSIGN_OR_RETURN(Invitation inv,
                                 reader.Load<Invitation>(req.name()));
        COHORTE_RETURN_IF_ERROR(CheckEtag(inv.name(), inv.etag(), req.etag()));
        if (inv.state() != Invitation::PENDING) {
          return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                                 kReasonWrongState,
                                 absl::StrCat(req.name(), " is not pending"));
        }
        const Invitation before = inv;
        inv.set_state(Invitation::REVOKED);
        *inv.mutable_revoke_time() = ToTimestamp(txn.commit_time());
        SaveEntity(txn, inv);
        std::string pending;
        if (txn.Get(Table::kIndexes, PendingKey(inv.email()), &pending).ok() &&
            pending == inv.name()) {
          txn.DeleteIndex(PendingKey(inv.email()));
        }
        AuditLog audit(caller.actor(), "RevokeInvitation");
        audit.Change(inv.name(), &before, &inv);
        audit.Touch(cohort);
        COHORTE_RETURN_IF_ERROR(audit.Write(txn));
        return inv;
      });
}

absl::StatusOr<v1::AcceptInvitationResponse>
InvitationService::AcceptInvitation(const v1::AcceptInvitationRequest& req) {
  COHORTE_RETURN_IF_ERROR(CheckText("given_name", req.given_name(), 1,
                                    kMaxPersonNameChars,
                                    TextKind::kSingleLine));
  COHORTE_RETURN_IF_ERROR(CheckText("family_name", req.family_name(), 1,
                                    kMaxPersonNameChars,
                                    TextKind::kSingleLine));
  COHORTE_RETURN_IF_ERROR(CheckText("organisation", req.organisation(), 0,
                                    kMaxOrganisationChars,
                                    TextKind::kSingleLine));
  COHORTE_RETURN_IF_ERROR(
      CheckText("token_display_name", req.token_display_name(), 0,
                kMaxTokenDisplayNameChars, TextKind::kSingleLine));
  const absl::Status unknown = Refused(
      absl::StatusCode::kNotFound, kReasonInvitationUnknown,
      "secret: no invitation has this secret (check it was copied whole)");
  if (req.secret().size() != kInvitationSecretLength ||
      !absl::StartsWith(req.secret(), kInvitationSecretPrefix)) {
    return unknown;
  }
  const std::string token_secret = NewTokenSecret();
  const std::string token_name = GenerateId("tokens/token-");
  // Nobody is authenticated yet: the change log names the acceptance.
  Principal invitee;
  invitee.member = "invitations/accept";

  absl::StatusOr<v1::AcceptInvitationResponse> accepted =
      CommitForResponse<v1::AcceptInvitationResponse>(
          store_, invitee, "AcceptInvitation", req, /*request_id=*/"",
          [&](Txn& txn,
              const Reader&) -> absl::StatusOr<v1::AcceptInvitationResponse> {
            std::string invitation_name;
            absl::Status s = txn.Get(Table::kIndexes, SecretKey(req.secret()),
                                     &invitation_name);
            if (absl::IsNotFound(s)) return unknown;
            COHORTE_RETURN_IF_ERROR(s);
            // A readable member id, with a random suffix if taken.
            std::string id = Slug(req.given_name(), req.family_name());
            if (id.empty() || id == "me") {
              id = GenerateId("member-");
            } else {
              COHORTE_ASSIGN_OR_RETURN(
                  bool taken,
                  txn.EntityExists<v1::Member>(absl::StrCat("members/", id)));
              if (taken) id = GenerateId(id + "-");
            }
            const std::string member_name = absl::StrCat("members/", id);
            COHORTE_ASSIGN_OR_RETURN(
                Invitation inv, LoadEntity<Invitation>(txn, invitation_name));
            switch (inv.state()) {
              case Invitation::PENDING:
                break;
              case Invitation::REVOKED:
                return Refused(absl::StatusCode::kFailedPrecondition,
                               kReasonInvitationRevoked,
                               "secret: the invitation was revoked");
              default:
                return Refused(absl::StatusCode::kFailedPrecondition,
                               kReasonInvitationUsed,
                               "secret: the invitation was already accepted");
            }
            if (Expired(inv, txn.commit_time())) {
              return Refused(
                  absl::StatusCode::kFailedPrecondition,
                  kReasonInvitationExpired,
                  "secret: the invitation has expired; ask for a new "
                  "one");
            }
            COHORTE_ASSIGN_OR_RETURN(
                bool exists, txn.EntityExists<v1::Member>((member_name)));
            if (exists) {
              return ErrorWithReason(
                  absl::StatusCode::kAborted, kReasonWrongState,
                  "another member took the same id at the same "
                  "moment; retry");
            }
            const std::string cohort(CohortOf(inv.name()));
            Member m;
            m.set_name(member_name);
            m.set_given_name(req.given_name());
            m.set_family_name(req.family_name());
            m.set_organisation(req.organisation());
            m.set_email(inv.email());
            m.set_role(inv.role());
            m.set_college(inv.college());
            if (inv.role() == Member::MEMBER) {
              m.add_delegations(inv.territory());
              absl::Status t =
                  LoadEntity<v1::Territory>(txn, inv.territory()).status();
              if (absl::IsNotFound(t)) {
                return Refused(
                    absl::StatusCode::kFailedPrecondition, kReasonWrongState,
                    absl::StrCat("the invitation's territory ", inv.territory(),
                                 " no longer exists"));
              }
              COHORTE_RETURN_IF_ERROR(t);
            } else {
              m.add_cohorts(cohort);
            }
            COHORTE_RETURN_IF_ERROR(CheckMemberFields(m));
            COHORTE_RETURN_IF_ERROR(
                ClaimMemberEmail(txn, m.email(), member_name));
            CreateEntity(txn, m);
            COHORTE_RETURN_IF_ERROR(
                AnnounceCollegeReader(txn, nullptr, m, m.name()));

            storage::v1::TokenRecord token;
            token.set_name(token_name);
            token.set_kind(v1::Token::PERSONAL);
            token.set_member(member_name);
            token.set_display_name(req.token_display_name().empty()
                                       ? "first token (invitation)"
                                       : req.token_display_name());
            *token.mutable_create_time() = ToTimestamp(txn.commit_time());
            SaveToken(txn, token, token_secret);

            const Invitation before = inv;
            inv.set_state(Invitation::ACCEPTED);
            inv.set_member(member_name);
            *inv.mutable_accept_time() = ToTimestamp(txn.commit_time());
            SaveEntity(txn, inv);
            txn.DeleteIndex(PendingKey(inv.email()));

            AuditLog audit(member_name, "AcceptInvitation");
            audit.Change(inv.name(), &before, &inv);
            audit.Change(member_name, nullptr, &m);
            const v1::Token token_api = TokenToApi(token);
            audit.Change(token_name, nullptr, &token_api);
            audit.Touch(cohort);
            COHORTE_RETURN_IF_ERROR(audit.Write(txn));

            v1::AcceptInvitationResponse response;
            *response.mutable_member() = m;
            *response.mutable_token()->mutable_token() = token_api;
            response.mutable_token()->set_secret(token_secret);
            return response;
          });
  // The member is durable: the announcement to their college group (if
  // any) is delivered now; one that fails stays pending and is resumed by
  // the next delivery (or at start-up).
  if (accepted.ok()) (void)fan_out_.DeliverPending();
  return accepted;
}

InvitationService::InvitationService(storage::Store* store,
                                     NotificationFanOut* fan_out)
    : store_(*store), fan_out_(*fan_out) {
  fan_out->SetAudience(v1::InboxItem::GROUP_READER_ADDED, GroupReaderAudience);
}

}  // namespace cohorte::service
