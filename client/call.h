// File: client/call.h
//
// Helpers every resource's commands share: resource-name shorthands, enum
// flags, and running one unary call with its output and exit code.
#ifndef COHORTE_CLIENT_CALL_H_
#define COHORTE_CLIENT_CALL_H_

#include <cctype>
#include <functional>
#include <iostream>
#include <string>

#include "client/commands.h"
#include "client/connection.h"
#include "client/output.h"
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

// Parses an enum value from its name, case-insensitive, '-' for '_'
// (`read-write` → READ_WRITE); false if unknown.
template <typename Enum>
bool ParseEnum(const std::string& text,
               bool (*parse)(const std::string&, Enum*), Enum* out) {
  std::string upper;
  for (char c : text) {
    upper.push_back(c == '-' ? '_'
                             : static_cast<char>(std::toupper(
                                   static_cast<unsigned char>(c))));
  }
  return parse(upper, out);
}

// Prints the usage error of an unknown enum value; returns kExitUsage.
inline int BadEnum(const char* flag, const std::string& value) {
  std::cerr << "Error: " << flag << ": unknown value '" << value << "'\n";
  return kExitUsage;
}

// Runs one unary call and prints its result with `show` (table) or JSON.
template <typename Response>
int Call(
    const CommandEnv& env,
    const std::function<grpc::Status(grpc::ClientContext*, Response*)>& rpc,
    const std::function<void(const Response&)>& show) {
  grpc::ClientContext ctx;
  env.connection()->Prepare(&ctx);
  Response response;
  grpc::Status s = rpc(&ctx, &response);
  if (!s.ok()) return ReportError(s);
  if (env.format == OutputFormat::kJson) {
    PrintJson(response);
  } else {
    show(response);
  }
  return kExitOk;
}

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_CALL_H_
