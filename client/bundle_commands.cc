#include "client/bundle_commands.h"

#include <openssl/evp.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/call.h"
#include "client/output.h"
#include "cohorte/v1/changes.grpc.pb.h"
#include "cohorte/v1/groups.pb.h"
#include "cohorte/v1/links.grpc.pb.h"
#include "cohorte/v1/records.grpc.pb.h"
#include "cohorte/v1/reports.pb.h"
#include "google/protobuf/io/zero_copy_stream_impl.h"
#include "google/protobuf/util/delimited_message_util.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace cohorte::client {
namespace {

namespace fs = std::filesystem;

constexpr size_t kChunkBytes = 1 << 20;
constexpr char kManifestFile[] = "manifest.json";
constexpr char kEventsFile[] = "events.pb";

// What a bundle holds: the types a link follows (links.proto), the cohort
// first.
const char* const kBundleTypes[] = {
    "cohorte.v1.Cohort",   "cohorte.v1.Territory",
    "cohorte.v1.Chantier", "cohorte.v1.PeerGroup",
    "cohorte.v1.Session",  "cohorte.v1.ExperienceReport",
    "cohorte.v1.Record",   "cohorte.v1.RecordVersion"};

// The SHA-256 (lowercase hex) and size of the file at `path`; false if it
// cannot be read.
bool HashFile(const fs::path& path, std::string* sha256, int64_t* size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                              &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> buffer(kChunkBytes);
  *size = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<size_t>(got));
    *size += got;
  }
  if (in.bad()) return false;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &n);
  *sha256 = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), n));
  return true;
}

int Fail(const std::string& message) {
  std::cerr << "Error: " << message << "\n";
  return kExitFailure;
}

// A stream's context: the token, no deadline (a bundle takes as long as it
// takes).
void PrepareLong(const CommandEnv& env, grpc::ClientContext* ctx) {
  env.connection()->Prepare(ctx);
  ctx->set_deadline(std::chrono::system_clock::time_point::max());
}

// What a bundle may not hold: what the importing side refuses anyway (a
// report or record of GROUP visibility, a draft), and a group's members.
// False: leave the event out.
bool Keepable(v1::ChangeEvent& e, std::set<std::string>* dropped) {
  const std::string& type = e.resource_type();
  if (type == "cohorte.v1.ExperienceReport") {
    v1::ExperienceReport r;
    if (!e.resource().UnpackTo(&r)) return false;
    return r.visibility() != v1::GROUP &&
           r.state() != v1::ExperienceReport::DRAFT;
  }
  if (type == "cohorte.v1.Record") {
    v1::Record r;
    if (!e.resource().UnpackTo(&r)) return false;
    if (r.visibility() == v1::GROUP) {
      dropped->insert(r.name());
      return false;
    }
    return true;
  }
  if (type == "cohorte.v1.RecordVersion") {
    const size_t at = e.resource_name().find("/versions/");
    return at != std::string::npos &&
           dropped->count(e.resource_name().substr(0, at)) == 0;
  }
  if (type == "cohorte.v1.PeerGroup") {
    v1::PeerGroup g;
    if (!e.resource().UnpackTo(&g)) return false;
    g.clear_members();
    g.clear_facilitators();
    e.mutable_resource()->PackFrom(g);
  }
  return true;
}

// Reads the content of `version` into `dir/contents/{sha256}`; false after
// a message (the version is then left out of the bundle's contents).
bool PullContent(const CommandEnv& env, const v1::RecordVersion& version,
                 const fs::path& dir) {
  const fs::path target = dir / "contents" / version.sha256();
  if (fs::exists(target)) return true;
  const fs::path part = target.string() + ".part";
  {
    std::ofstream out(part, std::ios::binary | std::ios::trunc);
    if (!out) return Fail("cannot write " + part.string()) == kExitOk;
    auto stub = v1::RecordService::NewStub(env.connection()->channel());
    grpc::ClientContext ctx;
    PrepareLong(env, &ctx);
    v1::ReadRecordVersionRequest read;
    read.set_name(version.name());
    auto reader = stub->ReadRecordVersion(&ctx, read);
    v1::ReadRecordVersionResponse chunk;
    while (reader->Read(&chunk)) {
      out.write(chunk.data().data(),
                static_cast<std::streamsize>(chunk.data().size()));
    }
    grpc::Status s = reader->Finish();
    if (!s.ok() || !out) {
      out.close();
      fs::remove(part);
      std::cerr << "Warning: the content of " << version.name()
                << " is not in the bundle: "
                << (s.ok() ? "write error" : s.error_message()) << "\n";
      return false;
    }
  }
  std::string sha;
  int64_t size = 0;
  if (!HashFile(part, &sha, &size) || sha != version.sha256()) {
    fs::remove(part);
    std::cerr << "Warning: the content read for " << version.name()
              << " does not match its SHA-256: left out\n";
    return false;
  }
  fs::rename(part, target);
  return true;
}

int Export(const CommandEnv& env, const std::string& cohort,
           const std::string& to) {
  const fs::path dir(to);
  std::error_code ec;
  if (fs::exists(dir) && !fs::is_empty(dir, ec)) {
    return UsageError("--to", to + " exists and is not empty");
  }
  fs::create_directories(dir / "contents", ec);
  if (ec) return Fail("cannot create " + to + ": " + ec.message());

  auto changes = v1::ChangeService::NewStub(env.connection()->channel());
  v1::ListSnapshotRequest req;
  req.mutable_filter()->add_cohorts(cohort);
  for (const char* t : kBundleTypes)
    req.mutable_filter()->add_resource_types(t);
  req.set_page_size(1000);
  v1::BundleManifest manifest;
  manifest.set_format_version(1);
  manifest.set_cohort(cohort);
  std::set<std::string> dropped;
  std::vector<v1::RecordVersion> versions;
  int64_t events = 0;
  int64_t left_out = 0;
  {
    std::ofstream out(dir / kEventsFile, std::ios::binary | std::ios::trunc);
    google::protobuf::io::OstreamOutputStream stream(&out);
    while (true) {
      grpc::ClientContext ctx;
      env.connection()->Prepare(&ctx);
      v1::ListSnapshotResponse page;
      grpc::Status s = changes->ListSnapshot(&ctx, req, &page);
      if (!s.ok()) return ReportError(s);
      if (events == 0 && left_out == 0) {
        *manifest.mutable_cursor() = page.cursor();
        manifest.set_source_instance_id(page.cursor().instance_id());
        manifest.set_source_epoch(page.cursor().epoch());
        manifest.set_source_instance_name(page.instance_name());
      }
      for (v1::ChangeEvent& e : *page.mutable_events()) {
        if (!Keepable(e, &dropped)) {
          ++left_out;
          continue;
        }
        if (e.resource_type() == "cohorte.v1.RecordVersion") {
          v1::RecordVersion v;
          if (e.resource().UnpackTo(&v)) versions.push_back(v);
        }
        if (!google::protobuf::util::SerializeDelimitedToZeroCopyStream(
                e, &stream)) {
          return Fail("cannot write " + (dir / kEventsFile).string());
        }
        ++events;
      }
      if (page.next_page_token().empty()) break;
      req.set_page_token(page.next_page_token());
    }
  }
  if (events == 0) return Fail(cohort + ": nothing of it is readable");
  std::set<std::string> contents;
  for (const v1::RecordVersion& v : versions) {
    if (contents.count(v.sha256()) > 0) continue;
    if (PullContent(env, v, dir)) contents.insert(v.sha256());
  }
  manifest.set_event_count(events);
  manifest.set_content_count(static_cast<int64_t>(contents.size()));
  *manifest.mutable_export_time() =
      google::protobuf::util::TimeUtil::GetCurrentTime();
  std::vector<std::string> files = {kEventsFile};
  for (const std::string& sha : contents) files.push_back("contents/" + sha);
  for (const std::string& f : files) {
    v1::BundleFile* file = manifest.add_files();
    file->set_path(f);
    std::string sha;
    int64_t size = 0;
    if (!HashFile(dir / f, &sha, &size)) return Fail("cannot read " + f);
    file->set_sha256(sha);
    file->set_size_bytes(size);
  }
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(manifest, &json, options)
           .ok()) {
    return Fail("cannot encode the manifest");
  }
  std::ofstream m(dir / kManifestFile, std::ios::trunc);
  m << json;
  m.close();
  if (!m) return Fail("cannot write the manifest");
  std::cerr << "Exported " << cohort << " to " << to << ": " << events
            << " resources, " << contents.size() << " record contents"
            << (left_out > 0 ? absl::StrCat(", ", left_out,
                                            " left out (closed group or "
                                            "draft)")
                             : "")
            << "\n";
  return kExitOk;
}

// Whether `path` is a file a bundle may name (no way out of the bundle).
bool BundlePath(const std::string& path) {
  if (path == kEventsFile) return true;
  if (!absl::StartsWith(path, "contents/") || path.size() != 9 + 64) {
    return false;
  }
  for (char c : path.substr(9)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

int Import(const CommandEnv& env, const std::string& from) {
  const fs::path dir(from);
  std::ifstream in(dir / kManifestFile);
  if (!in) return Fail("cannot read " + (dir / kManifestFile).string());
  std::stringstream text;
  text << in.rdbuf();
  v1::BundleManifest manifest;
  if (!google::protobuf::util::JsonStringToMessage(text.str(), &manifest)
           .ok()) {
    return Fail(
        "the bundle is corrupt: manifest.json does not decode; "
        "nothing was imported");
  }
  // Every file against the manifest before anything is sent.
  for (const v1::BundleFile& f : manifest.files()) {
    if (!BundlePath(f.path())) {
      return Fail("the bundle is corrupt: the manifest names " +
                  f.path().substr(0, 200) + "; nothing was imported");
    }
    std::string sha;
    int64_t size = 0;
    if (!HashFile(dir / f.path(), &sha, &size)) {
      return Fail("the bundle is corrupt: " + f.path() +
                  " is missing; nothing was imported");
    }
    if (size != f.size_bytes() || sha != f.sha256()) {
      return Fail("the bundle is corrupt: " + f.path() +
                  (size != f.size_bytes()
                       ? " is not of the manifest's size"
                       : "'s SHA-256 is not the manifest's") +
                  "; nothing was imported");
    }
  }
  auto links = v1::LinkService::NewStub(env.connection()->channel());
  grpc::ClientContext ctx;
  PrepareLong(env, &ctx);
  v1::ImportCohortResponse resp;
  auto writer = links->ImportCohort(&ctx, &resp);
  v1::ImportCohortRequest first;
  *first.mutable_manifest() = manifest;
  bool sent = writer->Write(first);
  std::ifstream events(dir / kEventsFile, std::ios::binary);
  std::vector<char> buffer(kChunkBytes);
  while (sent && events) {
    events.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::streamsize got = events.gcount();
    if (got <= 0) break;
    v1::ImportCohortRequest chunk;
    chunk.set_events_data(buffer.data(), static_cast<size_t>(got));
    sent = writer->Write(chunk);
  }
  // Then the record contents, each whole, in the manifest's order.
  for (const v1::BundleFile& f : manifest.files()) {
    if (!sent) break;
    if (f.path() == kEventsFile) continue;
    const std::string sha = f.path().substr(9);
    std::ifstream content(dir / f.path(), std::ios::binary);
    while (sent && content) {
      content.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      const std::streamsize got = content.gcount();
      if (got <= 0) break;
      v1::ImportCohortRequest piece;
      piece.mutable_content()->set_sha256(sha);
      piece.mutable_content()->set_data(buffer.data(),
                                        static_cast<size_t>(got));
      sent = writer->Write(piece);
    }
  }
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  if (!s.ok()) return ReportError(s);
  PrintMessage(resp, env.format, [&] {
    std::cout << "Imported " << resp.cohort().name() << " from instance '"
              << resp.cohort().home().instance_name() << "' ("
              << resp.cohort().home().instance_id() << "): " << resp.applied()
              << " applied, " << resp.refused() << " refused, "
              << resp.deleted() << " deleted\n";
  });
  return kExitOk;
}

}  // namespace

void AddBundleCommands(CLI::App* cohorts, const CommandEnv& env,
                       CommandRegistry& registry) {
  auto cohort = std::make_shared<std::string>();
  auto to = std::make_shared<std::string>();
  CLI::App* exp = cohorts->add_subcommand(
      "export", "Write what you may read of a cohort to a bundle directory");
  exp->add_option("cohort", *cohort, "id or cohorts/{id}")->required();
  exp->add_option("--to", *to, "the bundle directory (new or empty)")
      ->required();
  registry.Register(
      exp, [=, &env]() { return Export(env, CohortName(*cohort), *to); });

  auto from = std::make_shared<std::string>();
  CLI::App* imp = cohorts->add_subcommand(
      "import",
      "Import a bundle as a read-only copy of its instance's cohort (admin)");
  imp->add_option("bundle", *from, "the bundle directory")->required();
  registry.Register(imp, [=, &env]() { return Import(env, *from); });
}

}  // namespace cohorte::client
