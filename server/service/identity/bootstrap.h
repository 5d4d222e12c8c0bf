// File: server/service/identity/bootstrap.h
//
// First start of an instance: when the store has no administrator, create
// the admin member and a token for it, and write the token to a file only
// its owner can read. Not thread-safe: call once, before serving.
#ifndef COHORTE_SERVER_SERVICE_IDENTITY_BOOTSTRAP_H_
#define COHORTE_SERVER_SERVICE_IDENTITY_BOOTSTRAP_H_

#include <string>

#include "absl/status/statusor.h"
#include "server/service/access/principal.h"
#include "storage/store.h"

namespace cohorte::service {

inline constexpr absl::string_view kAdminMember = "members/admin";

struct BootstrapResult {
  // True if this call created the administrator (the store was empty).
  bool created = false;
  // The administrator, to act as on first start (e.g. to seed a demo).
  Principal admin;
};

// If `members/admin` does not exist: writes a new token to `token_path`
// (mode 0600, fsynced, replacing any stale file) and then commits the admin
// member and the token's hash. The file is written first so that a crash in
// between leaves a useless file, never an admin nobody can reach.
// UNAVAILABLE if the file cannot be written.
absl::StatusOr<BootstrapResult> BootstrapAdmin(storage::Store& store,
                                               const std::string& token_path);

// Writes `content` to `path` with mode 0600, fsynced, through a temporary
// file renamed into place. UNAVAILABLE on failure.
absl::Status WritePrivateFile(const std::string& path,
                              const std::string& content);

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_IDENTITY_BOOTSTRAP_H_
