// CheckText against its reference (tests/testing/check_text_reference.h:
// the check as it was before its ASCII fast path, eight bytes at a time):
// both must give the same answer, message included, on every input.

#include "server/service/core/validation.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/check_text_reference.h"

namespace cohorte::service {
namespace {

class CheckTextTest : public ::testing::Test {
 protected:
  void Compare(const std::string& value, int min_chars, int max_chars) {
    for (TextKind kind : {TextKind::kSingleLine, TextKind::kMultiLine}) {
      ++compared_;
      const absl::Status want =
          testing::ReferenceCheckText(value, min_chars, max_chars, kind);
      const absl::Status got =
          CheckText("text", value, min_chars, max_chars, kind);
      if (want != got && ++differences_ <= 5) {
        std::string hex;
        for (unsigned char c : value)
          absl::StrAppend(&hex, static_cast<int>(c), " ");
        ADD_FAILURE() << "[" << hex << "] min " << min_chars << " max "
                      << max_chars << ": want " << want << ", got " << got;
      }
    }
  }

  int64_t compared_ = 0;
  int64_t differences_ = 0;
};

// Every byte value at every position of a printable 24-byte run (the fast
// path's blocks of eight: first, middle, last, and the tail after them),
// with bounds around the length.
TEST_F(CheckTextTest, EveryByteAtEveryPositionOfAnAsciiRun) {
  const std::string run = "Les elus de la cohorte !";
  ASSERT_EQ(run.size(), 24u);
  for (size_t pos = 0; pos < run.size(); ++pos) {
    for (int b = 0; b < 256; ++b) {
      std::string value = run;
      value[pos] = static_cast<char>(b);
      for (int max : {7, 8, 9, 15, 16, 17, 23, 24, 25}) Compare(value, 1, max);
      Compare(value, 24, 200);
      Compare(value, 25, 200);
    }
  }
  EXPECT_EQ(differences_, 0) << "of " << compared_;
}

// Random strings over the bytes that matter (controls, the edges of
// printable ASCII, French letters, a euro sign, malformed sequences), of
// every length up to 64, with every bound.
TEST_F(CheckTextTest, AgreesWithTheReferenceOnRandomText) {
  const std::vector<std::string> pieces = {"a",
                                           "e",
                                           " ",
                                           "\n",
                                           "\r",
                                           "\t",
                                           "~",
                                           "\x7f",
                                           "\x1f",
                                           std::string(1, '\0'),
                                           "\xc3\xa9",
                                           "\xe2\x82\xac",
                                           "\xc2\x85",
                                           "\xff",
                                           "\xc3",
                                           "\x80",
                                           "\xed\xa0\x80",
                                           "\xf0\x9f\x98\x80",
                                           "        ",
                                           "Retour d'experience"};
  std::mt19937 random(20261201);
  for (int n = 0; n < 100000; ++n) {
    std::string value;
    const int parts = static_cast<int>(random() % 24);
    for (int p = 0; p < parts && value.size() < 64; ++p) {
      value += pieces[random() % pieces.size()];
    }
    const int max = static_cast<int>(random() % 70);
    const int min = static_cast<int>(random() % 3);
    Compare(value, min, max);
  }
  EXPECT_EQ(differences_, 0) << "of " << compared_;
}

}  // namespace
}  // namespace cohorte::service
