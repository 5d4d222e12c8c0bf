// File: server/transport/import_stream.h
//
// LinkService.ImportCohort (client streaming) as a callback reactor over
// CallHandler's workers: each message of the stream is handed to a
// service::CohortImport on a worker, and the next is read once it is taken;
// at the stream's end the import is checked and applied on a worker
// (cohort_import.h). The reactor finishes exactly once and deletes itself
// in OnDone.
//
// Thread-safe; the CallHandler and LinkService must outlive the calls.
#ifndef COHORTE_SERVER_TRANSPORT_IMPORT_STREAM_H_
#define COHORTE_SERVER_TRANSPORT_IMPORT_STREAM_H_

#include "cohorte/v1/links.grpc.pb.h"
#include "grpcpp/support/server_callback.h"
#include "server/service/replication/link_service.h"
#include "server/transport/call_handler.h"

namespace cohorte::transport {

// Starts serving an ImportCohort call; the reactor owns itself.
grpc::ServerReadReactor<v1::ImportCohortRequest>* StartImportCohort(
    CallHandler& calls, service::LinkService& links,
    grpc::CallbackServerContext* context, v1::ImportCohortResponse* response);

}  // namespace cohorte::transport

#endif  // COHORTE_SERVER_TRANSPORT_IMPORT_STREAM_H_
