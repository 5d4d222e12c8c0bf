#include "client/feed_commands.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/call.h"
#include "client/connection.h"
#include "client/output.h"
#include "cohorte/v1/changes.grpc.pb.h"
#include "google/protobuf/util/json_util.h"

namespace cohorte::client {

namespace {

struct FeedFlags {
  std::string since;
  std::vector<std::string> cohorts;
  std::vector<std::string> kinds;
  std::string prefix;
  int page_size = 0;
  bool all = false;
  std::string cursor_file;
};

void AddFilterFlags(CLI::App* cmd, FeedFlags* f) {
  cmd->add_option("--since", f->since,
                  "a cursor (`cursor.token` of an earlier answer) to start "
                  "after");
  cmd->add_option("--cohort", f->cohorts,
                  "only this cohort's resources (repeatable)");
  cmd->add_option("--kind", f->kinds,
                  "only these resource types, e.g. ExperienceReport, Session, "
                  "Message (repeatable)");
  cmd->add_option("--prefix", f->prefix, "only resource names starting so");
}

void SetFilter(const FeedFlags& f, v1::ChangeFilter* filter) {
  for (const std::string& c : f.cohorts) filter->add_cohorts(CohortName(c));
  for (const std::string& k : f.kinds) filter->add_resource_types(k);
  filter->set_name_prefix(f.prefix);
}

// One line of JSON (no whitespace): `cohorte watch`'s output.
std::string JsonLine(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  return out;
}

std::string ReadCursorFile(const std::string& path) {
  std::ifstream in(path);
  std::string cursor;
  if (in) std::getline(in, cursor);
  return cursor;
}

// Replaces `path` with `cursor` atomically (a crash leaves the old one).
bool WriteCursorFile(const std::string& path, const std::string& cursor) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return false;
    out << cursor << "\n";
    out.flush();
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

const char* TypeWord(v1::ChangeEvent::Type t) {
  switch (t) {
    case v1::ChangeEvent::CREATED:
      return "created";
    case v1::ChangeEvent::UPDATED:
      return "updated";
    case v1::ChangeEvent::DELETED:
      return "deleted";
    default:
      return "?";
  }
}

int ListChanges(const CommandEnv& env, const FeedFlags& f) {
  auto stub = v1::ChangeService::NewStub(env.connection()->channel());
  v1::ListChangesRequest req;
  req.set_since(f.since);
  req.set_page_size(f.page_size);
  SetFilter(f, req.mutable_filter());
  v1::ListChangesResponse all;
  while (true) {
    grpc::ClientContext ctx;
    env.connection()->Prepare(&ctx);
    v1::ListChangesResponse page;
    grpc::Status s = stub->ListChanges(&ctx, req, &page);
    if (!s.ok()) return ReportError(s);
    for (const v1::ChangeEvent& e : page.events()) *all.add_events() = e;
    *all.mutable_cursor() = page.cursor();
    all.set_caught_up(page.caught_up());
    if (!f.all || page.caught_up()) break;
    req.set_since(page.cursor().token());
  }
  PrintMessage(all, env.format, [&] {
    std::vector<std::vector<std::string>> rows;
    for (const v1::ChangeEvent& e : all.events()) {
      std::string type = e.resource_type();
      type = type.substr(type.rfind('.') + 1);
      std::string what = TypeWord(e.type());
      if (e.reason() == v1::ChangeEvent::NO_LONGER_VISIBLE) {
        what += " (no longer visible)";
      } else if (e.reason() == v1::ChangeEvent::ACCESS_LOST) {
        what += " (access lost)";
      }
      rows.push_back(
          {std::to_string(e.revision()), what, type, e.resource_name()});
    }
    PrintTable({"REVISION", "CHANGE", "TYPE", "NAME"}, rows);
  });
  if (!IsStructured(env.format)) {
    std::cerr << "cursor: " << all.cursor().token()
              << (all.caught_up() ? " (caught up)"
                                  : " (more: --since it, or --all)")
              << "\n";
  }
  return kExitOk;
}

// Follows the feed until interrupted: one JSON object per event on stdout;
// reconnects with the last cursor after a dropped connection.
int Watch(const CommandEnv& env, const FeedFlags& f) {
  std::string cursor = f.since;
  if (cursor.empty() && !f.cursor_file.empty()) {
    cursor = ReadCursorFile(f.cursor_file);
  }
  auto stub = v1::ChangeService::NewStub(env.connection()->channel());
  int backoff_ms = 250;
  while (true) {
    grpc::ClientContext ctx;
    env.connection()->Prepare(&ctx);
    ctx.set_deadline(std::chrono::system_clock::time_point::max());
    v1::WatchRequest req;
    req.set_since(cursor);
    SetFilter(f, req.mutable_filter());
    std::unique_ptr<grpc::ClientReader<v1::WatchResponse>> reader =
        stub->Watch(&ctx, req);
    v1::WatchResponse response;
    while (reader->Read(&response)) {
      backoff_ms = 250;
      for (const v1::ChangeEvent& e : response.events()) {
        std::cout << JsonLine(e) << "\n";
      }
      std::cout.flush();
      cursor = response.cursor().token();
      if (!f.cursor_file.empty() && !WriteCursorFile(f.cursor_file, cursor)) {
        std::cerr << "cohorte: cannot write --cursor-file " << f.cursor_file
                  << "\n";
        return kExitFailure;
      }
    }
    grpc::Status s = reader->Finish();
    const grpc::StatusCode code = s.error_code();
    const bool transient = code == grpc::StatusCode::UNAVAILABLE ||
                           code == grpc::StatusCode::RESOURCE_EXHAUSTED ||
                           code == grpc::StatusCode::DEADLINE_EXCEEDED;
    if (!transient) return ReportError(s);
    std::cerr << "cohorte: watch interrupted (" << CodeName(code)
              << "): resuming from " << (cursor.empty() ? "now" : cursor)
              << "\n";
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms = std::min(backoff_ms * 2, 10000);
  }
}

}  // namespace

void AddFeedCommands(CLI::App& app, const CommandEnv& env,
                     CommandRegistry& registry) {
  auto f = std::make_shared<FeedFlags>();
  CLI::App* changes = app.add_subcommand(
      "changes", "The change feed: what changed, as you may see it");
  changes->require_subcommand(1);
  CLI::App* list = changes->add_subcommand(
      "list",
      "The changes after --since (from the oldest kept without it), one "
      "page; the cursor to go on from is printed on stderr");
  AddFilterFlags(list, f.get());
  list->add_option("--page-size", f->page_size,
                   "events per page (default 100, at most 1000)");
  list->add_flag("--all", f->all, "every page up to now");
  registry.Register(list, [=, &env] { return ListChanges(env, *f); });

  CLI::App* watch = app.add_subcommand(
      "watch",
      "Follow the change feed live: one JSON object per change on stdout, "
      "until Ctrl-C; reconnects by itself with the last cursor");
  AddFilterFlags(watch, f.get());
  watch->add_option("--cursor-file", f->cursor_file,
                    "read the cursor to start from here (without --since) "
                    "and save the last one here after each answer, so that "
                    "a restarted watch misses and repeats nothing");
  registry.Register(watch, [=, &env] { return Watch(env, *f); });
}

}  // namespace cohorte::client
