// File: client/fields.h
//
// Update commands described as data: a table of flags, each setting one
// field of a resource by protobuf reflection, and the update mask of the
// flags given. `members update`, `territories update`, `reports update`
// and `sessions update` are each a table; a new updatable field is one
// row. Not thread-safe (reads stdin for long text).
#ifndef COHORTE_CLIENT_FIELDS_H_
#define COHORTE_CLIENT_FIELDS_H_

#include <map>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "client/call.h"
#include "client/names.h"
#include "client/times.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/message.h"

namespace cohorte::client {

enum class FieldType {
  kString,    // a string field
  kLongText,  // a string field, also from --<flag>-file or stdin
  kInt,       // an int32 field
  kEnum,      // an enum field, by its words (call.h EnumValueOf)
  kTime,      // a Timestamp field, as people type times (times.h)
  kName,      // a string field holding a resource name (short ids resolved)
  kNames,     // a repeated string field of resource names (repeatable flag)
  kStrings,   // a repeated string field of words (repeatable flag)
  kEnums,     // a repeated enum field (repeatable flag)
};

struct FieldFlag {
  const char* flag;  // without "--": "display-name"
  const char* path;  // the field and its update_mask path: "display_name"
  FieldType type;
  const char* help;
  // kName, kNames: the kind of each name, resolved against the command's
  // flags.
  NameKind names = NameKind::kMember;
};

// What the flags of a table hold after parsing.
struct FieldValues {
  std::map<std::string, std::string> one;
  std::map<std::string, std::vector<std::string>> many;
  std::map<std::string, LongText> text;
};

// Adds one option per row of `fields` to `cmd`, bound into `values`
// (which must outlive `cmd`).
void AddFieldFlags(CLI::App* cmd, const std::vector<FieldFlag>& fields,
                   FieldValues* values);

// Sets on `target` every field whose flag was given, and adds its path to
// `mask`. False after a usage message naming the flag (bad enum word,
// time, name, unreadable file).
bool FillFields(const CLI::App& cmd, const std::vector<FieldFlag>& fields,
                const FieldValues& values, const NameContext& names,
                const TimeInput& times, google::protobuf::Message* target,
                google::protobuf::FieldMask* mask);

// The long texts (kLongText rows) of `fields` as one document for the
// editor: each under a line `=== <flag> ===`, starting from `current`'s.
std::string LongTextsDocument(const std::vector<FieldFlag>& fields,
                              const google::protobuf::Message& current);

// The texts of such a document, by flag (a section's leading and trailing
// blank lines dropped); a section line naming no long-text row of `fields` is
// kept in the text of the section before it.
std::map<std::string, std::string> ParseLongTextsDocument(
    const std::vector<FieldFlag>& fields, const std::string& document);

// Edits the long texts of `current` in the user's editor (editor.h), as
// one document, when `force` or when none of their flags was given and
// stdin is a terminal; sets on `target` each text that changed and adds
// its path to `mask`. False after a usage message (an editor that failed,
// or nothing changed when `force`: nothing is sent).
bool EditLongTexts(const CLI::App& cmd, const std::vector<FieldFlag>& fields,
                   bool force, const google::protobuf::Message& current,
                   google::protobuf::Message* target,
                   google::protobuf::FieldMask* mask);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_FIELDS_H_
