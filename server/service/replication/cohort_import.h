// File: server/service/replication/cohort_import.h
//
// CohortImport: one LinkService.ImportCohort call (links.proto). The stream
// brings a cohort bundle's manifest, then its events.pb in chunks; Finish
// checks the events against the manifest (size, SHA-256, count, every
// event decodes, the cohort is in it) before writing anything, then
// applies them in one replicated mutation through ApplyChange, as a link
// named kImportedLink of the exporting instance: the cohort becomes a
// read-only replica whose home is that instance, and everything ApplyChange
// refuses from a peer (GROUP visibility, drafts, group member lists, other
// cohorts, other types) is refused from a bundle. What an earlier import of
// the cohort stored and this bundle lacks is deleted in the same mutation,
// so importing a bundle twice changes nothing more. Record contents are
// not imported (the versions' metadata is).
//
// Thread-compatible: one per call, used by one thread at a time. Borrows
// the Store, which must outlive it.
#ifndef COHORTE_SERVER_SERVICE_REPLICATION_COHORT_IMPORT_H_
#define COHORTE_SERVER_SERVICE_REPLICATION_COHORT_IMPORT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cohorte/v1/links.pb.h"
#include "server/service/access/commit.h"
#include "server/service/access/principal.h"
#include "storage/store.h"

namespace cohorte::service {

class CohortImport {
 public:
  CohortImport(storage::Store* store, Principal caller)
      : store_(*store), caller_(std::move(caller)) {}
  CohortImport(const CohortImport&) = delete;
  CohortImport& operator=(const CohortImport&) = delete;

  // Takes the stream's next message: the first holds the manifest alone,
  // the others events.pb's bytes (at most kMaxImportChunkBytes each).
  // PERMISSION_DENIED unless the caller is the administrator;
  // INVALID_ARGUMENT naming the field for a bad manifest, or reason
  // BUNDLE_CORRUPT for more bytes than the manifest declares;
  // RESOURCE_EXHAUSTED above kMaxImportEventsBytes. Nothing is written.
  absl::Status Add(const v1::ImportCohortRequest& message);

  // At the stream's end: checks and applies the bundle (file comment).
  // INVALID_ARGUMENT (BUNDLE_CORRUPT) if it does not match its manifest;
  // FAILED_PRECONDITION (NAME_CONFLICT) if the cohort exists here made here,
  // followed by a link, or imported from another instance.
  absl::StatusOr<v1::ImportCohortResponse> Finish();

 private:
  storage::Store& store_;
  const Principal caller_;
  bool started_ = false;
  v1::ImportCohortRequest first_;  // the manifest
  std::string events_;
};

// The response presents the cohort through its read rule.
template <>
struct Presenter<v1::ImportCohortResponse> {
  static absl::StatusOr<v1::ImportCohortResponse> Present(
      const Reader& reader, v1::ImportCohortResponse response) {
    COHORTE_ASSIGN_OR_RETURN(*response.mutable_cohort(),
                             reader.Present(response.cohort()));
    return response;
  }
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_REPLICATION_COHORT_IMPORT_H_
