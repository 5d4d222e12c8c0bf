#include "client/output.h"

#include <algorithm>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "client/labels.h"
#include "client/times.h"
#include "client/yaml.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/json_util.h"

namespace cohorte::client {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

bool json_errors = false;

// Display width: code points, not bytes, so that accents align.
size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

void AppendNames(const Message& message, std::string* out) {
  const auto* descriptor = message.GetDescriptor();
  const Reflection* reflection = message.GetReflection();
  // A resource's name, or the id of what has no name (the référentiel's
  // fundamentals and balises).
  for (const char* key : {"name", "id"}) {
    const FieldDescriptor* name = descriptor->FindFieldByName(key);
    if (name != nullptr && !name->is_repeated() &&
        name->type() == FieldDescriptor::TYPE_STRING) {
      const std::string value = reflection->GetString(message, name);
      if (!value.empty()) *out += value + "\n";
      return;
    }
  }
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (!field->is_repeated()) continue;
    const int n = reflection->FieldSize(message, field);
    if (field->type() == FieldDescriptor::TYPE_STRING) {
      for (int j = 0; j < n; ++j) {
        *out += reflection->GetRepeatedString(message, field, j) + "\n";
      }
      return;
    }
    if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
      for (int j = 0; j < n; ++j) {
        AppendNames(reflection->GetRepeatedMessage(message, field, j), out);
      }
      return;
    }
  }
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (field->type() == FieldDescriptor::TYPE_MESSAGE &&
        !field->is_repeated() && reflection->HasField(message, field)) {
      return AppendNames(reflection->GetMessage(message, field), out);
    }
  }
}

}  // namespace

bool ParseOutputFormat(const std::string& text, OutputFormat* out) {
  if (text == "table") {
    *out = OutputFormat::kTable;
  } else if (text == "json") {
    *out = OutputFormat::kJson;
  } else if (text == "yaml") {
    *out = OutputFormat::kYaml;
  } else if (text == "name") {
    *out = OutputFormat::kName;
  } else {
    return false;
  }
  return true;
}

std::string ToJson(const Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  std::string out;
  // Printing a well-formed message cannot fail.
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  if (out.empty() || out.back() != '\n') out += "\n";
  return out;
}

void PrintJson(const Message& message) { std::cout << ToJson(message); }

void PrintYaml(const Message& message) {
  std::cout << JsonToYaml(ToJson(message));
}

std::string ToNames(const Message& message) {
  std::string out;
  AppendNames(message, &out);
  return out;
}

std::string FormatResource(const Message& resource,
                           const absl::TimeZone& zone) {
  const auto* d = resource.GetDescriptor();
  const Reflection* r = resource.GetReflection();
  std::vector<std::pair<std::string, std::string>> lines;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    std::string value;
    if (f->is_repeated()) {
      const int n = r->FieldSize(resource, f);
      for (int j = 0; j < n; ++j) {
        const std::string sep = j == 0 ? "" : " ";
        if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
          value += sep + r->GetRepeatedString(resource, f, j);
        } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
          value += sep + LabelOf(r->GetRepeatedEnum(resource, f, j),
                                 LocaleLanguage());
        }
      }
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && n > 0) {
        value = "(" + std::to_string(n) + ")";
      }
    } else {
      switch (f->cpp_type()) {
        case FieldDescriptor::CPPTYPE_STRING:
          value = r->GetString(resource, f);
          break;
        case FieldDescriptor::CPPTYPE_ENUM:
          if (r->GetEnum(resource, f)->number() != 0) {
            value = LabelOf(r->GetEnum(resource, f), LocaleLanguage());
          }
          break;
        case FieldDescriptor::CPPTYPE_BOOL:
          value = r->GetBool(resource, f) ? "yes" : "no";
          break;
        case FieldDescriptor::CPPTYPE_INT32:
          value = std::to_string(r->GetInt32(resource, f));
          break;
        case FieldDescriptor::CPPTYPE_INT64:
          value = std::to_string(r->GetInt64(resource, f));
          break;
        case FieldDescriptor::CPPTYPE_MESSAGE:
          if (r->HasField(resource, f) &&
              f->message_type() == google::protobuf::Timestamp::descriptor()) {
            google::protobuf::Timestamp t;
            t.CopyFrom(r->GetMessage(resource, f));
            value = FormatUserTime(t, zone);
          }
          break;
        default:
          break;
      }
    }
    if (!value.empty()) lines.emplace_back(f->name(), value);
  }
  size_t width = 0;
  for (const auto& [k, v] : lines) width = std::max(width, Width(k));
  std::string out;
  for (const auto& [k, v] : lines) {
    out += k + ":" + std::string(width - Width(k) + 1, ' ') + v + "\n";
  }
  return out;
}

void PrintResource(const Message& resource) {
  std::cout << FormatResource(resource, UserTimeZone());
}

void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(header.size());
  for (size_t i = 0; i < header.size(); ++i) widths[i] = Width(header[i]);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], Width(row[i]));
    }
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size(); ++i) {
      std::cout << row[i];
      if (i + 1 < row.size()) {
        std::cout << std::string(widths[i] - Width(row[i]) + 2, ' ');
      }
    }
    std::cout << "\n";
  };
  print_row(header);
  for (const auto& row : rows) print_row(row);
}

void PrintFields(
    const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t width = 0;
  for (const auto& [k, v] : fields) width = std::max(width, Width(k));
  for (const auto& [k, v] : fields) {
    std::cout << k << ":" << std::string(width - Width(k) + 1, ' ') << v
              << "\n";
  }
}

void SetJsonErrors(bool json) { json_errors = json; }

std::string FormatError(const CliError& e, bool json) {
  if (json) {
    return "{\"code\":" + JsonString(e.code) +
           ",\"message\":" + JsonString(e.message) +
           ",\"reason\":" + JsonString(e.reason) +
           ",\"field\":" + JsonString(e.field) + "}";
  }
  std::string out =
      "Error: " + (e.code == "USAGE" ? "" : e.code + ": ") + e.message + "\n";
  if (!e.reason.empty()) out += "  reason: " + e.reason + "\n";
  if (!e.field.empty() && e.code != "USAGE") {
    out += "  field: " + e.field + "\n";
  }
  return out;
}

void PrintError(const CliError& error) {
  std::cerr << FormatError(error, json_errors) << (json_errors ? "\n" : "");
}

}  // namespace cohorte::client
