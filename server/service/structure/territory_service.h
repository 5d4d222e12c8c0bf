// File: server/service/structure/territory_service.h
//
// TerritoryService: the territories of a cohort, their trajectory (the
// phase of their projet de territoire, with its history) and their
// chantiers (work sites, in chantiers.cc). No gRPC.
// Thread-safe; `store` must outlive it.
#ifndef COHORTE_SERVER_SERVICE_STRUCTURE_TERRITORY_SERVICE_H_
#define COHORTE_SERVER_SERVICE_STRUCTURE_TERRITORY_SERVICE_H_

#include "absl/status/statusor.h"
#include "cohorte/v1/territories.pb.h"
#include "server/service/access/principal.h"
#include "storage/store.h"

namespace cohorte::service {

// OK if `code` is empty, an INSEE commune code or a Luhn-valid SIREN.
absl::Status CheckOfficialCode(absl::string_view field, absl::string_view code);

class TerritoryService {
 public:
  explicit TerritoryService(storage::Store* store) : store_(*store) {}
  TerritoryService(const TerritoryService&) = delete;
  TerritoryService& operator=(const TerritoryService&) = delete;

  absl::StatusOr<v1::Territory> CreateTerritory(
      const Principal& caller, const v1::CreateTerritoryRequest& req);
  absl::StatusOr<v1::Territory> GetTerritory(
      const Principal& caller, const v1::GetTerritoryRequest& req);
  absl::StatusOr<v1::ListTerritoriesResponse> ListTerritories(
      const Principal& caller, const v1::ListTerritoriesRequest& req);
  absl::StatusOr<v1::Territory> UpdateTerritory(
      const Principal& caller, const v1::UpdateTerritoryRequest& req);
  absl::StatusOr<v1::Territory> ChangeTerritoryPhase(
      const Principal& caller, const v1::ChangeTerritoryPhaseRequest& req);

  // Chantiers. Create/update: the administrator, the cohort's coordinators,
  // the territory's delegation and READ_WRITE service tokens of the cohort;
  // read: the cohort's participants. Carriers must take part in the cohort.
  absl::StatusOr<v1::Chantier> CreateChantier(
      const Principal& caller, const v1::CreateChantierRequest& req);
  absl::StatusOr<v1::Chantier> GetChantier(const Principal& caller,
                                           const v1::GetChantierRequest& req);
  absl::StatusOr<v1::ListChantiersResponse> ListChantiers(
      const Principal& caller, const v1::ListChantiersRequest& req);
  absl::StatusOr<v1::Chantier> UpdateChantier(
      const Principal& caller, const v1::UpdateChantierRequest& req);

 private:
  storage::Store& store_;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_STRUCTURE_TERRITORY_SERVICE_H_
