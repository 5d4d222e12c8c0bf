// File: server/service/records/record_service.h
//
// RecordService: a cohort's shared records (documents) and their immutable
// versions, after Google's ByteStream API. A version's bytes arrive through
// an upload session (StartUpload, then WriteUpload batches of chunks at the
// committed offset, each durable once written; QueryUpload tells how far
// it is), and the version appears in the same commit as the last chunk,
// only if the whole content's SHA-256 is the announced one. A stream's
// batches are written to a table file and made durable together (up to
// kUploadCommitBytes) by Store::IngestRecordChunks, outside the group
// commit, before the small commit that accounts them; the ingestion and
// commit of one upload are serialized (a striped lock, the committed size
// checked again under it) so that two streams never interleave there.
// Content is stored once per instance by its SHA-256, with a count of the
// versions referring to it; CollectGarbage frees what nothing refers to
// (see record_gc.cc).
//
// Every read goes through the gate: a record has a report's visibility
// rules (a GROUP record is read by the group's members only), a version
// and its bytes are read by whoever reads the record, an upload session
// by its uploader only. No gRPC. Thread-safe; `store` must outlive it.
#ifndef COHORTE_SERVER_SERVICE_RECORDS_RECORD_SERVICE_H_
#define COHORTE_SERVER_SERVICE_RECORDS_RECORD_SERVICE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "cohorte/storage/v1/records.pb.h"
#include "cohorte/v1/records.pb.h"
#include "server/service/access/principal.h"
#include "server/service/core/limits.h"
#include "storage/store.h"

namespace cohorte::service {

// The quotas of shared records (cohorted's --max-record-mb and
// --cohort-quota-mb).
struct RecordLimits {
  // The largest content of one version.
  int64_t max_file_bytes = kDefaultMaxRecordBytes;
  // The most bytes of versions one cohort holds (each version counts, even
  // when its content is shared), uploads in progress included.
  int64_t max_cohort_bytes = kDefaultCohortQuotaBytes;
};

// What one CollectGarbage pass did.
struct RecordGarbageStats {
  int expired_uploads = 0;
  int purged_records = 0;
  int freed_contents = 0;
  int deleted_blobs = 0;
};

class RecordService {
 public:
  RecordService(storage::Store* store, RecordLimits limits)
      : store_(*store), limits_(limits) {}
  RecordService(const RecordService&) = delete;
  RecordService& operator=(const RecordService&) = delete;

  // A participant of the cohort acting as a member (not the administrator,
  // not a service token); for GROUP, a member of the group. Links must
  // name resources of the cohort the caller may read. INVALID_ARGUMENT
  // naming the field; ALREADY_EXISTS for a taken id the caller may read.
  absl::StatusOr<v1::Record> CreateRecord(const Principal& caller,
                                          const v1::CreateRecordRequest& req);
  // PERMISSION_DENIED alike for a missing record and one the caller may not
  // read.
  absl::StatusOr<v1::Record> GetRecord(const Principal& caller,
                                       const v1::GetRecordRequest& req);
  // What the caller may read, in name order; deleted ones if asked.
  absl::StatusOr<v1::ListRecordsResponse> ListRecords(
      const Principal& caller, const v1::ListRecordsRequest& req);
  // Its creator, or a coordinator of the cohort who may read it. ABORTED
  // (ETAG_MISMATCH) for a stale etag.
  absl::StatusOr<v1::Record> UpdateRecord(const Principal& caller,
                                          const v1::UpdateRecordRequest& req);
  // Soft delete (AIP-164) by its creator or a coordinator who may read it;
  // purged kRecordPurgeDays later unless undeleted.
  absl::StatusOr<v1::Record> DeleteRecord(const Principal& caller,
                                          const v1::DeleteRecordRequest& req);
  absl::StatusOr<v1::Record> UndeleteRecord(
      const Principal& caller, const v1::UndeleteRecordRequest& req);
  // Newest first, to whoever may read the record.
  absl::StatusOr<v1::ListRecordVersionsResponse> ListRecordVersions(
      const Principal& caller, const v1::ListRecordVersionsRequest& req);

  // A new upload session (or the caller's ACTIVE one of the same size and
  // SHA-256, or without a SHA-256 of the same size and file name, to this
  // record, to resume, unless req.new_upload). Whoever may read the record
  // and takes part in its cohort as a member. RESOURCE_EXHAUSTED naming the
  // limit for a size over the per-file limit or the cohort's quota;
  // FAILED_PRECONDITION for a deleted record.
  //
  // The proof shortcut: when req.sha256 is the content of a version the
  // caller may read (and of req.size_bytes), the upload asks for two proof
  // chunks (Upload.proof_offsets: the first and one drawn at random) and
  // completes when both equal the stored bytes, storing nothing. Anyone
  // who may read no version holding that content gets an ordinary upload,
  // exactly as if it were new (its bytes are stored, then dropped as a
  // copy when it completes): whether a digest is held is never told to
  // whoever could not read it.
  absl::StatusOr<v1::Upload> StartUpload(const Principal& caller,
                                         const v1::StartUploadRequest& req);
  // Writes `writes` (chunks at consecutive offsets, the first at the
  // committed size; at most kMaxUploadBatchBytes together) durably, and
  // commits the new committed size; with the last chunk, makes the version.
  // All or nothing: on an error nothing of the batch counts. `name` is the
  // upload the stream names (its first message's). OUT_OF_RANGE if an
  // offset is not where the chunk before ends (the first: the committed
  // size) or a chunk goes past the announced size; INVALID_ARGUMENT for a
  // chunk over 1 MiB or empty, a batch over kMaxUploadBatchBytes, a
  // content whose SHA-256 is not the announced one (nothing of the batch is
  // kept), a missing or differing sha256 with the last write, a proof
  // chunk that is not the content's, or first bytes that contradict the
  // media type; FAILED_PRECONDITION once expired (or within
  // kUploadWriteMarginMinutes of it) or completed. PERMISSION_DENIED,
  // alike, for someone else's upload and a missing one.
  absl::StatusOr<v1::Upload> WriteUpload(
      const Principal& caller, absl::string_view name,
      absl::Span<const v1::WriteUploadRequest> writes);

  // What one stream of WriteUpload batches sent since the upload's last
  // commit: its chunks in a table file beside the store (not yet durable)
  // and the hash so far, so that several batches are made durable and
  // committed at once (one fsync of the file, one of the MANIFEST, one
  // small commit per kUploadCommitBytes instead of per batch), while the
  // stream holds in memory only the batch at hand. Dropping it drops what
  // it holds (never committed: the client sends it again). Owned by the
  // stream; used by one call at a time.
  class UploadStream {
   public:
    UploadStream() = default;
    UploadStream(const UploadStream&) = delete;
    UploadStream& operator=(const UploadStream&) = delete;
    // Whether it holds chunks not committed yet.
    bool pending() const { return file_ != nullptr; }

   private:
    friend class RecordService;
    std::unique_ptr<storage::RecordChunkFile> file_;  // null: nothing held
    storage::v1::UploadRecord before_;  // the upload as the file began
    std::string hash_state_;            // ResumableSha256::Save() so far
    std::string media_type_;
    std::string sha256_;  // the content's, once the last chunk is held
  };
  // WriteUpload for a stream: `writes` go to `stream`'s file, and what it
  // holds is committed as one batch (all or nothing, as above) once it
  // reaches kUploadCommitBytes or the announced size; returns the upload
  // as last committed. The same errors as WriteUpload, each dropping what
  // `stream` held.
  absl::StatusOr<v1::Upload> WriteUpload(
      const Principal& caller, absl::string_view name,
      absl::Span<const v1::WriteUploadRequest> writes, UploadStream* stream);
  // Commits what `stream` holds (the end of a stream), as WriteUpload
  // would; FAILED_PRECONDITION if it holds nothing.
  absl::StatusOr<v1::Upload> CommitUploadStream(const Principal& caller,
                                                absl::string_view name,
                                                UploadStream* stream);
  absl::StatusOr<v1::Upload> WriteUpload(const Principal& caller,
                                         absl::string_view name,
                                         const v1::WriteUploadRequest& req) {
    return WriteUpload(caller, name, absl::MakeConstSpan(&req, 1));
  }
  absl::StatusOr<v1::Upload> QueryUpload(const Principal& caller,
                                         const v1::QueryUploadRequest& req);
  // Copies the content of a replicated version from its home (a LAZY
  // link's first download; the Replicator's FetchContent). Set once, before
  // serving.
  using ContentFetcher =
      std::function<absl::Status(const v1::RecordVersion& version)>;
  void SetContentFetcher(ContentFetcher fetch) { fetch_ = std::move(fetch); }

  // The version a download reads, after checking the request (offset within
  // the content, limit not negative). A replicated version whose content is
  // still at its home is copied first (the call waits for the copy);
  // UNAVAILABLE (reason CONTENT_AT_HOME) if it cannot be.
  absl::StatusOr<v1::RecordVersion> StartRead(
      const Principal& caller, const v1::ReadRecordVersionRequest& req);
  // Up to kMaxRecordChunkBytes and `max_bytes` of the content of `version`
  // from `offset`, read through the gate at each call (a reader who loses
  // access stops reading).
  absl::StatusOr<std::string> ReadChunk(const Principal& caller,
                                        absl::string_view version,
                                        int64_t offset, int64_t max_bytes);
  // Up to `max_bytes` (at most kMaxDownloadReadAheadBytes) from `offset`,
  // as the pieces of the stored chunks that hold them, read through the
  // gate once per call (a download reads ahead with it: one gate check per
  // few megabytes, not per chunk). Empty at the end of the content.
  absl::StatusOr<std::vector<std::string>> ReadChunks(const Principal& caller,
                                                      absl::string_view version,
                                                      int64_t offset,
                                                      int64_t max_bytes);

  // One pass of the garbage collector, as of `now`: expired upload
  // sessions are removed, records deleted for kRecordPurgeDays are purged
  // with their versions, contents no version refers to are unreferenced,
  // and the chunks of every blob so marked are deleted. Each step is its
  // own commit and marks before it deletes, so a crash at any point leaves
  // work that the next pass (after a restart too) finishes; nothing that a
  // version or an active upload refers to is ever deleted.
  absl::StatusOr<RecordGarbageStats> CollectGarbage(absl::Time now);

 private:
  // The proof writes of an upload that asked for them (see StartUpload).
  // REQUIRES: UploadLock(before.name()) held.
  absl::StatusOr<v1::Upload> WriteProof(
      const Principal& caller, const storage::v1::UploadRecord& before,
      absl::Span<const v1::WriteUploadRequest> writes);
  absl::Mutex& UploadLock(absl::string_view name);

  storage::Store& store_;
  const RecordLimits limits_;
  // Serialize the ingestions and commits of one upload (its chunks become
  // part of the store before the commit that checks the offset); striped
  // by the upload's name.
  std::array<absl::Mutex, 64> upload_locks_;
  ContentFetcher fetch_;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_RECORDS_RECORD_SERVICE_H_
