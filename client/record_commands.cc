#include "client/record_commands.h"

#include <malloc.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/call.h"
#include "client/direct_file.h"
#include "client/labels.h"
#include "client/output.h"
#include "cohorte/v1/records.grpc.pb.h"

namespace cohorte::client {
namespace {

constexpr int64_t kChunkBytes = 1 << 20;
// A file up to this size is hashed before it is sent (a pass over it costs
// little), so that its SHA-256 is announced and the server may ask for the
// proof shortcut instead of the bytes; a larger one is hashed while it is
// sent, unless it may be the record's latest version already.
constexpr int64_t kHashFirstBytes = int64_t{64} << 20;

struct RecordFlags {
  std::string name, cohort, file, record, title, kind, visibility, group;
  std::string note, media_type, to;
  int64_t version = 0;
  bool show_deleted = false;
  PageFlags page;
};

// A streaming SHA-256 (EVP).
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
  }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  void Update(const char* data, size_t size) {
    EVP_DigestUpdate(ctx_, data, size);
  }
  // Back to no bytes.
  void Reset() { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  // The digest of the bytes so far (the hash goes on: it finishes a copy).
  std::string HexDigest() const {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_MD_CTX* copy = EVP_MD_CTX_new();
    EVP_MD_CTX_copy_ex(copy, ctx_);
    EVP_DigestFinal_ex(copy, digest, &size);
    EVP_MD_CTX_free(copy);
    return absl::BytesToHexString(
        absl::string_view(reinterpret_cast<const char*>(digest), size));
  }

 private:
  EVP_MD_CTX* const ctx_;
};

// Hashes the first `limit` bytes of `in` (all if -1) into `hash`; false
// on a read error.
bool HashStream(std::istream& in, int64_t limit, Sha256* hash) {
  std::vector<char> buffer(kChunkBytes);
  int64_t left = limit;
  while (limit < 0 || left > 0) {
    const int64_t want = limit < 0 ? kChunkBytes : std::min(left, kChunkBytes);
    in.read(buffer.data(), want);
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    hash->Update(buffer.data(), static_cast<size_t>(got));
    left -= got;
  }
  return !in.bad() && (limit < 0 || left == 0);
}

std::string Bytes(int64_t n) {
  if (n < 1024) return absl::StrCat(n, " B");
  if (n < (int64_t{1} << 20)) return absl::StrFormat("%.1f KiB", n / 1024.0);
  if (n < (int64_t{1} << 30)) {
    return absl::StrFormat("%.1f MiB", n / 1048576.0);
  }
  return absl::StrFormat("%.2f GiB", n / 1073741824.0);
}

// A progress line on stderr when it is a terminal: done/total, rate, time
// left. Silent otherwise.
class Progress {
 public:
  Progress(std::string what, int64_t start, int64_t total)
      : what_(std::move(what)),
        start_bytes_(start),
        total_(total),
        shown_(::isatty(STDERR_FILENO) == 1) {}
  void Update(int64_t done) {
    if (!shown_) return;
    const absl::Time now = absl::Now();
    if (now - last_ < absl::Milliseconds(200) && done < total_) return;
    last_ = now;
    const double seconds = absl::ToDoubleSeconds(now - start_);
    const double rate = seconds > 0 ? (done - start_bytes_) / seconds : 0;
    std::string left = "--";
    if (rate > 0) {
      const int64_t s = static_cast<int64_t>((total_ - done) / rate);
      left = absl::StrFormat("%d:%02d", s / 60, s % 60);
    }
    std::fprintf(stderr, "\r%s %s / %s  %s/s  %s left   ", what_.c_str(),
                 Bytes(done).c_str(), Bytes(total_).c_str(),
                 Bytes(static_cast<int64_t>(rate)).c_str(), left.c_str());
    if (done >= total_) std::fprintf(stderr, "\n");
  }

 private:
  const std::string what_;
  const int64_t start_bytes_;
  const int64_t total_;
  const bool shown_;
  const absl::Time start_ = absl::Now();
  absl::Time last_ = absl::InfinitePast();
};

// A context for a stream: the token, and no deadline (a large file takes
// as long as it takes).
void PrepareStream(const CommandEnv& env, grpc::ClientContext* ctx) {
  env.connection()->Prepare(ctx);
  ctx->set_deadline(std::chrono::system_clock::time_point::max());
}

// A record id from a file name: `CR journée 1.pdf` → `cr-journee-1`.
std::string IdFromFileName(const std::string& path) {
  std::string stem = std::filesystem::path(path).stem().string();
  std::string id;
  for (size_t i = 0; i < stem.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(stem[i]);
    if (absl::ascii_isalnum(c)) {
      id.push_back(absl::ascii_tolower(c));
    } else if (c >= 0x80) {
      // UTF-8 letters: keep a plain one for the common French accents.
      const std::string two = stem.substr(i, 2);
      static const std::vector<std::pair<std::string, char>> kPlain = {
          {"é", 'e'}, {"è", 'e'}, {"ê", 'e'}, {"ë", 'e'}, {"à", 'a'},
          {"â", 'a'}, {"î", 'i'}, {"ï", 'i'}, {"ô", 'o'}, {"ù", 'u'},
          {"û", 'u'}, {"ç", 'c'}, {"É", 'e'}, {"À", 'a'}};
      for (const auto& [accented, plain] : kPlain) {
        if (two == accented) {
          id.push_back(plain);
          break;
        }
      }
      if (c >= 0xc0) ++i;
    } else if (!id.empty() && id.back() != '-') {
      id.push_back('-');
    }
  }
  while (!id.empty() && id.back() == '-') id.pop_back();
  if (id.empty() || !absl::ascii_isalpha(static_cast<unsigned char>(id[0]))) {
    id = "r-" + id;
  }
  return id.substr(0, 63);
}

void ShowRecord(const v1::Record& r) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"name", r.name()},
      {"title", r.title()},
      {"kind", Label(r.kind())},
      {"visibility", Label(r.visibility())},
      {"group", r.group()},
      {"creator", r.creator()},
      {"latest version", r.latest().name()},
      {"size", r.has_latest() ? Bytes(r.latest().size_bytes()) : ""},
      {"sha256", r.latest().sha256()},
      {"deleted", r.has_delete_time() ? "yes" : ""},
      {"etag", r.etag()}};
  fields.erase(std::remove_if(fields.begin(), fields.end(),
                              [](const auto& f) { return f.second.empty(); }),
               fields.end());
  PrintFields(fields);
}

// Reads a file's chunks from `offset` to `size` and hashes them on a
// thread of its own, a few chunks ahead of the sender: reading, hashing
// and sending overlap. The last chunk carries the whole file's SHA-256
// (`hash` must hold that of the bytes before `offset`). Not thread-safe
// (one sender); `in` and `hash` must outlive it.
class ChunkReader {
 public:
  ChunkReader(std::istream* in, Sha256* hash, int64_t offset, int64_t size)
      : in_(*in), hash_(*hash), offset_(offset), size_(size) {
    thread_ = std::thread([this] { Run(); });
  }
  ChunkReader(const ChunkReader&) = delete;
  ChunkReader& operator=(const ChunkReader&) = delete;
  ~ChunkReader() { Stop(); }

  // The next chunk into `req` (offset, data and, for the last, sha256);
  // false at the end or if the file could not be read.
  bool Next(v1::WriteUploadRequest* req) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !ready_.empty() || finished_; });
    if (ready_.empty()) return false;
    v1::WriteUploadRequest& next = ready_.front();
    req->set_write_offset(next.write_offset());
    req->mutable_data()->swap(*next.mutable_data());
    req->set_sha256(next.sha256());
    ready_.pop_front();
    cv_.notify_all();
    return true;
  }

  // Ends the reading; true if the whole file was read.
  bool Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
    return read_all_;
  }

 private:
  static constexpr size_t kAhead = 8;

  void Run() {
    int64_t at = offset_;
    while (at < size_) {
      v1::WriteUploadRequest chunk;
      std::string* data = chunk.mutable_data();
      data->resize(static_cast<size_t>(std::min(kChunkBytes, size_ - at)));
      in_.read(data->data(), static_cast<std::streamsize>(data->size()));
      if (in_.gcount() != static_cast<std::streamsize>(data->size())) break;
      hash_.Update(data->data(), data->size());
      chunk.set_write_offset(at);
      at += static_cast<int64_t>(data->size());
      if (at == size_) chunk.set_sha256(hash_.HexDigest());
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return ready_.size() < kAhead || stopped_; });
      if (stopped_) break;
      ready_.push_back(std::move(chunk));
      cv_.notify_all();
    }
    std::lock_guard<std::mutex> lock(mu_);
    read_all_ = at == size_;
    finished_ = true;
    cv_.notify_all();
  }

  std::istream& in_;
  Sha256& hash_;
  const int64_t offset_;
  const int64_t size_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<v1::WriteUploadRequest> ready_;  // guarded by mu_
  bool stopped_ = false;                      // guarded by mu_
  bool finished_ = false;                     // guarded by mu_
  bool read_all_ = false;  // written by the thread before it ends
};

// Writes and hashes a pulled file's chunks on two threads of their own, a
// few chunks behind the receiver: receiving, writing and hashing overlap.
// Holds at most kAhead chunks not yet both written and hashed. Not
// thread-safe (one receiver); `out` and `hash` must outlive it.
class ChunkSink {
 public:
  ChunkSink(std::ostream* out, Sha256* hash) : out_(*out), hash_(*hash) {
    writer_ = std::thread([this] {
      Drain(&to_write_, [this](const std::string& chunk) {
        out_.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      });
    });
    hasher_ = std::thread([this] {
      Drain(&to_hash_, [this](const std::string& chunk) {
        hash_.Update(chunk.data(), chunk.size());
      });
    });
  }
  ChunkSink(const ChunkSink&) = delete;
  ChunkSink& operator=(const ChunkSink&) = delete;
  ~ChunkSink() { Finish(); }

  // Hands `chunk` (taken) to both threads; waits while kAhead chunks are
  // pending on either.
  void Push(std::string* chunk) {
    auto shared = std::make_shared<std::string>();
    shared->swap(*chunk);
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] {
      return to_write_.size() < kAhead && to_hash_.size() < kAhead;
    });
    to_write_.push_back(shared);
    to_hash_.push_back(std::move(shared));
    cv_.notify_all();
  }

  // Waits until every chunk is written and hashed; the threads end.
  void Finish() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ended_ = true;
      cv_.notify_all();
    }
    if (writer_.joinable()) writer_.join();
    if (hasher_.joinable()) hasher_.join();
  }

 private:
  static constexpr size_t kAhead = 8;
  using Queue = std::deque<std::shared_ptr<const std::string>>;

  template <typename Fn>
  void Drain(Queue* queue, Fn fn) {
    for (;;) {
      std::shared_ptr<const std::string> chunk;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return !queue->empty() || ended_; });
        if (queue->empty()) return;
        chunk = queue->front();
      }
      fn(*chunk);
      std::lock_guard<std::mutex> lock(mu_);
      queue->pop_front();
      cv_.notify_all();
    }
  }

  std::ostream& out_;  // written by the writer thread only
  Sha256& hash_;       // updated by the hasher thread only
  std::thread writer_;
  std::thread hasher_;
  std::mutex mu_;
  std::condition_variable cv_;
  Queue to_write_;      // guarded by mu_
  Queue to_hash_;       // guarded by mu_
  bool ended_ = false;  // guarded by mu_
};

// Sends the proof chunks `upload` asks for (the content is held already:
// see StartUpload); the upload as the server left it in `*upload`.
grpc::Status SendProof(const CommandEnv& env, v1::RecordService::Stub& stub,
                       std::ifstream& in, int64_t size, v1::Upload* upload) {
  grpc::ClientContext ctx;
  PrepareStream(env, &ctx);
  v1::Upload result;
  std::unique_ptr<grpc::ClientWriter<v1::WriteUploadRequest>> writer =
      stub.WriteUpload(&ctx, &result);
  std::vector<char> buffer(kChunkBytes);
  v1::WriteUploadRequest req;
  req.set_name(upload->name());
  for (int64_t offset : upload->proof_offsets()) {
    in.clear();
    in.seekg(offset);
    in.read(buffer.data(), std::min(kChunkBytes, size - offset));
    req.set_write_offset(offset);
    req.set_data(buffer.data(), static_cast<size_t>(in.gcount()));
    if (!writer->Write(req)) break;
    req.clear_name();
  }
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  if (s.ok()) *upload = result;
  return s;
}

// A push or pull moves its file through 1 MiB buffers on three threads:
// by default glibc gives each freed buffer back to the kernel (its trim
// threshold follows the largest block freed, about 2 MiB) and faults
// fresh zeroed pages in for the next. Kept instead (the CLI holds at most
// about 20 chunks at once, so its memory stays bounded).
void KeepFreedBuffers() {
  mallopt(M_MMAP_THRESHOLD, 2 << 20);
  mallopt(M_TRIM_THRESHOLD, 32 << 20);
}

int Push(const CommandEnv& env, const RecordFlags& f) {
  KeepFreedBuffers();
  std::ifstream in(f.file, std::ios::binary);
  if (!in) return UsageError("<file>", "cannot read " + f.file);
  std::error_code ec;
  const int64_t size =
      static_cast<int64_t>(std::filesystem::file_size(f.file, ec));
  if (ec || size == 0) return UsageError("<file>", f.file + " is empty");
  // The SHA-256, now if the file is small (see kHashFirstBytes), else
  // while it is sent.
  std::string sha256;
  auto hash_first = [&]() -> bool {
    if (!sha256.empty()) return true;
    Sha256 hash;
    in.clear();
    in.seekg(0);
    if (!HashStream(in, -1, &hash)) return false;
    sha256 = hash.HexDigest();
    return true;
  };
  if (size <= kHashFirstBytes && !hash_first()) {
    return UsageError("<file>", "cannot read " + f.file);
  }
  auto stub = v1::RecordService::NewStub(env.connection()->channel());

  // The record: named by --record, or after the file; made if missing.
  std::string record;
  NameContext names;
  names.cohort = f.cohort.empty() ? "" : CohortName(f.cohort);
  if (!Resolve(NameKind::kRecord,
               f.record.empty() ? IdFromFileName(f.file) : f.record, "--record",
               names, &record)) {
    return kExitUsage;
  }
  {
    grpc::ClientContext ctx;
    env.connection()->Prepare(&ctx);
    v1::GetRecordRequest get;
    get.set_name(record);
    v1::Record existing;
    grpc::Status s = stub->GetRecord(&ctx, get, &existing);
    if (s.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
      v1::CreateRecordRequest create;
      create.set_parent(record.substr(0, record.find("/records/")));
      create.set_record_id(record.substr(record.rfind('/') + 1));
      v1::Record* r = create.mutable_record();
      r->set_title(f.title.empty()
                       ? std::filesystem::path(f.file).filename().string()
                       : f.title);
      v1::Record::Kind kind = v1::Record::OTHER;
      if (!f.kind.empty() && !ParseEnumFlag("--kind", f.kind, &kind)) {
        return kExitUsage;
      }
      r->set_kind(kind);
      v1::Visibility visibility = v1::COHORT;
      if (!f.visibility.empty() &&
          !ParseEnumFlag("--visibility", f.visibility, &visibility)) {
        return kExitUsage;
      }
      r->set_visibility(visibility);
      if (!f.group.empty() && !Resolve(NameKind::kGroup, f.group, "--group",
                                       NameContext{create.parent(), "", "", ""},
                                       r->mutable_group())) {
        return kExitUsage;
      }
      grpc::ClientContext create_ctx;
      env.connection()->Prepare(&create_ctx);
      s = stub->CreateRecord(&create_ctx, create, &existing);
    }
    if (!s.ok()) return ReportError(s);
    // Perhaps this file already: worth a pass over it to know.
    if (existing.latest().size_bytes() == size && !hash_first()) {
      return UsageError("<file>", "cannot read " + f.file);
    }
    if (!sha256.empty() && existing.latest().sha256() == sha256) {
      std::cerr << f.file << " is already " << existing.latest().name()
                << "; nothing sent\n";
      PrintMessage(existing.latest(), env.format, [&] {
        PrintFields({{"version", existing.latest().name()},
                     {"size", Bytes(size)},
                     {"sha256", sha256}});
      });
      return kExitOk;
    }
  }

  // The upload: the server resumes this caller's session of the same file.
  v1::Upload upload;
  auto start_upload = [&](bool new_upload) {
    grpc::ClientContext ctx;
    env.connection()->Prepare(&ctx);
    v1::StartUploadRequest start;
    start.set_parent(record);
    start.set_size_bytes(size);
    start.set_sha256(sha256);
    start.set_media_type(f.media_type);
    start.set_file_name(std::filesystem::path(f.file).filename().string());
    start.set_note(f.note);
    start.set_new_upload(new_upload);
    return stub->StartUpload(&ctx, start, &upload);
  };
  for (int attempt = 1;; ++attempt) {
    grpc::Status started = start_upload(/*new_upload=*/false);
    if (!started.ok()) return ReportError(started);
    // Resuming: the file must still start with what was committed.
    Sha256 hash;
    if (upload.state() == v1::Upload::ACTIVE && upload.committed_size() > 0 &&
        upload.proof_offsets().empty()) {
      in.clear();
      in.seekg(0);
      if (!HashStream(in, upload.committed_size(), &hash)) {
        return UsageError("<file>", "cannot read " + f.file);
      }
      if (hash.HexDigest() == upload.committed_sha256()) {
        std::cerr << "resuming " << upload.name() << " at "
                  << Bytes(upload.committed_size()) << "\n";
      } else {
        std::cerr << f.file << " changed since " << upload.name()
                  << " began; starting again\n";
        started = start_upload(/*new_upload=*/true);
        if (!started.ok()) return ReportError(started);
        hash.Reset();
      }
    }
    if (upload.state() == v1::Upload::ACTIVE &&
        !upload.proof_offsets().empty()) {
      // The content is held already and readable to this caller: the
      // server asks for proof chunks, not the file.
      grpc::Status s = SendProof(env, *stub, in, size, &upload);
      if (!s.ok()) return ReportError(s);
    } else if (upload.state() == v1::Upload::ACTIVE) {
      in.clear();
      in.seekg(upload.committed_size());
      grpc::ClientContext ctx;
      PrepareStream(env, &ctx);
      v1::Upload result;
      std::unique_ptr<grpc::ClientWriter<v1::WriteUploadRequest>> writer =
          stub->WriteUpload(&ctx, &result);
      Progress progress("push", upload.committed_size(), size);
      ChunkReader chunks(&in, &hash, upload.committed_size(), size);
      v1::WriteUploadRequest req;
      req.set_name(upload.name());
      while (chunks.Next(&req)) {
        if (!writer->Write(req)) break;  // the server ended the call
        req.clear_name();
        progress.Update(req.write_offset() +
                        static_cast<int64_t>(req.data().size()));
      }
      const bool read_all = chunks.Stop();
      writer->WritesDone();
      grpc::Status s = writer->Finish();
      // The stream of an earlier, cut push may still have committed
      // chunks it had sent after this one looked: start again from there.
      if (s.error_code() == grpc::StatusCode::OUT_OF_RANGE && attempt < 3) {
        continue;
      }
      if (!s.ok()) return ReportError(s);
      if (!read_all) return UsageError("<file>", f.file + " changed meanwhile");
      upload = result;
    }
    break;
  }
  if (upload.state() != v1::Upload::COMPLETED) {
    std::cerr << "Error: UNAVAILABLE: the upload stopped at "
              << Bytes(upload.committed_size())
              << "; run the same push again to resume\n";
    return kExitUnavailable;
  }
  PrintMessage(upload, env.format, [&] {
    PrintFields({{"version", upload.version()},
                 {"size", Bytes(size)},
                 {"sha256", upload.sha256()}});
  });
  return kExitOk;
}

int Pull(const CommandEnv& env, const RecordFlags& f) {
  KeepFreedBuffers();
  std::string record;
  NameContext names;
  names.cohort = f.cohort.empty() ? "" : CohortName(f.cohort);
  if (!Resolve(NameKind::kRecord, f.name, "<name>", names, &record)) {
    return kExitUsage;
  }
  auto stub = v1::RecordService::NewStub(env.connection()->channel());
  v1::RecordVersion version;
  {
    // The version: --version N, or the latest.
    grpc::ClientContext ctx;
    env.connection()->Prepare(&ctx);
    v1::ListRecordVersionsRequest list;
    list.set_parent(record);
    list.set_page_size(1000);
    v1::ListRecordVersionsResponse versions;
    grpc::Status s = stub->ListRecordVersions(&ctx, list, &versions);
    if (!s.ok()) return ReportError(s);
    bool found = false;
    for (const v1::RecordVersion& v : versions.versions()) {
      if (f.version == 0 || v.number() == f.version) {
        version = v;
        found = true;
        break;
      }
    }
    if (!found) {
      std::cerr << "Error: NOT_FOUND: " << record
                << (f.version == 0
                        ? " has no version yet"
                        : " has no version " + std::to_string(f.version))
                << "\n";
      return kExitNotFound;
    }
  }
  const bool to_stdout = f.to == "-";
  // By default, the version's file name in this directory (the server
  // refuses a '/' in it; "." and ".." name no file).
  const std::string& named = version.file_name();
  const std::string target = !f.to.empty() ? f.to
                             : named.empty() || named == "." || named == ".."
                                 ? IdFromFileName(record)
                                 : named;
  const std::string part = target + ".part";
  // A .part left by an interrupted pull continues where it stopped.
  int64_t offset = 0;
  auto hash = std::make_unique<Sha256>();
  std::unique_ptr<std::ostream> out_file;
  std::ostream* out = &std::cout;
  if (!to_stdout) {
    std::error_code ec;
    if (std::filesystem::exists(part, ec)) {
      const int64_t have =
          static_cast<int64_t>(std::filesystem::file_size(part, ec));
      std::ifstream previous(part, std::ios::binary);
      if (!ec && have <= version.size_bytes() && previous &&
          HashStream(previous, have, hash.get())) {
        offset = have;
        if (offset > 0) std::cerr << "resuming at " << Bytes(offset) << "\n";
      } else {
        hash = std::make_unique<Sha256>();
        offset = 0;
      }
    }
    // Around the page cache where the file system allows it: see
    // client/direct_file.h.
    out_file = std::make_unique<DirectFileOutput>(part, /*keep=*/offset > 0);
    if (!*out_file) return UsageError("--to", "cannot write " + part);
    out = out_file.get();
  }
  grpc::ClientContext ctx;
  PrepareStream(env, &ctx);
  v1::ReadRecordVersionRequest read;
  read.set_name(version.name());
  read.set_read_offset(offset);
  std::unique_ptr<grpc::ClientReader<v1::ReadRecordVersionResponse>> reader =
      stub->ReadRecordVersion(&ctx, read);
  Progress progress("pull", offset, version.size_bytes());
  v1::ReadRecordVersionResponse chunk;
  ChunkSink sink(out, hash.get());
  while (reader->Read(&chunk)) {
    offset += static_cast<int64_t>(chunk.data().size());
    sink.Push(chunk.mutable_data());
    progress.Update(offset);
  }
  grpc::Status s = reader->Finish();
  sink.Finish();
  out->flush();
  if (!*out) {
    std::cerr << "Error: cannot write " << (to_stdout ? "stdout" : part)
              << "\n";
    return kExitFailure;
  }
  if (!s.ok()) return ReportError(s);
  const std::string got = hash->HexDigest();
  if (got != version.sha256()) {
    if (!to_stdout) std::filesystem::remove(part);
    std::cerr << "Error: DATA_LOSS: the SHA-256 of what was read is " << got
              << ", not the version's " << version.sha256()
              << "; nothing kept\n";
    return kExitFailure;
  }
  if (!to_stdout) {
    out_file.reset();
    std::error_code ec;
    std::filesystem::rename(part, target, ec);
    if (ec) {
      std::cerr << "Error: cannot rename " << part << ": " << ec.message()
                << "\n";
      return kExitFailure;
    }
    PrintMessage(version, env.format, [&] {
      PrintFields({{"version", version.name()},
                   {"file", target},
                   {"size", Bytes(version.size_bytes())},
                   {"sha256", got + " (verified)"}});
    });
  }
  return kExitOk;
}

}  // namespace

void AddRecordCommands(CLI::App& app, const CommandEnv& env,
                       CommandRegistry& registry) {
  auto f = std::make_shared<RecordFlags>();
  auto stub = [&env] {
    return v1::RecordService::NewStub(env.connection()->channel());
  };
  CLI::App* root =
      app.add_subcommand("records", "Shared records (documents, versions)");
  root->require_subcommand(1);

  CLI::App* push = root->add_subcommand(
      "push",
      "Upload a file as a new version (resumes an interrupted push of it)");
  push->add_option("file", f->file, "the file")->required();
  push->add_option("--cohort", f->cohort, "the cohort of a record id");
  push->add_option("--record", f->record,
                   "record id (with --cohort) or full name; default: from "
                   "the file name; made if missing");
  push->add_option("--title", f->title, "a new record's title");
  push->add_option("--kind", f->kind,
                   "a new record's kind: compte-rendu, mallette-pedagogique, "
                   "deliberation, feuille-de-route, diagnostic, newsletter, "
                   "support-presentation, other");
  push->add_option("--visibility", f->visibility,
                   "a new record's: group, cohort (default), network, public");
  push->add_option("--group", f->group, "for group visibility: group id");
  push->add_option("--note", f->note, "the version's note");
  push->add_option("--media-type", f->media_type,
                   "e.g. application/pdf (default: from the content)");
  registry.Register(push, [f, &env] { return Push(env, *f); });

  auto record_arg = [f](CLI::App* cmd) {
    cmd->add_option("name", f->name, "record id (with --cohort) or full name")
        ->required();
    cmd->add_option("--cohort", f->cohort, "the cohort of a record id");
  };
  auto resolve = [f](std::string* out) {
    NameContext names;
    names.cohort = f->cohort.empty() ? "" : CohortName(f->cohort);
    return Resolve(NameKind::kRecord, f->name, "<name>", names, out);
  };

  CLI::App* pull = root->add_subcommand(
      "pull", "Download a version, verified by its SHA-256 (resumes)");
  record_arg(pull);
  pull->add_option("--version", f->version, "version number (default: latest)");
  pull->add_option("--to", f->to,
                   "file to write (default: the version's file name; - for "
                   "stdout)");
  registry.Register(pull, [f, &env] { return Pull(env, *f); });

  CLI::App* list = root->add_subcommand("list", "Records the caller may read");
  list->add_option("--cohort", f->cohort, "the cohort")->required();
  list->add_option("--kind", f->kind, "only this kind");
  list->add_flag("--show-deleted", f->show_deleted, "deleted ones too");
  AddPageFlags(list, &f->page);
  registry.Register(list, [=, &env] {
    v1::ListRecordsRequest req;
    req.set_parent(CohortName(f->cohort));
    req.set_show_deleted(f->show_deleted);
    if (!f->kind.empty()) {
      v1::Record::Kind kind;
      if (!ParseEnumFlag("--kind", f->kind, &kind)) return kExitUsage;
      req.set_kind(kind);
    }
    return CallList<v1::ListRecordsRequest, v1::ListRecordsResponse>(
        env, f->page, req,
        [&](auto* ctx, const auto& r, auto* resp) {
          return stub()->ListRecords(ctx, r, resp);
        },
        [](const v1::ListRecordsResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& x : r.records()) {
            rows.push_back(
                {x.name(), x.title(), Label(x.kind()), Label(x.visibility()),
                 x.latest_version() == 0
                     ? ""
                     : absl::StrCat("v", x.latest_version(), " ",
                                    Bytes(x.latest().size_bytes()))});
          }
          PrintTable({"NAME", "TITLE", "KIND", "VISIBILITY", "LATEST"}, rows);
        });
  });

  CLI::App* get = root->add_subcommand("get", "Read a record");
  record_arg(get);
  registry.Register(get, [=, &env] {
    v1::GetRecordRequest req;
    if (!resolve(req.mutable_name())) return kExitUsage;
    return Call<v1::Record>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->GetRecord(ctx, req, resp);
        },
        ShowRecord);
  });

  CLI::App* versions = root->add_subcommand("versions", "A record's versions");
  record_arg(versions);
  AddPageFlags(versions, &f->page);
  registry.Register(versions, [=, &env] {
    v1::ListRecordVersionsRequest req;
    if (!resolve(req.mutable_parent())) return kExitUsage;
    return CallList<v1::ListRecordVersionsRequest,
                    v1::ListRecordVersionsResponse>(
        env, f->page, req,
        [&](auto* ctx, const auto& r, auto* resp) {
          return stub()->ListRecordVersions(ctx, r, resp);
        },
        [](const v1::ListRecordVersionsResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& v : r.versions()) {
            rows.push_back({absl::StrCat(v.number()), v.file_name(),
                            Bytes(v.size_bytes()), v.media_type(), v.author(),
                            v.sha256().substr(0, 12)});
          }
          PrintTable({"VERSION", "FILE", "SIZE", "TYPE", "AUTHOR", "SHA256"},
                     rows);
        });
  });

  CLI::App* del = root->add_subcommand("delete", "Delete a record (undoable)");
  record_arg(del);
  registry.Register(del, [=, &env] {
    v1::DeleteRecordRequest req;
    if (!resolve(req.mutable_name())) return kExitUsage;
    return Call<v1::Record>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->DeleteRecord(ctx, req, resp);
        },
        ShowRecord);
  });

  CLI::App* undel = root->add_subcommand("undelete", "Bring a record back");
  record_arg(undel);
  registry.Register(undel, [=, &env] {
    v1::UndeleteRecordRequest req;
    if (!resolve(req.mutable_name())) return kExitUsage;
    return Call<v1::Record>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->UndeleteRecord(ctx, req, resp);
        },
        ShowRecord);
  });
}

}  // namespace cohorte::client
