#include "client/token.h"

#include <string>

namespace cohorte::client {
namespace {

constexpr char kPrefix[] = "coh_";
constexpr size_t kPrefixSize = sizeof(kPrefix) - 1;
constexpr size_t kHexDigits = 64;

bool IsLowerHex(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// What kind of byte `c` is, without saying which.
const char* ByteKind(unsigned char c) {
  if (c == '\n' || c == '\r') return "a line break";
  if (c == ' ' || c == '\t') return "a blank";
  if (c < 0x20 || c == 0x7f) return "a control character";
  if (c >= 0x80) return "a non-ASCII byte";
  if (c >= 'A' && c <= 'F') return "an uppercase letter";
  return "a character that is not a hex digit";
}

}  // namespace

std::string TrimToken(const std::string& text) {
  const char* blanks = " \t\r\n";
  const size_t begin = text.find_first_not_of(blanks);
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(blanks) - begin + 1);
}

std::string TokenFormProblem(const std::string& token) {
  for (size_t i = 0; i < token.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(token[i]);
    const bool in_prefix = i < kPrefixSize;
    if (in_prefix ? c == static_cast<unsigned char>(kPrefix[i])
                  : IsLowerHex(c)) {
      continue;
    }
    if (in_prefix) {
      return token.rfind("inv_", 0) == 0
                 ? "it is an invitation secret (inv_…), not a token: use "
                   "`cohorte invitations accept`"
                 : "it does not start with coh_";
    }
    return "it holds " + std::string(ByteKind(c)) + " at byte " +
           std::to_string(i + 1) + " of " + std::to_string(token.size());
  }
  if (token.size() != kPrefixSize + kHexDigits) {
    return "it is " + std::to_string(token.size()) + " bytes long, not " +
           std::to_string(kPrefixSize + kHexDigits);
  }
  return "";
}

}  // namespace cohorte::client
