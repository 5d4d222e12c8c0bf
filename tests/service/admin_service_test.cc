// AdminService: backups for the administrator only, permission checked
// before anything else (a service token, a coordinator or a bad name all
// get PERMISSION_DENIED alike), names validated with the field named, and
// an instance whose backup directory is unusable says why.

#include "server/service/admin/admin_service.h"

#include <string>

#include "tests/service/access_fixture.h"
#include "tests/testing/principals.h"

namespace cohorte::service {
namespace {

using ::cohorte::testing::InvalidFieldIs;
using ::cohorte::testing::IsOk;
using ::cohorte::testing::MakePrincipal;
using ::cohorte::testing::StatusIs;

class AdminServiceTest : public AccessFixture {
 protected:
  AdminService& admin_service() { return services_.all->admin; }
};

TEST_F(AdminServiceTest, AdministratorBacksUpListsVerifiesAndDeletes) {
  absl::StatusOr<v1::Backup> made =
      admin_service().CreateBackup(admin_, v1::CreateBackupRequest());
  ASSERT_THAT(made, IsOk());
  EXPECT_EQ(made->name(), "backups/1");
  EXPECT_EQ(made->instance_id(), store_->instance_id());
  EXPECT_EQ(made->revision(), store_->revision());
  absl::StatusOr<v1::ListBackupsResponse> list =
      admin_service().ListBackups(admin_, v1::ListBackupsRequest());
  ASSERT_THAT(list, IsOk());
  ASSERT_EQ(list->backups_size(), 1);
  v1::VerifyBackupRequest verify;
  verify.set_name("backups/1");
  EXPECT_THAT(admin_service().VerifyBackup(admin_, verify), IsOk());
  v1::DeleteBackupRequest remove;
  remove.set_name("backups/1");
  EXPECT_THAT(admin_service().DeleteBackup(admin_, remove), IsOk());
  EXPECT_THAT(admin_service().VerifyBackup(admin_, verify),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(AdminServiceTest, NobodyButTheAdministratorGetsPastThePolicy) {
  const Principal coordinator =
      MakePrincipal("members/coord", v1::Member::COORDINATOR,
                    v1::COLLEGE_UNSPECIFIED, {}, {std::string(kOccitanie)});
  const Principal service =
      Principal::ForService("tokens/svc", {std::string(kOccitanie)},
                            /*read_write=*/true);
  v1::VerifyBackupRequest bad_name;
  bad_name.set_name("not-a-backup");
  for (const Principal& caller : {coordinator, service}) {
    EXPECT_THAT(admin_service().CreateBackup(caller, {}),
                StatusIs(absl::StatusCode::kPermissionDenied));
    EXPECT_THAT(admin_service().ListBackups(caller, {}),
                StatusIs(absl::StatusCode::kPermissionDenied));
    EXPECT_THAT(admin_service().VerifyBackup(caller, bad_name),
                StatusIs(absl::StatusCode::kPermissionDenied));
  }
  EXPECT_THAT(admin_service().VerifyBackup(admin_, bad_name),
              InvalidFieldIs("name"));
  v1::DeleteBackupRequest zero;
  zero.set_name("backups/0");
  EXPECT_THAT(admin_service().DeleteBackup(admin_, zero),
              InvalidFieldIs("name"));
}

TEST_F(AdminServiceTest, WithoutABackupDirectoryTheAdministratorIsToldWhy) {
  AdminService unset(store_.get(), /*backups=*/nullptr,
                     "the backup directory /nowhere cannot be used");
  absl::Status s = unset.CreateBackup(admin_, {}).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(s.message(), "the backup directory /nowhere cannot be used");
  const Principal member = MakePrincipal("members/elu", v1::Member::MEMBER);
  EXPECT_THAT(unset.ListBackups(member, {}),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace cohorte::service
