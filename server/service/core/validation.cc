#include "server/service/core/validation.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"

namespace cohorte::service {
namespace {

// Decodes one UTF-8 sequence at `s[*i]`, advancing `*i`. False if invalid
// (overlong, surrogate, above U+10FFFF, truncated).
bool NextCodePoint(absl::string_view s, size_t* i, uint32_t* cp) {
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
  if (*i + extra >= s.size()) return false;  // truncated sequence
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

// Whether the 8 bytes at `p` are all printable ASCII (0x20 to 0x7e): none
// has its high bit set, none is below 0x20 and none is 0x7f. The two
// byte-wise tests are exact for "some byte is": a borrow only crosses out of
// a byte that already matched.
bool AllPrintableAscii(const char* p) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  uint64_t w;
  std::memcpy(&w, p, sizeof(w));
  const uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
  const uint64_t del = w ^ (kOnes * 0x7f);  // 0 where a byte is 0x7f
  const uint64_t is_del = (del - kOnes) & ~del & kHigh;
  return ((w & kHigh) | below_space | is_del) == 0;
}

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

absl::Status CheckText(absl::string_view field, absl::string_view value,
                       int min_chars, int max_chars, TextKind kind) {
  int count = 0;
  for (size_t i = 0; i < value.size();) {
    // Printable ASCII, eight characters at a time; the first byte that is
    // not (an accent, a line break) goes through the decoding below.
    while (value.size() - i >= 8 && AllPrintableAscii(value.data() + i)) {
      i += 8;
      count += 8;
    }
    if (count > max_chars) {
      return InvalidField(
          field, absl::StrCat("is longer than ", max_chars, " characters"));
    }
    if (i == value.size()) break;
    uint32_t cp;
    if (!NextCodePoint(value, &i, &cp)) {
      return InvalidField(field, "is not valid UTF-8");
    }
    const bool line_break = cp == '\n' || cp == '\r' || cp == '\t';
    if ((cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) &&
        !(kind == TextKind::kMultiLine && line_break)) {
      return InvalidField(field, "contains a control character");
    }
    if (++count > max_chars) {
      return InvalidField(
          field, absl::StrCat("is longer than ", max_chars, " characters"));
    }
  }
  if (count < min_chars) {
    return InvalidField(field, min_chars == 1
                                   ? std::string("is required")
                                   : absl::StrCat("is shorter than ", min_chars,
                                                  " characters"));
  }
  // Required text of spaces only is empty.
  if (min_chars >= 1 &&
      value.find_first_not_of(" \t\r\n") == absl::string_view::npos) {
    return InvalidField(field, "is required (it holds only spaces)");
  }
  return absl::OkStatus();
}

absl::Status CheckResourceId(absl::string_view field, absl::string_view id) {
  if (id.empty()) return InvalidField(field, "is required");
  if (static_cast<int>(id.size()) > kMaxResourceIdLength) {
    return InvalidField(
        field,
        absl::StrCat("is longer than ", kMaxResourceIdLength, " characters"));
  }
  auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  bool ok = lower(id.front()) && (lower(id.back()) || digit(id.back()));
  for (char c : id) ok = ok && (lower(c) || digit(c) || c == '-');
  if (!ok) {
    return InvalidField(
        field,
        "must start with a lowercase letter, hold only lowercase letters, "
        "digits and '-', and not end with '-'");
  }
  return absl::OkStatus();
}

absl::Status CheckEnumValue(absl::string_view field, int value,
                            bool (*is_valid)(int)) {
  if (value == 0) return InvalidField(field, "is required");
  if (!is_valid(value)) {
    return InvalidField(field, absl::StrCat("has no value numbered ", value));
  }
  return absl::OkStatus();
}

absl::Status CheckRequestId(absl::string_view field, absl::string_view id) {
  if (static_cast<int>(id.size()) > kMaxRequestIdLength) {
    return InvalidField(
        field,
        absl::StrCat("is longer than ", kMaxRequestIdLength, " characters"));
  }
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) {
      return InvalidField(field, "must be printable ASCII (a UUID is best)");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckDate(absl::string_view field, const v1::Date& date) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  if (date.year() < kMinYear || date.year() > kMaxYear) {
    return InvalidField(field, absl::StrCat("year must be between ", kMinYear,
                                            " and ", kMaxYear));
  }
  if (date.month() < 1 || date.month() > 12) {
    return InvalidField(field, "month must be between 1 and 12");
  }
  int days = kDays[date.month() - 1];
  if (date.month() == 2 && IsLeapYear(date.year())) days = 29;
  if (date.day() < 1 || date.day() > days) {
    return InvalidField(field, "day does not exist in that month");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ParseTopLevelName(absl::string_view field,
                                              absl::string_view name,
                                              absl::string_view collection) {
  const std::string prefix = absl::StrCat(collection, "/");
  if (name.substr(0, prefix.size()) != prefix) {
    return InvalidField(
        field, absl::StrCat("must be of the form ", collection, "/{id}"));
  }
  absl::string_view id = name.substr(prefix.size());
  absl::Status s = CheckResourceId(field, id);
  if (!s.ok()) {
    return InvalidField(field, absl::StrCat("must be of the form ", collection,
                                            "/{id} with a valid id"));
  }
  return std::string(id);
}

absl::StatusOr<std::string> ParseCohortChildName(absl::string_view field,
                                                 absl::string_view name,
                                                 absl::string_view collection) {
  const std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  auto bad = [&] {
    return InvalidField(field, absl::StrCat("must be of the form cohorts/{id}/",
                                            collection, "/{id}"));
  };
  if (parts.size() != 4 || parts[0] != "cohorts" || parts[2] != collection ||
      !CheckResourceId(field, parts[1]).ok() ||
      !CheckResourceId(field, parts[3]).ok()) {
    return bad();
  }
  return absl::StrCat("cohorts/", parts[1]);
}

absl::StatusOr<std::string> ParseTerritoryChildName(
    absl::string_view field, absl::string_view name,
    absl::string_view collection) {
  const std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 6 || parts[0] != "cohorts" || parts[2] != "territories" ||
      parts[4] != collection || !CheckResourceId(field, parts[1]).ok() ||
      !CheckResourceId(field, parts[3]).ok() ||
      !CheckResourceId(field, parts[5]).ok()) {
    return InvalidField(
        field,
        absl::StrCat("must be of the form cohorts/{id}/territories/{id}/",
                     collection, "/{id}"));
  }
  return absl::StrCat("cohorts/", parts[1], "/territories/", parts[3]);
}

absl::StatusOr<std::string> ParseNestedName(
    absl::string_view field, absl::string_view name,
    std::initializer_list<absl::string_view> collections) {
  const std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  bool ok = parts.size() == 2 * collections.size();
  std::string form;
  size_t i = 0;
  for (absl::string_view c : collections) {
    absl::StrAppend(&form, i == 0 ? "" : "/", c, "/{id}");
    if (ok &&
        (parts[2 * i] != c || !CheckResourceId(field, parts[2 * i + 1]).ok())) {
      ok = false;
    }
    ++i;
  }
  if (!ok) {
    return InvalidField(field, absl::StrCat("must be of the form ", form));
  }
  if (parts.size() == 2) return std::string();
  const size_t cut =
      name.size() - parts.back().size() - parts[parts.size() - 2].size() - 2;
  return std::string(name.substr(0, cut));
}

absl::StatusOr<int> EffectivePageSize(absl::string_view field, int requested) {
  if (requested < 0) return InvalidField(field, "must not be negative");
  if (requested == 0) return kDefaultPageSize;
  return requested > kMaxPageSize ? kMaxPageSize : requested;
}

absl::StatusOr<std::set<std::string>> CheckUpdateMask(
    const google::protobuf::FieldMask& mask,
    const std::set<std::string>& allowed, absl::string_view type,
    absl::string_view hint) {
  const std::string which = absl::StrCat("(", absl::StrJoin(allowed, ", "),
                                         hint.empty() ? "" : "; ", hint, ")");
  if (mask.paths().empty()) {
    return InvalidField("update_mask", absl::StrCat("is required ", which));
  }
  std::set<std::string> paths;
  for (const std::string& p : mask.paths()) {
    if (!allowed.count(p)) {
      return InvalidField(
          "update_mask",
          absl::StrCat("'", p.substr(0, 64), "' is not a field of ", type,
                       " that can be updated ", which));
    }
    paths.insert(p);
  }
  return paths;
}

}  // namespace cohorte::service
