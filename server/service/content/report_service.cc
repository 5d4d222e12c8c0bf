#include "server/service/content/report_service.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cohorte/v1/groups.pb.h"
#include "cohorte/v1/members.pb.h"
#include "cohorte/v1/sessions.pb.h"
#include "cohorte/v1/territories.pb.h"
#include "google/protobuf/util/field_mask_util.h"
#include "server/service/access/commit.h"
#include "server/service/access/policy.h"
#include "server/service/access/record_links.h"
#include "server/service/content/referentiel.h"
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

using storage::EntityKind;
using storage::Table;
using storage::Txn;
using v1::ExperienceReport;

bool Contains(const google::protobuf::RepeatedPtrField<std::string>& list,
              absl::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// The narrative fields, each checked alike.
constexpr const char* kNarrative[] = {"context",     "actions",     "results",
                                      "what_worked", "what_failed", "lessons"};

const std::string& NarrativeField(const ExperienceReport& r,
                                  absl::string_view field) {
  if (field == "context") return r.context();
  if (field == "actions") return r.actions();
  if (field == "results") return r.results();
  if (field == "what_worked") return r.what_worked();
  if (field == "what_failed") return r.what_failed();
  return r.lessons();
}

// Field checks that need no store, on a whole report.
absl::Status CheckReportFields(const ExperienceReport& r) {
  COHORTE_RETURN_IF_ERROR(CheckText("report.title", r.title(), 1,
                                    kMaxReportTitleChars,
                                    TextKind::kSingleLine));
  for (const char* field : kNarrative) {
    COHORTE_RETURN_IF_ERROR(
        CheckText(absl::StrCat("report.", field), NarrativeField(r, field), 0,
                  kMaxReportNarrativeChars, TextKind::kMultiLine));
  }
  if (r.authors_size() > kMaxReportAuthors) {
    return InvalidField("report.authors",
                        absl::StrCat("has more than ", kMaxReportAuthors));
  }
  std::set<std::string> seen;
  for (const std::string& a : r.authors()) {
    COHORTE_RETURN_IF_ERROR(
        ParseTopLevelName("report.authors", a, "members").status());
    if (!seen.insert(a).second) {
      return InvalidField("report.authors", absl::StrCat(a, " twice"));
    }
  }
  const Referentiel& ref = BuiltInReferentiel();
  if (r.fundamentals_size() > kMaxTagsPerItem) {
    return InvalidField("report.fundamentals",
                        absl::StrCat("has more than ", kMaxTagsPerItem));
  }
  for (const std::string& f : r.fundamentals()) {
    if (!ref.IsFundamental(f)) {
      return InvalidField("report.fundamentals",
                          absl::StrCat("'", f.substr(0, 64),
                                       "' is not a fundamental of the "
                                       "référentiel"));
    }
  }
  if (r.balises_size() > kMaxTagsPerItem) {
    return InvalidField("report.balises",
                        absl::StrCat("has more than ", kMaxTagsPerItem));
  }
  for (const std::string& b : r.balises()) {
    if (ref.FundamentalOfBalise(b).empty()) {
      return InvalidField("report.balises",
                          absl::StrCat("'", b.substr(0, 64),
                                       "' is not a balise of the référentiel"));
    }
  }
  if (r.themes_size() > kMaxReportThemes) {
    return InvalidField("report.themes",
                        absl::StrCat("has more than ", kMaxReportThemes));
  }
  for (const std::string& t : r.themes()) {
    COHORTE_RETURN_IF_ERROR(CheckText("report.themes", t, 1, kMaxThemeChars,
                                      TextKind::kSingleLine));
  }
  for (const auto* links : {&r.chantiers(), &r.sessions(), &r.records()}) {
    if (links->size() > kMaxReportLinks) {
      const char* field = links == &r.chantiers()  ? "report.chantiers"
                          : links == &r.sessions() ? "report.sessions"
                                                   : "report.records";
      return InvalidField(field,
                          absl::StrCat("has more than ", kMaxReportLinks));
    }
  }
  COHORTE_RETURN_IF_ERROR(CheckEnumValue("report.visibility", r.visibility(),
                                         v1::Visibility_IsValid));
  if (r.visibility() == v1::GROUP) {
    COHORTE_RETURN_IF_ERROR(
        ParseCohortChildName("report.group", r.group(), "groups").status());
  } else if (!r.group().empty()) {
    return InvalidField("report.group", "is only for GROUP visibility");
  }
  return absl::OkStatus();
}

// Inside a mutation: references exist and belong where they must.
absl::Status CheckReportReferences(const Txn& txn, const Reader& reader,
                                   const ExperienceReport& r,
                                   absl::string_view cohort) {
  COHORTE_ASSIGN_OR_RETURN(
      std::string territory_cohort,
      ParseCohortChildName("report.territory", r.territory(), "territories"));
  if (territory_cohort != cohort) {
    return InvalidField("report.territory",
                        absl::StrCat("is not a territory of ", cohort));
  }
  if (absl::IsNotFound(
          LoadEntity<v1::Territory>(txn, r.territory()).status())) {
    return InvalidField("report.territory", "does not exist");
  }
  if (r.authors().empty()) {
    return InvalidField("report.authors", "needs at least one author");
  }
  v1::PeerGroup group;
  if (r.visibility() == v1::GROUP) {
    if (CohortOf(r.group()) != cohort) {
      return InvalidField("report.group", "is not a group of the cohort");
    }
    // Who is in a closed group is its members' to know: the caller reads
    // the group before anything about its members is checked.
    COHORTE_ASSIGN_OR_RETURN(group, reader.GroupForContent(r.group()));
  }
  for (const std::string& a : r.authors()) {
    absl::StatusOr<v1::Member> m = LoadEntity<v1::Member>(txn, a);
    if (!m.ok() && !absl::IsNotFound(m.status())) return m.status();
    // Absent or elsewhere: one answer.
    const Principal p = m.ok() ? Principal::FromMember(*m, "") : Principal();
    if (!m.ok() || !ParticipatesIn(p, cohort)) {
      return InvalidField("report.authors",
                          absl::StrCat(a, " does not take part in ", cohort));
    }
    if (r.visibility() == v1::GROUP && !IsGroupMember(p, group)) {
      return InvalidField("report.group",
                          absl::StrCat("author ", a, " is not a member of it"));
    }
  }
  for (const std::string& c : r.chantiers()) {
    absl::StatusOr<std::string> territory =
        ParseTerritoryChildName("report.chantiers", c, "chantiers");
    if (!territory.ok() || *territory != r.territory() ||
        !LoadEntity<v1::Chantier>(txn, c).ok()) {
      return InvalidField(
          "report.chantiers",
          absl::StrCat(c.substr(0, 200), " is not a chantier of ",
                       r.territory()));
    }
  }
  COHORTE_RETURN_IF_ERROR(CheckCohortLinksExist<v1::Session>(
      txn, "report.sessions", r.sessions(), "sessions", "session", cohort));
  COHORTE_RETURN_IF_ERROR(CheckCohortLinks(txn, "report.records", r.records(),
                                           "records", "record", cohort,
                                           nullptr));
  // Every reader of the report may open the records it links to.
  COHORTE_RETURN_IF_ERROR(CheckRecordLinks(
      reader, "report.records", r.records(), r.visibility(), r.group()));
  return absl::OkStatus();
}

// Adds the fundamentals of the balises, keeping order.
void CompleteFundamentals(ExperienceReport& r) {
  for (const std::string& b : r.balises()) {
    const std::string f = BuiltInReferentiel().FundamentalOfBalise(b);
    if (!Contains(r.fundamentals(), f)) r.add_fundamentals(f);
  }
}

bool IsAuthor(const Principal& caller, const ExperienceReport& r) {
  return !caller.service && !caller.member.empty() &&
         Contains(r.authors(), caller.member);
}

absl::Status WrongState(const ExperienceReport& r, absl::string_view want) {
  return ErrorWithReason(
      absl::StatusCode::kFailedPrecondition, kReasonWrongState,
      absl::StrCat(r.name(), " is ", ExperienceReport::State_Name(r.state()),
                   ", not ", want));
}

// Inside a mutation: loads `name` through the gate for an author (or, if
// `coordinators`, also for the cohort's coordinators who may read it).
// PERMISSION_DENIED, saying the same, for a report the caller may not read
// (a draft of others, a closed group's) and for a missing one; state checks
// come only after this.
absl::StatusOr<ExperienceReport> LoadForAuthor(const Reader& reader,
                                               absl::string_view name,
                                               bool coordinators) {
  absl::StatusOr<ExperienceReport> r = reader.Load<ExperienceReport>(name);
  if (!r.ok()) return r.status();
  if (IsAuthor(reader.caller(), *r) ||
      (coordinators && Coordinates(reader.caller(), CohortOf(name)))) {
    return r;
  }
  return PermissionDenied(
      absl::StrCat("change ", name, ": only its authors may"));
}

}  // namespace

absl::StatusOr<ExperienceReport> ReportService::CreateReport(
    const Principal& caller, const v1::CreateReportRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("parent", req.parent(), "cohorts").status());
  ExperienceReport r = req.report();
  COHORTE_ASSIGN_OR_RETURN(
      std::string territory_cohort,
      ParseCohortChildName("report.territory", r.territory(), "territories"));
  COHORTE_RETURN_IF_ERROR(
      Authorize(caller, Resource::kReport, Action::kCreate,
                TerritoryScope(territory_cohort, r.territory())));
  if (caller.service) {
    return PermissionDenied("write a report: its authors are members");
  }
  if (territory_cohort != req.parent()) {
    return InvalidField("report.territory",
                        absl::StrCat("is not a territory of ", req.parent()));
  }
  if (!req.report_id().empty()) {
    COHORTE_RETURN_IF_ERROR(CheckResourceId("report_id", req.report_id()));
  }
  if (caller.is_admin()) {
    return PermissionDenied(
        "write a report: its authors take part in the cohort, and the "
        "administrator takes part in none");
  }
  // A draft is read by its authors only: whoever writes it is one.
  if (!Contains(r.authors(), caller.member)) r.add_authors(caller.member);
  COHORTE_RETURN_IF_ERROR(CheckReportFields(r));
  COHORTE_RETURN_IF_ERROR(CheckRequestId("request_id", req.request_id()));
  const std::string name = absl::StrCat(
      req.parent(), "/reports/",
      req.report_id().empty() ? GenerateId("report-") : req.report_id());
  return CommitForResponse<ExperienceReport>(
      store_, caller, "CreateReport", req, req.request_id(),
      [&](Txn& txn, [[maybe_unused]] const Reader& reader)
          -> absl::StatusOr<ExperienceReport> {
        // Checked again against the caller as this mutation sees them.
        COHORTE_RETURN_IF_ERROR(
            Authorize(reader.caller(), Resource::kReport, Action::kCreate,
                      TerritoryScope(territory_cohort, r.territory())));
        COHORTE_ASSIGN_OR_RETURN(
            bool exists, txn.EntityExists<v1::ExperienceReport>((name)));
        if (exists) {
          // Someone else's draft or a closed group's report: the answer
          // for a name the caller may not see.
          COHORTE_RETURN_IF_ERROR(reader.Load<ExperienceReport>(name).status());
          return AlreadyExists(name);
        }
        COHORTE_RETURN_IF_ERROR(
            CheckReportReferences(txn, reader, r, req.parent()));
        ExperienceReport created = r;
        created.set_name(name);
        created.set_state(ExperienceReport::DRAFT);
        created.clear_publish_time();
        CompleteFundamentals(created);
        CreateEntity(txn, created);
        return created;
      });
}

absl::StatusOr<ExperienceReport> ReportService::GetReport(
    const Principal& caller, const v1::GetReportRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseCohortChildName("name", req.name(), "reports").status());
  return Reader(store_, caller).Get<ExperienceReport>(req.name());
}

absl::StatusOr<v1::ListReportsResponse> ReportService::ListReports(
    const Principal& caller, const v1::ListReportsRequest& req) {
  const bool all_cohorts = req.parent() == "cohorts/-";
  if (!all_cohorts) {
    COHORTE_RETURN_IF_ERROR(
        ParseTopLevelName("parent", req.parent(), "cohorts").status());
  }
  if (!caller.authenticated()) return PermissionDenied("list reports");
  if (!req.fundamental().empty() &&
      !BuiltInReferentiel().IsFundamental(req.fundamental())) {
    return InvalidField("fundamental",
                        "is not a fundamental of the référentiel");
  }
  if (!req.balise().empty() &&
      BuiltInReferentiel().FundamentalOfBalise(req.balise()).empty()) {
    return InvalidField("balise", "is not a balise of the référentiel");
  }
  if (!ExperienceReport::State_IsValid(req.state())) {
    return InvalidField("state", "is not a state");
  }
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  const std::string theme = absl::AsciiStrToLower(req.theme());
  const std::string prefix =
      all_cohorts ? storage::EntityKeyOf<v1::ExperienceReport>("cohorts/")
                  : storage::CollectionPrefixOf<v1::ExperienceReport>(
                        req.parent(), "reports");
  v1::ListReportsResponse response;
  COHORTE_ASSIGN_OR_RETURN(
      *response.mutable_next_page_token(),
      Reader(store_, caller)
          .List<ExperienceReport>(
              prefix, page,
              [&](ExperienceReport& r) {
                if (req.state() != ExperienceReport::STATE_UNSPECIFIED) {
                  if (r.state() != req.state()) return false;
                } else if (r.state() == ExperienceReport::ARCHIVED) {
                  return false;
                }
                if (!req.territory().empty() &&
                    r.territory() != req.territory()) {
                  return false;
                }
                if (!req.fundamental().empty() &&
                    !Contains(r.fundamentals(), req.fundamental())) {
                  return false;
                }
                if (!req.balise().empty() &&
                    !Contains(r.balises(), req.balise())) {
                  return false;
                }
                if (!theme.empty() &&
                    std::none_of(r.themes().begin(), r.themes().end(),
                                 [&](const std::string& t) {
                                   return absl::AsciiStrToLower(t) == theme;
                                 })) {
                  return false;
                }
                return true;
              },
              response.mutable_reports()));
  return response;
}

absl::StatusOr<ExperienceReport> ReportService::UpdateReport(
    const Principal& caller, const v1::UpdateReportRequest& req) {
  const std::string& name = req.report().name();
  COHORTE_ASSIGN_OR_RETURN(
      std::string cohort, ParseCohortChildName("report.name", name, "reports"));
  static const std::set<std::string>* const kAllowed =
      new std::set<std::string>{
          "title",        "context",     "actions",    "results",
          "what_worked",  "what_failed", "lessons",    "authors",
          "fundamentals", "balises",     "themes",     "chantiers",
          "sessions",     "records",     "visibility", "group"};
  COHORTE_RETURN_IF_ERROR(
      CheckUpdateMask(req.update_mask(), *kAllowed, "ExperienceReport")
          .status());
  COHORTE_RETURN_IF_ERROR(CheckRequestId("request_id", req.request_id()));
  google::protobuf::util::FieldMaskUtil::MergeOptions merge;
  merge.set_replace_repeated_fields(true);
  return CommitForResponse<ExperienceReport>(
      store_, caller, "UpdateReport", req, req.request_id(),
      [&](Txn& txn, [[maybe_unused]] const Reader& reader)
          -> absl::StatusOr<ExperienceReport> {
        COHORTE_ASSIGN_OR_RETURN(
            ExperienceReport r,
            LoadForAuthor(reader, name, /*coordinators=*/false));
        COHORTE_RETURN_IF_ERROR(CheckEtag(name, r.etag(), req.report().etag()));
        google::protobuf::util::FieldMaskUtil::MergeMessageTo(
            req.report(), req.update_mask(), merge, &r);
        COHORTE_RETURN_IF_ERROR(CheckReportFields(r));
        COHORTE_RETURN_IF_ERROR(CheckReportReferences(txn, reader, r, cohort));
        CompleteFundamentals(r);
        SaveEntity(txn, r);
        return r;
      });
}

absl::StatusOr<ExperienceReport> ReportService::PublishReport(
    const Principal& caller, const v1::PublishReportRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(std::string cohort,
                           ParseCohortChildName("name", req.name(), "reports"));
  absl::StatusOr<ExperienceReport> published =
      CommitForResponse<ExperienceReport>(
          store_, caller, "PublishReport", req, /*request_id=*/"",
          [&](Txn& txn, [[maybe_unused]] const Reader& reader)
              -> absl::StatusOr<ExperienceReport> {
            COHORTE_ASSIGN_OR_RETURN(
                ExperienceReport r,
                LoadForAuthor(reader, req.name(), /*coordinators=*/false));
            COHORTE_RETURN_IF_ERROR(CheckEtag(r.name(), r.etag(), req.etag()));
            if (r.state() != ExperienceReport::DRAFT)
              return WrongState(r, "DRAFT");
            COHORTE_RETURN_IF_ERROR(
                CheckReportReferences(txn, reader, r, cohort));
            r.set_state(ExperienceReport::PUBLISHED);
            *r.mutable_publish_time() = ToTimestamp(txn.commit_time());
            SaveEntity(txn, r);
            // Who hears of it (the cohort's participants and the territory's
            // followers who may read it) is decided after this commit, by the
            // fan-out's batches: a large cohort never holds the group commit.
            v1::InboxItem item;
            item.set_resource(r.name());
            item.set_context(r.territory());
            item.set_title(r.title());
            item.set_actor(caller.member);
            item.set_kind(v1::InboxItem::REPORT_PUBLISHED);
            NotificationFanOut::Schedule(txn, item);
            return r;
          });
  // The publication is durable: a fan-out that fails now stays pending
  // and is resumed by the next one (or at start-up).
  if (published.ok()) (void)fan_out_.DeliverPending();
  return published;
}

namespace {

// Who hears of a report's publication: the cohort's participants and the
// territory's followers, each only if they may read it.
absl::StatusOr<NotificationFanOut::MemberFilter> ReportAudience(
    const Txn& txn, const v1::InboxItem& item) {
  COHORTE_ASSIGN_OR_RETURN(ExperienceReport r,
                           LoadEntity<ExperienceReport>(txn, item.resource()));
  COHORTE_ASSIGN_OR_RETURN(std::string cohort,
                           ParseCohortChildName("name", r.name(), "reports"));
  COHORTE_ASSIGN_OR_RETURN(std::vector<std::string> followers,
                           FollowersOf(txn, r.territory()));
  return [&txn, r = std::move(r), cohort = std::move(cohort),
          followers = std::set<std::string>(
              followers.begin(), followers.end())](const v1::Member& m) {
    const bool concerned =
        ParticipatesIn(Principal::FromMember(m, ""), cohort) ||
        followers.count(m.name()) > 0;
    return concerned && Reader::AsMember(txn, m).MaySee(r.name(), r);
  };
}

}  // namespace

ReportService::ReportService(storage::Store* store, NotificationFanOut* fan_out)
    : store_(*store), fan_out_(*fan_out) {
  fan_out->SetAudience(v1::InboxItem::REPORT_PUBLISHED, ReportAudience);
}

absl::StatusOr<ExperienceReport> ReportService::ArchiveReport(
    const Principal& caller, const v1::ArchiveReportRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseCohortChildName("name", req.name(), "reports").status());
  return CommitForResponse<ExperienceReport>(
      store_, caller, "ArchiveReport", req, /*request_id=*/"",
      [&](Txn& txn, [[maybe_unused]] const Reader& reader)
          -> absl::StatusOr<ExperienceReport> {
        COHORTE_ASSIGN_OR_RETURN(
            ExperienceReport r,
            LoadForAuthor(reader, req.name(), /*coordinators=*/true));
        COHORTE_RETURN_IF_ERROR(CheckEtag(r.name(), r.etag(), req.etag()));
        if (r.state() != ExperienceReport::PUBLISHED) {
          return WrongState(r, "PUBLISHED");
        }
        r.set_state(ExperienceReport::ARCHIVED);
        SaveEntity(txn, r);
        return r;
      });
}

}  // namespace cohorte::service
