// File: server/service/records/content_intake.h
//
// Record contents that arrive whole from outside an upload session — from
// the instance a link follows, or in an imported cohort bundle — stored
// exactly as an upload stores its bytes (record_chunks, by SHA-256, once
// per instance; storage/FORMAT.md "Shared records' bytes"), and just as
// crash-safe:
//
// 1. ContentIntake::Begin commits, for each content not stored here yet, a
//    blob number of its own marked as pending (kPendingBlob), before any
//    byte is written;
// 2. IncomingContent::Append writes the bytes durably to that blob
//    (Store::WriteRecordChunks, batches of kMaxUploadBatchBytes) while it
//    hashes them; Finish checks the size and the SHA-256;
// 3. the mutation that stores the versions naming the content
//    (ReferenceContent) makes it count: the content record takes the blob
//    and the pending mark goes, in the same batch;
// 4. ContentIntake::Settle, after that mutation (committed or not), turns
//    every blob still pending into garbage for the record collector; a
//    crash before it leaves the mark, and DiscardPendingBlobs (at start,
//    before anything receives) does the same.
//
// So bytes become visible only as a whole, verified content, in the batch
// of the versions that name it; nothing received is left behind
// unreferenced once the collector has run.
//
// Thread-safety: an IncomingContent is used by one thread. ContentIntake
// holds only the Store and is thread-safe; two intakes of the same content
// at once each store a blob, and the second mutation to adopt it finds the
// content stored and marks its own blob as garbage.
#ifndef COHORTE_SERVER_SERVICE_RECORDS_CONTENT_INTAKE_H_
#define COHORTE_SERVER_SERVICE_RECORDS_CONTENT_INTAKE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cohorte/v1/records.pb.h"
#include "server/service/records/content_check.h"
#include "storage/store.h"

namespace cohorte::service {

// The stable reason of a received content that is not what was announced.
inline constexpr absl::string_view kReasonContentMismatch = "CONTENT_MISMATCH";

// A content being received (see the file comment). Not copyable.
class IncomingContent {
 public:
  IncomingContent(storage::Store& store, std::string sha256, int64_t size,
                  uint64_t blob);
  IncomingContent(const IncomingContent&) = delete;
  IncomingContent& operator=(const IncomingContent&) = delete;

  const std::string& sha256() const { return sha256_; }
  int64_t size() const { return size_; }
  uint64_t blob() const { return blob_; }
  // How many bytes were appended.
  int64_t received() const { return received_; }
  // Whether Finish succeeded.
  bool finished() const { return finished_; }

  // Appends the content's next bytes; writes a batch once
  // kMaxUploadBatchBytes are buffered. INVALID_ARGUMENT (reason
  // CONTENT_MISMATCH) past the announced size or after Finish; the
  // store's errors (Store::WriteRecordChunks).
  absl::Status Append(absl::string_view data);
  // Writes what is buffered and checks the size and the SHA-256 against
  // the announced ones: INVALID_ARGUMENT (reason CONTENT_MISMATCH) if they
  // differ.
  absl::Status Finish();
  // After a cut (the source stopped mid-way): drops what is buffered, so
  // that received() is what the blob durably holds, from where the bytes
  // are to be sent again. REQUIRES: not finished.
  void Rewind();

 private:
  absl::Status Flush();

  storage::Store& store_;
  const std::string sha256_;
  const int64_t size_;
  const uint64_t blob_;
  ResumableSha256 hash_;
  std::string hash_written_;  // hash_'s state over the blob's bytes
  std::string buffer_;
  int64_t written_ = 0;   // bytes in the blob
  int64_t received_ = 0;  // bytes appended
  bool finished_ = false;
};

using IncomingContents = std::vector<std::unique_ptr<IncomingContent>>;

// A content wanted: its SHA-256 (64 lowercase hex digits) and size.
struct WantedContent {
  std::string sha256;
  int64_t size_bytes = 0;
};

class ContentIntake {
 public:
  // `store` must outlive this object.
  explicit ContentIntake(storage::Store& store) : store_(store) {}

  // For each wanted content not stored here (or only `at_home`; duplicates
  // counted once), an
  // IncomingContent with a pending blob of its own, all marked in one
  // commit (no commit, and an empty result, when every one is stored).
  // `actor` names who receives (the change log's actor). INVALID_ARGUMENT
  // for a malformed SHA-256 or a size below 1; the store's errors.
  absl::StatusOr<IncomingContents> Begin(
      absl::string_view actor, const std::vector<WantedContent>& wanted);

  // After the mutation that was to adopt `contents` (committed or not):
  // each blob still pending is marked as garbage, in one commit (none when
  // every one was adopted).
  absl::Status Settle(absl::string_view actor,
                      const IncomingContents& contents);

 private:
  storage::Store& store_;
};

// Inside the mutation storing version `version` (received from outside):
// its content gets one more reference, and the version's kVersionByContent
// entry is written. The content is the one stored here; or else the
// finished content of `incoming` with its SHA-256, which becomes the
// stored content (its blob, its pending mark removed); or else, if `lazy`,
// a content record `at_home` (no bytes here until FillContent). NOT_FOUND
// when none applies (the content did not arrive): the caller does not
// store the version.
absl::Status ReferenceContent(storage::Txn& txn,
                              const v1::RecordVersion& version,
                              const IncomingContents& incoming,
                              bool lazy = false);

// Inside the mutation that follows a first download's copy: the content
// `version` names, `at_home`, takes the finished content of `incoming`.
// False if there was nothing to fill (filled meanwhile, or no version names
// it any more): Settle then frees the copy.
absl::StatusOr<bool> FillContent(storage::Txn& txn,
                                 const v1::RecordVersion& version,
                                 const IncomingContents& incoming);

// Inside the mutation deleting stored version `version`: its content loses
// a reference (freed at none) and its kVersionByContent entry goes.
absl::Status ReleaseVersionContent(storage::Txn& txn,
                                   const v1::RecordVersion& version);

// At start, before anything receives contents: every blob a stopped
// process left pending is marked as garbage. Returns how many.
absl::StatusOr<int64_t> DiscardPendingBlobs(storage::Store& store);

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_RECORDS_CONTENT_INTAKE_H_
