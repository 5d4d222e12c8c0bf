// File: server/transport/record_streams.h
//
// The two streaming RPCs of RecordService as callback reactors over
// CallHandler's workers: WriteUpload (client streaming: each chunk is
// handed to RecordService::WriteUpload on a worker, and the next is read
// only once it is durable) and ReadRecordVersion (server streaming: one
// chunk of at most 1 MiB read through the gate, written, then the next).
// So each call holds one chunk in memory at a time, whatever the file's
// size, and no gRPC event thread ever waits on the store. Each reactor
// finishes exactly once and deletes itself in OnDone.
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
