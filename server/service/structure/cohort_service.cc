#include "server/service/structure/cohort_service.h"

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/access/commit.h"
#include "server/service/access/policy.h"
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

using google::protobuf::util::FieldMaskUtil;
using storage::EntityKind;
using storage::Table;
using storage::Txn;
using v1::Cohort;

constexpr absl::string_view kCollection = "cohorts";

// The fields UpdateCohort may change, in the order they are checked.
const std::vector<std::string>& MutablePaths() {
  static const auto* paths =
      new std::vector<std::string>{"display_name", "region",     "programme",
                                   "description",  "start_date", "end_date"};
  return *paths;
}

std::string CohortKey(absl::string_view name) {
  return storage::EntityKeyOf<v1::Cohort>(name);
}

// Checks the fields of `cohort` named in `paths` (request prefix `prefix`).
absl::Status ValidateFields(const Cohort& cohort, absl::string_view prefix,
                            const std::set<std::string>& paths) {
  auto field = [&](absl::string_view path) {
    return absl::StrCat(prefix, path);
  };
  if (paths.count("display_name")) {
    COHORTE_RETURN_IF_ERROR(
        CheckText(field("display_name"), cohort.display_name(), 1,
                  kMaxCohortDisplayNameChars, TextKind::kSingleLine));
  }
  if (paths.count("region")) {
    COHORTE_RETURN_IF_ERROR(CheckText(field("region"), cohort.region(), 0,
                                      kMaxCohortRegionChars,
                                      TextKind::kSingleLine));
  }
  if (paths.count("programme")) {
    COHORTE_RETURN_IF_ERROR(CheckText(field("programme"), cohort.programme(), 0,
                                      kMaxCohortProgrammeChars,
                                      TextKind::kSingleLine));
  }
  if (paths.count("description")) {
    COHORTE_RETURN_IF_ERROR(
        CheckText(field("description"), cohort.description(), 0,
                  kMaxCohortDescriptionChars, TextKind::kMultiLine));
  }
  if (paths.count("start_date") && cohort.has_start_date()) {
    COHORTE_RETURN_IF_ERROR(
        CheckDate(field("start_date"), cohort.start_date()));
  }
  if (paths.count("end_date") && cohort.has_end_date()) {
    COHORTE_RETURN_IF_ERROR(CheckDate(field("end_date"), cohort.end_date()));
  }
  return absl::OkStatus();
}

absl::Status CheckPeriod(const Cohort& cohort, absl::string_view prefix) {
  if (!cohort.has_start_date() || !cohort.has_end_date()) {
    return absl::OkStatus();
  }
  auto ordinal = [](const v1::Date& d) {
    return d.year() * 10000 + d.month() * 100 + d.day();
  };
  if (ordinal(cohort.end_date()) < ordinal(cohort.start_date())) {
    return InvalidField(absl::StrCat(prefix, "end_date"),
                        "is before start_date");
  }
  return absl::OkStatus();
}

absl::StatusOr<Cohort> LoadCohort(const Txn& txn, absl::string_view name) {
  return LoadEntity<Cohort>(txn, name);
}

void Save(Txn& txn, Cohort& cohort) { SaveEntity(txn, cohort); }

// The shared shape of Delete, Undelete, Archive and Unarchive: load the live
// cohort, check the etag, let `change` edit it (or refuse), save.
absl::StatusOr<Cohort> Transition(
    storage::Store& store, const Principal& caller, absl::string_view method,
    const google::protobuf::Message& request, absl::string_view name,
    absl::string_view etag, absl::string_view request_id,
    std::function<absl::Status(Txn&, Cohort&)> change) {
  COHORTE_RETURN_IF_ERROR(
      Authorize(caller, Resource::kCohort, Action::kDelete));
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("name", name, kCollection).status());
  COHORTE_RETURN_IF_ERROR(CheckRequestId("request_id", request_id));
  return CommitForResponse<Cohort>(
      store, caller, method, request, request_id,
      [&](Txn& txn,
          [[maybe_unused]] const Reader& reader) -> absl::StatusOr<Cohort> {
        COHORTE_RETURN_IF_ERROR(
            Authorize(reader.caller(), Resource::kCohort, Action::kDelete));
        COHORTE_ASSIGN_OR_RETURN(Cohort cohort, LoadCohort(txn, name));
        COHORTE_RETURN_IF_ERROR(CheckEtag(cohort.name(), cohort.etag(), etag));
        COHORTE_RETURN_IF_ERROR(change(txn, cohort));
        Save(txn, cohort);
        return cohort;
      });
}

absl::Status RefuseIfDeleted(const Cohort& cohort) {
  if (!cohort.has_delete_time()) return absl::OkStatus();
  return ErrorWithReason(
      absl::StatusCode::kFailedPrecondition, kReasonDeleted,
      absl::StrCat(cohort.name(), " is deleted; undelete it first"));
}

}  // namespace

absl::StatusOr<Cohort> CohortService::CreateCohort(
    const Principal& caller, const v1::CreateCohortRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      Authorize(caller, Resource::kCohort, Action::kCreate));
  if (!req.cohort_id().empty()) {
    COHORTE_RETURN_IF_ERROR(CheckResourceId("cohort_id", req.cohort_id()));
  }
  const std::set<std::string> all(MutablePaths().begin(), MutablePaths().end());
  COHORTE_RETURN_IF_ERROR(ValidateFields(req.cohort(), "cohort.", all));
  COHORTE_RETURN_IF_ERROR(CheckPeriod(req.cohort(), "cohort."));
  COHORTE_RETURN_IF_ERROR(CheckRequestId("request_id", req.request_id()));

  // Chosen outside the mutation so that it does not change between the
  // commit and a replay.
  const std::string id =
      req.cohort_id().empty() ? GenerateId("cohort-") : req.cohort_id();
  const std::string name = absl::StrCat(kCollection, "/", id);

  return CommitForResponse<Cohort>(
      store_, caller, "CreateCohort", req, req.request_id(),
      [&](Txn& txn,
          [[maybe_unused]] const Reader& reader) -> absl::StatusOr<Cohort> {
        // Checked again against the caller as this mutation sees them.
        COHORTE_RETURN_IF_ERROR(
            Authorize(reader.caller(), Resource::kCohort, Action::kCreate));
        COHORTE_ASSIGN_OR_RETURN(bool exists,
                                 txn.Exists(Table::kEntities, CohortKey(name)));
        if (exists) return AlreadyExists(name);
        Cohort cohort;
        for (const std::string& path : MutablePaths()) {
          google::protobuf::FieldMask mask;
          mask.add_paths(path);
          FieldMaskUtil::MergeMessageTo(req.cohort(), mask, {}, &cohort);
        }
        cohort.set_name(name);
        cohort.set_state(Cohort::ACTIVE);
        CreateEntity(txn, cohort);
        AuditLog audit(caller.actor(), "CreateCohort");
        audit.Change(name, nullptr, &cohort);
        PutCollegeGroups(txn, name, &audit);
        audit.Touch(name);
        COHORTE_RETURN_IF_ERROR(audit.Write(txn));
        return cohort;
      });
}

absl::StatusOr<Cohort> CohortService::GetCohort(
    const Principal& caller, const v1::GetCohortRequest& req) {
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kCohort, Action::kRead));
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("name", req.name(), kCollection).status());
  return Reader(store_, caller).Get<Cohort>(req.name());
}

absl::StatusOr<v1::ListCohortsResponse> CohortService::ListCohorts(
    const Principal& caller, const v1::ListCohortsRequest& req) {
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kCohort, Action::kRead));
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  v1::ListCohortsResponse response;
  COHORTE_ASSIGN_OR_RETURN(
      *response.mutable_next_page_token(),
      Reader(store_, caller)
          .List<Cohort>(
              storage::CollectionPrefixOf<v1::Cohort>("", kCollection), page,
              [&](Cohort& c) {
                return req.show_deleted() || !c.has_delete_time();
              },
              response.mutable_cohorts()));
  return response;
}

absl::StatusOr<Cohort> CohortService::UpdateCohort(
    const Principal& caller, const v1::UpdateCohortRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      Authorize(caller, Resource::kCohort, Action::kUpdate));
  const std::string& name = req.cohort().name();
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("cohort.name", name, kCollection).status());

  std::set<std::string> paths;
  const std::set<std::string> mutable_paths(MutablePaths().begin(),
                                            MutablePaths().end());
  if (req.update_mask().paths().empty()) {
    // AIP-134: no mask means every mutable field that is set.
    const Cohort& c = req.cohort();
    if (!c.display_name().empty()) paths.insert("display_name");
    if (!c.region().empty()) paths.insert("region");
    if (!c.programme().empty()) paths.insert("programme");
    if (!c.description().empty()) paths.insert("description");
    if (c.has_start_date()) paths.insert("start_date");
    if (c.has_end_date()) paths.insert("end_date");
    if (paths.empty()) {
      return InvalidField("update_mask",
                          "is empty and the cohort sets no mutable field");
    }
  } else {
    for (const std::string& path : req.update_mask().paths()) {
      if (!mutable_paths.count(path)) {
        return InvalidField(
            "update_mask",
            absl::StrCat("'", path.size() > 64 ? path.substr(0, 64) : path,
                         "' is not a field of Cohort that can be updated "
                         "(display_name, region, programme, description, "
                         "start_date, end_date)"));
      }
      paths.insert(path);
    }
  }
  COHORTE_RETURN_IF_ERROR(ValidateFields(req.cohort(), "cohort.", paths));
  COHORTE_RETURN_IF_ERROR(CheckRequestId("request_id", req.request_id()));

  google::protobuf::FieldMask mask;
  for (const std::string& p : paths) mask.add_paths(p);
  FieldMaskUtil::MergeOptions merge;
  merge.set_replace_message_fields(true);
  merge.set_replace_repeated_fields(true);

  return CommitForResponse<Cohort>(
      store_, caller, "UpdateCohort", req, req.request_id(),
      [&](Txn& txn,
          [[maybe_unused]] const Reader& reader) -> absl::StatusOr<Cohort> {
        // Checked again against the caller as this mutation sees them.
        COHORTE_RETURN_IF_ERROR(
            Authorize(reader.caller(), Resource::kCohort, Action::kUpdate));
        COHORTE_ASSIGN_OR_RETURN(Cohort cohort, LoadCohort(txn, name));
        COHORTE_RETURN_IF_ERROR(RefuseIfDeleted(cohort));
        COHORTE_RETURN_IF_ERROR(
            CheckEtag(cohort.name(), cohort.etag(), req.cohort().etag()));
        FieldMaskUtil::MergeMessageTo(req.cohort(), mask, merge, &cohort);
        COHORTE_RETURN_IF_ERROR(CheckPeriod(cohort, "cohort."));
        Save(txn, cohort);
        return cohort;
      });
}

absl::StatusOr<Cohort> CohortService::DeleteCohort(
    const Principal& caller, const v1::DeleteCohortRequest& req) {
  return Transition(
      store_, caller, "DeleteCohort", req, req.name(), req.etag(),
      req.request_id(), [&](Txn& txn, Cohort& cohort) -> absl::Status {
        if (cohort.has_delete_time()) {
          return NotFound(req.name());
        }
        *cohort.mutable_delete_time() = ToTimestamp(txn.commit_time());
        return absl::OkStatus();
      });
}

absl::StatusOr<Cohort> CohortService::UndeleteCohort(
    const Principal& caller, const v1::UndeleteCohortRequest& req) {
  return Transition(
      store_, caller, "UndeleteCohort", req, req.name(),
      /*etag=*/"", req.request_id(), [&](Txn&, Cohort& cohort) -> absl::Status {
        if (!cohort.has_delete_time()) {
          return ErrorWithReason(absl::StatusCode::kAlreadyExists,
                                 kReasonAlreadyExists,
                                 absl::StrCat(req.name(), " is not deleted"));
        }
        cohort.clear_delete_time();
        return absl::OkStatus();
      });
}

absl::StatusOr<Cohort> CohortService::ArchiveCohort(
    const Principal& caller, const v1::ArchiveCohortRequest& req) {
  return Transition(
      store_, caller, "ArchiveCohort", req, req.name(), req.etag(),
      req.request_id(), [&](Txn&, Cohort& cohort) -> absl::Status {
        COHORTE_RETURN_IF_ERROR(RefuseIfDeleted(cohort));
        if (cohort.state() == Cohort::ARCHIVED) {
          return ErrorWithReason(
              absl::StatusCode::kFailedPrecondition, kReasonWrongState,
              absl::StrCat(req.name(), " is already archived"));
        }
        cohort.set_state(Cohort::ARCHIVED);
        return absl::OkStatus();
      });
}

absl::StatusOr<Cohort> CohortService::UnarchiveCohort(
    const Principal& caller, const v1::UnarchiveCohortRequest& req) {
  return Transition(
      store_, caller, "UnarchiveCohort", req, req.name(), req.etag(),
      req.request_id(), [&](Txn&, Cohort& cohort) -> absl::Status {
        COHORTE_RETURN_IF_ERROR(RefuseIfDeleted(cohort));
        if (cohort.state() == Cohort::ACTIVE) {
          return ErrorWithReason(
              absl::StatusCode::kFailedPrecondition, kReasonWrongState,
              absl::StrCat(req.name(), " is already active"));
        }
        cohort.set_state(Cohort::ACTIVE);
        return absl::OkStatus();
      });
}

}  // namespace cohorte::service
