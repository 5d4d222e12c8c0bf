#include "client/fields.h"

#include <string>
#include <vector>

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

}  // namespace cohorte::client
