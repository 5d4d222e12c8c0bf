// Chantiers: who may create and update them, their default status, and
// every limit at and past its bound with the field named.

#include <string>

#include "absl/strings/str_cat.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "tests/service/access_fixture.h"

namespace cohorte::service {
namespace {

using ::cohorte::testing::InvalidFieldIs;
using ::cohorte::testing::IsOk;
using ::cohorte::testing::StatusIs;

class ChantierTest : public AccessFixture {
 protected:
  v1::CreateChantierRequest Request(const std::string& id) {
    v1::CreateChantierRequest req;
    req.set_parent(kPetr);
    req.set_chantier_id(id);
    req.mutable_chantier()->set_display_name("Alimentation locale");
    req.mutable_chantier()->add_carriers("members/agent-petr");
    return req;
  }
};

TEST_F(ChantierTest, TheDelegationAndCoordinatorsCarryChantiers) {
  absl::StatusOr<v1::Chantier> created =
      services_.territories->CreateChantier(who("elu-petr"), Request("alim"));
  ASSERT_THAT(created, IsOk());
  EXPECT_EQ(created->name(), std::string(kPetr) + "/chantiers/alim");
  EXPECT_EQ(created->status(), v1::Chantier::IDENTIFIE);
  EXPECT_THAT(services_.territories->CreateChantier(who("coordinator"),
                                                    Request("mobilite")),
              IsOk());
  // Not the delegation of another territory, not an ally, not another
  // cohort's coordinator.
  for (const char* id : {"elu-coteaux", "ally", "coordinator-autre"}) {
    EXPECT_THAT(services_.territories->CreateChantier(who(id), Request("x")),
                StatusIs(absl::StatusCode::kPermissionDenied))
        << id;
  }

  v1::UpdateChantierRequest update;
  update.mutable_chantier()->set_name(created->name());
  update.mutable_chantier()->set_status(v1::Chantier::EN_ACTION);
  update.mutable_chantier()->set_etag(created->etag());
  update.mutable_update_mask()->add_paths("status");
  absl::StatusOr<v1::Chantier> updated =
      services_.territories->UpdateChantier(who("agent-petr"), update);
  ASSERT_THAT(updated, IsOk());
  EXPECT_EQ(updated->status(), v1::Chantier::EN_ACTION);
  EXPECT_EQ(updated->display_name(), "Alimentation locale");
  // The same etag again is stale now.
  EXPECT_THAT(services_.territories->UpdateChantier(who("agent-petr"), update),
              StatusIs(absl::StatusCode::kAborted, kReasonEtagMismatch));
  EXPECT_THAT(
      services_.territories->CreateChantier(who("elu-petr"), Request("alim")),
      StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_F(ChantierTest, EveryLimitNamesItsFieldAndWritesNothing) {
  const int64_t before = store_->revision();
  auto refused = [&](const v1::CreateChantierRequest& req,
                     const std::string& field) {
    EXPECT_THAT(services_.territories->CreateChantier(admin_, req),
                InvalidFieldIs(field));
    EXPECT_EQ(store_->revision(), before) << field;
  };
  v1::CreateChantierRequest req = Request("c");
  req.mutable_chantier()->set_display_name("");
  refused(req, "chantier.display_name");
  req.mutable_chantier()->set_display_name(
      std::string(kMaxChantierDisplayNameChars + 1, 'x'));
  refused(req, "chantier.display_name");
  req = Request("c");
  req.mutable_chantier()->set_description(
      std::string(kMaxChantierDescriptionChars + 1, 'x'));
  refused(req, "chantier.description");
  req = Request("c");
  req.mutable_chantier()->set_status(static_cast<v1::Chantier::Status>(42));
  refused(req, "chantier.status");
  req = Request("c");
  req.mutable_chantier()->add_carriers("members/elu-ailleurs");
  refused(req, "chantier.carriers");
  req = Request("c");
  req.mutable_chantier()->add_carriers("members/agent-petr");
  refused(req, "chantier.carriers");
  req = Request("c");
  req.mutable_chantier()->clear_carriers();
  for (int i = 0; i <= kMaxChantierCarriers; ++i) {
    req.mutable_chantier()->add_carriers(absl::StrCat("members/m", i));
  }
  refused(req, "chantier.carriers");
  req = Request("Not_An_Id");
  refused(req, "chantier_id");
  req = Request("c");
  req.set_parent("cohorts/occitanie");
  refused(req, "parent");

  // At the bounds: accepted.
  req = Request("c");
  req.mutable_chantier()->set_display_name(
      std::string(kMaxChantierDisplayNameChars, 'x'));
  req.mutable_chantier()->set_description(
      std::string(kMaxChantierDescriptionChars, 'x'));
  EXPECT_THAT(services_.territories->CreateChantier(admin_, req), IsOk());

  v1::UpdateChantierRequest update;
  update.mutable_chantier()->set_name(std::string(kPetr) + "/chantiers/c");
  EXPECT_THAT(services_.territories->UpdateChantier(admin_, update),
              InvalidFieldIs("update_mask"));
  update.mutable_update_mask()->add_paths("name");
  EXPECT_THAT(services_.territories->UpdateChantier(admin_, update),
              InvalidFieldIs("update_mask"));
  update.mutable_update_mask()->Clear();
  update.mutable_update_mask()->add_paths("status");
  EXPECT_THAT(services_.territories->UpdateChantier(admin_, update),
              InvalidFieldIs("chantier.status"));
}

}  // namespace
}  // namespace cohorte::service
