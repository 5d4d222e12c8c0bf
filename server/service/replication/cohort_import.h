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
// so importing a bundle twice changes nothing more. The record contents
// the bundle carries after its events are received as they stream in
// (content_intake.h: each one this instance lacks is written durably to a
// blob of its own and checked against its SHA-256), and the mutation makes
// them the contents of the versions that name them; a version whose
// content is neither in the bundle nor held here is refused.
//
// Thread-compatible: one per call, used by one thread at a time. Borrows
// the Store, which must outlive it.
#ifndef COHORTE_SERVER_SERVICE_REPLICATION_COHORT_IMPORT_H_
#define COHORTE_SERVER_SERVICE_REPLICATION_COHORT_IMPORT_H_

#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cohorte/v1/links.pb.h"
#include "server/service/access/commit.h"
#include "server/service/access/principal.h"
#include "server/service/records/content_intake.h"
#include "storage/store.h"

namespace cohorte::service {

class CohortImport {
 public:
  CohortImport(storage::Store* store, Principal caller)
      : store_(*store), caller_(std::move(caller)), intake_(*store) {}
  CohortImport(const CohortImport&) = delete;
  CohortImport& operator=(const CohortImport&) = delete;

  ~CohortImport();

  // Takes the stream's next message: the first holds the manifest alone,
  // the next ones events.pb's bytes, then the contents' pieces (each at
  // most kMaxImportChunkBytes). PERMISSION_DENIED unless the caller is the
  // administrator; INVALID_ARGUMENT naming the field for a bad manifest,
  // or reason BUNDLE_CORRUPT for more bytes than the manifest declares, a
  // content it does not list, out of order or not its SHA-256;
  // RESOURCE_EXHAUSTED above kMaxImportEventsBytes. Nothing is visible
  // before Finish (received contents are bytes no version names yet).
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
  absl::Status AddContent(const v1::BundleContentPiece& piece);
  // Ends the content being received, if any: BUNDLE_CORRUPT if it is not
  // whole or not its SHA-256.
  absl::Status EndContent();

  v1::ImportCohortRequest first_;  // the manifest
  std::string events_;
  // The contents received (those this instance lacked when the first
  // piece came); settled once the import ends, whatever its outcome.
  ContentIntake intake_;
  bool contents_begun_ = false;
  IncomingContents incoming_;
  IncomingContent* receiving_ = nullptr;  // the content being received
  std::set<std::string> contents_done_;   // SHA-256s received or skipped
  std::string skipping_;                  // a held content's SHA-256
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
