#include "server/service/content/moderation_service.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cohorte/v1/exchanges.pb.h"
#include "cohorte/v1/groups.pb.h"
#include "cohorte/v1/reports.pb.h"
#include "server/service/access/commit.h"
#include "server/service/access/policy.h"
#include "server/service/access/reader.h"
#include "server/service/audit/audit.h"
#include "server/service/core/entities.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "server/service/core/validation.h"
#include "storage/codec.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace cohorte::service {
namespace {

using storage::EntityKind;
using storage::Table;
using storage::Txn;
using v1::ContentFlag;

bool IsMessage(absl::string_view target) {
  return ParseNestedName("target", target,
                         {"cohorts", "groups", "exchanges", "messages"})
      .ok();
}

// OK if `caller` moderates `target` (see the file comment); PERMISSION_DENIED
// otherwise, whether or not it exists.
absl::Status AuthorizeModeration(const Reader& reader,
                                 absl::string_view target) {
  const Principal& caller = reader.caller();
  const absl::Status denied =
      PermissionDenied(absl::StrCat("moderate ", target.substr(0, 200)));
  if (!reader.MayRead(target).ok()) return denied;
  const std::string cohort(CohortOf(target));
  if (IsMessage(target)) {
    const std::string group(target.substr(0, target.find("/exchanges/")));
    absl::StatusOr<v1::PeerGroup> g = reader.GroupForContent(group);
    if (!g.ok()) return denied;
    const bool facilitator =
        std::find(g->facilitators().begin(), g->facilitators().end(),
                  caller.member) != g->facilitators().end();
    return facilitator || Coordinates(caller, cohort) ? absl::OkStatus()
                                                      : denied;
  }
  if (Coordinates(caller, cohort)) return absl::OkStatus();
  absl::StatusOr<v1::ExperienceReport> r =
      reader.Load<v1::ExperienceReport>(target);
  if (r.ok() && r->visibility() == v1::GROUP) {
    absl::StatusOr<v1::PeerGroup> g = reader.Get<v1::PeerGroup>(r->group());
    if (g.ok() && std::find(g->facilitators().begin(), g->facilitators().end(),
                            caller.member) != g->facilitators().end()) {
      return absl::OkStatus();
    }
  }
  return denied;
}

// Inside a mutation: OK if someone may moderate `target` (a facilitator of
// its group or a coordinator of its cohort, each only if they may read it:
// AuthorizeModeration as them). FAILED_PRECONDITION (NO_MODERATOR)
// otherwise, so that a flag never waits in a queue nobody reads. The
// caller reads `target`, so the message names nothing they cannot read.
absl::Status CheckSomeoneModerates(const Txn& txn, absl::string_view target) {
  const std::string cohort(CohortOf(target));
  std::string group;
  if (IsMessage(target)) {
    group = std::string(target.substr(0, target.find("/exchanges/")));
  } else if (absl::StatusOr<v1::ExperienceReport> r =
                 LoadEntity<v1::ExperienceReport>(txn, target);
             r.ok() && r->visibility() == v1::GROUP) {
    group = r->group();
  }
  std::vector<std::string> facilitators;
  if (!group.empty()) {
    absl::StatusOr<v1::PeerGroup> g = LoadEntity<v1::PeerGroup>(txn, group);
    if (g.ok()) {
      facilitators.assign(g->facilitators().begin(), g->facilitators().end());
    }
  }
  COHORTE_ASSIGN_OR_RETURN(
      std::vector<v1::Member> candidates,
      ScanMembers(txn, [&](const v1::Member& m) {
        return Coordinates(Principal::FromMember(m, ""), cohort) ||
               std::find(facilitators.begin(), facilitators.end(), m.name()) !=
                   facilitators.end();
      }));
  for (const v1::Member& m : candidates) {
    if (AuthorizeModeration(Reader::AsMember(txn, m), target).ok()) {
      return absl::OkStatus();
    }
  }
  return ErrorWithReason(
      absl::StatusCode::kFailedPrecondition, kReasonNoModerator,
      group.empty()
          ? absl::StrCat("nobody may moderate ", target, ": no coordinator of ",
                         cohort, " may read it; nothing was flagged")
          : absl::StrCat("nobody may moderate ", target, ": ", group,
                         " has no facilitator and no coordinator of ", cohort,
                         " is a member; ask a coordinator to name a "
                         "facilitator among the group's members (cohorte "
                         "groups set-members --add-facilitator); nothing was "
                         "flagged"));
}

absl::Status CheckTarget(absl::string_view target) {
  if (IsMessage(target) ||
      ParseCohortChildName("target", target, "reports").ok()) {
    return absl::OkStatus();
  }
  return InvalidField("target", "must be a message or an experience report");
}

// Inside a mutation: resolves the open flags of `target`; returns how many.
absl::StatusOr<int> ResolveFlags(Txn& txn, absl::string_view target) {
  std::vector<ContentFlag> open;
  absl::Status decode_error;
  COHORTE_RETURN_IF_ERROR(txn.Scan(
      Table::kEntities,
      storage::CollectionPrefixOf<v1::ContentFlag>(CohortOf(target), "flags"),
      [&](absl::string_view, absl::string_view value) {
        ContentFlag f;
        decode_error = storage::DecodeValue(value, &f);
        if (!decode_error.ok()) return false;
        if (f.target() == target && f.state() == ContentFlag::OPEN) {
          open.push_back(std::move(f));
        }
        return true;
      }));
  COHORTE_RETURN_IF_ERROR(decode_error);
  for (ContentFlag& f : open) {
    f.set_state(ContentFlag::RESOLVED);
    SaveEntity(txn, f);
  }
  return static_cast<int>(open.size());
}

// Inside a mutation: sets `target` hidden (with `reason`) or shown; the
// audit log gets the change without any content.
absl::StatusOr<v1::HideContentResponse> SetHidden(Txn& txn,
                                                  const Reader& reader,
                                                  absl::string_view target,
                                                  bool hidden,
                                                  absl::string_view reason) {
  COHORTE_RETURN_IF_ERROR(AuthorizeModeration(reader, target));
  const Principal& caller = reader.caller();
  AuditLog audit(caller.actor(), hidden ? "HideContent" : "UnhideContent");
  auto wrong_state = [&] {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition, kReasonWrongState,
        absl::StrCat(target, hidden ? " is already hidden" : " is not hidden"));
  };
  if (IsMessage(target)) {
    COHORTE_ASSIGN_OR_RETURN(v1::Message m, reader.Load<v1::Message>(target));
    if (m.hidden() == hidden) return wrong_state();
    // The audit log's readers need not be the group's: no content in it.
    v1::Message before_view, after_view;
    before_view.set_name(m.name());
    before_view.set_hidden(m.hidden());
    before_view.set_hidden_reason(m.hidden_reason());
    m.set_hidden(hidden);
    m.set_hidden_reason(hidden ? std::string(reason) : "");
    SaveEntity(txn, m);
    after_view.set_name(m.name());
    after_view.set_hidden(m.hidden());
    after_view.set_hidden_reason(m.hidden_reason());
    audit.Change(target, &before_view, &after_view);
  } else {
    COHORTE_ASSIGN_OR_RETURN(v1::ExperienceReport r,
                             reader.Load<v1::ExperienceReport>(target));
    if (r.hidden() == hidden) return wrong_state();
    // The audit log holds the report without its narrative, and shows it
    // to whom the report's rule lets read it (its state, visibility and
    // group are kept for that).
    auto view = [](v1::ExperienceReport v) {
      for (std::string* text : {v.mutable_context(), v.mutable_actions(),
                                v.mutable_results(), v.mutable_what_worked(),
                                v.mutable_what_failed(), v.mutable_lessons()}) {
        text->clear();
      }
      return v;
    };
    const v1::ExperienceReport before_view = view(r);
    r.set_hidden(hidden);
    r.set_hidden_reason(hidden ? std::string(reason) : "");
    SaveEntity(txn, r);
    const v1::ExperienceReport after_view = view(r);
    audit.Change(target, &before_view, &after_view);
  }
  audit.Touch(CohortOf(target));
  COHORTE_RETURN_IF_ERROR(audit.Write(txn));
  v1::HideContentResponse response;
  response.set_target(std::string(target));
  if (hidden) {
    COHORTE_ASSIGN_OR_RETURN(int resolved, ResolveFlags(txn, target));
    response.set_resolved_flags(resolved);
  }
  return response;
}

}  // namespace

// Hide and unhide answer the target's name and a count of resolved flags:
// the caller moderates the target, so may read both.
template <>
struct Presenter<v1::HideContentResponse> {
  static absl::StatusOr<v1::HideContentResponse> Present(
      const Reader& reader, v1::HideContentResponse r) {
    COHORTE_RETURN_IF_ERROR(reader.MayRead(r.target()));
    return r;
  }
};

absl::StatusOr<ContentFlag> ModerationService::FlagContent(
    const Principal& caller, const v1::FlagContentRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("parent", req.parent(), "cohorts").status());
  const ContentFlag& in = req.flag();
  COHORTE_RETURN_IF_ERROR(CheckTarget(in.target()));
  if (CohortOf(in.target()) != req.parent()) {
    return InvalidField("flag.target",
                        absl::StrCat("is not in ", req.parent()));
  }
  if (caller.service || !Reader(store_, caller).MayRead(in.target()).ok()) {
    return PermissionDenied(
        absl::StrCat("flag ", in.target(),
                     ": it does not exist or is not readable by "
                     "the caller"));
  }
  if (in.reason() == ContentFlag::REASON_UNSPECIFIED ||
      !ContentFlag::Reason_IsValid(in.reason())) {
    return InvalidField("flag.reason", "is required");
  }
  COHORTE_RETURN_IF_ERROR(CheckText("flag.note", in.note(), 0,
                                    kMaxFlagNoteChars, TextKind::kMultiLine));
  return CommitForResponse<ContentFlag>(
      store_, caller, "FlagContent", req, /*request_id=*/"",
      [&](Txn& txn, [[maybe_unused]] const Reader& reader)
          -> absl::StatusOr<ContentFlag> {
        COHORTE_RETURN_IF_ERROR(reader.MayRead(in.target()));
        COHORTE_RETURN_IF_ERROR(CheckSomeoneModerates(txn, in.target()));
        ContentFlag f;
        f.set_name(absl::StrCat(req.parent(), "/flags/", GenerateId("flag-")));
        f.set_target(in.target());
        f.set_reason(in.reason());
        f.set_note(in.note());
        f.set_reporter(caller.member);
        f.set_state(ContentFlag::OPEN);
        *f.mutable_create_time() = ToTimestamp(txn.commit_time());
        SaveEntity(txn, f);
        return f;
      });
}

absl::StatusOr<v1::ListFlagsResponse> ModerationService::ListFlags(
    const Principal& caller, const v1::ListFlagsRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("parent", req.parent(), "cohorts").status());
  if (!caller.authenticated() || caller.service ||
      !ParticipatesIn(caller, req.parent())) {
    return PermissionDenied(
        absl::StrCat("read the moderation queue of ", req.parent()));
  }
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  v1::ListFlagsResponse response;
  COHORTE_ASSIGN_OR_RETURN(
      *response.mutable_next_page_token(),
      Reader(store_, caller)
          .List<ContentFlag>(
              storage::CollectionPrefixOf<v1::ContentFlag>(req.parent(),
                                                           "flags"),
              page,
              [&](ContentFlag& f) {
                if (f.state() != ContentFlag::OPEN && !req.show_resolved()) {
                  return false;
                }
                return AuthorizeModeration(Reader(store_, caller), f.target())
                    .ok();
              },
              response.mutable_flags()));
  return response;
}

absl::StatusOr<v1::HideContentResponse> ModerationService::HideContent(
    const Principal& caller, const v1::HideContentRequest& req) {
  COHORTE_RETURN_IF_ERROR(CheckTarget(req.target()));
  COHORTE_RETURN_IF_ERROR(
      AuthorizeModeration(Reader(store_, caller), req.target()));
  COHORTE_RETURN_IF_ERROR(CheckText(
      "reason", req.reason(), 1, kMaxHiddenReasonChars, TextKind::kSingleLine));
  return CommitForResponse<v1::HideContentResponse>(
      store_, caller, "HideContent", req, /*request_id=*/"",
      [&](Txn& txn, const Reader& reader) {
        return SetHidden(txn, reader, req.target(), true, req.reason());
      });
}

absl::StatusOr<v1::HideContentResponse> ModerationService::UnhideContent(
    const Principal& caller, const v1::UnhideContentRequest& req) {
  COHORTE_RETURN_IF_ERROR(CheckTarget(req.target()));
  COHORTE_RETURN_IF_ERROR(
      AuthorizeModeration(Reader(store_, caller), req.target()));
  return CommitForResponse<v1::HideContentResponse>(
      store_, caller, "UnhideContent", req, /*request_id=*/"",
      [&](Txn& txn, const Reader& reader) {
        return SetHidden(txn, reader, req.target(), false, "");
      });
}

absl::StatusOr<ContentFlag> ModerationService::DismissFlag(
    const Principal& caller, const v1::DismissFlagRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseCohortChildName("name", req.name(), "flags").status());
  absl::StatusOr<ContentFlag> current =
      Reader(store_, caller).Get<ContentFlag>(req.name());
  if (!current.ok() ||
      !AuthorizeModeration(Reader(store_, caller), current->target()).ok()) {
    return PermissionDenied(absl::StrCat("dismiss ", req.name()));
  }
  return CommitForResponse<ContentFlag>(
      store_, caller, "DismissFlag", req, /*request_id=*/"",
      [&](Txn& txn, [[maybe_unused]] const Reader& reader)
          -> absl::StatusOr<ContentFlag> {
        COHORTE_ASSIGN_OR_RETURN(ContentFlag f,
                                 reader.Load<ContentFlag>(req.name()));
        COHORTE_RETURN_IF_ERROR(AuthorizeModeration(reader, f.target()));
        if (f.state() != ContentFlag::OPEN) {
          return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                                 kReasonWrongState,
                                 absl::StrCat(f.name(), " is not open"));
        }
        f.set_state(ContentFlag::RESOLVED);
        SaveEntity(txn, f);
        return f;
      });
}

}  // namespace cohorte::service
