// stream_ceiling: what this machine can reach at best for a shared
// record's bytes, for the README's records figures. In one process, over
// loopback TCP like cohorted and the CLI, a bare RecordService (no
// RocksDB, no hashing, no authentication) streams --mb MiB in 1 MiB
// messages from memory: client streaming (WriteUpload, the messages
// read and dropped) and server streaming (ReadRecordVersion, the same
// message sent again). Then SHA-256 (OpenSSL EVP) of --mb MiB in memory,
// the hashing each end of a push or pull does. Prints one line per figure.
//
//   build-rel/tests/stream_ceiling [--mb=1024]

#include <openssl/evp.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "cohorte/v1/records.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/server_builder.h"

namespace {

constexpr int kChunkBytes = 1 << 20;

// Serves WriteUpload and ReadRecordVersion from memory; the read streams
// `chunks` messages of 1 MiB.
class MemoryRecords final : public cohorte::v1::RecordService::Service {
 public:
  explicit MemoryRecords(int chunks) : chunks_(chunks) {
    chunk_.set_data(std::string(kChunkBytes, 'x'));
  }
  grpc::Status WriteUpload(
      grpc::ServerContext*,
      grpc::ServerReader<cohorte::v1::WriteUploadRequest>* reader,
      cohorte::v1::Upload* response) override {
    cohorte::v1::WriteUploadRequest req;
    int64_t bytes = 0;
    while (reader->Read(&req)) bytes += static_cast<int64_t>(req.data().size());
    response->set_committed_size(bytes);
    return grpc::Status::OK;
  }
  grpc::Status ReadRecordVersion(
      grpc::ServerContext*, const cohorte::v1::ReadRecordVersionRequest*,
      grpc::ServerWriter<cohorte::v1::ReadRecordVersionResponse>* writer)
      override {
    for (int i = 0; i < chunks_; ++i) {
      if (!writer->Write(chunk_)) break;
    }
    return grpc::Status::OK;
  }

 private:
  const int chunks_;
  cohorte::v1::ReadRecordVersionResponse chunk_;
};

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

void Print(const char* what, int mb, double seconds) {
  std::printf("%s: %.2f s, %.0f MiB/s\n", what, seconds, mb / seconds);
}

}  // namespace

int main(int argc, char** argv) {
  int mb = 1024;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (!absl::ConsumePrefix(&arg, "--mb=") || !absl::SimpleAtoi(arg, &mb) ||
        mb <= 0) {
      std::fprintf(stderr, "usage: stream_ceiling [--mb=1024]\n");
      return 64;
    }
  }
  MemoryRecords service(mb);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  auto stub = cohorte::v1::RecordService::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));

  {
    grpc::ClientContext ctx;
    cohorte::v1::Upload result;
    cohorte::v1::WriteUploadRequest req;
    req.set_data(std::string(kChunkBytes, 'x'));
    const auto t0 = std::chrono::steady_clock::now();
    auto writer = stub->WriteUpload(&ctx, &result);
    for (int i = 0; i < mb; ++i) {
      req.set_write_offset(int64_t{i} * kChunkBytes);
      if (!writer->Write(req)) break;
    }
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    if (!s.ok() || result.committed_size() != int64_t{mb} * kChunkBytes) {
      std::fprintf(stderr, "client streaming failed: %s\n",
                   s.error_message().c_str());
      return 1;
    }
    Print("bare gRPC client streaming (as a push)", mb, Since(t0));
  }
  {
    grpc::ClientContext ctx;
    cohorte::v1::ReadRecordVersionRequest req;
    cohorte::v1::ReadRecordVersionResponse chunk;
    const auto t0 = std::chrono::steady_clock::now();
    auto reader = stub->ReadRecordVersion(&ctx, req);
    int64_t bytes = 0;
    while (reader->Read(&chunk))
      bytes += static_cast<int64_t>(chunk.data().size());
    grpc::Status s = reader->Finish();
    if (!s.ok() || bytes != int64_t{mb} * kChunkBytes) {
      std::fprintf(stderr, "server streaming failed: %s\n",
                   s.error_message().c_str());
      return 1;
    }
    Print("bare gRPC server streaming (as a pull)", mb, Since(t0));
  }
  {
    const std::string data(kChunkBytes, 'x');
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const auto t0 = std::chrono::steady_clock::now();
    EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
    for (int i = 0; i < mb; ++i)
      EVP_DigestUpdate(ctx, data.data(), data.size());
    EVP_DigestFinal_ex(ctx, digest, &size);
    Print("SHA-256 in memory (one thread)", mb, Since(t0));
    EVP_MD_CTX_free(ctx);
  }
  server->Shutdown();
  return 0;
}
