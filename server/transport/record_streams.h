// File: server/transport/record_streams.h
//
// The two streaming RPCs of RecordService as callback reactors over
// CallHandler's workers, each a pipeline. WriteUpload (client streaming)
// reads ahead while a worker writes the chunks read before, in batches of
// up to kMaxUploadBatchBytes, to the stream's table file
// (RecordService::WriteUpload with an UploadStream: one ingestion of the
// file and one small commit per kUploadCommitBytes, and at the end of the
// stream), so the network, the hashing and the disk overlap. ReadRecordVersion
// (server streaming) has a worker read up to kMaxDownloadReadAheadBytes through
// the gate while the messages (at most 1 MiB each) read before are sent. Either
// holds a bounded amount in memory (two batches up, two read-aheads down),
// whatever the file's size, and no gRPC event thread ever waits on the
// store. Each reactor finishes exactly once, with no gRPC operation
// started under its mutex, and deletes itself in OnDone.
//
// Thread-safe; the CallHandler and RecordService must outlive the calls.
#ifndef COHORTE_SERVER_TRANSPORT_RECORD_STREAMS_H_
#define COHORTE_SERVER_TRANSPORT_RECORD_STREAMS_H_

#include "cohorte/v1/records.grpc.pb.h"
#include "grpcpp/support/server_callback.h"
#include "server/service/records/record_service.h"
#include "server/transport/call_handler.h"

namespace cohorte::transport {

// Starts serving a WriteUpload call; the reactor owns itself.
grpc::ServerReadReactor<v1::WriteUploadRequest>* StartWriteUpload(
    CallHandler& calls, service::RecordService& records,
    grpc::CallbackServerContext* context, v1::Upload* response);

// Starts serving a ReadRecordVersion call; the reactor owns itself.
grpc::ServerWriteReactor<v1::ReadRecordVersionResponse>* StartReadRecordVersion(
    CallHandler& calls, service::RecordService& records,
    grpc::CallbackServerContext* context,
    const v1::ReadRecordVersionRequest* request);

}  // namespace cohorte::transport

#endif  // COHORTE_SERVER_TRANSPORT_RECORD_STREAMS_H_
