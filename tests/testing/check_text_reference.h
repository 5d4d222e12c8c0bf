// File: tests/testing/check_text_reference.h
//
// The reference for service::CheckText: the check as it was before its
// ASCII fast path, decoding one code point at a time. The unit test
// (tests/service/validation_test.cc) and the fuzz target
// (tests/fuzz/text_fuzz.cc) compare CheckText with it, status and message.
// Its errors name the field "text". Thread-safe (pure).
#ifndef COHORTE_TESTS_TESTING_CHECK_TEXT_REFERENCE_H_
#define COHORTE_TESTS_TESTING_CHECK_TEXT_REFERENCE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/service/core/errors.h"
#include "server/service/core/validation.h"

namespace cohorte::service::testing {

// The reference: UTF-8 decoded one code point at a time (no overlong
// forms, no surrogates, nothing above U+10FFFF, nothing truncated).
inline bool ReferenceNextCodePoint(const std::string& s, size_t* i,
                                   uint32_t* cp) {
  const unsigned char c = static_cast<unsigned char>(s[*i]);
  int extra;
  uint32_t min;
  if (c < 0x80) {
    *cp = c;
    ++*i;
    return true;
  } else if ((c & 0xe0) == 0xc0) {
    extra = 1, min = 0x80, *cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    extra = 2, min = 0x800, *cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    extra = 3, min = 0x10000, *cp = c & 0x07;
  } else {
    return false;
  }
  if (*i + extra >= s.size()) return false;
  for (int k = 1; k <= extra; ++k) {
    const unsigned char cc = static_cast<unsigned char>(s[*i + k]);
    if ((cc & 0xc0) != 0x80) return false;
    *cp = (*cp << 6) | (cc & 0x3f);
  }
  if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff)) {
    return false;
  }
  *i += extra + 1;
  return true;
}

inline absl::Status ReferenceCheckText(const std::string& value, int min_chars,
                                       int max_chars, TextKind kind) {
  int count = 0;
  for (size_t i = 0; i < value.size();) {
    uint32_t cp;
    if (!ReferenceNextCodePoint(value, &i, &cp)) {
      return InvalidField("text", "is not valid UTF-8");
    }
    const bool line_break = cp == '\n' || cp == '\r' || cp == '\t';
    if ((cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) &&
        !(kind == TextKind::kMultiLine && line_break)) {
      return InvalidField("text", "contains a control character");
    }
    if (++count > max_chars) {
      return InvalidField(
          "text", absl::StrCat("is longer than ", max_chars, " characters"));
    }
  }
  if (count < min_chars) {
    return InvalidField("text", min_chars == 1
                                    ? std::string("is required")
                                    : absl::StrCat("is shorter than ",
                                                   min_chars, " characters"));
  }
  if (min_chars >= 1 &&
      value.find_first_not_of(" \t\r\n") == std::string::npos) {
    return InvalidField("text", "is required (it holds only spaces)");
  }
  return absl::OkStatus();
}

}  // namespace cohorte::service::testing

#endif  // COHORTE_TESTS_TESTING_CHECK_TEXT_REFERENCE_H_
