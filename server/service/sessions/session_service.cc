#include "server/service/sessions/session_service.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cohorte/v1/members.pb.h"
#include "cohorte/v1/reports.pb.h"
#include "cohorte/v1/territories.pb.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/access/commit.h"
#include "server/service/access/policy.h"
#include "server/service/access/record_links.h"
#include "server/service/core/entities.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "server/service/core/validation.h"
#include "server/service/inbox/fan_out.h"
#include "server/service/inbox/inbox.h"
#include "server/service/structure/member_service.h"
#include "storage/codec.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace cohorte::service {
namespace {

using google::protobuf::util::TimeUtil;
using storage::EntityKind;
using storage::Table;
using storage::Txn;
using v1::Registration;
using v1::Session;

constexpr char kDefaultTimeZone[] = "Europe/Paris";

int64_t Nanos(const google::protobuf::Timestamp& t) {
  return TimeUtil::TimestampToNanoseconds(t);
}

bool ValidTimestamp(const google::protobuf::Timestamp& t) {
  return t.seconds() >= TimeUtil::kTimestampMinSeconds &&
         t.seconds() <= TimeUtil::kTimestampMaxSeconds && t.nanos() >= 0 &&
         t.nanos() <= 999999999;
}

absl::Status CheckSessionFields(const Session& s,
                                const std::set<std::string>& paths) {
  if (paths.count("kind")) {
    COHORTE_RETURN_IF_ERROR(
        CheckEnumValue("session.kind", s.kind(), Session::Kind_IsValid));
  }
  if (paths.count("title")) {
    COHORTE_RETURN_IF_ERROR(CheckText("session.title", s.title(), 1,
                                      kMaxSessionTitleChars,
                                      TextKind::kSingleLine));
  }
  if (paths.count("description")) {
    COHORTE_RETURN_IF_ERROR(CheckText("session.description", s.description(), 0,
                                      kMaxSessionDescriptionChars,
                                      TextKind::kMultiLine));
  }
  if (paths.count("start_time") &&
      (!s.has_start_time() || !ValidTimestamp(s.start_time()))) {
    return InvalidField("session.start_time", "is required");
  }
  if (paths.count("end_time") &&
      (!s.has_end_time() || !ValidTimestamp(s.end_time()))) {
    return InvalidField("session.end_time", "is required");
  }
  if (paths.count("time_zone") && !s.time_zone().empty()) {
    absl::TimeZone tz;
    if (s.time_zone().size() > 64 || !absl::LoadTimeZone(s.time_zone(), &tz)) {
      return InvalidField("session.time_zone",
                          "is not an IANA time zone (e.g. Europe/Paris)");
    }
  }
  if (paths.count("place")) {
    COHORTE_RETURN_IF_ERROR(CheckText("session.place", s.place(), 0,
                                      kMaxSessionPlaceChars,
                                      TextKind::kSingleLine));
  }
  if (paths.count("video_link")) {
    COHORTE_RETURN_IF_ERROR(CheckText("session.video_link", s.video_link(), 0,
                                      kMaxSessionPlaceChars,
                                      TextKind::kSingleLine));
    if (!s.video_link().empty() &&
        (!absl::StartsWith(s.video_link(), "https://") ||
         s.video_link().find(' ') != std::string::npos ||
         s.video_link().size() < 12)) {
      return InvalidField("session.video_link", "must be an https:// link");
    }
  }
  if (paths.count("audience_colleges")) {
    std::set<int> seen;
    for (int c : s.audience_colleges()) {
      if (c == v1::COLLEGE_UNSPECIFIED || !v1::College_IsValid(c) ||
          !seen.insert(c).second) {
        return InvalidField("session.audience_colleges",
                            "holds an unknown or repeated college");
      }
    }
  }
  if (paths.count("audience_territories")) {
    if (s.audience_territories_size() > kMaxSessionLinks) {
      return InvalidField("session.audience_territories",
                          absl::StrCat("has more than ", kMaxSessionLinks));
    }
  }
  if (paths.count("capacity") &&
      (s.capacity() < 0 || s.capacity() > kMaxSessionCapacity)) {
    return InvalidField(
        "session.capacity",
        absl::StrCat("must be 0 (no limit) to ", kMaxSessionCapacity));
  }
  if (paths.count("minutes")) {
    COHORTE_RETURN_IF_ERROR(CheckText("session.minutes", s.minutes(), 0,
                                      kMaxSessionMinutesChars,
                                      TextKind::kMultiLine));
  }
  for (const auto& [path, list] :
       {std::pair<const char*,
                  const google::protobuf::RepeatedPtrField<std::string>*>{
            "records", &s.records()},
        {"reports", &s.reports()}}) {
    if (paths.count(path) && list->size() > kMaxSessionLinks) {
      return InvalidField(absl::StrCat("session.", path),
                          absl::StrCat("has more than ", kMaxSessionLinks));
    }
  }
  return absl::OkStatus();
}

// Inside a mutation, on the whole session: times in order, references in
// the cohort.
absl::Status CheckSessionWhole(const Txn& txn, const Reader& reader,
                               const Session& s, absl::string_view cohort) {
  if (Nanos(s.end_time()) <= Nanos(s.start_time())) {
    return InvalidField("session.end_time", "must be after start_time");
  }
  if (Nanos(s.end_time()) - Nanos(s.start_time()) >
      int64_t{kMaxSessionDays} * 86400 * 1000000000) {
    return InvalidField("session.end_time",
                        absl::StrCat("is more than ", kMaxSessionDays,
                                     " days after start_time"));
  }
  COHORTE_RETURN_IF_ERROR(CheckCohortLinksExist<v1::Territory>(
      txn, "session.audience_territories", s.audience_territories(),
      "territories", "territory", cohort));
  COHORTE_RETURN_IF_ERROR(CheckCohortLinks(txn, "session.records", s.records(),
                                           "records", "record", cohort,
                                           nullptr));
  // A session is read by the cohort: so must its records be.
  COHORTE_RETURN_IF_ERROR(
      CheckRecordLinks(reader, "session.records", s.records(), v1::COHORT, ""));
  COHORTE_RETURN_IF_ERROR(CheckCohortLinksExist<v1::ExperienceReport>(
      txn, "session.reports", s.reports(), "reports", "report", cohort));
  return absl::OkStatus();
}

// Whether `p` is in `s`'s audience: participants of the cohort; delegation
// members also by college and territory when the audience says so.
bool InAudience(const Principal& p, const Session& s) {
  const absl::string_view cohort = CohortOf(s.name());
  if (p.service || !ParticipatesIn(p, cohort)) return false;
  if (p.role != v1::Member::MEMBER) return true;
  if (!s.audience_colleges().empty() &&
      std::find(s.audience_colleges().begin(), s.audience_colleges().end(),
                p.college) == s.audience_colleges().end()) {
    return false;
  }
  if (!s.audience_territories().empty() &&
      std::none_of(p.delegations.begin(), p.delegations.end(),
                   [&](const std::string& t) {
                     return std::find(s.audience_territories().begin(),
                                      s.audience_territories().end(),
                                      t) != s.audience_territories().end();
                   })) {
    return false;
  }
  return true;
}

std::string RegistrationName(absl::string_view session,
                             absl::string_view member) {
  return absl::StrCat(session, "/registrations/",
                      member.substr(member.find('/') + 1));
}

void SaveRegistration(Txn& txn, Registration& r) {
  *r.mutable_update_time() = ToTimestamp(txn.commit_time());
  r.set_etag(NextEtag(r.etag()));
  txn.PutEntity(r);
}

// Gives free seats of `s` to the waiting list, first come first served.
absl::Status PromoteWaitlisted(Txn& txn, Session& s) {
  if (s.waitlist_count() == 0) return absl::OkStatus();
  std::vector<Registration> waiting;
  absl::Status decode_error;
  COHORTE_RETURN_IF_ERROR(txn.Scan(
      Table::kEntities,
      storage::CollectionPrefixOf<v1::Registration>(s.name(), "registrations"),
      [&](absl::string_view, absl::string_view value) {
        Registration r;
        decode_error = storage::DecodeValue(value, &r);
        if (!decode_error.ok()) return false;
        if (r.state() == Registration::WAITLISTED) {
          waiting.push_back(std::move(r));
        }
        return true;
      }));
  COHORTE_RETURN_IF_ERROR(decode_error);
  std::sort(waiting.begin(), waiting.end(),
            [](const Registration& a, const Registration& b) {
              return a.sequence() < b.sequence();
            });
  std::map<std::string, v1::InboxItem::Kind> promoted;
  for (Registration& r : waiting) {
    if (s.capacity() != 0 && s.registered_count() >= s.capacity()) break;
    r.set_state(Registration::REGISTERED);
    SaveRegistration(txn, r);
    s.set_registered_count(s.registered_count() + 1);
    s.set_waitlist_count(s.waitlist_count() - 1);
    promoted[r.member()] = v1::InboxItem::SEAT_GRANTED;
  }
  // Each promoted member hears of their seat.
  v1::InboxItem item;
  item.set_resource(s.name());
  item.set_context(std::string(CohortOf(s.name())));
  item.set_title(s.title());
  return NotifyMembers(txn, promoted, item);
}

absl::StatusOr<std::string> CohortOfSession(absl::string_view field,
                                            absl::string_view name) {
  return ParseCohortChildName(field, name, "sessions");
}

}  // namespace

absl::Status AuthorizeSessionRead(const Principal& caller,
                                  absl::string_view session_name) {
  return Authorize(caller, Resource::kSession, Action::kRead,
                   CohortScope(CohortOf(session_name)));
}

namespace {

// Who hears of a new session: its audience (InAudience), as the batch's
// transaction sees the session and each member.
absl::StatusOr<NotificationFanOut::MemberFilter> SessionAudience(
    const Txn& txn, const v1::InboxItem& item) {
  COHORTE_ASSIGN_OR_RETURN(Session s,
                           LoadEntity<Session>(txn, item.resource()));
  return [s = std::move(s)](const v1::Member& m) {
    return InAudience(Principal::FromMember(m, ""), s);
  };
}

}  // namespace

SessionService::SessionService(storage::Store* store,
                               NotificationFanOut* fan_out)
    : store_(*store), fan_out_(*fan_out) {
  fan_out->SetAudience(v1::InboxItem::SESSION_OPEN, SessionAudience);
}

absl::StatusOr<Session> SessionService::CreateSession(
    const Principal& caller, const v1::CreateSessionRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("parent", req.parent(), "cohorts").status());
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kSession, Action::kCreate,
                                    CohortScope(req.parent())));
  if (!req.session_id().empty()) {
    COHORTE_RETURN_IF_ERROR(CheckResourceId("session_id", req.session_id()));
  }
  COHORTE_RETURN_IF_ERROR(CheckSessionFields(
      req.session(),
      {"kind", "title", "description", "start_time", "end_time", "time_zone",
       "place", "video_link", "audience_colleges", "audience_territories",
       "capacity", "records", "reports", "minutes"}));
  COHORTE_RETURN_IF_ERROR(CheckRequestId("request_id", req.request_id()));
  const std::string name = absl::StrCat(
      req.parent(), "/sessions/",
      req.session_id().empty() ? GenerateId("session-") : req.session_id());
  absl::StatusOr<Session> created = CommitForResponse<Session>(
      store_, caller, "CreateSession", req, req.request_id(),
      [&](Txn& txn,
          [[maybe_unused]] const Reader& reader) -> absl::StatusOr<Session> {
        // Checked again against the caller as this mutation sees them.
        COHORTE_RETURN_IF_ERROR(Authorize(reader.caller(), Resource::kSession,
                                          Action::kCreate,
                                          CohortScope(req.parent())));
        COHORTE_RETURN_IF_ERROR(
            LoadEntity<v1::Cohort>(txn, req.parent()).status());
        COHORTE_ASSIGN_OR_RETURN(bool exists,
                                 txn.EntityExists<v1::Session>((name)));
        if (exists) return AlreadyExists(name);
        Session s = req.session();
        s.set_name(name);
        if (s.time_zone().empty()) s.set_time_zone(kDefaultTimeZone);
        s.set_registered_count(0);
        s.set_waitlist_count(0);
        COHORTE_RETURN_IF_ERROR(
            CheckSessionWhole(txn, reader, s, req.parent()));
        CreateEntity(txn, s);
        if (Nanos(s.end_time()) > absl::ToUnixNanos(txn.commit_time())) {
          // Its audience hears of it after this commit, batch by batch
          // (NotificationFanOut): a large cohort never holds the group
          // commit.
          v1::InboxItem item;
          item.set_resource(s.name());
          item.set_context(req.parent());
          item.set_title(s.title());
          item.set_actor(caller.actor());
          item.set_kind(v1::InboxItem::SESSION_OPEN);
          NotificationFanOut::Schedule(txn, item);
        }
        return s;
      });
  // The session is durable: a fan-out that fails now stays pending and is
  // resumed by the next one (or at start-up).
  if (created.ok()) (void)fan_out_.DeliverPending();
  return created;
}

absl::StatusOr<Session> SessionService::GetSession(
    const Principal& caller, const v1::GetSessionRequest& req) {
  COHORTE_RETURN_IF_ERROR(CohortOfSession("name", req.name()).status());
  COHORTE_RETURN_IF_ERROR(AuthorizeSessionRead(caller, req.name()));
  return Reader(store_, caller).Get<Session>(req.name());
}

absl::StatusOr<v1::ListSessionsResponse> SessionService::ListSessions(
    const Principal& caller, const v1::ListSessionsRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("parent", req.parent(), "cohorts").status());
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kSession, Action::kRead,
                                    CohortScope(req.parent())));
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  const int64_t now = absl::ToUnixNanos(absl::Now());
  v1::ListSessionsResponse response;
  COHORTE_ASSIGN_OR_RETURN(*response.mutable_next_page_token(),
                           Reader(store_, caller)
                               .List<Session>(
                                   storage::CollectionPrefixOf<v1::Session>(
                                       req.parent(), "sessions"),
                                   page,
                                   [&](Session& s) {
                                     return !req.upcoming_only() ||
                                            Nanos(s.end_time()) > now;
                                   },
                                   response.mutable_sessions()));
  return response;
}

absl::StatusOr<v1::ListUpcomingSessionsResponse>
SessionService::ListUpcomingSessions(const Principal& caller,
                                     const v1::ListUpcomingSessionsRequest&) {
  if (!caller.authenticated() || caller.service) {
    return ErrorWithReason(absl::StatusCode::kPermissionDenied,
                           kReasonPermissionDenied,
                           "upcoming sessions are a member's own list");
  }
  std::set<std::string> cohorts(caller.cohorts.begin(), caller.cohorts.end());
  for (const std::string& t : caller.delegations) {
    cohorts.insert(std::string(CohortOf(t)));
  }
  const int64_t now = absl::ToUnixNanos(absl::Now());
  const Reader reader(store_, caller);
  std::vector<Session> sessions;
  for (const std::string& cohort : cohorts) {
    COHORTE_RETURN_IF_ERROR(reader.ForEach<Session>(
        storage::CollectionPrefixOf<v1::Session>(cohort, "sessions"),
        [&](const Session& s) {
          if (Nanos(s.end_time()) > now && InAudience(caller, s)) {
            sessions.push_back(s);
          }
          return sessions.size() < 1000;
        }));
  }
  std::sort(sessions.begin(), sessions.end(),
            [](const Session& a, const Session& b) {
              return Nanos(a.start_time()) < Nanos(b.start_time());
            });
  v1::ListUpcomingSessionsResponse response;
  for (Session& s : sessions) {
    absl::StatusOr<Registration> r =
        reader.Get<Registration>(RegistrationName(s.name(), caller.member));
    if (r.ok()) *response.add_registrations() = *std::move(r);
    *response.add_sessions() = std::move(s);
  }
  return response;
}

absl::StatusOr<Session> SessionService::UpdateSession(
    const Principal& caller, const v1::UpdateSessionRequest& req) {
  const std::string& name = req.session().name();
  COHORTE_ASSIGN_OR_RETURN(std::string cohort,
                           CohortOfSession("session.name", name));
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kSession, Action::kUpdate,
                                    CohortScope(cohort)));
  static const std::set<std::string>* const kAllowed =
      new std::set<std::string>{"kind",
                                "title",
                                "description",
                                "start_time",
                                "end_time",
                                "time_zone",
                                "place",
                                "video_link",
                                "audience_colleges",
                                "audience_territories",
                                "capacity",
                                "records",
                                "reports",
                                "minutes"};
  COHORTE_ASSIGN_OR_RETURN(
      std::set<std::string> paths,
      CheckUpdateMask(req.update_mask(), *kAllowed, "Session"));
  COHORTE_RETURN_IF_ERROR(CheckSessionFields(req.session(), paths));
  COHORTE_RETURN_IF_ERROR(CheckRequestId("request_id", req.request_id()));
  google::protobuf::util::FieldMaskUtil::MergeOptions merge;
  merge.set_replace_repeated_fields(true);
  return CommitForResponse<Session>(
      store_, caller, "UpdateSession", req, req.request_id(),
      [&](Txn& txn,
          [[maybe_unused]] const Reader& reader) -> absl::StatusOr<Session> {
        // Checked again against the caller as this mutation sees them.
        COHORTE_RETURN_IF_ERROR(Authorize(reader.caller(), Resource::kSession,
                                          Action::kUpdate,
                                          CohortScope(cohort)));
        COHORTE_ASSIGN_OR_RETURN(Session s, reader.Load<Session>(name));
        COHORTE_RETURN_IF_ERROR(
            CheckEtag(name, s.etag(), req.session().etag()));
        google::protobuf::util::FieldMaskUtil::MergeMessageTo(
            req.session(), req.update_mask(), merge, &s);
        if (s.time_zone().empty()) s.set_time_zone(kDefaultTimeZone);
        COHORTE_RETURN_IF_ERROR(CheckSessionWhole(txn, reader, s, cohort));
        if (s.capacity() != 0 && s.capacity() < s.registered_count()) {
          return InvalidField(
              "session.capacity",
              absl::StrCat("is below the ", s.registered_count(),
                           " members registered; cancel some first"));
        }
        COHORTE_RETURN_IF_ERROR(PromoteWaitlisted(txn, s));
        SaveEntity(txn, s);
        return s;
      });
}

absl::StatusOr<Registration> SessionService::Register(
    const Principal& caller, const v1::RegisterRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(std::string cohort,
                           CohortOfSession("session", req.session()));
  COHORTE_RETURN_IF_ERROR(AuthorizeSessionRead(caller, req.session()));
  const bool on_behalf = !req.member().empty() && req.member() != caller.member;
  if (on_behalf) {
    COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kRegistrations,
                                      Action::kUpdate, CohortScope(cohort)));
    COHORTE_RETURN_IF_ERROR(
        ParseTopLevelName("member", req.member(), "members").status());
  } else if (caller.service) {
    return ErrorWithReason(absl::StatusCode::kPermissionDenied,
                           kReasonPermissionDenied,
                           "a service token cannot register to a session");
  }
  return CommitForResponse<Registration>(
      store_, caller, "Register", req, /*request_id=*/"",
      [&](Txn& txn, [[maybe_unused]] const Reader& reader)
          -> absl::StatusOr<Registration> {
        // Checked again against the caller as this mutation sees them.
        if (on_behalf) {
          COHORTE_RETURN_IF_ERROR(
              Authorize(reader.caller(), Resource::kRegistrations,
                        Action::kUpdate, CohortScope(cohort)));
        }
        COHORTE_ASSIGN_OR_RETURN(Session s,
                                 reader.Load<Session>(req.session()));
        Principal attendee = reader.caller();
        if (on_behalf) {
          absl::StatusOr<v1::Member> m =
              LoadEntity<v1::Member>(txn, req.member());
          if (!m.ok() && !absl::IsNotFound(m.status())) return m.status();
          // Absent: answered as one outside the audience (who is a member
          // elsewhere is not the caller's to learn).
          attendee = m.ok() ? Principal::FromMember(*m, "") : Principal();
          attendee.member = req.member();
        } else if (Nanos(s.end_time()) <=
                   absl::ToUnixNanos(txn.commit_time())) {
          return WrongState(absl::StrCat(s.name(), " has ended"));
        }
        if (!InAudience(attendee, s)) {
          return WrongState(absl::StrCat(
              attendee.member, " is not in the audience of ", s.name()));
        }
        Registration r;
        const std::string name = RegistrationName(s.name(), attendee.member);
        absl::Status found = txn.GetProto(
            Table::kEntities, storage::EntityKeyOf<v1::Registration>(name), &r);
        if (found.ok() && r.state() != Registration::CANCELLED) {
          return ErrorWithReason(
              absl::StatusCode::kAlreadyExists, kReasonAlreadyExists,
              absl::StrCat(attendee.member, " is already ",
                           Registration::State_Name(r.state()), " for ",
                           s.name()));
        }
        if (!found.ok() && !absl::IsNotFound(found)) return found;
        r.set_name(name);
        r.set_member(attendee.member);
        r.set_attended(false);
        *r.mutable_register_time() = ToTimestamp(txn.commit_time());
        // The session's own order of registration (older data numbered it
        // by the revision, which counted every write of the instance).
        COHORTE_ASSIGN_OR_RETURN(
            int64_t seq,
            NextCounter(txn, absl::StrCat(s.name(), "/registrations"),
                        [&]() -> absl::StatusOr<int64_t> {
                          int64_t max = 0;
                          absl::Status error;
                          COHORTE_RETURN_IF_ERROR(txn.Scan(
                              Table::kEntities,
                              storage::CollectionPrefixOf<Registration>(
                                  s.name(), "registrations"),
                              [&](absl::string_view, absl::string_view v) {
                                Registration o;
                                error = storage::DecodeValue(v, &o);
                                if (error.ok()) {
                                  max = std::max(max, o.sequence());
                                }
                                return error.ok();
                              }));
                          COHORTE_RETURN_IF_ERROR(error);
                          return max;
                        }));
        r.set_sequence(seq);
        if (s.capacity() == 0 || s.registered_count() < s.capacity()) {
          r.set_state(Registration::REGISTERED);
          s.set_registered_count(s.registered_count() + 1);
        } else {
          r.set_state(Registration::WAITLISTED);
          s.set_waitlist_count(s.waitlist_count() + 1);
        }
        SaveRegistration(txn, r);
        SaveEntity(txn, s);
        return r;
      });
}

absl::StatusOr<Registration> SessionService::CancelRegistration(
    const Principal& caller, const v1::CancelRegistrationRequest& req) {
  COHORTE_RETURN_IF_ERROR(CohortOfSession("session", req.session()).status());
  COHORTE_RETURN_IF_ERROR(AuthorizeSessionRead(caller, req.session()));
  return CommitForResponse<Registration>(
      store_, caller, "CancelRegistration", req, /*request_id=*/"",
      [&](Txn& txn, [[maybe_unused]] const Reader& reader)
          -> absl::StatusOr<Registration> {
        COHORTE_ASSIGN_OR_RETURN(Session s,
                                 reader.Load<Session>(req.session()));
        Registration r;
        absl::Status found =
            txn.GetProto(Table::kEntities,
                         storage::EntityKeyOf<v1::Registration>(
                             RegistrationName(s.name(), caller.member)),
                         &r);
        if (absl::IsNotFound(found) || r.state() == Registration::CANCELLED) {
          return WrongState(
              absl::StrCat("the caller is not registered for ", s.name()));
        }
        COHORTE_RETURN_IF_ERROR(found);
        if (r.state() == Registration::REGISTERED) {
          s.set_registered_count(s.registered_count() - 1);
        } else {
          s.set_waitlist_count(s.waitlist_count() - 1);
        }
        r.set_state(Registration::CANCELLED);
        SaveRegistration(txn, r);
        COHORTE_RETURN_IF_ERROR(PromoteWaitlisted(txn, s));
        SaveEntity(txn, s);
        return r;
      });
}

absl::StatusOr<v1::ListRegistrationsResponse> SessionService::ListRegistrations(
    const Principal& caller, const v1::ListRegistrationsRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(std::string cohort,
                           CohortOfSession("session", req.session()));
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kRegistrations,
                                    Action::kRead, CohortScope(cohort)));
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  COHORTE_RETURN_IF_ERROR(
      Reader(store_, caller).Get<Session>(req.session()).status());
  v1::ListRegistrationsResponse response;
  COHORTE_ASSIGN_OR_RETURN(
      *response.mutable_next_page_token(),
      Reader(store_, caller)
          .List<Registration>(
              storage::CollectionPrefixOf<v1::Registration>(req.session(),
                                                            "registrations"),
              page, [](Registration&) { return true; },
              response.mutable_registrations()));
  return response;
}

absl::StatusOr<Registration> SessionService::RecordAttendance(
    const Principal& caller, const v1::RecordAttendanceRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(std::string cohort,
                           CohortOfSession("session", req.session()));
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kRegistrations,
                                    Action::kUpdate, CohortScope(cohort)));
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("member", req.member(), "members").status());
  return CommitForResponse<Registration>(
      store_, caller, "RecordAttendance", req, /*request_id=*/"",
      [&](Txn& txn, [[maybe_unused]] const Reader& reader)
          -> absl::StatusOr<Registration> {
        // Checked again against the caller as this mutation sees them.
        COHORTE_RETURN_IF_ERROR(
            Authorize(reader.caller(), Resource::kRegistrations,
                      Action::kUpdate, CohortScope(cohort)));
        COHORTE_RETURN_IF_ERROR(reader.Load<Session>(req.session()).status());
        Registration r;
        absl::Status found =
            txn.GetProto(Table::kEntities,
                         storage::EntityKeyOf<v1::Registration>(
                             RegistrationName(req.session(), req.member())),
                         &r);
        if (absl::IsNotFound(found) || r.state() != Registration::REGISTERED) {
          return WrongState(absl::StrCat(
              req.member(), " is not registered for ", req.session()));
        }
        COHORTE_RETURN_IF_ERROR(found);
        r.set_attended(req.attended());
        SaveRegistration(txn, r);
        return r;
      });
}

}  // namespace cohorte::service
