// Shared records through the real `cohorted` (seeded with the demo): a file
// far above the gRPC message limit round-trips in chunks with its SHA-256
// intact, and an upload cut by a killed server resumes from what was
// committed after the restart, sending nothing twice.
#include <openssl/sha.h>

#include <csignal>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/time/clock.h"
#include "cohorte/v1/records.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/pseudo_random.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace cohorte {
namespace {

using ::cohorte::testing::AddToken;
using ::cohorte::testing::ServerProcess;

constexpr int64_t kMiB = 1 << 20;

std::string Content(int64_t size, uint32_t seed) {
  return ::cohorte::testing::PseudoRandomBytes(size, seed);
}

std::string Sha256Hex(const std::string& bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
         digest);
  return absl::BytesToHexString(
      std::string(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

class RecordsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() + "/data";
    Restart();
    std::ifstream in(data_ + "/demo-tokens/thomas-petit.token");
    std::getline(in, token_);
    ASSERT_FALSE(token_.empty());
  }

  void Restart() {
    server_ = ServerProcess::Start(data_, {"--seed-demo"});
    ASSERT_NE(server_, nullptr);
    stub_ = v1::RecordService::NewStub(server_->channel());
  }

  v1::Record CreateRecord(const std::string& id) {
    grpc::ClientContext ctx;
    AddToken(&ctx, token_);
    v1::CreateRecordRequest req;
    req.set_parent("cohorts/occitanie");
    req.set_record_id(id);
    req.mutable_record()->set_title("Mallette pédagogique");
    req.mutable_record()->set_kind(v1::Record::MALLETTE_PEDAGOGIQUE);
    req.mutable_record()->set_visibility(v1::COHORT);
    v1::Record r;
    grpc::Status s = stub_->CreateRecord(&ctx, req, &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return r;
  }

  v1::Upload Start(const std::string& record, const std::string& content) {
    grpc::ClientContext ctx;
    AddToken(&ctx, token_);
    v1::StartUploadRequest req;
    req.set_parent(record);
    req.set_size_bytes(static_cast<int64_t>(content.size()));
    req.set_sha256(Sha256Hex(content));
    req.set_file_name("mallette.bin");
    v1::Upload u;
    grpc::Status s = stub_->StartUpload(&ctx, req, &u);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return u;
  }

  // Writes `content` from `from` up to `to` in 1 MiB chunks on one stream;
  // returns the upload as the server last answered.
  v1::Upload Write(const v1::Upload& upload, const std::string& content,
                   int64_t from, int64_t to) {
    grpc::ClientContext ctx;
    AddToken(&ctx, token_);
    v1::Upload result;
    std::unique_ptr<grpc::ClientWriter<v1::WriteUploadRequest>> writer =
        stub_->WriteUpload(&ctx, &result);
    for (int64_t offset = from; offset < to; offset += kMiB) {
      v1::WriteUploadRequest req;
      if (offset == from) req.set_name(upload.name());
      req.set_write_offset(offset);
      req.set_data(content.substr(offset, std::min(kMiB, to - offset)));
      if (!writer->Write(req)) break;
    }
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    return result;
  }

  // The content of `version`, read in chunks.
  std::string Read(const std::string& version, int* messages) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(60));
    AddToken(&ctx, token_);
    v1::ReadRecordVersionRequest req;
    req.set_name(version);
    std::unique_ptr<grpc::ClientReader<v1::ReadRecordVersionResponse>> reader =
        stub_->ReadRecordVersion(&ctx, req);
    std::string out;
    v1::ReadRecordVersionResponse chunk;
    *messages = 0;
    while (reader->Read(&chunk)) {
      out += chunk.data();
      ++*messages;
    }
    grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  // Runs the CLI as thomas-petit.
  ::cohorte::testing::ProcessResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), COHORTE_CLI_PATH);
    return ::cohorte::testing::RunProcess(
        args,
        {"COHORTE_SERVER=" + server_->address(), "COHORTE_TOKEN=" + token_});
  }

  std::string WriteFile(const std::string& name, const std::string& content) {
    const std::string path = dir_.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  ::cohorte::testing::TempDir dir_;
  std::string data_;
  std::string token_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::RecordService::Stub> stub_;
};

TEST_F(RecordsE2eTest, FileFarAboveTheMessageLimitRoundTripsInChunks) {
  const std::string content = Content(64 * kMiB + 123, 1);
  const v1::Record record = CreateRecord("mallette");
  const v1::Upload upload = Start(record.name(), content);
  const v1::Upload done =
      Write(upload, content, 0, static_cast<int64_t>(content.size()));
  ASSERT_EQ(done.state(), v1::Upload::COMPLETED);
  int messages = 0;
  const std::string read = Read(done.version(), &messages);
  EXPECT_EQ(read.size(), content.size());
  EXPECT_EQ(Sha256Hex(read), Sha256Hex(content));
  EXPECT_GE(messages, 65);  // never one message

  // The same through the CLI: a new record named after the file.
  const std::string file =
      WriteFile("Mallette atelier.bin", Content(64 * kMiB + 5, 3));
  ::cohorte::testing::ProcessResult r =
      Cli({"records", "push", file, "--cohort", "occitanie", "--kind",
           "mallette-pedagogique"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::HasSubstr(
                         "cohorts/occitanie/records/mallette-atelier/versions/"
                         "v000001"));
  EXPECT_EQ(r.err, "");  // no progress when stderr is not a terminal
  const std::string pulled = dir_.path() + "/pulled.bin";
  r = Cli({"records", "pull", "mallette-atelier", "--cohort", "occitanie",
           "--to", pulled});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::HasSubstr("(verified)"));
  EXPECT_EQ(Sha256Hex(ReadFile(pulled)), Sha256Hex(ReadFile(file)));
}

TEST_F(RecordsE2eTest, UploadCutByAKilledServerResumesFromItsCommittedSize) {
  const std::string content = Content(5 * kMiB + 7, 2);
  const v1::Record record = CreateRecord("coupe");
  const v1::Upload upload = Start(record.name(), content);
  const v1::Upload half = Write(upload, content, 0, 3 * kMiB);
  ASSERT_EQ(half.committed_size(), 3 * kMiB);
  ASSERT_EQ(server_->Stop(SIGKILL), 128 + SIGKILL);
  Restart();
  // Starting the same content again is resuming it.
  const v1::Upload resumed = Start(record.name(), content);
  EXPECT_EQ(resumed.name(), upload.name());
  ASSERT_EQ(resumed.committed_size(), 3 * kMiB);
  const v1::Upload done = Write(resumed, content, resumed.committed_size(),
                                static_cast<int64_t>(content.size()));
  ASSERT_EQ(done.state(), v1::Upload::COMPLETED);
  int messages = 0;
  EXPECT_EQ(Sha256Hex(Read(done.version(), &messages)), Sha256Hex(content));
}

TEST_F(RecordsE2eTest, UploadWhoseServerIsKilledMidBatchResumesByteIdentical) {
  // Two commit units (kUploadCommitBytes) and a bit: the kill comes after
  // the first is committed, while the second is still being sent.
  const std::string content = Content(128 * kMiB + 11, 5);
  const v1::Record record = CreateRecord("mi-lot");
  const v1::Upload upload = Start(record.name(), content);
  // One stream sends everything; the server is killed once part of it is
  // committed and the rest is still read ahead, flushed or in flight.
  std::thread sender([&] {
    grpc::ClientContext ctx;
    AddToken(&ctx, token_);
    v1::Upload result;
    auto writer = stub_->WriteUpload(&ctx, &result);
    for (int64_t offset = 0; offset < static_cast<int64_t>(content.size());
         offset += kMiB) {
      v1::WriteUploadRequest req;
      if (offset == 0) req.set_name(upload.name());
      req.set_write_offset(offset);
      req.set_data(content.substr(offset, kMiB));
      if (!writer->Write(req)) break;
    }
    writer->WritesDone();
    writer->Finish().ok();  // cut by the kill
  });
  int64_t committed = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (committed == 0 && absl::Now() < deadline) {
    grpc::ClientContext ctx;
    AddToken(&ctx, token_);
    v1::QueryUploadRequest query;
    query.set_name(upload.name());
    v1::Upload u;
    if (stub_->QueryUpload(&ctx, query, &u).ok())
      committed = u.committed_size();
  }
  ASSERT_GT(committed, 0);
  ASSERT_EQ(server_->Stop(SIGKILL), 128 + SIGKILL);
  sender.join();
  Restart();
  const v1::Upload resumed = Start(record.name(), content);
  ASSERT_EQ(resumed.name(), upload.name());
  ASSERT_GE(resumed.committed_size(), committed);
  ASSERT_LT(resumed.committed_size(), static_cast<int64_t>(content.size()));
  EXPECT_EQ(resumed.committed_size() % kMiB, 0);
  // What is committed is what was sent, and the rest follows it.
  EXPECT_EQ(resumed.committed_sha256(),
            Sha256Hex(content.substr(0, resumed.committed_size())));
  const v1::Upload done = Write(resumed, content, resumed.committed_size(),
                                static_cast<int64_t>(content.size()));
  ASSERT_EQ(done.state(), v1::Upload::COMPLETED);
  int messages = 0;
  EXPECT_EQ(Sha256Hex(Read(done.version(), &messages)), Sha256Hex(content));
}

TEST_F(RecordsE2eTest, CliPushAndPullPickUpWhereAnInterruptedRunStopped) {
  const std::string content = Content(12 * kMiB + 3, 4);
  const std::string file = WriteFile("plan.bin", content);
  // A push of plan.bin cut after 5 MiB by a server killed with -9.
  const v1::Record record = CreateRecord("plan");
  const v1::Upload half =
      Write(Start(record.name(), content), content, 0, 5 * kMiB);
  ASSERT_EQ(half.committed_size(), 5 * kMiB);
  ASSERT_EQ(server_->Stop(SIGKILL), 128 + SIGKILL);
  Restart();
  ::cohorte::testing::ProcessResult r = Cli(
      {"records", "push", file, "--cohort", "occitanie", "--record", "plan"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err,
              ::testing::HasSubstr("resuming " + half.name() + " at 5.0 MiB"));
  EXPECT_THAT(r.out, ::testing::HasSubstr("records/plan/versions/v000001"));
  // Pushed again unchanged: nothing sent, no new version.
  r = Cli(
      {"records", "push", file, "--cohort", "occitanie", "--record", "plan"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, ::testing::HasSubstr("nothing sent"));

  // A pull cut after 3 MiB left plan-copy.bin.part: it goes on from there.
  const std::string target = dir_.path() + "/plan-copy.bin";
  WriteFile("plan-copy.bin.part", content.substr(0, 3 * kMiB));
  r = Cli({"records", "pull", "plan", "--cohort", "occitanie", "--to", target});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, ::testing::HasSubstr("resuming at 3.0 MiB"));
  EXPECT_TRUE(ReadFile(target) == content);
  // A damaged .part is caught by the SHA-256: nothing kept.
  std::string damaged = content.substr(0, 3 * kMiB);
  damaged[1000] ^= 1;
  const std::string other = dir_.path() + "/plan-damaged.bin";
  WriteFile("plan-damaged.bin.part", damaged);
  r = Cli({"records", "pull", "plan", "--cohort", "occitanie", "--to", other});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, ::testing::HasSubstr("DATA_LOSS"));
  EXPECT_FALSE(std::ifstream(other).good());
  EXPECT_FALSE(std::ifstream(other + ".part").good());
}

}  // namespace
}  // namespace cohorte
