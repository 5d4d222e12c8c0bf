// Shared records in service tests: making a record, uploading a content in
// full through the RecordService (as a client would, 1 MiB at a time), and
// reading a version's content back through the gate.
#ifndef COHORTE_TESTS_SERVICE_RECORD_HELPERS_H_
#define COHORTE_TESTS_SERVICE_RECORD_HELPERS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "server/service/records/content_check.h"
#include "server/service/records/record_service.h"

namespace cohorte::testing {

inline constexpr int64_t kRecordMiB = 1 << 20;

// Creates record `id` of `cohort` as `who`; a GROUP one belongs to `group`.
inline absl::StatusOr<v1::Record> MakeRecordAs(service::RecordService& records,
                                               const service::Principal& who,
                                               const std::string& cohort,
                                               const std::string& id,
                                               v1::Visibility visibility,
                                               const std::string& group = "") {
  v1::CreateRecordRequest req;
  req.set_parent(cohort);
  req.set_record_id(id);
  req.mutable_record()->set_title("Compte-rendu " + id);
  req.mutable_record()->set_kind(v1::Record::COMPTE_RENDU);
  req.mutable_record()->set_visibility(visibility);
  if (visibility == v1::GROUP) req.mutable_record()->set_group(group);
  return records.CreateRecord(who, req);
}

// Uploads `content` in full to `record` as `who` (a new upload; the proof
// chunks first if the service asks for them); the version's name.
inline absl::StatusOr<std::string> PushContentAs(
    service::RecordService& records, const service::Principal& who,
    const std::string& record, const std::string& content) {
  v1::StartUploadRequest start;
  start.set_parent(record);
  start.set_size_bytes(static_cast<int64_t>(content.size()));
  start.set_sha256(service::Sha256Hex(content));
  start.set_file_name("cr.bin");
  start.set_new_upload(true);
  absl::StatusOr<v1::Upload> u = records.StartUpload(who, start);
  if (!u.ok()) return u.status();
  auto write = [&](int64_t at) -> absl::StatusOr<v1::Upload> {
    v1::WriteUploadRequest w;
    w.set_write_offset(at);
    w.set_data(content.substr(at, kRecordMiB));
    return records.WriteUpload(who, u->name(), w);
  };
  for (int64_t at : u->proof_offsets()) {
    absl::StatusOr<v1::Upload> done = write(at);
    if (!done.ok()) return done.status();
    if (done->state() == v1::Upload::COMPLETED) return done->version();
  }
  for (int64_t at = 0; at < static_cast<int64_t>(content.size());
       at += kRecordMiB) {
    absl::StatusOr<v1::Upload> done = write(at);
    if (!done.ok()) return done.status();
    if (done->state() == v1::Upload::COMPLETED) return done->version();
  }
  return absl::InternalError(
      absl::StrCat("the upload of ", record, " never completed"));
}

// The whole content of `version` as `who` reads it.
inline absl::StatusOr<std::string> ReadContentAs(
    service::RecordService& records, const service::Principal& who,
    const std::string& version) {
  std::string out;
  while (true) {
    absl::StatusOr<std::string> chunk = records.ReadChunk(
        who, version, static_cast<int64_t>(out.size()), kRecordMiB);
    if (!chunk.ok()) return chunk.status();
    if (chunk->empty()) return out;
    out += *chunk;
  }
}

}  // namespace cohorte::testing

#endif  // COHORTE_TESTS_SERVICE_RECORD_HELPERS_H_
