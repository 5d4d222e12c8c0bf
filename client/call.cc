#include "client/call.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "client/editor.h"
#include "google/protobuf/descriptor.h"

namespace cohorte::client {
namespace {

using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Uppercase ASCII with '_' for '-' and ' ', French accents dropped
// (é → E, œ → OE…).
std::string EnumKey(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == 0xC3 && i + 1 < text.size()) {
      const unsigned char d = static_cast<unsigned char>(text[++i]);
      const unsigned char lower = d >= 0xA0 ? d : d + 0x20;
      if (lower >= 0xA0 && lower <= 0xA5)
        out += 'A';
      else if (lower == 0xA7)
        out += 'C';
      else if (lower >= 0xA8 && lower <= 0xAB)
        out += 'E';
      else if (lower >= 0xAC && lower <= 0xAF)
        out += 'I';
      else if (lower >= 0xB2 && lower <= 0xB6)
        out += 'O';
      else if (lower >= 0xB9 && lower <= 0xBC)
        out += 'U';
      continue;
    }
    if (c == 0xC5 && i + 1 < text.size()) {  // œ Œ
      const unsigned char d = static_cast<unsigned char>(text[++i]);
      if (d == 0x93 || d == 0x92) out += "OE";
      continue;
    }
    if (c == '-' || c == ' ' || c == '\'') {
      out += '_';
    } else {
      out += static_cast<char>(std::toupper(c));
    }
  }
  return out;
}

// The words of a proto name without "DE", "DES", "ET"…, for matching
// "gouvernance mise en oeuvre" to GOUVERNANCE_MISE_EN_OEUVRE and
// "partage enjeux" to PARTAGE_DES_ENJEUX.
std::string Compact(const std::string& key) {
  std::string out;
  std::string word;
  auto flush = [&] {
    if (!word.empty() && word != "DE" && word != "DES" && word != "DU" &&
        word != "ET" && word != "LA" && word != "LE" && word != "LES") {
      if (word.size() > 1 && word.back() == 'S') word.pop_back();
      out += word;
    }
    word.clear();
  };
  for (char c : key) {
    if (c == '_') {
      flush();
    } else {
      word += c;
    }
  }
  flush();
  return out;
}

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string Word(const std::string& proto_name) {
  std::string out;
  for (char c : proto_name) {
    out += c == '_' ? '-' : static_cast<char>(std::tolower(c));
  }
  return out;
}

bool ReadAll(const std::string& path, std::string* out) {
  if (path == "-") {
    out->assign(std::istreambuf_iterator<char>(std::cin),
                std::istreambuf_iterator<char>());
    return !std::cin.bad();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream content;
  content << in.rdbuf();
  *out = content.str();
  return true;
}

}  // namespace

int UsageError(const std::string& flag, const std::string& message) {
  const bool named = flag.empty() || message.rfind(flag, 0) == 0;
  PrintError({"USAGE", named ? message : flag + ": " + message, "", flag});
  return kExitUsage;
}

bool Resolve(NameKind kind, const std::string& value, const std::string& flag,
             const NameContext& context, std::string* out) {
  absl::StatusOr<std::string> name = ResolveName(kind, value, flag, context);
  if (!name.ok()) {
    UsageError(flag, std::string(name.status().message()));
    return false;
  }
  *out = *name;
  return true;
}

int EnumValueOf(const EnumDescriptor* type, const std::string& text) {
  const std::string key = EnumKey(text);
  for (int i = 0; i < type->value_count(); ++i) {
    const auto* v = type->value(i);
    if (v->number() == 0) continue;
    if (v->name() == key || Compact(v->name()) == Compact(key)) {
      return v->number();
    }
  }
  return -1;
}

std::string EnumWords(const EnumDescriptor* type) {
  std::string out;
  for (int i = 0; i < type->value_count(); ++i) {
    if (type->value(i)->number() == 0) continue;
    out += (out.empty() ? "" : ", ") + Word(type->value(i)->name());
  }
  return out;
}

std::string UnknownEnumMessage(const EnumDescriptor* type,
                               const std::string& text) {
  std::string closest;
  size_t best = 4;  // farther than 3 edits is no suggestion
  const std::string key = Compact(EnumKey(text));
  for (int i = 0; i < type->value_count(); ++i) {
    if (type->value(i)->number() == 0) continue;
    const size_t d = EditDistance(key, Compact(type->value(i)->name()));
    if (d < best) {
      best = d;
      closest = Word(type->value(i)->name());
    }
  }
  return "unknown value '" + text + "': one of " + EnumWords(type) +
         (closest.empty() ? "" : " (did you mean " + closest + "?)");
}

void AddLongText(CLI::App* cmd, const std::string& name, LongText* value,
                 const std::string& help) {
  cmd->add_option("--" + name, value->text, help + " ('-': read stdin)");
  cmd->add_option("--" + name + "-file", value->file,
                  "read --" + name + " from this file ('-': stdin)");
}

bool LongTextGiven(const CLI::App& cmd, const std::string& name) {
  return cmd.count("--" + name) > 0 || cmd.count("--" + name + "-file") > 0;
}

bool ReadLongText(const CLI::App& cmd, const std::string& name,
                  const LongText& value, std::string* out) {
  const bool text = cmd.count("--" + name) > 0;
  const bool file = cmd.count("--" + name + "-file") > 0;
  if (text && file) {
    UsageError("--" + name,
               "give --" + name + " or --" + name + "-file, not both");
    return false;
  }
  if (!file && value.text != "-") {
    *out = value.text;
    return true;
  }
  const std::string path = file ? value.file : "-";
  if (!ReadAll(path, out)) {
    UsageError("--" + name + "-file", "cannot read " + path);
    return false;
  }
  // Editors end files with a line break that is not part of the text.
  if (!out->empty() && out->back() == '\n') out->pop_back();
  if (!out->empty() && out->back() == '\r') out->pop_back();
  return true;
}

bool ReadRequiredText(const CLI::App& cmd, const std::string& name,
                      const LongText& value, const std::string& initial,
                      const std::string& help, std::string* out) {
  const bool given = LongTextGiven(cmd, name);
  if (given) return ReadLongText(cmd, name, value, out);
  if (!ShouldOpenEditor(given)) {
    UsageError("--" + name, "give --" + name + " TEXT, --" + name +
                                " - (stdin) or --" + name +
                                "-file (or run on a terminal to use $EDITOR)");
    return false;
  }
  absl::StatusOr<std::string> text = EditText(initial, help);
  if (!text.ok()) {
    UsageError("--" + name, std::string(text.status().message()));
    return false;
  }
  *out = *std::move(text);
  return true;
}

void AddPageFlags(CLI::App* cmd, PageFlags* flags) {
  cmd->add_option("--page-size", flags->page_size,
                  "results per page: 0 = 50, at most 1000");
  cmd->add_option("--page-token", flags->page_token,
                  "continue from a previous page's next page token");
  cmd->add_flag("--all", flags->all, "fetch every page");
}

void SetPage(const PageFlags& flags, Message* request) {
  const auto* d = request->GetDescriptor();
  const auto* r = request->GetReflection();
  if (const FieldDescriptor* f = d->FindFieldByName("page_size")) {
    r->SetInt32(request, f, flags.page_size);
  }
  if (const FieldDescriptor* f = d->FindFieldByName("page_token")) {
    r->SetString(request, f, flags.page_token);
  }
}

std::string MergePage(const Message& page, Message* all) {
  const auto* d = page.GetDescriptor();
  const auto* r = page.GetReflection();
  std::string next;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->is_repeated()) {
      for (int j = 0; j < r->FieldSize(page, f); ++j) {
        if (f->type() == FieldDescriptor::TYPE_MESSAGE) {
          r->AddMessage(all, f)->CopyFrom(r->GetRepeatedMessage(page, f, j));
        } else if (f->type() == FieldDescriptor::TYPE_STRING) {
          r->AddString(all, f, r->GetRepeatedString(page, f, j));
        }
      }
    } else if (f->name() == "next_page_token") {
      next = r->GetString(page, f);
      r->SetString(all, f, next);
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_INT32) {
      // Counts of the response (unread_count…): the last page's.
      r->SetInt32(all, f, r->GetInt32(page, f));
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_INT64) {
      r->SetInt64(all, f, r->GetInt64(page, f));
    }
  }
  return next;
}

void HintMore(const std::string& next_page_token) {
  if (next_page_token.empty()) return;
  std::cerr << "more results: rerun with --all or --page-token "
            << next_page_token << "\n";
}

}  // namespace cohorte::client
