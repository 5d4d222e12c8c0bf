// Dates and times as people type them, and as they read them.

#include "client/times.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cohorte::client {
namespace {

using ::testing::HasSubstr;

absl::TimeZone Paris() {
  absl::TimeZone zone;
  EXPECT_TRUE(LoadZone("Europe/Paris", &zone));
  return zone;
}

// Parses `text` in Paris, "now" being 2027-01-20T12:00:00Z; the result as
// RFC 3339 UTC, or "error: …".
std::string Parse(const std::string& text, bool allow_span = false) {
  const TimeInput input{Paris(), absl::FromUnixSeconds(1800446400), allow_span};
  google::protobuf::Timestamp t;
  std::string error;
  if (!ParseUserTime(text, input, &t, &error)) return "error: " + error;
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                          absl::FromUnixSeconds(t.seconds()),
                          absl::UTCTimeZone());
}

TEST(TimesTest, LocalTimesAreInTheGivenZoneWinterAndSummer) {
  EXPECT_EQ(Parse("2027-01-15 09:30"), "2027-01-15T08:30:00Z");  // CET
  EXPECT_EQ(Parse("2027-07-15 09:30"), "2027-07-15T07:30:00Z");  // CEST
  EXPECT_EQ(Parse("2027-01-15T09:30"), "2027-01-15T08:30:00Z");
  EXPECT_EQ(Parse("2027-01-15 09:30:15"), "2027-01-15T08:30:15Z");
  EXPECT_EQ(Parse("2027-01-15"), "2027-01-14T23:00:00Z");
}

TEST(TimesTest, FrenchDayMonthYearOrderIsAccepted) {
  EXPECT_EQ(Parse("15/01/2027"), "2027-01-14T23:00:00Z");
  EXPECT_EQ(Parse("15/01/2027 09:30"), "2027-01-15T08:30:00Z");
  EXPECT_EQ(Parse("5/7/2027 14:00"), "2027-07-05T12:00:00Z");
}

TEST(TimesTest, Rfc3339KeepsItsOwnOffset) {
  EXPECT_EQ(Parse("2027-01-15T09:30:00+01:00"), "2027-01-15T08:30:00Z");
  EXPECT_EQ(Parse("2027-01-15T09:30:00Z"), "2027-01-15T09:30:00Z");
}

TEST(TimesTest, SpansCountBackFromNowOnlyWhereAllowed) {
  EXPECT_EQ(Parse("30d", /*allow_span=*/true), "2026-12-21T12:00:00Z");
  EXPECT_EQ(Parse("12h", /*allow_span=*/true), "2027-01-20T00:00:00Z");
  EXPECT_EQ(Parse("2w", /*allow_span=*/true), "2027-01-06T12:00:00Z");
  EXPECT_THAT(Parse("30d"), HasSubstr("error: '30d' is not a time"));
}

TEST(TimesTest, NonsenseIsRefusedWithTheFormsAccepted) {
  for (const char* bad : {"tomorrow", "2027-02-30 09:00", "2027-01-15 25:00",
                          "15.01.2027", "", "30x"}) {
    const std::string r = Parse(bad, /*allow_span=*/true);
    EXPECT_THAT(r, HasSubstr("error: "));
    EXPECT_THAT(r, HasSubstr("2027-01-15 09:30")) << bad;
  }
}

TEST(TimesTest, TimesPrintToTheMinuteInTheZone) {
  google::protobuf::Timestamp t;
  t.set_seconds(1800001800);  // 2027-01-15T08:30:00Z
  t.set_nanos(123456789);
  EXPECT_EQ(FormatUserTime(t, Paris()), "2027-01-15 09:30 CET");
  EXPECT_EQ(FormatUserTime(google::protobuf::Timestamp(), Paris()), "");
}

TEST(TimesTest, DatesInBothOrders) {
  v1::Date d;
  ASSERT_TRUE(ParseUserDate("2027-01-15", &d));
  EXPECT_EQ(FormatDate(d), "2027-01-15");
  ASSERT_TRUE(ParseUserDate("15/01/2027", &d));
  EXPECT_EQ(FormatDate(d), "2027-01-15");
  EXPECT_FALSE(ParseUserDate("15.01.2027", &d));
  EXPECT_FALSE(ParseUserDate("2027-01-15x", &d));
}

}  // namespace
}  // namespace cohorte::client
