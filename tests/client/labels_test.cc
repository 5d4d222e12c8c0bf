// Enum values in tables as people read them, in French or English; the
// canonical names when the locale is neither (and always in JSON).

#include "client/labels.h"

#include <string>
#include <vector>

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

// The enums declared in `message` and the messages nested in it.
void CollectEnums(const google::protobuf::Descriptor* message,
                  std::vector<const google::protobuf::EnumDescriptor*>* out) {
  for (int i = 0; i < message->enum_type_count(); ++i) {
    out->push_back(message->enum_type(i));
  }
  for (int i = 0; i < message->nested_type_count(); ++i) {
    CollectEnums(message->nested_type(i), out);
  }
}

TEST(LabelsTest, EveryEnumValueOfTheApiHasBothLabels) {
  const auto* pool = v1::College_descriptor()->file()->pool();
  std::vector<const google::protobuf::EnumDescriptor*> enums;
  for (const char* file :
       {"audit", "cohorts", "exchanges", "groups", "inbox", "invitations",
        "members", "moderation", "referentiel", "reports", "sessions",
        "territories", "tokens", "webhooks"}) {
    const auto* f =
        pool->FindFileByName(std::string("cohorte/v1/") + file + ".proto");
    ASSERT_NE(f, nullptr) << file;
    for (int i = 0; i < f->enum_type_count(); ++i) {
      enums.push_back(f->enum_type(i));
    }
    for (int i = 0; i < f->message_type_count(); ++i) {
      CollectEnums(f->message_type(i), &enums);
    }
  }
  EXPECT_GT(enums.size(), 15u);
  for (const auto* type : enums) {
    for (int i = 0; i < type->value_count(); ++i) {
      const auto* v = type->value(i);
      if (v->number() == 0 || v->name() == "PETR") continue;
      EXPECT_NE(LabelOf(v, LabelLanguage::kFrench), v->name())
          << v->full_name();
      EXPECT_NE(LabelOf(v, LabelLanguage::kEnglish), v->name())
          << v->full_name();
    }
  }
}

TEST(LabelsTest, TheUnsetValueShowsNothing) {
  EXPECT_EQ(Label(v1::COLLEGE_UNSPECIFIED), "");
}

}  // namespace
}  // namespace cohorte::client
