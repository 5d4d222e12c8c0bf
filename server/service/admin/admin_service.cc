#include "server/service/admin/admin_service.h"

#include <cstdint>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/access/policy.h"
#include "server/service/core/errors.h"
#include "storage/status_macros.h"

namespace cohorte::service {
namespace {

constexpr absl::string_view kBackupsPrefix = "backups/";

v1::Backup BackupToApi(const storage::BackupInfo& info) {
  v1::Backup out;
  out.set_name(absl::StrCat(kBackupsPrefix, info.id));
  *out.mutable_create_time() =
      google::protobuf::util::TimeUtil::SecondsToTimestamp(
          absl::ToUnixSeconds(info.create_time));
  out.set_instance_id(info.metadata.instance_id());
  out.set_epoch(info.metadata.epoch());
  out.set_revision(info.metadata.revision());
  out.set_size_bytes(static_cast<int64_t>(info.size_bytes));
  out.set_file_count(static_cast<int32_t>(info.file_count));
  return out;
}

// The id of `backups/{id}`; INVALID_ARGUMENT naming `name` otherwise.
absl::StatusOr<uint32_t> ParseBackupName(absl::string_view name) {
  uint32_t id = 0;
  if (!absl::StartsWith(name, kBackupsPrefix) ||
      !absl::SimpleAtoi(name.substr(kBackupsPrefix.size()), &id) || id == 0 ||
      absl::StrCat(kBackupsPrefix, id) != name) {
    return InvalidField("name", "must be backups/{id}, id a number from 1");
  }
  return id;
}

}  // namespace

absl::Status AdminService::CheckBackups(const Principal& caller,
                                        Action action) const {
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kBackup, action));
  if (backups_ == nullptr) return WrongState(why_);
  return absl::OkStatus();
}

absl::StatusOr<v1::Backup> AdminService::CreateBackup(
    const Principal& caller, const v1::CreateBackupRequest& /*req*/) {
  COHORTE_RETURN_IF_ERROR(CheckBackups(caller, Action::kCreate));
  COHORTE_ASSIGN_OR_RETURN(storage::BackupInfo info, backups_->Create(store_));
  return BackupToApi(info);
}

absl::StatusOr<v1::ListBackupsResponse> AdminService::ListBackups(
    const Principal& caller, const v1::ListBackupsRequest& /*req*/) {
  COHORTE_RETURN_IF_ERROR(CheckBackups(caller, Action::kRead));
  COHORTE_ASSIGN_OR_RETURN(std::vector<storage::BackupInfo> infos,
                           backups_->List());
  v1::ListBackupsResponse out;
  for (const storage::BackupInfo& info : infos) {
    *out.add_backups() = BackupToApi(info);
  }
  return out;
}

absl::StatusOr<v1::Backup> AdminService::VerifyBackup(
    const Principal& caller, const v1::VerifyBackupRequest& req) {
  COHORTE_RETURN_IF_ERROR(CheckBackups(caller, Action::kRead));
  COHORTE_ASSIGN_OR_RETURN(uint32_t id, ParseBackupName(req.name()));
  COHORTE_ASSIGN_OR_RETURN(storage::BackupInfo info, backups_->Verify(id));
  return BackupToApi(info);
}

absl::StatusOr<v1::DeleteBackupResponse> AdminService::DeleteBackup(
    const Principal& caller, const v1::DeleteBackupRequest& req) {
  COHORTE_RETURN_IF_ERROR(CheckBackups(caller, Action::kDelete));
  COHORTE_ASSIGN_OR_RETURN(uint32_t id, ParseBackupName(req.name()));
  COHORTE_RETURN_IF_ERROR(backups_->Delete(id));
  return v1::DeleteBackupResponse();
}

}  // namespace cohorte::service
