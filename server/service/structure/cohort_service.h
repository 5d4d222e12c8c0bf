// File: server/service/structure/cohort_service.h
//
// CohortService holds the rules of the Cohort resource: validation,
// authorization (policy.h), etags, soft delete and archiving. It has no gRPC
// in it: the transport calls it with the caller's Principal and the request
// proto, and it returns the response or an error from errors.h.
//
// Every method checks permission first, then validates, then reads or
// commits. Mutations are atomic and durable when they return OK; a
// `request_id` makes them safe to retry.
//
// Thread-safe; `store` must outlive it.
#ifndef COHORTE_SERVER_SERVICE_STRUCTURE_COHORT_SERVICE_H_
#define COHORTE_SERVER_SERVICE_STRUCTURE_COHORT_SERVICE_H_

#include "absl/status/statusor.h"
#include "cohorte/v1/cohorts.pb.h"
#include "server/service/access/principal.h"
#include "storage/store.h"

namespace cohorte::service {

class CohortService {
 public:
  explicit CohortService(storage::Store* store) : store_(*store) {}
  CohortService(const CohortService&) = delete;
  CohortService& operator=(const CohortService&) = delete;

  // ALREADY_EXISTS if cohort_id is taken (also by a soft-deleted cohort).
  absl::StatusOr<v1::Cohort> CreateCohort(const Principal& caller,
                                          const v1::CreateCohortRequest& req);
  // NOT_FOUND if there is no such cohort.
  absl::StatusOr<v1::Cohort> GetCohort(const Principal& caller,
                                       const v1::GetCohortRequest& req);
  absl::StatusOr<v1::ListCohortsResponse> ListCohorts(
      const Principal& caller, const v1::ListCohortsRequest& req);
  // ABORTED (ETAG_MISMATCH) if the etag is stale; FAILED_PRECONDITION
  // (RESOURCE_DELETED) if the cohort is soft-deleted.
  absl::StatusOr<v1::Cohort> UpdateCohort(const Principal& caller,
                                          const v1::UpdateCohortRequest& req);
  // NOT_FOUND if absent or already deleted.
  absl::StatusOr<v1::Cohort> DeleteCohort(const Principal& caller,
                                          const v1::DeleteCohortRequest& req);
  // ALREADY_EXISTS if not deleted.
  absl::StatusOr<v1::Cohort> UndeleteCohort(
      const Principal& caller, const v1::UndeleteCohortRequest& req);
  // FAILED_PRECONDITION (WRONG_STATE) if already in the target state.
  absl::StatusOr<v1::Cohort> ArchiveCohort(const Principal& caller,
                                           const v1::ArchiveCohortRequest& req);
  absl::StatusOr<v1::Cohort> UnarchiveCohort(
      const Principal& caller, const v1::UnarchiveCohortRequest& req);

 private:
  storage::Store& store_;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_STRUCTURE_COHORT_SERVICE_H_
