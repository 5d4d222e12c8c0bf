// TerritoryService's chantiers: the work sites of a territory's projet de
// territoire, with their status and the members carrying them.
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "cohorte/v1/members.pb.h"
#include "cohorte/v1/territories.pb.h"
#include "google/protobuf/util/field_mask_util.h"
#include "server/service/access/commit.h"
#include "server/service/access/policy.h"
#include "server/service/core/entities.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "server/service/core/validation.h"
#include "server/service/structure/territory_service.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace cohorte::service {
namespace {

using storage::EntityKind;
using storage::Table;
using storage::Txn;
using v1::Chantier;

absl::Status CheckChantierFields(const Chantier& c,
                                 const std::set<std::string>& paths) {
  if (paths.count("display_name")) {
    COHORTE_RETURN_IF_ERROR(CheckText("chantier.display_name", c.display_name(),
                                      1, kMaxChantierDisplayNameChars,
                                      TextKind::kSingleLine));
  }
  if (paths.count("description")) {
    COHORTE_RETURN_IF_ERROR(CheckText("chantier.description", c.description(),
                                      0, kMaxChantierDescriptionChars,
                                      TextKind::kMultiLine));
  }
  if (paths.count("status") && !Chantier::Status_IsValid(c.status())) {
    return InvalidField("chantier.status", "is not a known status");
  }
  if (paths.count("carriers")) {
    if (c.carriers_size() > kMaxChantierCarriers) {
      return InvalidField("chantier.carriers",
                          absl::StrCat("has more than ", kMaxChantierCarriers));
    }
    std::set<std::string> seen;
    for (const std::string& m : c.carriers()) {
      COHORTE_RETURN_IF_ERROR(
          ParseTopLevelName("chantier.carriers", m, "members").status());
      if (!seen.insert(m).second) {
        return InvalidField("chantier.carriers", absl::StrCat(m, " twice"));
      }
    }
  }
  return absl::OkStatus();
}

// Inside a mutation: every carrier exists and takes part in `cohort`.
absl::Status CheckCarriers(const Txn& txn, const Chantier& c,
                           absl::string_view cohort) {
  for (const std::string& name : c.carriers()) {
    absl::StatusOr<v1::Member> m = LoadEntity<v1::Member>(txn, name);
    if (!m.ok() && !absl::IsNotFound(m.status())) return m.status();
    // Absent or elsewhere: one answer (members of other cohorts are not the
    // caller's to learn of).
    if (!m.ok() || !CohortsOfMember(*m).count(std::string(cohort))) {
      return InvalidField(
          "chantier.carriers",
          absl::StrCat(name, " does not take part in ", cohort));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Chantier> TerritoryService::CreateChantier(
    const Principal& caller, const v1::CreateChantierRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(
      std::string cohort,
      ParseCohortChildName("parent", req.parent(), "territories"));
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kChantier,
                                    Action::kCreate,
                                    TerritoryScope(cohort, req.parent())));
  if (!req.chantier_id().empty()) {
    COHORTE_RETURN_IF_ERROR(CheckResourceId("chantier_id", req.chantier_id()));
  }
  COHORTE_RETURN_IF_ERROR(CheckChantierFields(
      req.chantier(), {"display_name", "description", "status", "carriers"}));
  COHORTE_RETURN_IF_ERROR(CheckRequestId("request_id", req.request_id()));
  const std::string name = absl::StrCat(
      req.parent(), "/chantiers/",
      req.chantier_id().empty() ? GenerateId("chantier-") : req.chantier_id());
  return CommitForResponse<Chantier>(
      store_, caller, "CreateChantier", req, req.request_id(),
      [&](Txn& txn,
          [[maybe_unused]] const Reader& reader) -> absl::StatusOr<Chantier> {
        // Checked again against the caller as this mutation sees them.
        COHORTE_RETURN_IF_ERROR(
            Authorize(reader.caller(), Resource::kChantier, Action::kCreate,
                      TerritoryScope(cohort, req.parent())));
        COHORTE_RETURN_IF_ERROR(
            LoadEntity<v1::Territory>(txn, req.parent()).status());
        COHORTE_ASSIGN_OR_RETURN(bool exists,
                                 txn.EntityExists<v1::Chantier>((name)));
        if (exists) return AlreadyExists(name);
        COHORTE_RETURN_IF_ERROR(CheckCarriers(txn, req.chantier(), cohort));
        Chantier c;
        c.set_name(name);
        c.set_display_name(req.chantier().display_name());
        c.set_description(req.chantier().description());
        c.set_status(req.chantier().status() == Chantier::STATUS_UNSPECIFIED
                         ? Chantier::IDENTIFIE
                         : req.chantier().status());
        *c.mutable_carriers() = req.chantier().carriers();
        CreateEntity(txn, c);
        return c;
      });
}

absl::StatusOr<Chantier> TerritoryService::GetChantier(
    const Principal& caller, const v1::GetChantierRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(
      std::string territory,
      ParseTerritoryChildName("name", req.name(), "chantiers"));
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kChantier, Action::kRead,
                                    CohortScope(CohortOf(territory))));
  return Reader(store_, caller).Get<Chantier>(req.name());
}

absl::StatusOr<v1::ListChantiersResponse> TerritoryService::ListChantiers(
    const Principal& caller, const v1::ListChantiersRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(
      std::string cohort,
      ParseCohortChildName("parent", req.parent(), "territories"));
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kChantier, Action::kRead,
                                    CohortScope(cohort)));
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  v1::ListChantiersResponse response;
  COHORTE_ASSIGN_OR_RETURN(*response.mutable_next_page_token(),
                           Reader(store_, caller)
                               .List<Chantier>(
                                   storage::CollectionPrefixOf<v1::Chantier>(
                                       req.parent(), "chantiers"),
                                   page, [](Chantier&) { return true; },
                                   response.mutable_chantiers()));
  return response;
}

absl::StatusOr<Chantier> TerritoryService::UpdateChantier(
    const Principal& caller, const v1::UpdateChantierRequest& req) {
  const std::string& name = req.chantier().name();
  COHORTE_ASSIGN_OR_RETURN(
      std::string territory,
      ParseTerritoryChildName("chantier.name", name, "chantiers"));
  const std::string cohort(CohortOf(territory));
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kChantier,
                                    Action::kUpdate,
                                    TerritoryScope(cohort, territory)));
  COHORTE_ASSIGN_OR_RETURN(
      std::set<std::string> paths,
      CheckUpdateMask(req.update_mask(),
                      {"display_name", "description", "status", "carriers"},
                      "Chantier"));
  COHORTE_RETURN_IF_ERROR(CheckChantierFields(req.chantier(), paths));
  if (paths.count("status") &&
      req.chantier().status() == Chantier::STATUS_UNSPECIFIED) {
    return InvalidField("chantier.status", "is required");
  }
  COHORTE_RETURN_IF_ERROR(CheckRequestId("request_id", req.request_id()));
  google::protobuf::util::FieldMaskUtil::MergeOptions merge;
  merge.set_replace_repeated_fields(true);
  return CommitForResponse<Chantier>(
      store_, caller, "UpdateChantier", req, req.request_id(),
      [&](Txn& txn,
          [[maybe_unused]] const Reader& reader) -> absl::StatusOr<Chantier> {
        // Checked again against the caller as this mutation sees them.
        COHORTE_RETURN_IF_ERROR(Authorize(reader.caller(), Resource::kChantier,
                                          Action::kUpdate,
                                          TerritoryScope(cohort, territory)));
        COHORTE_ASSIGN_OR_RETURN(Chantier c, LoadEntity<Chantier>(txn, name));
        COHORTE_RETURN_IF_ERROR(
            CheckEtag(name, c.etag(), req.chantier().etag()));
        google::protobuf::util::FieldMaskUtil::MergeMessageTo(
            req.chantier(), req.update_mask(), merge, &c);
        if (paths.count("carriers")) {
          COHORTE_RETURN_IF_ERROR(CheckCarriers(txn, c, cohort));
        }
        SaveEntity(txn, c);
        return c;
      });
}

}  // namespace cohorte::service
