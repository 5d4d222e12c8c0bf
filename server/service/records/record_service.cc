// RecordService: records and their versions (uploads and downloads are in
// record_uploads.cc, the garbage collector in record_gc.cc).
#include "server/service/records/record_service.h"

#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/field_mask_util.h"
#include "server/service/access/commit.h"
#include "server/service/access/policy.h"
#include "server/service/core/entities.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "server/service/core/validation.h"
#include "server/service/records/record_store.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace cohorte::service {
namespace {

using storage::Txn;
using v1::Record;

// Field checks that need no store, on a whole record.
absl::Status CheckRecordFields(const Record& r) {
  COHORTE_RETURN_IF_ERROR(CheckText("record.title", r.title(), 1,
                                    kMaxRecordTitleChars,
                                    TextKind::kSingleLine));
  COHORTE_RETURN_IF_ERROR(CheckText("record.description", r.description(), 0,
                                    kMaxRecordDescriptionChars,
                                    TextKind::kMultiLine));
  COHORTE_RETURN_IF_ERROR(
      CheckEnumValue("record.kind", r.kind(), Record::Kind_IsValid));
  COHORTE_RETURN_IF_ERROR(CheckEnumValue("record.visibility", r.visibility(),
                                         v1::Visibility_IsValid));
  if (r.visibility() == v1::GROUP) {
    COHORTE_RETURN_IF_ERROR(
        ParseCohortChildName("record.group", r.group(), "groups").status());
  } else if (!r.group().empty()) {
    return InvalidField("record.group", "is only for GROUP visibility");
  }
  if (r.links_size() > kMaxRecordLinks) {
    return InvalidField("record.links",
                        absl::StrCat("has more than ", kMaxRecordLinks));
  }
  return absl::OkStatus();
}

// The cohort `link` belongs to, if it names a territory, session, report or
// chantier; empty otherwise.
std::string LinkCohort(absl::string_view link) {
  for (const char* collection : {"territories", "sessions", "reports"}) {
    absl::StatusOr<std::string> c =
        ParseCohortChildName("record.links", link, collection);
    if (c.ok()) return *c;
  }
  absl::StatusOr<std::string> territory =
      ParseTerritoryChildName("record.links", link, "chantiers");
  if (territory.ok()) return std::string(CohortOf(*territory));
  return "";
}

// Inside a mutation: the group (the caller must be a member) and the links
// (each of the cohort, and readable by the caller: absent and unreadable
// get one answer).
absl::Status CheckRecordReferences(const Reader& reader, const Record& r,
                                   absl::string_view cohort) {
  if (r.visibility() == v1::GROUP) {
    if (CohortOf(r.group()) != cohort) {
      return InvalidField("record.group", "is not a group of the cohort");
    }
    COHORTE_RETURN_IF_ERROR(reader.GroupForContent(r.group()).status());
  }
  std::set<std::string> seen;
  for (const std::string& link : r.links()) {
    if (LinkCohort(link) != cohort) {
      return InvalidField(
          "record.links",
          absl::StrCat(link.substr(0, 200),
                       " is not a territory, session, report or chantier of ",
                       cohort));
    }
    if (!seen.insert(link).second) {
      return InvalidField("record.links", absl::StrCat(link, " twice"));
    }
    if (!reader.MayRead(link).ok()) {
      return InvalidField(
          "record.links",
          absl::StrCat(link, " does not exist or you may not read it"));
    }
  }
  return absl::OkStatus();
}

// Inside a mutation: the record for its creator or a coordinator of the
// cohort who may read it; PERMISSION_DENIED alike otherwise.
absl::StatusOr<Record> LoadForChange(const Reader& reader,
                                     absl::string_view name) {
  COHORTE_ASSIGN_OR_RETURN(Record r, reader.Load<Record>(name));
  const Principal& p = reader.caller();
  if ((!p.service && !p.member.empty() && r.creator() == p.member) ||
      Coordinates(p, CohortOf(name))) {
    return r;
  }
  return PermissionDenied(absl::StrCat(
      "change ", name, ": only its creator and the cohort's coordinators may"));
}

std::string PurgeKey(const Record& r) {
  return storage::TimeQueueKey(
      storage::IndexKind::kRecordByPurgeTime,
      r.delete_time().seconds() + kRecordPurgeDays * 86400, r.name());
}

}  // namespace

absl::StatusOr<Record> RecordService::CreateRecord(
    const Principal& caller, const v1::CreateRecordRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("parent", req.parent(), "cohorts").status());
  COHORTE_RETURN_IF_ERROR(
      AuthorizeRecordWriter(caller, req.parent(), "create a record"));
  if (!req.record_id().empty()) {
    COHORTE_RETURN_IF_ERROR(CheckResourceId("record_id", req.record_id()));
  }
  Record r = req.record();
  COHORTE_RETURN_IF_ERROR(CheckRecordFields(r));
  COHORTE_RETURN_IF_ERROR(CheckRequestId("request_id", req.request_id()));
  const std::string name = absl::StrCat(
      req.parent(), "/records/",
      req.record_id().empty() ? GenerateId("record-") : req.record_id());
  return CommitForResponse<Record>(
      store_, caller, "CreateRecord", req, req.request_id(),
      [&](Txn& txn, const Reader& reader) -> absl::StatusOr<Record> {
        COHORTE_RETURN_IF_ERROR(AuthorizeRecordWriter(
            reader.caller(), req.parent(), "create a record"));
        COHORTE_ASSIGN_OR_RETURN(bool exists, txn.EntityExists<Record>(name));
        if (exists) {
          // A closed group's record: the answer for a name one may not see.
          COHORTE_RETURN_IF_ERROR(reader.Load<Record>(name).status());
          return AlreadyExists(name);
        }
        COHORTE_RETURN_IF_ERROR(CheckRecordReferences(reader, r, req.parent()));
        Record created = r;
        created.set_name(name);
        created.set_creator(reader.caller().member);
        created.clear_delete_time();
        created.clear_latest_version();
        created.clear_latest();
        CreateEntity(txn, created);
        return created;
      });
}

absl::StatusOr<Record> RecordService::GetRecord(
    const Principal& caller, const v1::GetRecordRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseCohortChildName("name", req.name(), "records").status());
  return Reader(store_, caller).Get<Record>(req.name());
}

absl::StatusOr<v1::ListRecordsResponse> RecordService::ListRecords(
    const Principal& caller, const v1::ListRecordsRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("parent", req.parent(), "cohorts").status());
  if (!caller.authenticated()) return PermissionDenied("list records");
  if (!Record::Kind_IsValid(req.kind())) {
    return InvalidField("kind", "is not a kind of record");
  }
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  v1::ListRecordsResponse response;
  COHORTE_ASSIGN_OR_RETURN(
      *response.mutable_next_page_token(),
      Reader(store_, caller)
          .List<Record>(
              storage::CollectionPrefixOf<Record>(req.parent(), "records"),
              page,
              [&](Record& r) {
                if (r.has_delete_time() && !req.show_deleted()) return false;
                return req.kind() == Record::KIND_UNSPECIFIED ||
                       r.kind() == req.kind();
              },
              response.mutable_records()));
  return response;
}

absl::StatusOr<Record> RecordService::UpdateRecord(
    const Principal& caller, const v1::UpdateRecordRequest& req) {
  const std::string& name = req.record().name();
  COHORTE_ASSIGN_OR_RETURN(
      std::string cohort, ParseCohortChildName("record.name", name, "records"));
  static const std::set<std::string>* const kAllowed =
      new std::set<std::string>{"title",      "kind",  "description",
                                "visibility", "group", "links"};
  COHORTE_RETURN_IF_ERROR(
      CheckUpdateMask(req.update_mask(), *kAllowed, "Record").status());
  COHORTE_RETURN_IF_ERROR(CheckRequestId("request_id", req.request_id()));
  google::protobuf::util::FieldMaskUtil::MergeOptions merge;
  merge.set_replace_repeated_fields(true);
  return CommitForResponse<Record>(
      store_, caller, "UpdateRecord", req, req.request_id(),
      [&](Txn& txn, const Reader& reader) -> absl::StatusOr<Record> {
        COHORTE_ASSIGN_OR_RETURN(Record r, LoadForChange(reader, name));
        COHORTE_RETURN_IF_ERROR(CheckEtag(name, r.etag(), req.record().etag()));
        google::protobuf::util::FieldMaskUtil::MergeMessageTo(
            req.record(), req.update_mask(), merge, &r);
        COHORTE_RETURN_IF_ERROR(CheckRecordFields(r));
        COHORTE_RETURN_IF_ERROR(CheckRecordReferences(reader, r, cohort));
        SaveEntity(txn, r);
        return r;
      });
}

absl::StatusOr<Record> RecordService::DeleteRecord(
    const Principal& caller, const v1::DeleteRecordRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseCohortChildName("name", req.name(), "records").status());
  return CommitForResponse<Record>(
      store_, caller, "DeleteRecord", req, /*request_id=*/"",
      [&](Txn& txn, const Reader& reader) -> absl::StatusOr<Record> {
        COHORTE_ASSIGN_OR_RETURN(Record r, LoadForChange(reader, req.name()));
        COHORTE_RETURN_IF_ERROR(CheckEtag(r.name(), r.etag(), req.etag()));
        if (r.has_delete_time()) {
          return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                                 kReasonWrongState,
                                 absl::StrCat(r.name(), " is already deleted"));
        }
        *r.mutable_delete_time() = ToTimestamp(txn.commit_time());
        txn.PutIndex(PurgeKey(r), "");
        SaveEntity(txn, r);
        return r;
      });
}

absl::StatusOr<Record> RecordService::UndeleteRecord(
    const Principal& caller, const v1::UndeleteRecordRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseCohortChildName("name", req.name(), "records").status());
  return CommitForResponse<Record>(
      store_, caller, "UndeleteRecord", req, /*request_id=*/"",
      [&](Txn& txn, const Reader& reader) -> absl::StatusOr<Record> {
        COHORTE_ASSIGN_OR_RETURN(Record r, LoadForChange(reader, req.name()));
        if (!r.has_delete_time()) {
          return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                                 kReasonWrongState,
                                 absl::StrCat(r.name(), " is not deleted"));
        }
        txn.DeleteIndex(PurgeKey(r));
        r.clear_delete_time();
        SaveEntity(txn, r);
        return r;
      });
}

absl::StatusOr<v1::ListRecordVersionsResponse>
RecordService::ListRecordVersions(const Principal& caller,
                                  const v1::ListRecordVersionsRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseCohortChildName("parent", req.parent(), "records").status());
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  Reader reader(store_, caller);
  COHORTE_RETURN_IF_ERROR(reader.Get<Record>(req.parent()).status());
  v1::ListRecordVersionsResponse response;
  COHORTE_ASSIGN_OR_RETURN(*response.mutable_next_page_token(),
                           reader.List<v1::RecordVersion>(
                               storage::CollectionPrefixOf<v1::RecordVersion>(
                                   req.parent(), "versions"),
                               page, [](v1::RecordVersion&) { return true; },
                               response.mutable_versions(), /*reverse=*/true));
  return response;
}

}  // namespace cohorte::service
