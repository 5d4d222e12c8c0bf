#include "server/service/structure/territory_service.h"

#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cohorte/v1/cohorts.pb.h"
#include "cohorte/v1/territories.pb.h"
#include "google/protobuf/util/field_mask_util.h"
#include "server/service/access/commit.h"
#include "server/service/access/policy.h"
#include "server/service/core/entities.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "server/service/core/pagination.h"
#include "server/service/core/validation.h"
#include "storage/codec.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace cohorte::service {
namespace {

using storage::EntityKind;
using storage::Table;
using storage::Txn;
using v1::Territory;

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

absl::Status CheckFields(const Territory& t,
                         const std::set<std::string>& paths) {
  if (paths.count("display_name")) {
    COHORTE_RETURN_IF_ERROR(
        CheckText("territory.display_name", t.display_name(), 1,
                  kMaxTerritoryDisplayNameChars, TextKind::kSingleLine));
  }
  if (paths.count("kind")) {
    COHORTE_RETURN_IF_ERROR(
        CheckEnumValue("territory.kind", t.kind(), Territory::Kind_IsValid));
  }
  if (paths.count("official_code")) {
    COHORTE_RETURN_IF_ERROR(
        CheckOfficialCode("territory.official_code", t.official_code()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckOfficialCode(absl::string_view field,
                               absl::string_view code) {
  if (code.empty()) return absl::OkStatus();
  if (code.size() == 5) {
    absl::string_view dept = code.substr(0, 2);
    if ((AllDigits(dept) || dept == "2A" || dept == "2B") &&
        AllDigits(code.substr(2))) {
      return absl::OkStatus();
    }
  } else if (code.size() == 9 && AllDigits(code)) {
    // SIREN: Luhn checksum over the 9 digits.
    int sum = 0;
    for (int i = 0; i < 9; ++i) {
      int d = code[8 - i] - '0';
      if (i % 2 == 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      sum += d;
    }
    if (sum % 10 == 0) return absl::OkStatus();
    return InvalidField(field, "is not a valid SIREN (checksum)");
  }
  return InvalidField(field,
                      "must be an INSEE commune code (e.g. 31555, 2A004) or "
                      "a SIREN (9 digits)");
}

absl::StatusOr<Territory> TerritoryService::CreateTerritory(
    const Principal& caller, const v1::CreateTerritoryRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("parent", req.parent(), "cohorts").status());
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kTerritory,
                                    Action::kCreate,
                                    CohortScope(req.parent())));
  if (!req.territory_id().empty()) {
    COHORTE_RETURN_IF_ERROR(
        CheckResourceId("territory_id", req.territory_id()));
  }
  COHORTE_RETURN_IF_ERROR(
      CheckFields(req.territory(), {"display_name", "kind", "official_code"}));
  COHORTE_RETURN_IF_ERROR(CheckRequestId("request_id", req.request_id()));
  const std::string name =
      absl::StrCat(req.parent(), "/territories/",
                   req.territory_id().empty() ? GenerateId("territory-")
                                              : req.territory_id());
  return CommitForResponse<Territory>(
      store_, caller, "CreateTerritory", req, req.request_id(),
      [&](Txn& txn,
          [[maybe_unused]] const Reader& reader) -> absl::StatusOr<Territory> {
        // Checked again against the caller as this mutation sees them.
        COHORTE_RETURN_IF_ERROR(Authorize(reader.caller(), Resource::kTerritory,
                                          Action::kCreate,
                                          CohortScope(req.parent())));
        COHORTE_ASSIGN_OR_RETURN(v1::Cohort cohort,
                                 LoadEntity<v1::Cohort>(txn, req.parent()));
        if (cohort.has_delete_time()) return NotFound(req.parent());
        COHORTE_ASSIGN_OR_RETURN(bool exists,
                                 txn.EntityExists<v1::Territory>((name)));
        if (exists) return AlreadyExists(name);
        Territory t;
        t.set_name(name);
        t.set_display_name(req.territory().display_name());
        t.set_kind(req.territory().kind());
        t.set_official_code(req.territory().official_code());
        t.set_phase(Territory::PARTAGE_DES_ENJEUX);
        CreateEntity(txn, t);
        return t;
      });
}

absl::StatusOr<Territory> TerritoryService::GetTerritory(
    const Principal& caller, const v1::GetTerritoryRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(
      std::string cohort,
      ParseCohortChildName("name", req.name(), "territories"));
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kTerritory, Action::kRead,
                                    CohortScope(cohort)));
  return Reader(store_, caller).Get<Territory>(req.name());
}

absl::StatusOr<v1::ListTerritoriesResponse> TerritoryService::ListTerritories(
    const Principal& caller, const v1::ListTerritoriesRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("parent", req.parent(), "cohorts").status());
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kTerritory, Action::kRead,
                                    CohortScope(req.parent())));
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  v1::ListTerritoriesResponse response;
  COHORTE_ASSIGN_OR_RETURN(*response.mutable_next_page_token(),
                           Reader(store_, caller)
                               .List<Territory>(
                                   storage::CollectionPrefixOf<v1::Territory>(
                                       req.parent(), "territories"),
                                   page, [](Territory&) { return true; },
                                   response.mutable_territories()));
  return response;
}

absl::StatusOr<Territory> TerritoryService::UpdateTerritory(
    const Principal& caller, const v1::UpdateTerritoryRequest& req) {
  const std::string& name = req.territory().name();
  COHORTE_ASSIGN_OR_RETURN(
      std::string cohort,
      ParseCohortChildName("territory.name", name, "territories"));
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kTerritory,
                                    Action::kUpdate, CohortScope(cohort)));
  COHORTE_ASSIGN_OR_RETURN(
      std::set<std::string> paths,
      CheckUpdateMask(req.update_mask(),
                      {"display_name", "kind", "official_code"}, "Territory",
                      "the phase changes through ChangeTerritoryPhase"));
  COHORTE_RETURN_IF_ERROR(CheckFields(req.territory(), paths));
  COHORTE_RETURN_IF_ERROR(CheckRequestId("request_id", req.request_id()));
  return CommitForResponse<Territory>(
      store_, caller, "UpdateTerritory", req, req.request_id(),
      [&](Txn& txn,
          [[maybe_unused]] const Reader& reader) -> absl::StatusOr<Territory> {
        // Checked again against the caller as this mutation sees them.
        COHORTE_RETURN_IF_ERROR(Authorize(reader.caller(), Resource::kTerritory,
                                          Action::kUpdate,
                                          CohortScope(cohort)));
        COHORTE_ASSIGN_OR_RETURN(Territory t, LoadEntity<Territory>(txn, name));
        COHORTE_RETURN_IF_ERROR(
            CheckEtag(name, t.etag(), req.territory().etag()));
        google::protobuf::util::FieldMaskUtil::MergeMessageTo(
            req.territory(), req.update_mask(), {}, &t);
        SaveEntity(txn, t);
        return t;
      });
}

absl::StatusOr<Territory> TerritoryService::ChangeTerritoryPhase(
    const Principal& caller, const v1::ChangeTerritoryPhaseRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(
      std::string cohort,
      ParseCohortChildName("name", req.name(), "territories"));
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kTerritoryPhase,
                                    Action::kUpdate,
                                    TerritoryScope(cohort, req.name())));
  if (req.phase() == Territory::PHASE_UNSPECIFIED ||
      !Territory::Phase_IsValid(req.phase())) {
    return InvalidField("phase", "is required");
  }
  COHORTE_RETURN_IF_ERROR(CheckText("note", req.note(), 0, kMaxPhaseNoteChars,
                                    TextKind::kMultiLine));
  COHORTE_RETURN_IF_ERROR(CheckRequestId("request_id", req.request_id()));
  return CommitForResponse<Territory>(
      store_, caller, "ChangeTerritoryPhase", req, req.request_id(),
      [&](Txn& txn,
          [[maybe_unused]] const Reader& reader) -> absl::StatusOr<Territory> {
        // Checked again against the caller as this mutation sees them.
        COHORTE_RETURN_IF_ERROR(
            Authorize(reader.caller(), Resource::kTerritoryPhase,
                      Action::kUpdate, TerritoryScope(cohort, req.name())));
        COHORTE_ASSIGN_OR_RETURN(Territory t,
                                 LoadEntity<Territory>(txn, req.name()));
        COHORTE_RETURN_IF_ERROR(CheckEtag(t.name(), t.etag(), req.etag()));
        if (t.phase() == req.phase()) {
          return ErrorWithReason(
              absl::StatusCode::kFailedPrecondition, kReasonWrongState,
              absl::StrCat(t.name(), " is already in phase ",
                           Territory::Phase_Name(t.phase())));
        }
        Territory::PhaseChange* change = t.add_phase_history();
        change->set_from_phase(t.phase());
        change->set_to_phase(req.phase());
        change->set_actor(caller.actor());
        *change->mutable_change_time() = ToTimestamp(txn.commit_time());
        change->set_note(req.note());
        t.set_phase(req.phase());
        SaveEntity(txn, t);
        return t;
      });
}

}  // namespace cohorte::service
