#include "client/yaml.h"

#include <cctype>
#include <string>
#include <utility>
#include <vector>

namespace cohorte::client {
namespace {

// One JSON value. Scalars keep their JSON text (`"a\nb"`, `12`, `true`).
struct Node {
  enum class Kind { kObject, kArray, kScalar } kind = Kind::kScalar;
  std::string raw;
  bool is_string = false;
  std::vector<std::pair<std::string, Node>> members;  // keys as JSON text
  std::vector<Node> items;
};

// A recursive-descent reader of the JSON protobuf prints.
class Parser {
 public:
  explicit Parser(const std::string& text) : s_(text) {}

  bool ParseDocument(Node* out) {
    if (!Value(out)) return false;
    SkipSpace();
    return i_ == s_.size();
  }

 private:
  void SkipSpace() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) {
      ++i_;
    }
  }

  bool String(std::string* raw) {
    if (i_ >= s_.size() || s_[i_] != '"') return false;
    const size_t begin = i_++;
    while (i_ < s_.size() && s_[i_] != '"') i_ += s_[i_] == '\\' ? 2 : 1;
    if (i_ >= s_.size()) return false;
    ++i_;
    *raw = s_.substr(begin, i_ - begin);
    return true;
  }

  bool Value(Node* out) {
    SkipSpace();
    if (i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '{' || c == '[') {
      out->kind = c == '{' ? Node::Kind::kObject : Node::Kind::kArray;
      const char close = c == '{' ? '}' : ']';
      ++i_;
      SkipSpace();
      if (i_ < s_.size() && s_[i_] == close) return ++i_, true;
      while (true) {
        if (out->kind == Node::Kind::kObject) {
          SkipSpace();
          std::string key;
          if (!String(&key)) return false;
          SkipSpace();
          if (i_ >= s_.size() || s_[i_++] != ':') return false;
          out->members.emplace_back(std::move(key), Node());
          if (!Value(&out->members.back().second)) return false;
        } else {
          out->items.emplace_back();
          if (!Value(&out->items.back())) return false;
        }
        SkipSpace();
        if (i_ >= s_.size()) return false;
        if (s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (s_[i_] == close) return ++i_, true;
        return false;
      }
    }
    if (c == '"') {
      out->is_string = true;
      return String(&out->raw);
    }
    const size_t begin = i_;
    while (i_ < s_.size() &&
           std::string(",}] \t\r\n").find(s_[i_]) == std::string::npos) {
      ++i_;
    }
    out->raw = s_.substr(begin, i_ - begin);
    return !out->raw.empty();
  }

  const std::string& s_;
  size_t i_ = 0;
};

// Whether `s` reads back as this same string when written plain: it
// starts with a letter, '_', '/' or a non-ASCII character, holds only
// those, digits, inner spaces and `.-@+:`, and is none of the words YAML
// 1.1 readers take for booleans or null.
bool Plain(const std::string& s) {
  if (s.empty() || s.back() == ' ' || s.back() == ':') return false;
  const unsigned char first = static_cast<unsigned char>(s[0]);
  if (!(std::isalpha(first) || first == '_' || first == '/' || first >= 0x80)) {
    return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (std::isalnum(c) || c >= 0x80 || c == '_' || c == '/' || c == '.' ||
        c == '-' || c == '@' || c == '+') {
      continue;
    }
    if (c == ' ' && s[i + 1] != ' ') continue;
    if (c == ':' && s[i + 1] != ' ') continue;
    return false;
  }
  std::string lower;
  for (char c : s) lower += static_cast<char>(std::tolower(c));
  for (const char* word :
       {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}) {
    if (lower == word) return false;
  }
  return true;
}

std::string Scalar(const Node& n) {
  if (!n.is_string) return n.raw;
  const std::string content = n.raw.substr(1, n.raw.size() - 2);
  return content.find('\\') == std::string::npos && Plain(content) ? content
                                                                   : n.raw;
}

bool Empty(const Node& n) {
  return (n.kind == Node::Kind::kObject && n.members.empty()) ||
         (n.kind == Node::Kind::kArray && n.items.empty());
}

std::string Inline(const Node& n) {
  if (n.kind == Node::Kind::kObject) return "{}";
  if (n.kind == Node::Kind::kArray) return "[]";
  return Scalar(n);
}

// Writes a non-empty object or array, each line indented by `indent`.
void Block(const Node& n, size_t indent, std::string* out) {
  const std::string pad(indent, ' ');
  if (n.kind == Node::Kind::kObject) {
    for (const auto& [key_raw, value] : n.members) {
      Node key;
      key.is_string = true;
      key.raw = key_raw;
      *out += pad + Scalar(key) + ":";
      if (value.kind == Node::Kind::kScalar || Empty(value)) {
        *out += " " + Inline(value) + "\n";
      } else {
        *out += "\n";
        // A list under a key may start at the key's column.
        Block(value, value.kind == Node::Kind::kArray ? indent : indent + 2,
              out);
      }
    }
    return;
  }
  for (const Node& item : n.items) {
    if (item.kind == Node::Kind::kScalar || Empty(item)) {
      *out += pad + "- " + Inline(item) + "\n";
      continue;
    }
    // The item as a block two columns in, its first line marked "- ".
    std::string sub;
    Block(item, indent + 2, &sub);
    sub.replace(indent, 2, "- ");
    *out += sub;
  }
}

}  // namespace

std::string JsonToYaml(const std::string& json) {
  Node root;
  if (!Parser(json).ParseDocument(&root)) return "";
  if (root.kind == Node::Kind::kScalar || Empty(root)) {
    return Inline(root) + "\n";
  }
  std::string out;
  Block(root, 0, &out);
  return out;
}

}  // namespace cohorte::client
