#include "client/times.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/clock.h"

namespace cohorte::client {
namespace {

constexpr char kDefaultZone[] = "Europe/Paris";

void ToTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t seconds = absl::ToUnixSeconds(t);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
}

// `30d`, `12h`, `45m`, `2w`, `90s`: false if `text` is not a span.
bool ParseSpan(const std::string& text, absl::Duration* out) {
  if (text.size() < 2) return false;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  if (text.size() > 7) return false;  // at most 999999 units
  const int64_t n = std::stoll(text.substr(0, text.size() - 1));
  switch (text.back()) {
    case 's':
      *out = absl::Seconds(n);
      return true;
    case 'm':
      *out = absl::Minutes(n);
      return true;
    case 'h':
      *out = absl::Hours(n);
      return true;
    case 'd':
      *out = absl::Hours(24 * n);
      return true;
    case 'w':
      *out = absl::Hours(24 * 7 * n);
      return true;
    default:
      return false;
  }
}

// `DD/MM/YYYY[ HH:MM]` rewritten as `YYYY-MM-DD[ HH:MM]`, or "" if `text`
// is not of that shape.
std::string FromFrenchOrder(const std::string& text) {
  int d, m, y;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%2d/%2d/%4d%n", &d, &m, &y, &consumed) != 3 ||
      consumed < 8) {
    return "";
  }
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, d);
  return buf + text.substr(consumed);
}

}  // namespace

bool LoadZone(const std::string& name, absl::TimeZone* zone) {
  return absl::LoadTimeZone(name.empty() ? kDefaultZone : name, zone);
}

absl::TimeZone UserTimeZone() {
  absl::TimeZone zone;
  const char* tz = std::getenv("TZ");
  std::string name = tz == nullptr ? "" : tz;
  if (!name.empty() && name[0] == ':') name = name.substr(1);
  if (!name.empty() && LoadZone(name, &zone)) return zone;
  LoadZone(kDefaultZone, &zone);
  return zone;
}

bool ParseUserTime(const std::string& text, const TimeInput& input,
                   google::protobuf::Timestamp* out, std::string* error) {
  absl::Duration span;
  if (input.allow_span && ParseSpan(text, &span)) {
    ToTimestamp(input.now - span, out);
    return true;
  }
  std::string iso = FromFrenchOrder(text);
  if (iso.empty()) iso = text;
  absl::Time t;
  std::string ignored;
  // With an offset first (RFC 3339), then local forms in `input.zone`.
  if (absl::ParseTime(absl::RFC3339_full, iso, &t, &ignored)) {
    ToTimestamp(t, out);
    return true;
  }
  for (const char* format :
       {"%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"}) {
    if (absl::ParseTime(format, iso, input.zone, &t, &ignored)) {
      ToTimestamp(t, out);
      return true;
    }
  }
  *error =
      "'" + text +
      "' is not a time: give 2027-01-15 09:30, 15/01/2027 09:30, "
      "2027-01-15 (local time, " +
      input.zone.name() + ") or 2027-01-15T09:30:00+01:00" +
      (input.allow_span ? ", or a span back from now: 30d, 12h, 45m, 2w" : "");
  return false;
}

bool ParseUserDate(const std::string& text, v1::Date* out) {
  std::string iso = FromFrenchOrder(text);
  if (iso.empty()) iso = text;
  int y, m, d;
  char extra;
  if (iso.size() != 10 ||
      std::sscanf(iso.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3) {
    return false;
  }
  out->set_year(y);
  out->set_month(m);
  out->set_day(d);
  return true;
}

std::string FormatUserTime(const google::protobuf::Timestamp& t,
                           const absl::TimeZone& zone) {
  if (t.seconds() == 0 && t.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M %Z",
                          absl::FromUnixSeconds(t.seconds()), zone);
}

std::string ShowTime(const google::protobuf::Timestamp& t) {
  return FormatUserTime(t, UserTimeZone());
}

google::protobuf::Timestamp DaysFromNow(int days) {
  google::protobuf::Timestamp t;
  t.set_seconds(absl::ToUnixSeconds(absl::Now()) + int64_t{days} * 86400);
  return t;
}

std::string FormatDate(const v1::Date& d) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", d.year(), d.month(),
                d.day());
  return buf;
}

}  // namespace cohorte::client
