#include "client/csv.h"

#include "google/protobuf/stubs/common.h"

namespace cohorte::client {
namespace {

char DetectSeparator(const std::string& text, size_t start) {
  bool quoted = false;
  for (size_t i = start; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == ',' || c == ';') return c;
    if (c == '\n' || c == '\r') break;
  }
  return ',';
}

bool IsBlank(const CsvRow& row) {
  return row.fields.size() == 1 && row.fields[0].empty();
}

}  // namespace

CsvParse ParseCsv(const std::string& text) {
  CsvParse result;
  if (!google::protobuf::internal::IsStructurallyValidUTF8(
          text.data(), static_cast<int>(text.size()))) {
    result.error = "the file is not UTF-8 (export it as \"CSV UTF-8\")";
    return result;
  }
  size_t i = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  const char separator = DetectSeparator(text, i);
  int line = 1;
  CsvRow row;
  row.line = line;
  std::string field;
  bool quoted = false;      // inside a quoted field
  bool was_quoted = false;  // the current field was quoted and closed
  auto end_field = [&] {
    row.fields.push_back(std::move(field));
    field.clear();
    was_quoted = false;
  };
  auto end_row = [&] {
    end_field();
    if (!IsBlank(row)) result.rows.push_back(std::move(row));
    row = CsvRow();
    row.line = line;
  };
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
          was_quoted = true;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"') {
      if (!field.empty() || was_quoted) {
        result.error = "line " + std::to_string(line) +
                       ": a quote in the middle of a field";
        result.rows.clear();
        return result;
      }
      quoted = true;
    } else if (c == separator) {
      end_field();
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++line;
      end_row();
    } else if (was_quoted) {
      result.error = "line " + std::to_string(line) +
                     ": text after the closing quote of a field";
      result.rows.clear();
      return result;
    } else {
      field.push_back(c);
    }
  }
  if (quoted) {
    result.error =
        "line " + std::to_string(row.line) + ": a quoted field is not closed";
    result.rows.clear();
    return result;
  }
  end_row();
  return result;
}

}  // namespace cohorte::client
