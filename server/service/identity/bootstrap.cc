#include "server/service/identity/bootstrap.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/access/tokens.h"
#include "server/service/core/entities.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace cohorte::service {
namespace {

using google::protobuf::util::TimeUtil;

}  // namespace

absl::Status WritePrivateFile(const std::string& path,
                              const std::string& content) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
  }
  // O_CREAT's mode is masked by the umask and ignored for an existing file.
  bool ok = ::fchmod(fd, 0600) == 0;
  ok = ok && ::write(fd, content.data(), content.size()) ==
                 static_cast<ssize_t>(content.size());
  ok = ok && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot write ", path, ": ", std::strerror(ok ? errno : saved_errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<BootstrapResult> BootstrapAdmin(storage::Store& store,
                                               const std::string& token_path) {
  BootstrapResult result;
  result.admin.member = std::string(kAdminMember);
  result.admin.role = v1::Member::ADMIN;
  result.admin.token = "tokens/admin-bootstrap";

  // In one mutation: whether the administrator exists, and if not, the
  // token file (written before the commit acknowledges, so a crash leaves
  // at worst an unused file) and the administrator with its token.
  bool created = false;
  storage::Mutation mutation;
  mutation.actor = std::string(kAdminMember);
  mutation.method = "BootstrapAdmin";
  mutation.apply = [&](storage::Txn& txn) -> absl::StatusOr<std::string> {
    COHORTE_ASSIGN_OR_RETURN(bool exists,
                             txn.EntityExists<v1::Member>(kAdminMember));
    if (exists) return absl::AlreadyExistsError("the administrator exists");
    const std::string secret = NewTokenSecret();
    COHORTE_RETURN_IF_ERROR(WritePrivateFile(token_path, secret + "\n"));
    v1::Member admin;
    admin.set_name(std::string(kAdminMember));
    admin.set_given_name("Instance");
    admin.set_family_name("Administrator");
    admin.set_role(v1::Member::ADMIN);
    CreateEntity(txn, admin);

    storage::v1::TokenRecord token;
    token.set_name(result.admin.token);
    token.set_member(admin.name());
    token.set_display_name("Administrator token made on first start");
    *token.mutable_create_time() = ToTimestamp(txn.commit_time());
    token.set_kind(v1::Token::PERSONAL);
    SaveToken(txn, token, secret);
    created = true;
    return std::string();
  };
  absl::Status s = store.Commit(std::move(mutation)).status();
  if (absl::IsAlreadyExists(s)) return result;
  COHORTE_RETURN_IF_ERROR(s);
  result.created = created;
  return result;
}

}  // namespace cohorte::service
