#include "client/fields.h"

#include <sstream>
#include <string>
#include <vector>

#include "client/editor.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/timestamp.pb.h"

namespace cohorte::client {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

bool SetEnum(const FieldDescriptor* field, const std::string& flag,
             const std::string& word, Message* target) {
  const int value = EnumValueOf(field->enum_type(), word);
  if (value < 0) {
    UsageError(flag, UnknownEnumMessage(field->enum_type(), word));
    return false;
  }
  const auto* r = target->GetReflection();
  if (field->is_repeated()) {
    r->AddEnumValue(target, field, value);
  } else {
    r->SetEnumValue(target, field, value);
  }
  return true;
}

}  // namespace

void AddFieldFlags(CLI::App* cmd, const std::vector<FieldFlag>& fields,
                   FieldValues* values) {
  for (const FieldFlag& f : fields) {
    const std::string flag = std::string("--") + f.flag;
    switch (f.type) {
      case FieldType::kLongText:
        AddLongText(cmd, f.flag, &values->text[f.flag], f.help);
        break;
      case FieldType::kNames:
      case FieldType::kStrings:
      case FieldType::kEnums:
        cmd->add_option(flag, values->many[f.flag],
                        std::string(f.help) +
                            " (repeatable; replaces the list; '' empties it)");
        break;
      default:
        cmd->add_option(flag, values->one[f.flag], f.help);
    }
  }
}

bool FillFields(const CLI::App& cmd, const std::vector<FieldFlag>& fields,
                const FieldValues& values, const NameContext& names,
                const TimeInput& times, Message* target,
                google::protobuf::FieldMask* mask) {
  const auto* d = target->GetDescriptor();
  const auto* r = target->GetReflection();
  for (const FieldFlag& f : fields) {
    const std::string flag = std::string("--") + f.flag;
    const bool given = f.type == FieldType::kLongText
                           ? LongTextGiven(cmd, f.flag)
                           : cmd.count(flag) > 0;
    if (!given) continue;
    const FieldDescriptor* field = d->FindFieldByName(f.path);
    if (field == nullptr) {
      return UsageError(flag, "no field " + std::string(f.path)) == 0;
    }
    mask->add_paths(f.path);
    const auto one = values.one.find(f.flag);
    const std::string value = one == values.one.end() ? "" : one->second;
    switch (f.type) {
      case FieldType::kString:
        r->SetString(target, field, value);
        break;
      case FieldType::kLongText: {
        std::string text;
        if (!ReadLongText(cmd, f.flag, values.text.at(f.flag), &text)) {
          return false;
        }
        r->SetString(target, field, text);
        break;
      }
      case FieldType::kInt: {
        char* end = nullptr;
        const long n = std::strtol(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0' || n < INT32_MIN || n > INT32_MAX) {
          UsageError(flag, "'" + value + "' is not a whole number");
          return false;
        }
        r->SetInt32(target, field, static_cast<int32_t>(n));
        break;
      }
      case FieldType::kEnum:
        if (!SetEnum(field, flag, value, target)) return false;
        break;
      case FieldType::kName: {
        std::string name;
        if (!value.empty() && !Resolve(f.names, value, flag, names, &name)) {
          return false;
        }
        r->SetString(target, field, name);
        break;
      }
      case FieldType::kTime: {
        google::protobuf::Timestamp t;
        std::string error;
        if (!ParseUserTime(value, times, &t, &error)) {
          UsageError(flag, error);
          return false;
        }
        r->MutableMessage(target, field)->CopyFrom(t);
        break;
      }
      case FieldType::kNames:
      case FieldType::kStrings:
      case FieldType::kEnums:
        r->ClearField(target, field);
        for (const std::string& item : values.many.at(f.flag)) {
          if (item.empty()) continue;
          if (f.type == FieldType::kEnums) {
            if (!SetEnum(field, flag, item, target)) return false;
            continue;
          }
          if (f.type == FieldType::kStrings) {
            r->AddString(target, field, item);
            continue;
          }
          std::string name;
          if (!Resolve(f.names, item, flag, names, &name)) return false;
          r->AddString(target, field, name);
        }
        break;
    }
  }
  return true;
}

std::string LongTextsDocument(const std::vector<FieldFlag>& fields,
                              const Message& current) {
  const auto* d = current.GetDescriptor();
  const auto* r = current.GetReflection();
  std::string out;
  for (const FieldFlag& f : fields) {
    if (f.type != FieldType::kLongText) continue;
    const FieldDescriptor* field = d->FindFieldByName(f.path);
    if (field == nullptr) continue;
    out += std::string("=== ") + f.flag + " ===\n";
    const std::string text = r->GetString(current, field);
    if (!text.empty()) out += text + "\n";
    out += "\n";
  }
  return out;
}

std::map<std::string, std::string> ParseLongTextsDocument(
    const std::vector<FieldFlag>& fields, const std::string& document) {
  std::map<std::string, std::string> texts;
  std::string* section = nullptr;
  std::istringstream in(document);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > 8 && line.rfind("=== ", 0) == 0 &&
        line.compare(line.size() - 4, 4, " ===") == 0) {
      const std::string flag = line.substr(4, line.size() - 8);
      bool known = false;
      for (const FieldFlag& f : fields) {
        known = known || (f.type == FieldType::kLongText && flag == f.flag);
      }
      if (known) {
        section = &texts[flag];
        continue;
      }
    }
    if (section != nullptr) *section += line + "\n";
  }
  for (auto& [flag, text] : texts) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
      text.pop_back();
    }
    text.erase(0, text.find_first_not_of('\n'));
  }
  return texts;
}

bool EditLongTexts(const CLI::App& cmd, const std::vector<FieldFlag>& fields,
                   bool force, const Message& current, Message* target,
                   google::protobuf::FieldMask* mask) {
  bool given = false;
  for (const FieldFlag& f : fields) {
    given =
        given || (f.type == FieldType::kLongText && LongTextGiven(cmd, f.flag));
  }
  if (!force && !ShouldOpenEditor(given)) return true;
  if (force && !ShouldOpenEditor(/*text_given=*/false)) {
    UsageError("--edit",
               "needs a terminal (stdin is not one); give the "
               "texts with their flags");
    return false;
  }
  if (given) {
    UsageError("--edit", "give the texts with their flags or --edit, not both");
    return false;
  }
  absl::StatusOr<std::string> edited = EditText(
      LongTextsDocument(fields, current),
      "# Each text is under its === flag === line (Markdown; `# Heading`\n"
      "# lines are kept). Save and quit to send; change nothing to send\n"
      "# nothing.");
  if (!edited.ok()) {
    UsageError("--edit", std::string(edited.status().message()));
    return false;
  }
  const auto* d = target->GetDescriptor();
  const auto* r = target->GetReflection();
  bool changed = false;
  for (const auto& [flag, text] : ParseLongTextsDocument(fields, *edited)) {
    for (const FieldFlag& f : fields) {
      if (f.type != FieldType::kLongText || flag != f.flag) continue;
      const FieldDescriptor* field = d->FindFieldByName(f.path);
      if (field == nullptr || r->GetString(current, field) == text) continue;
      r->SetString(target, field, text);
      mask->add_paths(f.path);
      changed = true;
    }
  }
  // A draft may start without its narrative; an --edit that changes
  // nothing has nothing to send.
  if (!changed && force) {
    UsageError("--edit", "no text was changed; nothing was sent");
    return false;
  }
  return true;
}

}  // namespace cohorte::client
