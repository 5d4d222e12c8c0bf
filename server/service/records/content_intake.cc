#include "server/service/records/content_intake.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/service/core/entities.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "server/service/records/record_store.h"
#include "storage/codec.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace cohorte::service {
namespace {

std::string PendingKey(uint64_t blob) {
  return storage::IndexKey(storage::IndexKind::kPendingBlob,
                           storage::EncodeUint64BigEndian(blob));
}

absl::Status Mismatch(absl::string_view message) {
  return ErrorWithReason(absl::StatusCode::kInvalidArgument,
                         kReasonContentMismatch, message);
}

// A mutation's apply that wrote nothing returns this, so that it uses no
// revision (Store::Commit discards a failed apply).
constexpr absl::string_view kReasonNothingToDo = "NOTHING_TO_DO";

absl::Status NothingToDo() {
  return ErrorWithReason(absl::StatusCode::kAborted, kReasonNothingToDo,
                         "nothing to write");
}

bool IsNothingToDo(const absl::Status& s) {
  return absl::IsAborted(s) && ErrorReason(s) == kReasonNothingToDo;
}

bool IsSha256Hex(absl::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

IncomingContent::IncomingContent(storage::Store& store, std::string sha256,
                                 int64_t size, uint64_t blob)
    : store_(store),
      sha256_(std::move(sha256)),
      size_(size),
      blob_(blob),
      hash_written_(hash_.Save()) {}

void IncomingContent::Rewind() {
  buffer_.clear();
  received_ = written_;
  absl::StatusOr<ResumableSha256> at = ResumableSha256::Restore(hash_written_);
  if (at.ok()) hash_ = *std::move(at);
}

absl::Status IncomingContent::Append(absl::string_view data) {
  if (finished_) return Mismatch(absl::StrCat(sha256_, " is complete"));
  if (received_ + static_cast<int64_t>(data.size()) > size_) {
    return Mismatch(absl::StrCat("the content ", sha256_, " is longer than ",
                                 size_, " bytes"));
  }
  received_ += static_cast<int64_t>(data.size());
  while (!data.empty()) {
    const size_t room =
        static_cast<size_t>(kMaxUploadBatchBytes) -
        std::min(buffer_.size(), static_cast<size_t>(kMaxUploadBatchBytes));
    const absl::string_view part = data.substr(0, room);
    hash_.Update(part);  // in step with the buffer (see Rewind)
    buffer_.append(part.data(), part.size());
    data.remove_prefix(part.size());
    if (buffer_.size() >= static_cast<size_t>(kMaxUploadBatchBytes)) {
      COHORTE_RETURN_IF_ERROR(Flush());
    }
  }
  return absl::OkStatus();
}

absl::Status IncomingContent::Flush() {
  if (buffer_.empty()) return absl::OkStatus();
  // Chunks of kMaxRecordChunkBytes, as an upload writes them.
  std::vector<absl::string_view> chunks;
  absl::string_view rest = buffer_;
  while (!rest.empty()) {
    chunks.push_back(rest.substr(0, kMaxRecordChunkBytes));
    rest.remove_prefix(chunks.back().size());
  }
  COHORTE_RETURN_IF_ERROR(store_.WriteRecordChunks(blob_, written_, chunks));
  written_ += static_cast<int64_t>(buffer_.size());
  buffer_.clear();
  hash_written_ = hash_.Save();
  return absl::OkStatus();
}

absl::Status IncomingContent::Finish() {
  if (finished_) return absl::OkStatus();
  if (received_ != size_) {
    return Mismatch(absl::StrCat("the content ", sha256_, " arrived with ",
                                 received_, " of its ", size_, " bytes"));
  }
  const std::string digest = hash_.HexDigest();
  if (digest != sha256_) {
    return Mismatch(absl::StrCat("the content announced as ", sha256_,
                                 " has the SHA-256 ", digest));
  }
  COHORTE_RETURN_IF_ERROR(Flush());
  finished_ = true;
  return absl::OkStatus();
}

absl::StatusOr<IncomingContents> ContentIntake::Begin(
    absl::string_view actor, const std::vector<WantedContent>& wanted) {
  std::vector<WantedContent> distinct;
  std::set<std::string> names;
  for (const WantedContent& w : wanted) {
    if (!IsSha256Hex(w.sha256)) {
      return InvalidField("sha256", "must be 64 lowercase hex digits");
    }
    if (w.size_bytes < 1) {
      return InvalidField("size_bytes", "must be at least 1");
    }
    if (names.insert(w.sha256).second) distinct.push_back(w);
  }
  IncomingContents out;
  if (distinct.empty()) return out;
  std::vector<std::pair<WantedContent, uint64_t>> begun;
  storage::Mutation m;
  m.actor = std::string(actor);
  m.method = "ReceiveRecordContents";
  m.apply = [&](storage::Txn& txn) -> absl::StatusOr<std::string> {
    begun.clear();
    for (const WantedContent& w : distinct) {
      absl::StatusOr<storage::v1::RecordContentRecord> held =
          LoadContent(txn, w.sha256);
      if (held.ok() && !held->at_home()) continue;
      if (!held.ok() && !absl::IsNotFound(held.status())) {
        return held.status();
      }
      COHORTE_ASSIGN_OR_RETURN(
          int64_t blob,
          NextCounter(txn, "record-blobs",
                      []() -> absl::StatusOr<int64_t> { return 0; }));
      txn.PutIndex(PendingKey(static_cast<uint64_t>(blob)), "");
      begun.emplace_back(w, static_cast<uint64_t>(blob));
    }
    if (begun.empty()) return NothingToDo();
    return std::string();
  };
  absl::Status s = store_.Commit(std::move(m)).status();
  if (IsNothingToDo(s)) return out;
  COHORTE_RETURN_IF_ERROR(s);
  for (auto& [w, blob] : begun) {
    out.push_back(std::make_unique<IncomingContent>(store_, w.sha256,
                                                    w.size_bytes, blob));
  }
  return out;
}

absl::Status ContentIntake::Settle(absl::string_view actor,
                                   const IncomingContents& contents) {
  if (contents.empty()) return absl::OkStatus();
  storage::Mutation m;
  m.actor = std::string(actor);
  m.method = "ReceiveRecordContents";
  m.apply = [&](storage::Txn& txn) -> absl::StatusOr<std::string> {
    bool wrote = false;
    for (const auto& c : contents) {
      COHORTE_ASSIGN_OR_RETURN(
          bool pending,
          txn.Exists(storage::Table::kIndexes, PendingKey(c->blob())));
      if (!pending) continue;
      txn.DeleteIndex(PendingKey(c->blob()));
      MarkBlobGarbage(txn, c->blob());
      wrote = true;
    }
    if (!wrote) return NothingToDo();
    return std::string();
  };
  absl::Status s = store_.Commit(std::move(m)).status();
  return IsNothingToDo(s) ? absl::OkStatus() : s;
}

namespace {

// The finished content of `incoming` that `version` names and that is
// still pending in `txn`, or null.
absl::StatusOr<const IncomingContent*> Arrived(
    const storage::Txn& txn, const v1::RecordVersion& version,
    const IncomingContents& incoming) {
  auto it = std::find_if(incoming.begin(), incoming.end(), [&](auto& c) {
    return c->finished() && c->sha256() == version.sha256() &&
           c->size() == version.size_bytes();
  });
  if (it == incoming.end()) return nullptr;
  COHORTE_ASSIGN_OR_RETURN(bool pending, txn.Exists(storage::Table::kIndexes,
                                                    PendingKey((*it)->blob())));
  return pending ? it->get() : nullptr;
}

// Makes `arrived` the bytes of `content`.
void Adopt(storage::Txn& txn, const IncomingContent& arrived,
           storage::v1::RecordContentRecord& content) {
  txn.DeleteIndex(PendingKey(arrived.blob()));
  content.set_at_home(false);
  content.set_blob(arrived.blob());
  content.set_size_bytes(arrived.size());
}

}  // namespace

absl::Status ReferenceContent(storage::Txn& txn,
                              const v1::RecordVersion& version,
                              const IncomingContents& incoming, bool lazy) {
  absl::StatusOr<storage::v1::RecordContentRecord> content =
      LoadContent(txn, version.sha256());
  if (!content.ok() && !absl::IsNotFound(content.status())) {
    return content.status();
  }
  if (!content.ok()) {
    content = storage::v1::RecordContentRecord();
    content->set_at_home(true);
    content->set_size_bytes(version.size_bytes());
  }
  if (content->at_home()) {
    COHORTE_ASSIGN_OR_RETURN(const IncomingContent* arrived,
                             Arrived(txn, version, incoming));
    if (arrived != nullptr) {
      Adopt(txn, *arrived, *content);
    } else if (!lazy) {
      return absl::NotFoundError(absl::StrCat(
          "the content of ", version.name().substr(0, 300), " (SHA-256 ",
          version.sha256().substr(0, 64), ") did not arrive"));
    }
  }
  content->set_references(content->references() + 1);
  SaveContent(txn, version.sha256(), *content);
  txn.PutIndex(VersionByContentKey(version.sha256(), version.name()), "");
  return absl::OkStatus();
}

absl::StatusOr<bool> FillContent(storage::Txn& txn,
                                 const v1::RecordVersion& version,
                                 const IncomingContents& incoming) {
  absl::StatusOr<storage::v1::RecordContentRecord> content =
      LoadContent(txn, version.sha256());
  if (absl::IsNotFound(content.status())) return false;
  COHORTE_RETURN_IF_ERROR(content.status());
  if (!content->at_home()) return false;
  COHORTE_ASSIGN_OR_RETURN(const IncomingContent* arrived,
                           Arrived(txn, version, incoming));
  if (arrived == nullptr) return false;
  Adopt(txn, *arrived, *content);
  SaveContent(txn, version.sha256(), *content);
  return true;
}

absl::Status ReleaseVersionContent(storage::Txn& txn,
                                   const v1::RecordVersion& version) {
  bool freed = false;
  COHORTE_RETURN_IF_ERROR(ReleaseContent(txn, version.sha256(), &freed));
  txn.DeleteIndex(VersionByContentKey(version.sha256(), version.name()));
  return absl::OkStatus();
}

absl::StatusOr<int64_t> DiscardPendingBlobs(storage::Store& store) {
  int64_t discarded = 0;
  storage::Mutation m;
  m.actor = "cohorted";
  m.method = "DiscardPendingBlobs";
  m.apply = [&](storage::Txn& txn) -> absl::StatusOr<std::string> {
    discarded = 0;
    const std::string prefix =
        storage::IndexKey(storage::IndexKind::kPendingBlob, "");
    std::vector<std::string> keys;
    COHORTE_RETURN_IF_ERROR(
        txn.Scan(storage::Table::kIndexes, prefix,
                 [&](absl::string_view key, absl::string_view) {
                   keys.emplace_back(key);
                   return true;
                 }));
    for (const std::string& key : keys) {
      uint64_t blob = 0;
      if (!storage::DecodeUint64BigEndian(
              absl::string_view(key).substr(prefix.size()), &blob)) {
        return absl::DataLossError("a pending blob's key is malformed");
      }
      txn.DeleteIndex(key);
      MarkBlobGarbage(txn, blob);
      ++discarded;
    }
    if (keys.empty()) return NothingToDo();
    return std::string();
  };
  absl::Status s = store.Commit(std::move(m)).status();
  if (IsNothingToDo(s)) return int64_t{0};
  COHORTE_RETURN_IF_ERROR(s);
  return discarded;
}

}  // namespace cohorte::service
