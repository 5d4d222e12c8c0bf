// File: client/output.h
//
// What `cohorte` prints. On stdout: protobuf's canonical JSON
// (`-o json`: lowerCamelCase names, every field present, empty lists as
// []), the same document as YAML (`-o yaml`, yaml.h), resource names one
// per line (`-o name`, found by reflection), or aligned tables for people
// (`-o table`, the default). On stderr: errors, as `Error: …` lines or,
// under `-o json` and `-o yaml`, one JSON object per error (JSON is YAML).
//
// The error format is process-wide (set once by the command line, before
// any command runs); everything else is a pure function of its arguments.
#ifndef COHORTE_CLIENT_OUTPUT_H_
#define COHORTE_CLIENT_OUTPUT_H_

#include <iostream>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/message.h"

namespace cohorte::client {

enum class OutputFormat { kTable, kJson, kYaml, kName };

// Whether `format` is a document for programs (JSON or YAML): it holds
// everything (next page tokens, cursors), so nothing is added on stderr.
inline bool IsStructured(OutputFormat format) {
  return format == OutputFormat::kJson || format == OutputFormat::kYaml;
}

// "table", "json", "yaml" or "name" → the format; false if none of those.
bool ParseOutputFormat(const std::string& text, OutputFormat* out);

// `message` as protobuf's canonical JSON, indented, with a final newline.
std::string ToJson(const google::protobuf::Message& message);
void PrintJson(const google::protobuf::Message& message);
// `message` as YAML: ToJson's document in YAML's block style.
void PrintYaml(const google::protobuf::Message& message);

// The resource names in `message`, one per line: its `name` (or `id`)
// field; else each element of its repeated string field or the name of
// each element of its repeated message field; else those of its one
// message field.
std::string ToNames(const google::protobuf::Message& message);

// Prints `message` in `format` (`show` draws the table).
template <typename Show>
void PrintMessage(const google::protobuf::Message& message, OutputFormat format,
                  const Show& show) {
  if (format == OutputFormat::kJson) return PrintJson(message);
  if (format == OutputFormat::kYaml) return PrintYaml(message);
  if (format == OutputFormat::kName) return void(std::cout << ToNames(message));
  show();
}

// Rows under a header, columns padded to their widest cell.
void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);

// Every field of `resource` that holds something, as "field: value" lines
// in declaration order, found by reflection: enums by name, times in
// `zone` (times.h), repeated strings and enums joined by spaces, a nested
// list by its count. A new resource needs no printer of its own.
std::string FormatResource(const google::protobuf::Message& resource,
                           const absl::TimeZone& zone);
void PrintResource(const google::protobuf::Message& resource);

// "field: value" lines for one resource, in `fields` order.
void PrintFields(
    const std::vector<std::pair<std::string, std::string>>& fields);

// One error as the user reads it. `code` is a gRPC code name
// (INVALID_ARGUMENT…) or USAGE for a command line the client refuses;
// `reason` and `field` may be empty.
struct CliError {
  std::string code;
  std::string message;
  std::string reason;
  std::string field;
};

// Errors under `-o json` are JSON objects; otherwise `Error: …` lines.
void SetJsonErrors(bool json);

// Writes `error` to stderr in the process's error format.
void PrintError(const CliError& error);
// `error` in the given format, without a trailing newline for JSON.
std::string FormatError(const CliError& error, bool json);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_OUTPUT_H_
