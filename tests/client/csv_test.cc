// The CSV reader of `cohorte invitations import`, on what spreadsheets
// really write.

#include "client/csv.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cohorte::client {
namespace {

using ::testing::ElementsAre;

std::vector<std::vector<std::string>> Fields(const CsvParse& p) {
  std::vector<std::vector<std::string>> out;
  for (const CsvRow& r : p.rows) out.push_back(r.fields);
  return out;
}

TEST(CsvTest, ReadsCommasQuotesAndLineEnds) {
  CsvParse p = ParseCsv(
      "email,college\r\n\"a@x.org\",elu\r\n\"b, \"\"c\"\"@x.org\",agent\n");
  ASSERT_EQ(p.error, "");
  EXPECT_THAT(Fields(p), ElementsAre(ElementsAre("email", "college"),
                                     ElementsAre("a@x.org", "elu"),
                                     ElementsAre("b, \"c\"@x.org", "agent")));
}

TEST(CsvTest, ReadsFrenchSpreadsheetsSemicolonsAndByteOrderMark) {
  CsvParse p = ParseCsv(
      "\xEF\xBB\xBF"
      "E-mail;Collège\nélu@x.org;Élu\n\n");
  ASSERT_EQ(p.error, "");
  EXPECT_THAT(Fields(p), ElementsAre(ElementsAre("E-mail", "Collège"),
                                     ElementsAre("élu@x.org", "Élu")));
}

TEST(CsvTest, AQuotedLineBreakKeepsTheRowsStartingLine) {
  CsvParse p = ParseCsv("a,b\n\"x\ny\",z\nlast,row\n");
  ASSERT_EQ(p.error, "");
  ASSERT_EQ(p.rows.size(), 3u);
  EXPECT_EQ(p.rows[1].line, 2);
  EXPECT_EQ(p.rows[1].fields[0], "x\ny");
  EXPECT_EQ(p.rows[2].line, 4);
}

TEST(CsvTest, RefusesWhatItCannotReadWithTheLine) {
  EXPECT_EQ(ParseCsv("a,b\n\"open,b\n").error,
            "line 2: a quoted field is not closed");
  EXPECT_EQ(ParseCsv("a,b\nx\"y,b\n").error,
            "line 2: a quote in the middle of a field");
  EXPECT_EQ(ParseCsv("a,b\n\"x\"y,b\n").error,
            "line 2: text after the closing quote of a field");
  EXPECT_THAT(ParseCsv("a,\xff\n").error, ::testing::HasSubstr("not UTF-8"));
}

}  // namespace
}  // namespace cohorte::client
