// Enum values in tables as people read them, in French or English; the
// canonical names when the locale is neither (and always in JSON).

#include "client/labels.h"

#include <string>

#include "cohorte/v1/members.pb.h"
#include "cohorte/v1/territories.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cohorte::client {
namespace {

const google::protobuf::EnumValueDescriptor* Value(
    const google::protobuf::EnumDescriptor* type, int number) {
  return type->FindValueByNumber(number);
}

TEST(LabelsTest, FrenchEnglishOrCanonical) {
  const auto* elu = Value(v1::College_descriptor(), v1::ELU);
  EXPECT_EQ(LabelOf(elu, LabelLanguage::kFrench), "Élus");
  EXPECT_EQ(LabelOf(elu, LabelLanguage::kEnglish), "Elected officials");
  EXPECT_EQ(LabelOf(elu, LabelLanguage::kCanonical), "ELU");
  const auto* phase = Value(v1::Territory::Phase_descriptor(),
                            v1::Territory::GOUVERNANCE_MISE_EN_OEUVRE);
  EXPECT_EQ(LabelOf(phase, LabelLanguage::kFrench),
            "Gouvernance et mise en œuvre");
}

TEST(LabelsTest, EveryEnumValueOfTheApiHasBothLabels) {
  for (const auto* type :
       {v1::College_descriptor(), v1::Member::Role_descriptor(),
        v1::Territory::Kind_descriptor(), v1::Territory::Phase_descriptor(),
        v1::Chantier::Status_descriptor()}) {
    for (int i = 0; i < type->value_count(); ++i) {
      const auto* v = type->value(i);
      if (v->number() == 0) continue;
      if (v->name() == "PETR") continue;  // the same word in every language
      EXPECT_NE(LabelOf(v, LabelLanguage::kFrench), v->name()) << v->name();
      EXPECT_NE(LabelOf(v, LabelLanguage::kEnglish), v->name()) << v->name();
    }
  }
}

TEST(LabelsTest, TheUnsetValueShowsNothing) {
  EXPECT_EQ(Label(v1::COLLEGE_UNSPECIFIED), "");
}

}  // namespace
}  // namespace cohorte::client
