#include "server/service/records/record_store.h"

#include "absl/strings/str_cat.h"
#include "server/service/access/policy.h"
#include "server/service/core/entities.h"
#include "storage/codec.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace cohorte::service {
namespace {

std::string ContentKey(absl::string_view sha256) {
  return storage::IndexKey(storage::IndexKind::kRecordContent, sha256);
}

std::string CohortBytesKey(absl::string_view cohort) {
  return storage::IndexKey(storage::IndexKind::kCounter,
                           absl::StrCat(cohort, "/record-bytes"));
}

}  // namespace

absl::Status AuthorizeRecordWriter(const Principal& caller,
                                   absl::string_view cohort,
                                   absl::string_view what) {
  if (caller.service || caller.member.empty() || caller.is_admin() ||
      !ParticipatesIn(caller, cohort)) {
    return PermissionDenied(absl::StrCat(
        what, ": shared records are written by members taking part in ",
        cohort));
  }
  return absl::OkStatus();
}

absl::string_view RecordNameOf(absl::string_view name) {
  for (absl::string_view sep : {"/versions/", "/uploads/"}) {
    const size_t at = name.find(sep);
    if (at != absl::string_view::npos) return name.substr(0, at);
  }
  return name;
}

absl::StatusOr<storage::v1::RecordContentRecord> LoadContent(
    const storage::Txn& txn, absl::string_view sha256) {
  storage::v1::RecordContentRecord content;
  COHORTE_RETURN_IF_ERROR(
      txn.GetProto(storage::Table::kIndexes, ContentKey(sha256), &content));
  return content;
}

void SaveContent(storage::Txn& txn, absl::string_view sha256,
                 const storage::v1::RecordContentRecord& content) {
  txn.PutIndex(ContentKey(sha256), storage::EncodeValue(content));
}

absl::Status ReleaseContent(storage::Txn& txn, absl::string_view sha256,
                            bool* freed) {
  absl::StatusOr<storage::v1::RecordContentRecord> content =
      LoadContent(txn, sha256);
  if (absl::IsNotFound(content.status())) return absl::OkStatus();
  COHORTE_RETURN_IF_ERROR(content.status());
  if (content->references() > 1) {
    content->set_references(content->references() - 1);
    SaveContent(txn, sha256, *content);
    return absl::OkStatus();
  }
  txn.DeleteIndex(ContentKey(sha256));
  if (content->at_home()) return absl::OkStatus();  // no bytes here
  MarkBlobGarbage(txn, content->blob());
  *freed = true;
  return absl::OkStatus();
}

std::string VersionByContentPrefix(absl::string_view sha256) {
  std::string prefix =
      storage::IndexKey(storage::IndexKind::kVersionByContent, sha256);
  prefix.push_back('\0');
  return prefix;
}

std::string VersionByContentKey(absl::string_view sha256,
                                absl::string_view version) {
  return absl::StrCat(VersionByContentPrefix(sha256), version);
}

void MarkBlobGarbage(storage::Txn& txn, uint64_t blob) {
  txn.PutIndex(storage::IndexKey(storage::IndexKind::kRecordGarbage,
                                 storage::EncodeUint64BigEndian(blob)),
               "");
}

absl::StatusOr<int64_t> CohortRecordBytes(const storage::Txn& txn,
                                          absl::string_view cohort) {
  std::string value;
  absl::Status s =
      txn.Get(storage::Table::kIndexes, CohortBytesKey(cohort), &value);
  if (absl::IsNotFound(s)) return 0;
  COHORTE_RETURN_IF_ERROR(s);
  uint64_t bytes = 0;
  if (!storage::DecodeUint64BigEndian(value, &bytes)) {
    return absl::DataLossError(
        absl::StrCat("the record byte count of ", cohort, " is malformed"));
  }
  return static_cast<int64_t>(bytes);
}

absl::Status AddCohortRecordBytes(storage::Txn& txn, absl::string_view cohort,
                                  int64_t delta) {
  COHORTE_ASSIGN_OR_RETURN(int64_t bytes, CohortRecordBytes(txn, cohort));
  bytes = std::max<int64_t>(0, bytes + delta);
  txn.PutIndex(CohortBytesKey(cohort),
               storage::EncodeUint64BigEndian(static_cast<uint64_t>(bytes)));
  return absl::OkStatus();
}

}  // namespace cohorte::service
