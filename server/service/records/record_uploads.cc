// RecordService: upload sessions and downloads of versions' content.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <future>
#include <string>

#include "absl/hash/hash.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/access/commit.h"
#include "server/service/core/entities.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "server/service/core/validation.h"
#include "server/service/records/content_check.h"
#include "server/service/records/record_service.h"
#include "server/service/records/record_store.h"
#include "storage/keys.h"
#include "storage/random.h"
#include "storage/status_macros.h"

namespace cohorte::service {
namespace {

using storage::Txn;

// The nice value of the threads that hash and store an upload's batch.
constexpr int kBulkNice = 10;

// Runs `fn` on a thread of its own whose nice value is kBulkNice (Linux:
// setpriority on a thread id sets that thread's only).
template <typename Fn>
auto AtLowerPriority(Fn fn) {
  return std::async(std::launch::async, [fn = std::move(fn)] {
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)),
                kBulkNice);
    return fn();
  });
}
using storage::v1::UploadRecord;
using v1::Record;
using v1::Upload;

absl::Status CheckSha256(absl::string_view sha256) {
  if (sha256.size() != 64 ||
      !std::all_of(sha256.begin(), sha256.end(), [](char c) {
        return absl::ascii_isdigit(static_cast<unsigned char>(c)) ||
               (c >= 'a' && c <= 'f');
      })) {
    return InvalidField("sha256", "must be 64 lowercase hex digits");
  }
  return absl::OkStatus();
}

absl::Status CheckMediaTypeForm(absl::string_view media_type) {
  if (media_type.empty()) return absl::OkStatus();
  const size_t slash = media_type.find('/');
  const bool ok =
      media_type.size() <= kMaxMediaTypeChars && slash != 0 &&
      slash != absl::string_view::npos && slash + 1 < media_type.size() &&
      media_type.find('/', slash + 1) == absl::string_view::npos &&
      std::all_of(media_type.begin(), media_type.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '/' ||
               c == '.' || c == '+' || c == '-' || c == '_';
      });
  if (!ok) return InvalidField("media_type", "must be type/subtype");
  return absl::OkStatus();
}

// Sets `*media_type` from the content's first bytes `head` when empty, or
// checks the declared one against them.
absl::Status FirstBytesMediaType(absl::string_view head,
                                 std::string* media_type) {
  if (!media_type->empty()) return CheckMediaType(*media_type, head);
  *media_type = SniffMediaType(head);
  if (media_type->empty()) *media_type = "application/octet-stream";
  return absl::OkStatus();
}

std::string ExpiryKey(const Upload& u) {
  return storage::TimeQueueKey(storage::IndexKind::kUploadByExpiry,
                               u.expire_time().seconds(), u.name());
}

// Whether a write of `size` bytes at `offset` may go to `u` at `now`
// (which the chunk writes set kUploadWriteMarginMinutes later: see
// limits.h).
absl::Status CheckWrite(const Upload& u, int64_t offset, int64_t size,
                        absl::Time now) {
  if (u.state() == Upload::COMPLETED) {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition, kReasonWrongState,
        absl::StrCat(u.name(), " is completed (", u.version(), ")"));
  }
  if (google::protobuf::util::TimeUtil::TimestampToNanoseconds(
          u.expire_time()) <= absl::ToUnixNanos(now)) {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition, kReasonUploadExpired,
        absl::StrCat(u.name(), " has expired (uploads last ",
                     kUploadLifetimeHours, " hours); start a new one"));
  }
  if (offset != u.committed_size()) {
    return FieldError(absl::StatusCode::kOutOfRange, kReasonWrongOffset,
                      "write_offset",
                      absl::StrCat("is ", offset, " but the committed size is ",
                                   u.committed_size()));
  }
  if (offset + size > u.size_bytes()) {
    return FieldError(
        absl::StatusCode::kOutOfRange, kReasonWrongOffset, "data",
        absl::StrCat("goes to byte ", offset + size,
                     ", past the announced size of ", u.size_bytes()));
  }
  return absl::OkStatus();
}

// A version holding the content `sha256` of `size` bytes that the caller
// may read (through the gate), or empty: only then does an upload take the
// proof shortcut, so that whether a content is held is told to nobody who
// could not read it. Looks at the first kProofCandidates versions holding
// it.
absl::StatusOr<std::string> ReadableVersionHolding(const Txn& txn,
                                                   const Reader& reader,
                                                   absl::string_view sha256,
                                                   int64_t size) {
  constexpr int kProofCandidates = 100;
  std::string found;
  if (sha256.empty()) return found;
  absl::StatusOr<storage::v1::RecordContentRecord> held =
      LoadContent(txn, sha256);
  if (!held.ok() || held->at_home()) return found;  // no bytes to prove by
  std::vector<std::string> candidates;
  const std::string prefix = VersionByContentPrefix(sha256);
  COHORTE_RETURN_IF_ERROR(
      txn.Scan(storage::Table::kIndexes, prefix,
               [&](absl::string_view key, absl::string_view) {
                 candidates.emplace_back(key.substr(prefix.size()));
                 return candidates.size() < kProofCandidates;
               }));
  for (const std::string& name : candidates) {
    absl::StatusOr<v1::RecordVersion> v = reader.Load<v1::RecordVersion>(name);
    if (v.ok() && v->size_bytes() == size) {
      found = name;
      break;
    }
  }
  return found;
}

// A uniformly drawn number in [0, n). REQUIRES: n > 0.
int64_t RandomBelow(int64_t n) {
  const std::string bytes = storage::SecureRandomBytes(8);
  uint64_t x = 0;
  for (char c : bytes) x = (x << 8) | static_cast<unsigned char>(c);
  return static_cast<int64_t>(x % static_cast<uint64_t>(n));
}

// Inside the last write's mutation: the version, its content's reference
// and the record's latest version.
absl::StatusOr<v1::RecordVersion> CompleteVersion(Txn& txn,
                                                  const Reader& reader,
                                                  UploadRecord& u) {
  if (!u.proof_version().empty()) {
    // Nothing of it was stored: the proofs showed the content is held.
    u.set_known_content(true);
  }
  const std::string record_name(RecordNameOf(u.name()));
  COHORTE_ASSIGN_OR_RETURN(Record record, reader.Load<Record>(record_name));
  if (record.has_delete_time()) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                           kReasonDeleted,
                           absl::StrCat(record_name, " is deleted"));
  }
  absl::StatusOr<storage::v1::RecordContentRecord> content =
      LoadContent(txn, u.upload().sha256());
  if (content.ok() && content->at_home()) {
    // Named by versions a LAZY link follows, its bytes not here yet: the
    // upload's bytes are them.
    content->set_at_home(false);
    content->set_blob(u.blob());
    content->set_size_bytes(u.upload().size_bytes());
    content->set_references(content->references() + 1);
  } else if (content.ok()) {
    content->set_references(content->references() + 1);
    // Its bytes are stored already: those written here are a copy.
    if (!u.known_content()) MarkBlobGarbage(txn, u.blob());
  } else if (absl::IsNotFound(content.status())) {
    if (u.known_content()) {
      return ErrorWithReason(
          absl::StatusCode::kFailedPrecondition, kReasonWrongState,
          absl::StrCat("the content of ", u.name(),
                       " was deleted while it was uploaded; start a new "
                       "upload"));
    }
    content = storage::v1::RecordContentRecord();
    content->set_blob(u.blob());
    content->set_size_bytes(u.upload().size_bytes());
    content->set_references(1);
  } else {
    return content.status();
  }
  SaveContent(txn, u.upload().sha256(), *content);

  v1::RecordVersion v;
  v.set_number(record.latest_version() + 1);
  v.set_name(absl::StrCat(record_name, "/versions/",
                          storage::SequenceId("v", v.number())));
  v.set_sha256(u.upload().sha256());
  v.set_size_bytes(u.upload().size_bytes());
  v.set_media_type(u.upload().media_type());
  v.set_file_name(u.upload().file_name());
  v.set_author(u.upload().uploader());
  v.set_note(u.upload().note());
  *v.mutable_create_time() = ToTimestamp(txn.commit_time());
  txn.PutEntity(v);
  txn.PutIndex(VersionByContentKey(v.sha256(), v.name()), "");
  record.set_latest_version(v.number());
  *record.mutable_latest() = v;
  SaveEntity(txn, record);
  u.mutable_upload()->set_state(Upload::COMPLETED);
  u.mutable_upload()->set_version(v.name());
  return v;
}

}  // namespace

absl::StatusOr<Upload> RecordService::StartUpload(
    const Principal& caller, const v1::StartUploadRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(
      std::string cohort,
      ParseCohortChildName("parent", req.parent(), "records"));
  COHORTE_RETURN_IF_ERROR(
      AuthorizeRecordWriter(caller, cohort, "upload a version"));
  if (req.size_bytes() <= 0) {
    return InvalidField("size_bytes", "must be at least 1");
  }
  if (req.size_bytes() > limits_.max_file_bytes) {
    return FieldError(
        absl::StatusCode::kResourceExhausted, kReasonQuotaExceeded,
        "size_bytes",
        absl::StrCat(req.size_bytes(), " bytes is over the per-file limit of ",
                     limits_.max_file_bytes, " bytes"));
  }
  if (!req.sha256().empty()) {
    COHORTE_RETURN_IF_ERROR(CheckSha256(req.sha256()));
  }
  COHORTE_RETURN_IF_ERROR(CheckMediaTypeForm(req.media_type()));
  COHORTE_RETURN_IF_ERROR(CheckText("file_name", req.file_name(), 0,
                                    kMaxRecordFileNameChars,
                                    TextKind::kSingleLine));
  if (req.file_name().find('/') != std::string::npos) {
    return InvalidField("file_name", "must not hold '/'");
  }
  COHORTE_RETURN_IF_ERROR(CheckText("note", req.note(), 0, kMaxRecordNoteChars,
                                    TextKind::kMultiLine));
  COHORTE_ASSIGN_OR_RETURN(
      UploadRecord started,
      CommitForResponse<UploadRecord>(
          store_, caller, "StartUpload", req, /*request_id=*/"",
          [&](Txn& txn, const Reader& reader) -> absl::StatusOr<UploadRecord> {
            COHORTE_ASSIGN_OR_RETURN(Record record,
                                     reader.Load<Record>(req.parent()));
            COHORTE_RETURN_IF_ERROR(AuthorizeRecordWriter(
                reader.caller(), cohort, "upload a version"));
            if (record.has_delete_time()) {
              return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                                     kReasonDeleted,
                                     absl::StrCat(req.parent(), " is deleted"));
            }
            // The caller's own upload of the same content (or, with no
            // SHA-256 announced, of the same file): resumed.
            absl::optional<UploadRecord> resumed;
            COHORTE_RETURN_IF_ERROR(reader.ForEach<UploadRecord>(
                storage::CollectionPrefixOf<UploadRecord>(req.parent(),
                                                          "uploads"),
                [&](const UploadRecord& u) {
                  const Upload& up = u.upload();
                  if (!req.new_upload() && up.state() == Upload::ACTIVE &&
                      up.sha256() == req.sha256() &&
                      up.size_bytes() == req.size_bytes() &&
                      (!req.sha256().empty() ||
                       up.file_name() == req.file_name()) &&
                      CheckWrite(up, up.committed_size(), 0,
                                 txn.commit_time() +
                                     absl::Minutes(kUploadWriteMarginMinutes))
                          .ok()) {
                    resumed = u;
                    return false;
                  }
                  return true;
                }));
            if (resumed.has_value()) return *resumed;

            COHORTE_ASSIGN_OR_RETURN(int64_t used,
                                     CohortRecordBytes(txn, cohort));
            if (used + req.size_bytes() > limits_.max_cohort_bytes) {
              return FieldError(
                  absl::StatusCode::kResourceExhausted, kReasonQuotaExceeded,
                  "size_bytes",
                  absl::StrCat(cohort, " holds ", used, " bytes of records; ",
                               req.size_bytes(),
                               " more would pass its quota of ",
                               limits_.max_cohort_bytes, " bytes"));
            }
            COHORTE_RETURN_IF_ERROR(
                AddCohortRecordBytes(txn, cohort, req.size_bytes()));
            COHORTE_ASSIGN_OR_RETURN(
                int64_t blob,
                NextCounter(txn, "record-blobs",
                            []() -> absl::StatusOr<int64_t> { return 0; }));
            UploadRecord u;
            u.set_name(
                absl::StrCat(req.parent(), "/uploads/", GenerateId("u")));
            u.set_blob(static_cast<uint64_t>(blob));
            u.set_sha256_state(ResumableSha256().Save());
            Upload* up = u.mutable_upload();
            COHORTE_ASSIGN_OR_RETURN(
                std::string proof_version,
                ReadableVersionHolding(txn, reader, req.sha256(),
                                       req.size_bytes()));
            if (!proof_version.empty()) {
              u.set_proof_version(proof_version);
              u.set_known_content(true);
              up->add_proof_offsets(0);
              const int64_t chunks =
                  (req.size_bytes() + kMaxRecordChunkBytes - 1) /
                  kMaxRecordChunkBytes;
              if (chunks > 1) {
                up->add_proof_offsets((1 + RandomBelow(chunks - 1)) *
                                      kMaxRecordChunkBytes);
              }
            }
            up->set_name(u.name());
            up->set_uploader(reader.caller().member);
            up->set_size_bytes(req.size_bytes());
            up->set_sha256(req.sha256());
            up->set_media_type(req.media_type());
            up->set_file_name(req.file_name());
            up->set_note(req.note());
            up->set_state(Upload::ACTIVE);
            *up->mutable_create_time() = ToTimestamp(txn.commit_time());
            *up->mutable_expire_time() = ToTimestamp(
                txn.commit_time() + absl::Hours(kUploadLifetimeHours));
            txn.PutEntity(u.name(), u, *up);
            txn.PutIndex(ExpiryKey(*up), "");
            return u;
          }));
  return started.upload();
}

absl::Mutex& RecordService::UploadLock(absl::string_view name) {
  return upload_locks_[absl::HashOf(name) % upload_locks_.size()];
}

absl::StatusOr<Upload> RecordService::WriteUpload(
    const Principal& caller, absl::string_view name,
    absl::Span<const v1::WriteUploadRequest> writes) {
  UploadStream stream;
  COHORTE_ASSIGN_OR_RETURN(Upload written,
                           WriteUpload(caller, name, writes, &stream));
  if (!stream.pending()) return written;
  return CommitUploadStream(caller, name, &stream);
}

absl::StatusOr<Upload> RecordService::WriteUpload(
    const Principal& caller, absl::string_view name,
    absl::Span<const v1::WriteUploadRequest> writes, UploadStream* stream) {
  // Whatever goes wrong drops what the stream held.
  std::unique_ptr<storage::RecordChunkFile> file = std::move(stream->file_);
  COHORTE_RETURN_IF_ERROR(
      ParseNestedName("name", name, {"cohorts", "records", "uploads"})
          .status());
  if (writes.empty()) return InvalidField("data", "is empty");
  int64_t total = 0;
  for (const v1::WriteUploadRequest& w : writes) {
    if (!w.name().empty() && w.name() != name) {
      return InvalidField("name", "differs from the upload the stream writes");
    }
    if (w.data().empty()) return InvalidField("data", "is empty");
    if (static_cast<int64_t>(w.data().size()) > kMaxRecordChunkBytes) {
      return InvalidField("data", absl::StrCat("is over the chunk limit of ",
                                               kMaxRecordChunkBytes, " bytes"));
    }
    total += static_cast<int64_t>(w.data().size());
  }
  if (total > kMaxUploadBatchBytes) {
    return InvalidField("data", absl::StrCat("a batch of ", total,
                                             " bytes is over the limit of ",
                                             kMaxUploadBatchBytes));
  }
  if (file == nullptr) {
    // A new file from the committed size. Nothing is written to the store
    // before CommitUploadStream, which checks the committed size again.
    COHORTE_ASSIGN_OR_RETURN(stream->before_,
                             Reader(store_, caller).Load<UploadRecord>(name));
    if (stream->before_.upload().proof_offsets_size() > 0) {
      absl::MutexLock lock(&UploadLock(name));
      COHORTE_ASSIGN_OR_RETURN(UploadRecord before,
                               Reader(store_, caller).Load<UploadRecord>(name));
      return WriteProof(caller, before, writes);
    }
    COHORTE_RETURN_IF_ERROR(
        CheckWrite(stream->before_.upload(), writes[0].write_offset(), total,
                   absl::Now() + absl::Minutes(kUploadWriteMarginMinutes)));
    COHORTE_ASSIGN_OR_RETURN(
        file, store_.NewRecordChunkFile(stream->before_.blob(),
                                        writes[0].write_offset()));
    stream->hash_state_ = stream->before_.sha256_state();
    stream->media_type_ = stream->before_.upload().media_type();
  }
  const Upload& before = stream->before_.upload();
  const int64_t offset = file->end();
  int64_t at = offset;
  for (const v1::WriteUploadRequest& w : writes) {
    if (w.write_offset() != at) {
      return FieldError(absl::StatusCode::kOutOfRange, kReasonWrongOffset,
                        "write_offset",
                        absl::StrCat("is ", w.write_offset(),
                                     " but the write before ends at ", at));
    }
    at += static_cast<int64_t>(w.data().size());
  }
  COHORTE_RETURN_IF_ERROR(
      CheckWrite(before, file->offset(), at - file->offset(),
                 absl::Now() + absl::Minutes(kUploadWriteMarginMinutes)));
  const bool last = at == before.size_bytes();
  for (size_t i = 0; i < writes.size(); ++i) {
    if (!writes[i].sha256().empty() && !(last && i + 1 == writes.size())) {
      return InvalidField("sha256",
                          "goes with the write that reaches size_bytes only");
    }
  }
  std::string sha256 = before.sha256();
  if (last) {
    const std::string& given = writes.back().sha256();
    if (sha256.empty()) {
      if (given.empty()) {
        return InvalidField("sha256",
                            "is required with the last write when StartUpload "
                            "announced none");
      }
      COHORTE_RETURN_IF_ERROR(CheckSha256(given));
      sha256 = given;
    } else if (!given.empty() && given != sha256) {
      return InvalidField("sha256",
                          "differs from the one StartUpload announced");
    }
  }
  if (offset == 0) {
    COHORTE_RETURN_IF_ERROR(
        FirstBytesMediaType(writes[0].data(), &stream->media_type_));
  }
  COHORTE_ASSIGN_OR_RETURN(ResumableSha256 hash,
                           ResumableSha256::Restore(stream->hash_state_));
  // The bytes are hashed while they are written to the file (the CPU and
  // the disk overlap), each on a thread of its own at a lower priority, so
  // that on a busy machine small requests get the CPU first.
  std::future<void> hashed = AtLowerPriority([&hash, writes] {
    for (const v1::WriteUploadRequest& w : writes) hash.Update(w.data());
  });
  std::future<absl::Status> added = AtLowerPriority([&file, writes] {
    for (const v1::WriteUploadRequest& w : writes) {
      COHORTE_RETURN_IF_ERROR(file->Add(w.data()));
    }
    return absl::OkStatus();
  });
  const absl::Status stored = added.get();
  hashed.get();
  COHORTE_RETURN_IF_ERROR(stored);
  stream->hash_state_ = hash.Save();
  stream->sha256_ = sha256;
  stream->file_ = std::move(file);
  if (last ||
      stream->file_->end() - stream->file_->offset() >= kUploadCommitBytes) {
    return CommitUploadStream(caller, name, stream);
  }
  return before;
}

absl::StatusOr<Upload> RecordService::CommitUploadStream(
    const Principal& caller, absl::string_view name, UploadStream* stream) {
  if (!stream->pending()) {
    return absl::FailedPreconditionError("the stream holds nothing to commit");
  }
  // Spent whatever happens.
  const std::unique_ptr<storage::RecordChunkFile> file =
      std::move(stream->file_);
  const int64_t offset = file->offset();
  const int64_t total = file->end() - offset;
  const bool last = file->end() == stream->before_.upload().size_bytes();
  COHORTE_ASSIGN_OR_RETURN(ResumableSha256 hash,
                           ResumableSha256::Restore(stream->hash_state_));
  const std::string digest = hash.HexDigest();
  const std::string& sha256 = stream->sha256_;
  if (last && digest != sha256) {
    return FieldError(
        absl::StatusCode::kInvalidArgument, kReasonDigestMismatch, "sha256",
        absl::StrCat("the content's SHA-256 is ", digest,
                     ", not the announced ", sha256, "; the chunks from byte ",
                     offset, " were not kept"));
  }
  // Until this commit, nothing else writes this upload's chunks: the
  // committed size is checked again here (another stream may have moved
  // it), before the chunks become part of the store. Chunks stored for a
  // commit that then fails are past the committed size: the next write
  // there replaces them, the garbage collector frees them with the upload
  // otherwise.
  absl::MutexLock lock(&UploadLock(name));
  COHORTE_ASSIGN_OR_RETURN(UploadRecord before,
                           Reader(store_, caller).Load<UploadRecord>(name));
  COHORTE_RETURN_IF_ERROR(
      CheckWrite(before.upload(), offset, total,
                 absl::Now() + absl::Minutes(kUploadWriteMarginMinutes)));
  if (!before.known_content()) {
    COHORTE_RETURN_IF_ERROR(store_.IngestRecordChunks(*file));
  }
  const std::string& media_type = stream->media_type_;
  v1::WriteUploadRequest request;
  request.set_name(std::string(name));
  COHORTE_ASSIGN_OR_RETURN(
      UploadRecord written,
      CommitForResponse<UploadRecord>(
          store_, caller, "WriteUpload", request, /*request_id=*/"",
          [&](Txn& txn, const Reader& reader) -> absl::StatusOr<UploadRecord> {
            COHORTE_ASSIGN_OR_RETURN(UploadRecord u,
                                     reader.Load<UploadRecord>(name));
            COHORTE_RETURN_IF_ERROR(
                CheckWrite(u.upload(), offset, total, txn.commit_time()));
            u.mutable_upload()->set_committed_size(offset + total);
            u.mutable_upload()->set_committed_sha256(digest);
            u.mutable_upload()->set_media_type(media_type);
            u.set_sha256_state(hash.Save());
            if (last) {
              u.mutable_upload()->set_sha256(sha256);
              COHORTE_RETURN_IF_ERROR(CompleteVersion(txn, reader, u).status());
            }
            txn.PutEntity(u.name(), u, u.upload());
            return u;
          }));
  return written.upload();
}

absl::StatusOr<Upload> RecordService::WriteProof(
    const Principal& caller, const UploadRecord& before,
    absl::Span<const v1::WriteUploadRequest> writes) {
  const Upload& up = before.upload();
  COHORTE_RETURN_IF_ERROR(CheckWrite(up, up.committed_size(), 0, absl::Now()));
  int passed = before.proofs_passed();
  std::string media_type = up.media_type();
  for (const v1::WriteUploadRequest& w : writes) {
    if (passed >= up.proof_offsets_size()) {
      return FieldError(absl::StatusCode::kOutOfRange, kReasonWrongOffset,
                        "write_offset",
                        "every proof chunk was written already");
    }
    const int64_t want_at = up.proof_offsets(passed);
    const int64_t want_size =
        std::min(kMaxRecordChunkBytes, up.size_bytes() - want_at);
    if (w.write_offset() != want_at) {
      return FieldError(
          absl::StatusCode::kOutOfRange, kReasonWrongOffset, "write_offset",
          absl::StrCat("is ", w.write_offset(), " but ", up.name(),
                       " asks for the proof chunk at ", want_at));
    }
    if (static_cast<int64_t>(w.data().size()) != want_size) {
      return InvalidField("data",
                          absl::StrCat("a proof chunk is the ", want_size,
                                       " bytes at offset ", want_at));
    }
    // The stored bytes, through the gate: the uploader must still be able
    // to read the version the proof is checked against.
    COHORTE_ASSIGN_OR_RETURN(
        std::vector<std::string> stored,
        Reader(store_, caller)
            .ReadVersionContent(before.proof_version(), want_at, want_size));
    absl::string_view rest = w.data();
    bool same = true;
    for (const std::string& piece : stored) {
      same = same && absl::ConsumePrefix(&rest, piece);
    }
    if (!same || !rest.empty()) {
      return FieldError(
          absl::StatusCode::kInvalidArgument, kReasonDigestMismatch, "data",
          absl::StrCat("is not the announced content's bytes at offset ",
                       want_at,
                       "; start a new upload (new_upload) and send the file"));
    }
    if (want_at == 0) {
      COHORTE_RETURN_IF_ERROR(FirstBytesMediaType(w.data(), &media_type));
    }
    ++passed;
  }
  const std::string name = up.name();
  COHORTE_ASSIGN_OR_RETURN(
      UploadRecord written,
      CommitForResponse<UploadRecord>(
          store_, caller, "WriteUpload", writes[0], /*request_id=*/"",
          [&](Txn& txn, const Reader& reader) -> absl::StatusOr<UploadRecord> {
            COHORTE_ASSIGN_OR_RETURN(UploadRecord u,
                                     reader.Load<UploadRecord>(name));
            COHORTE_RETURN_IF_ERROR(CheckWrite(
                u.upload(), u.upload().committed_size(), 0, txn.commit_time()));
            u.set_proofs_passed(passed);
            u.mutable_upload()->set_media_type(media_type);
            if (passed == u.upload().proof_offsets_size()) {
              u.mutable_upload()->set_committed_size(u.upload().size_bytes());
              u.mutable_upload()->set_committed_sha256(u.upload().sha256());
              COHORTE_RETURN_IF_ERROR(CompleteVersion(txn, reader, u).status());
            }
            txn.PutEntity(u.name(), u, u.upload());
            return u;
          }));
  return written.upload();
}

absl::StatusOr<Upload> RecordService::QueryUpload(
    const Principal& caller, const v1::QueryUploadRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseNestedName("name", req.name(), {"cohorts", "records", "uploads"})
          .status());
  COHORTE_ASSIGN_OR_RETURN(
      UploadRecord u, Reader(store_, caller).Get<UploadRecord>(req.name()));
  return u.upload();
}

absl::StatusOr<v1::RecordVersion> RecordService::StartRead(
    const Principal& caller, const v1::ReadRecordVersionRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseNestedName("name", req.name(), {"cohorts", "records", "versions"})
          .status());
  if (req.read_offset() < 0) {
    return InvalidField("read_offset", "must not be negative");
  }
  if (req.read_limit() < 0) {
    return InvalidField("read_limit", "must not be negative");
  }
  COHORTE_ASSIGN_OR_RETURN(
      v1::RecordVersion v,
      Reader(store_, caller).Get<v1::RecordVersion>(req.name()));
  if (req.read_offset() > v.size_bytes()) {
    return FieldError(
        absl::StatusCode::kOutOfRange, kReasonFieldInvalid, "read_offset",
        absl::StrCat("is past the end (", v.size_bytes(), " bytes)"));
  }
  if (req.read_offset() < v.size_bytes() && fetch_) {
    absl::Status here =
        Reader(store_, caller)
            .ReadVersionContent(req.name(), req.read_offset(), 0)
            .status();
    if (ErrorReason(here) == kReasonContentAtHome) {
      COHORTE_RETURN_IF_ERROR(fetch_(v));
    }
  }
  return v;
}

absl::StatusOr<std::string> RecordService::ReadChunk(const Principal& caller,
                                                     absl::string_view version,
                                                     int64_t offset,
                                                     int64_t max_bytes) {
  COHORTE_ASSIGN_OR_RETURN(
      std::vector<std::string> pieces,
      Reader(store_, caller)
          .ReadVersionContent(version, offset,
                              std::min(max_bytes, kMaxRecordChunkBytes)));
  return pieces.empty() ? std::string() : std::move(pieces[0]);
}

absl::StatusOr<std::vector<std::string>> RecordService::ReadChunks(
    const Principal& caller, absl::string_view version, int64_t offset,
    int64_t max_bytes) {
  return Reader(store_, caller)
      .ReadVersionContent(version, offset,
                          std::min(max_bytes, kMaxDownloadReadAheadBytes));
}

}  // namespace cohorte::service
