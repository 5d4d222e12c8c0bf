// File: server/service/admin/admin_service.h
//
// AdminService: operating the instance through the API — backups of the
// whole store (storage/backup.h), administrator only: every other caller
// gets PERMISSION_DENIED before anything else is looked at. A backup holds
// closed groups' content in files on the server's disk; the service shows
// only what describes a backup (id, time, instance, epoch, revision,
// size), never its content. No gRPC. Thread-safe; `store` and `backups`
// must outlive it.
#ifndef COHORTE_SERVER_SERVICE_ADMIN_ADMIN_SERVICE_H_
#define COHORTE_SERVER_SERVICE_ADMIN_ADMIN_SERVICE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cohorte/v1/admin.pb.h"
#include "server/service/access/policy.h"
#include "server/service/access/principal.h"
#include "storage/backup.h"
#include "storage/store.h"

namespace cohorte::service {

class AdminService {
 public:
  // `backups` null: backups are not set up, and every backup call of the
  // administrator is FAILED_PRECONDITION with `why`.
  AdminService(storage::Store* store, storage::Backups* backups,
               std::string why = "backups are not set up on this instance")
      : store_(*store), backups_(backups), why_(std::move(why)) {}
  AdminService(const AdminService&) = delete;
  AdminService& operator=(const AdminService&) = delete;

  // Backs up the store now (see storage::Backups::Create for the errors).
  absl::StatusOr<v1::Backup> CreateBackup(const Principal& caller,
                                          const v1::CreateBackupRequest& req);
  absl::StatusOr<v1::ListBackupsResponse> ListBackups(
      const Principal& caller, const v1::ListBackupsRequest& req);
  // INVALID_ARGUMENT (field `name`) unless `backups/{id}`; NOT_FOUND if no
  // such backup; DATA_LOSS if it is damaged.
  absl::StatusOr<v1::Backup> VerifyBackup(const Principal& caller,
                                          const v1::VerifyBackupRequest& req);
  // INVALID_ARGUMENT (field `name`) unless `backups/{id}`; NOT_FOUND if no
  // such backup.
  absl::StatusOr<v1::DeleteBackupResponse> DeleteBackup(
      const Principal& caller, const v1::DeleteBackupRequest& req);

 private:
  // OK if `caller` may do `action` on backups (the administrator only) and
  // backups are set up.
  absl::Status CheckBackups(const Principal& caller, Action action) const;

  storage::Store& store_;
  storage::Backups* const backups_;
  const std::string why_;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_ADMIN_ADMIN_SERVICE_H_
