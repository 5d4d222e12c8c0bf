// File: client/times.h
//
// Dates and times as people type and read them. Input: RFC 3339
// (`2027-01-15T09:30:00+01:00`), `2027-01-15 09:30`, `2027-01-15`,
// `15/01/2027 09:30`, `15/01/2027` (local times in a given zone, the
// session's or the user's), and for --since a span back from now
// (`30d`, `12h`, `45m`, `2w`). Output: `2027-01-15 09:30 CET` in the
// user's zone (TZ, Europe/Paris when unset), never nanoseconds.
// Pure functions (the clock is an argument), thread-compatible.
#ifndef COHORTE_CLIENT_TIMES_H_
#define COHORTE_CLIENT_TIMES_H_

#include <string>

#include "absl/time/time.h"
#include "cohorte/v1/cohorts.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace cohorte::client {

// The zone times are shown in: $TZ when it names a zone, else
// Europe/Paris (the zone of the programme).
absl::TimeZone UserTimeZone();

// The zone named `name` (IANA), or Europe/Paris when `name` is empty.
// False if `name` is not a known zone.
bool LoadZone(const std::string& name, absl::TimeZone* zone);

struct TimeInput {
  // Zone of a time typed without an offset.
  absl::TimeZone zone;
  // For spans such as `30d`: now minus the span.
  absl::Time now;
  // Whether spans are accepted (--since), or only points in time.
  bool allow_span = false;
};

// Parses `text` into `out`. On failure, `error` says what forms are
// accepted (without the flag's name, which the caller adds).
bool ParseUserTime(const std::string& text, const TimeInput& input,
                   google::protobuf::Timestamp* out, std::string* error);

// `YYYY-MM-DD` or `DD/MM/YYYY` into `out`; false if neither (the server
// checks that the date exists).
bool ParseUserDate(const std::string& text, v1::Date* out);

// `t` in `zone` to the minute with the zone's abbreviation, e.g.
// "2027-01-15 09:30 CET"; "" for an unset time.
std::string FormatUserTime(const google::protobuf::Timestamp& t,
                           const absl::TimeZone& zone);

// FormatUserTime in UserTimeZone().
std::string ShowTime(const google::protobuf::Timestamp& t);

// Now plus `days` days, to the second.
google::protobuf::Timestamp DaysFromNow(int days);

// `d` as YYYY-MM-DD.
std::string FormatDate(const v1::Date& d);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_TIMES_H_
