// One naming rule: full names always, short ids against the flags given.

#include "client/names.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cohorte::client {
namespace {

using ::testing::HasSubstr;

std::string Name(NameKind kind, const std::string& value,
                 const NameContext& context) {
  absl::StatusOr<std::string> name = ResolveName(kind, value, "--x", context);
  return name.ok() ? *name : "error: " + std::string(name.status().message());
}

TEST(NamesTest, ShortIdsResolveAgainstTheirParents) {
  const NameContext c{"occitanie", "elus", "petr-vallees", "e31"};
  EXPECT_EQ(Name(NameKind::kCohort, "occitanie", {}), "cohorts/occitanie");
  EXPECT_EQ(Name(NameKind::kMember, "me", {}), "members/me");
  EXPECT_EQ(Name(NameKind::kTerritory, "petr-vallees", c),
            "cohorts/occitanie/territories/petr-vallees");
  EXPECT_EQ(Name(NameKind::kChantier, "mobilite", c),
            "cohorts/occitanie/territories/petr-vallees/chantiers/mobilite");
  EXPECT_EQ(Name(NameKind::kMessage, "m000001", c),
            "cohorts/occitanie/groups/elus/exchanges/e31/messages/m000001");
  EXPECT_EQ(Name(NameKind::kSession, "j1", c), "cohorts/occitanie/sessions/j1");
}

TEST(NamesTest, AFullParentNeedsNoGrandparent) {
  EXPECT_EQ(Name(NameKind::kMessage, "m000001",
                 {"", "", "", "cohorts/o/groups/g/exchanges/e1"}),
            "cohorts/o/groups/g/exchanges/e1/messages/m000001");
  EXPECT_EQ(Name(NameKind::kTerritory, "t", {"cohorts/o", "", "", ""}),
            "cohorts/o/territories/t");
}

TEST(NamesTest, FullNamesAreKeptWhenOfTheRightKind) {
  EXPECT_EQ(Name(NameKind::kTerritory, "cohorts/o/territories/t", {}),
            "cohorts/o/territories/t");
  EXPECT_THAT(Name(NameKind::kTerritory, "cohorts/o/groups/t", {}),
              HasSubstr("error: --x: 'cohorts/o/groups/t' is not a name"));
  EXPECT_THAT(Name(NameKind::kMessage, "cohorts/o/groups/g/exchanges/e1", {}),
              HasSubstr("error:"));
}

TEST(NamesTest, AShortIdWithoutItsParentNamesTheMissingFlag) {
  EXPECT_THAT(Name(NameKind::kMessage, "m000001", {}),
              HasSubstr("error: --x: 'm000001' is a short id: give "
                        "--exchange too"));
  EXPECT_THAT(Name(NameKind::kMessage, "m000001", {"", "", "", "e1"}),
              HasSubstr("--exchange: 'e1' is a short id: give --group"));
  EXPECT_THAT(Name(NameKind::kTerritory, "t", {}), HasSubstr("--cohort"));
}

}  // namespace
}  // namespace cohorte::client
