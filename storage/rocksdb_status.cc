#include "storage/rocksdb_status.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"

namespace cohorte::storage {
namespace {

// As server/service/errors.h attaches them, so callers see one format.
constexpr absl::string_view kErrorDomain = "cohorte.v1";
constexpr absl::string_view kErrorInfoTypeUrl =
    "type.googleapis.com/google.rpc.ErrorInfo";

absl::Status WithReason(absl::StatusCode code, absl::string_view reason,
                        absl::string_view message) {
  absl::Status status(code, message);
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(std::string(kErrorDomain));
  status.SetPayload(kErrorInfoTypeUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

}  // namespace

absl::Status FromRocksDb(const rocksdb::Status& status,
                         absl::string_view context) {
  if (status.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(context, ": ", status.ToString());
  switch (status.code()) {
    case rocksdb::Status::kNotFound:
      return absl::NotFoundError(message);
    case rocksdb::Status::kCorruption:
      return WithReason(absl::StatusCode::kDataLoss, kReasonStorageCorrupt,
                        message);
    case rocksdb::Status::kInvalidArgument:
      return absl::InvalidArgumentError(message);
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTimedOut:
    case rocksdb::Status::kTryAgain:
      return absl::AbortedError(message);
    case rocksdb::Status::kNotSupported:
      return absl::UnimplementedError(message);
    case rocksdb::Status::kShutdownInProgress:
      return absl::UnavailableError(message);
    case rocksdb::Status::kIOError:
      // RocksDB reports a LOCK file held by another process (or by this
      // one) as an IOError naming the file.
      if (absl::StrContains(status.ToString(), "/LOCK")) {
        return absl::FailedPreconditionError(absl::StrCat(
            context, ": the data directory is in use by another process (",
            status.ToString(), ")"));
      }
      if (status.subcode() == rocksdb::Status::kNoSpace ||
          status.subcode() == rocksdb::Status::kSpaceLimit) {
        return WithReason(absl::StatusCode::kResourceExhausted,
                          kReasonStorageFull,
                          absl::StrCat(context, ": the disk is full (",
                                       status.ToString(), ")"));
      }
      return WithReason(absl::StatusCode::kUnavailable,
                        kReasonStorageUnavailable, message);
    default:
      return absl::InternalError(message);
  }
}

absl::Status PrefixMessage(const absl::Status& status,
                           absl::string_view prefix) {
  if (status.ok()) return status;
  absl::Status out(status.code(), absl::StrCat(prefix, status.message()));
  status.ForEachPayload(
      [&out](absl::string_view type_url, const absl::Cord& payload) {
        out.SetPayload(type_url, payload);
      });
  return out;
}

}  // namespace cohorte::storage
