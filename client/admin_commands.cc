#include "client/admin_commands.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/call.h"
#include "client/output.h"
#include "client/times.h"
#include "cohorte/v1/admin.grpc.pb.h"

namespace cohorte::client {
namespace {

// `7` → `backups/7`; a full name is kept.
std::string BackupName(const std::string& s) {
  return s.rfind("backups/", 0) == 0 ? s : "backups/" + s;
}

void ShowBackup(const v1::Backup& b) {
  PrintFields({{"name", b.name()},
               {"create_time", ShowTime(b.create_time())},
               {"instance_id", b.instance_id()},
               {"epoch", absl::StrCat(b.epoch())},
               {"revision", absl::StrCat(b.revision())},
               {"size_bytes", absl::StrCat(b.size_bytes())},
               {"file_count", absl::StrCat(b.file_count())}});
}

}  // namespace

void AddAdminCommands(CLI::App& app, const CommandEnv& env,
                      CommandRegistry& registry) {
  CLI::App* admin =
      app.add_subcommand("admin", "Operate the instance (administrator)");
  admin->require_subcommand(1);
  CLI::App* root = admin->add_subcommand(
      "backup",
      "Backups of the whole store, taken while it serves; restore them "
      "with `cohorted restore` (README, Operations)");
  root->require_subcommand(1);
  auto stub = [&env] {
    return v1::AdminService::NewStub(env.connection()->channel());
  };
  auto name = std::make_shared<std::string>();

  CLI::App* create = root->add_subcommand(
      "create", "Back up now; the backups beyond cohorted's --backup-keep go");
  registry.Register(create, [=, &env] {
    v1::CreateBackupRequest req;
    return Call<v1::Backup>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->CreateBackup(ctx, req, resp);
        },
        ShowBackup);
  });

  CLI::App* list = root->add_subcommand("list", "The backups, oldest first");
  registry.Register(list, [=, &env] {
    v1::ListBackupsRequest req;
    return Call<v1::ListBackupsResponse>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->ListBackups(ctx, req, resp);
        },
        [](const v1::ListBackupsResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const v1::Backup& b : r.backups()) {
            rows.push_back({b.name(), ShowTime(b.create_time()),
                            absl::StrCat(b.epoch()), absl::StrCat(b.revision()),
                            absl::StrCat(b.size_bytes())});
          }
          PrintTable({"NAME", "CREATED", "EPOCH", "REVISION", "BYTES"}, rows);
        });
  });

  CLI::App* verify = root->add_subcommand(
      "verify", "Read every file of a backup and check its checksum");
  verify->add_option("name", *name, "backup id or backups/{id}")->required();
  registry.Register(verify, [=, &env] {
    v1::VerifyBackupRequest req;
    req.set_name(BackupName(*name));
    return Call<v1::Backup>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->VerifyBackup(ctx, req, resp);
        },
        [](const v1::Backup& b) {
          std::cerr << b.name() << " is intact\n";
          ShowBackup(b);
        });
  });

  CLI::App* remove = root->add_subcommand(
      "delete", "Delete a backup (and the files no other backup shares)");
  remove->add_option("name", *name, "backup id or backups/{id}")->required();
  registry.Register(remove, [=, &env] {
    v1::DeleteBackupRequest req;
    req.set_name(BackupName(*name));
    return Call<v1::DeleteBackupResponse>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->DeleteBackup(ctx, req, resp);
        },
        [&](const v1::DeleteBackupResponse&) {
          std::cout << "deleted " << req.name() << "\n";
        });
  });
}

}  // namespace cohorte::client
