// File: client/call.h
//
// Helpers every resource's commands share: resource names from ids,
// enum words, long text from files or stdin, paging, and running one
// unary call with its output and exit code. Not thread-safe (reads the
// process's stdin; prints).
#ifndef COHORTE_CLIENT_CALL_H_
#define COHORTE_CLIENT_CALL_H_

#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "client/commands.h"
#include "client/connection.h"
#include "client/names.h"
#include "client/output.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpcpp/client_context.h"

namespace cohorte::client {

// `occitanie` → `cohorts/occitanie`; a full name is kept.
inline std::string CohortName(const std::string& s) {
  return s.rfind("cohorts/", 0) == 0 ? s : "cohorts/" + s;
}
// `marie-dubois` → `members/marie-dubois`; a full name is kept.
inline std::string MemberName(const std::string& s) {
  return s.rfind("members/", 0) == 0 ? s : "members/" + s;
}

// Prints a usage error about `flag` and returns kExitUsage.
int UsageError(const std::string& flag, const std::string& message);

// ResolveName (names.h) that prints the error; false after it.
bool Resolve(NameKind kind, const std::string& value, const std::string& flag,
             const NameContext& context, std::string* out);

// The value of enum `type` named by `text`: its proto name in any case,
// '-' or ' ' for '_', accents optional, a final 's' optional (`élus`,
// `read-write`, `Gouvernance mise en oeuvre`); -1 if none.
int EnumValueOf(const google::protobuf::EnumDescriptor* type,
                const std::string& text);

// The enum's values as the user types them (`read-write`), comma
// separated, without the *_UNSPECIFIED one.
std::string EnumWords(const google::protobuf::EnumDescriptor* type);

// "unknown value 'x': one of a, b, c (did you mean b?)".
std::string UnknownEnumMessage(const google::protobuf::EnumDescriptor* type,
                               const std::string& text);

// Parses an enum value; false after a usage message naming `flag`, the
// accepted words and the closest one.
template <typename Enum>
bool ParseEnumFlag(const char* flag, const std::string& text, Enum* out) {
  const auto* type = google::protobuf::GetEnumDescriptor<Enum>();
  const int value = EnumValueOf(type, text);
  if (value < 0) {
    UsageError(flag, UnknownEnumMessage(type, text));
    return false;
  }
  *out = static_cast<Enum>(value);
  return true;
}

// A long text flag: `--body TEXT`, `--body -` (stdin) or
// `--body-file PATH` (`-` for stdin).
struct LongText {
  std::string text;
  std::string file;
};

// Adds `--<name>` and `--<name>-file` to `cmd`.
void AddLongText(CLI::App* cmd, const std::string& name, LongText* value,
                 const std::string& help);

// Whether either flag of `name` was given.
bool LongTextGiven(const CLI::App& cmd, const std::string& name);

// The text of `--<name>` or `--<name>-file`; false after a usage message
// (unreadable file, both given).
bool ReadLongText(const CLI::App& cmd, const std::string& name,
                  const LongText& value, std::string* out);

// A text the command needs: `--<name>` or `--<name>-file` when given;
// else, on a terminal, the user's editor (editor.h) opened on `initial`
// with `help` below the scissors line; else (in a script) a usage error
// naming the flags. False after a usage message (also an editor that
// failed or a text left empty: nothing is sent).
bool ReadRequiredText(const CLI::App& cmd, const std::string& name,
                      const LongText& value, const std::string& initial,
                      const std::string& help, std::string* out);

// --page-size, --page-token, --all.
struct PageFlags {
  int page_size = 0;
  std::string page_token;
  bool all = false;
};
void AddPageFlags(CLI::App* cmd, PageFlags* flags);

// Runs one unary call and prints its result (table: `show`). A response
// that holds a secret shown once is never reduced to its name: under
// `-o name` it is shown as a table (the secret alone on stdout).
template <typename Response>
int Call(
    const CommandEnv& env,
    const std::function<grpc::Status(grpc::ClientContext*, Response*)>& rpc,
    const std::function<void(const Response&)>& show, bool secret = false) {
  grpc::ClientContext ctx;
  env.connection()->Prepare(&ctx);
  Response response;
  grpc::Status s = rpc(&ctx, &response);
  if (!s.ok()) return ReportError(s);
  const OutputFormat format = secret && env.format == OutputFormat::kName
                                  ? OutputFormat::kTable
                                  : env.format;
  PrintMessage(response, format, [&] { show(response); });
  return kExitOk;
}

// Sets `page_size` and `page_token` of a List request (by reflection).
void SetPage(const PageFlags& flags, google::protobuf::Message* request);
// Appends the repeated fields of `page` to `all`, and takes its
// next_page_token. Returns that token.
std::string MergePage(const google::protobuf::Message& page,
                      google::protobuf::Message* all);
// On stderr, when a page was cut and --all was not given: how to get the
// rest.
void HintMore(const std::string& next_page_token);

// Runs a List call: one page, or every page with --all; prints the
// result (table: `show`) and, when the list was cut, how to get the rest.
// JSON and YAML output hold `nextPageToken`.
template <typename Request, typename Response>
int CallList(const CommandEnv& env, const PageFlags& page, Request request,
             const std::function<grpc::Status(grpc::ClientContext*,
                                              const Request&, Response*)>& rpc,
             const std::function<void(const Response&)>& show) {
  SetPage(page, &request);
  Response all;
  while (true) {
    grpc::ClientContext ctx;
    env.connection()->Prepare(&ctx);
    Response response;
    grpc::Status s = rpc(&ctx, request, &response);
    if (!s.ok()) return ReportError(s);
    const std::string next = MergePage(response, &all);
    if (!page.all || next.empty()) break;
    PageFlags following = page;
    following.page_token = next;
    SetPage(following, &request);
  }
  PrintMessage(all, env.format, [&] { show(all); });
  const auto* field = all.GetDescriptor()->FindFieldByName("next_page_token");
  if (field != nullptr && !IsStructured(env.format)) {
    HintMore(all.GetReflection()->GetString(all, field));
  }
  return kExitOk;
}

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_CALL_H_
