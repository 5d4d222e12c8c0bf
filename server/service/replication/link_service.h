// File: server/service/replication/link_service.h
//
// LinkService: the API of links (proto/cohorte/v1/links.proto), for the
// administrator only. A link is stored as a LinkRecord (the API form, the
// peer's token secret, an optional mTLS key, the resume cursor); the change
// log and the audit log get the API form only. The Replicator
// (replicator.h) runs the links; this service tells it after each commit.
//
// Thread-safe: holds a borrowed Store and Replicator, which must outlive
// it.
#ifndef COHORTE_SERVER_SERVICE_REPLICATION_LINK_SERVICE_H_
#define COHORTE_SERVER_SERVICE_REPLICATION_LINK_SERVICE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "cohorte/v1/links.pb.h"
#include "server/service/access/commit.h"
#include "server/service/access/principal.h"
#include "server/service/replication/cohort_import.h"
#include "server/service/replication/replicator.h"
#include "storage/store.h"

namespace cohorte::service {

class LinkService {
 public:
  LinkService(storage::Store* store, Replicator* replicator)
      : store_(*store), replicator_(*replicator) {}
  LinkService(const LinkService&) = delete;
  LinkService& operator=(const LinkService&) = delete;

  // The new link, SNAPSHOTTING; its worker starts at once.
  // PERMISSION_DENIED unless the caller is the administrator;
  // INVALID_ARGUMENT naming the field (link_id, link.display_name,
  // link.endpoint, link.cohorts[i], link.tls_*, link.peer_instance_id,
  // token, client_key_pem); ALREADY_EXISTS; FAILED_PRECONDITION
  // (NAME_CONFLICT) if a followed cohort exists here or another link
  // follows it, or when kMaxLinks links exist.
  absl::StatusOr<v1::Link> CreateLink(const Principal& caller,
                                      const v1::CreateLinkRequest& req);
  absl::StatusOr<v1::Link> GetLink(const Principal& caller,
                                   const v1::GetLinkRequest& req);
  absl::StatusOr<v1::ListLinksResponse> ListLinks(
      const Principal& caller, const v1::ListLinksRequest& req);
  // FAILED_PRECONDITION if already paused; ABORTED on an etag mismatch.
  absl::StatusOr<v1::Link> PauseLink(const Principal& caller,
                                     const v1::PauseLinkRequest& req);
  // FAILED_PRECONDITION unless paused or in ERROR (then retried now).
  absl::StatusOr<v1::Link> ResumeLink(const Principal& caller,
                                      const v1::ResumeLinkRequest& req);
  // Stops and deletes the link and, unless keep_copies, every copy it
  // made; returns it as it was.
  absl::StatusOr<v1::Link> DeleteLink(const Principal& caller,
                                      const v1::DeleteLinkRequest& req);
  // One ImportCohort call of `caller`: feed it the stream's messages, then
  // Finish (cohort_import.h).
  std::unique_ptr<CohortImport> StartImport(const Principal& caller) {
    return std::make_unique<CohortImport>(&store_, caller);
  }

 private:
  absl::StatusOr<v1::Link> Change(const Principal& caller,
                                  absl::string_view method,
                                  const google::protobuf::Message& req,
                                  absl::string_view name,
                                  absl::string_view etag, int action,
                                  bool keep_copies);

  storage::Store& store_;
  Replicator& replicator_;
};

// A link's response is presented through the LinkRecord rule.
template <>
struct Presenter<v1::Link> {
  static absl::StatusOr<v1::Link> Present(const Reader& reader, v1::Link link) {
    storage::v1::LinkRecord record;
    *record.mutable_link() = link;
    COHORTE_RETURN_IF_ERROR(reader.Present(link.name(), record).status());
    return link;
  }
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_REPLICATION_LINK_SERVICE_H_
