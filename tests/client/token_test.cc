// The token's form is checked before anything is sent, and what is said
// about a bad token never quotes it.

#include "client/token.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cohorte::client {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kGood = "coh_" + std::string(64, 'a');

TEST(TokenTest, AWellFormedTokenHasNoProblem) {
  EXPECT_EQ(TokenFormProblem(kGood), "");
  EXPECT_EQ(TokenFormProblem("coh_0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef"),
            "");
}

TEST(TokenTest, TrimmingDropsTheFinalLineBreakOnly) {
  EXPECT_EQ(TrimToken(kGood + "\r\n"), kGood);
  EXPECT_EQ(TrimToken("  " + kGood + "\n\n"), kGood);
  EXPECT_EQ(TrimToken(kGood + "\n" + kGood + "\n"), kGood + "\n" + kGood);
}

TEST(TokenTest, ALineBreakInsideIsNamedByPositionNotByContent) {
  const std::string secret =
      "coh_" + std::string(30, 'b') + "\n" + std::string(34, 'c');
  const std::string problem = TokenFormProblem(secret);
  EXPECT_THAT(problem, HasSubstr("a line break at byte 35"));
  EXPECT_THAT(problem, Not(HasSubstr("bbb")));
  EXPECT_THAT(problem, Not(HasSubstr("ccc")));
}

TEST(TokenTest, EveryKindOfBadByteIsRefused) {
  for (const std::string& bad :
       {kGood.substr(0, 10) + std::string(1, '\0') + kGood.substr(11),
        kGood.substr(0, 10) + "\x7f" + kGood.substr(11),
        kGood.substr(0, 10) + "\xc3\xa9" + kGood.substr(12),
        kGood.substr(0, 10) + "A" + kGood.substr(11),
        kGood.substr(0, 10) + " " + kGood.substr(11),
        kGood.substr(0, 10) + "g" + kGood.substr(11)}) {
    EXPECT_NE(TokenFormProblem(bad), "") << bad;
  }
}

TEST(TokenTest, WrongLengthAndPrefixAreSaidPlainly) {
  EXPECT_THAT(TokenFormProblem(kGood + "ab"), HasSubstr("70 bytes long"));
  EXPECT_THAT(TokenFormProblem("coh_abc"), HasSubstr("7 bytes long"));
  EXPECT_THAT(TokenFormProblem("Bearer " + kGood),
              HasSubstr("does not start with coh_"));
  EXPECT_THAT(TokenFormProblem("inv_" + std::string(64, 'a')),
              HasSubstr("invitation secret"));
}

}  // namespace
}  // namespace cohorte::client
