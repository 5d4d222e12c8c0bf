// `-o yaml`: the canonical JSON document as block YAML, key order kept,
// strings that could read as something else quoted.

#include "client/yaml.h"

#include <string>

#include "client/output.h"
#include "cohorte/v1/exchanges.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace cohorte::client {
namespace {

TEST(YamlTest, NestedObjectsAndListsAreBlocksInDeclarationOrder) {
  EXPECT_EQ(JsonToYaml(R"({"b": 1, "a": {"x": true, "y": null},
                           "list": [{"k": "v", "n": [1, 2]}, "plain"],
                           "none": [], "empty": {}})"),
            "b: 1\n"
            "a:\n"
            "  x: true\n"
            "  \"y\": null\n"  // y and n are booleans to YAML 1.1
            "list:\n"
            "- k: v\n"
            "  \"n\":\n"
            "  - 1\n"
            "  - 2\n"
            "- plain\n"
            "none: []\n"
            "empty: {}\n");
}

TEST(YamlTest, StringsThatWouldReadAsAnotherTypeAreQuoted) {
  EXPECT_EQ(JsonToYaml(R"({"a": "true", "b": "5", "c": "", "d": "-x",
                           "e": "a: b", "f": "line\nbreak", "g": "no",
                           "h": "2027-01-15T08:30:00Z", "i": "# not a comment"})"),
            "a: \"true\"\n"
            "b: \"5\"\n"
            "c: \"\"\n"
            "d: \"-x\"\n"
            "e: \"a: b\"\n"
            "f: \"line\\nbreak\"\n"
            "g: \"no\"\n"
            "h: \"2027-01-15T08:30:00Z\"\n"
            "i: \"# not a comment\"\n");
}

TEST(YamlTest, NamesAndFrenchTextStayPlain) {
  EXPECT_EQ(JsonToYaml(R"({"name": "cohorts/occitanie/groups/elus",
                           "title": "Élus du PETR", "email": "a@b.fr"})"),
            "name: cohorts/occitanie/groups/elus\n"
            "title: Élus du PETR\n"
            "email: a@b.fr\n");
}

TEST(YamlTest, TopLevelScalarsAndMalformedJson) {
  EXPECT_EQ(JsonToYaml("{}"), "{}\n");
  EXPECT_EQ(JsonToYaml("[]"), "[]\n");
  EXPECT_EQ(JsonToYaml("[[1], []]"), "- - 1\n- []\n");
  EXPECT_EQ(JsonToYaml("{\"a\": "), "");
  EXPECT_EQ(JsonToYaml("{\"a\": 1} x"), "");
}

TEST(YamlTest, AMessagePrintsAsTheJsonDocument) {
  v1::ListExchangesResponse list;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(exchanges { name: "cohorts/o/groups/g/exchanges/e1" title: "Achats" }
      )pb",
      &list));
  const std::string yaml = JsonToYaml(ToJson(list));
  EXPECT_THAT(yaml, ::testing::HasSubstr(
                        "exchanges:\n- name: cohorts/o/groups/g/exchanges/e1\n"
                        "  title: Achats\n"));
  EXPECT_THAT(yaml, ::testing::HasSubstr("nextPageToken: \"\"\n"));
}

}  // namespace
}  // namespace cohorte::client
