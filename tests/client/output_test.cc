// What the CLI prints for scripts: canonical JSON, names, errors as JSON;
// and the flag an error names.

#include "client/output.h"

#include <string>

#include "client/app.h"
#include "client/call.h"
#include "cohorte/v1/exchanges.pb.h"
#include "cohorte/v1/members.pb.h"
#include "cohorte/v1/territories.pb.h"
#include "cohorte/v1/tokens.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace cohorte::client {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

template <typename T>
T Parse(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message));
  return message;
}

TEST(OutputTest, JsonIsCanonicalWithEmptyListsPresent) {
  const auto list = Parse<v1::ListExchangesResponse>("");
  EXPECT_THAT(ToJson(list), HasSubstr("\"exchanges\": []"));
  EXPECT_THAT(ToJson(list), HasSubstr("\"nextPageToken\": \"\""));
  const auto m =
      Parse<v1::Message>(R"pb(name: "cohorts/o/groups/g/exchanges/e/messages/m1"
                              reply_to: "x")pb");
  EXPECT_THAT(ToJson(m), HasSubstr("\"replyTo\": \"x\""));
  EXPECT_THAT(ToJson(m), HasSubstr("\"attachments\": []"));
  EXPECT_THAT(ToJson(m), Not(HasSubstr("reply_to")));
}

TEST(OutputTest, NamesComeFromTheResourceOrEachListElement) {
  EXPECT_EQ(ToNames(Parse<v1::Territory>(R"pb(name: "cohorts/o/territories/t"
                                              display_name: "T")pb")),
            "cohorts/o/territories/t\n");
  EXPECT_EQ(ToNames(Parse<v1::ListTerritoriesResponse>(
                R"pb(territories { name: "a" }
                     territories { name: "b" }
                     next_page_token: "x")pb")),
            "a\nb\n");
  EXPECT_EQ(ToNames(Parse<v1::MarkExchangeReadResponse>(R"pb(exchange {
                                                               name: "e"
                                                             })pb")),
            "e\n");
  EXPECT_EQ(ToNames(Parse<v1::TokenSecret>(R"pb(token { name: "tokens/t" }
                                                secret: "coh_x")pb")),
            "tokens/t\n");
}

TEST(OutputTest, AnyResourcePrintsByReflection) {
  absl::TimeZone paris;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Paris", &paris));
  const auto c = Parse<v1::Chantier>(R"pb(
    name: "cohorts/o/territories/t/chantiers/mobilites"
    display_name: "Mobilités du quotidien"
    status: EN_ACTION
    carriers: "members/a"
    carriers: "members/b"
    create_time { seconds: 1800001800 nanos: 5 }
    etag: "7")pb");
  EXPECT_EQ(FormatResource(c, paris),
            "name:         cohorts/o/territories/t/chantiers/mobilites\n"
            "display_name: Mobilités du quotidien\n"
            "status:       EN_ACTION\n"
            "carriers:     members/a members/b\n"
            "create_time:  2027-01-15 09:30 CET\n"
            "etag:         7\n");
}

TEST(OutputTest, ErrorsAreOneJsonObjectUnderJson) {
  const CliError e{"INVALID_ARGUMENT", "--title: \"x\" is\nbad",
                   "FIELD_INVALID", "--title"};
  EXPECT_EQ(FormatError(e, /*json=*/true),
            "{\"code\":\"INVALID_ARGUMENT\",\"message\":\"--title: \\\"x\\\" "
            "is\\nbad\",\"reason\":\"FIELD_INVALID\",\"field\":\"--title\"}");
  EXPECT_EQ(FormatError(e, /*json=*/false),
            "Error: INVALID_ARGUMENT: --title: \"x\" is\nbad\n"
            "  reason: FIELD_INVALID\n  field: --title\n");
}

TEST(OutputTest, EnumWordsAcceptAccentsPluralsAndSpaces) {
  const auto* college = v1::College_descriptor();
  EXPECT_EQ(EnumValueOf(college, "élu"), v1::ELU);
  EXPECT_EQ(EnumValueOf(college, "Élus"), v1::ELU);
  EXPECT_EQ(EnumValueOf(college, "acteurs socio-économiques"),
            v1::ACTEUR_SOCIO_ECONOMIQUE);
  EXPECT_EQ(EnumValueOf(college, "college-unspecified"), -1);
  const auto* phase = v1::Territory::Phase_descriptor();
  EXPECT_EQ(EnumValueOf(phase, "gouvernance mise en œuvre"),
            v1::Territory::GOUVERNANCE_MISE_EN_OEUVRE);
  EXPECT_THAT(UnknownEnumMessage(phase, "strategy"),
              HasSubstr("(did you mean strategie?)"));
}

TEST(OutputTest, ServerFieldsAreNamedByTheFlagThatSetThem) {
  std::unique_ptr<Cli> cli = BuildCli();
  auto command = [&](const std::string& path) {
    CLI::App* app = &cli->app;
    size_t start = 0;
    while (start < path.size()) {
      const size_t end = path.find(' ', start);
      app = app->get_subcommand(path.substr(start, end - start));
      if (end == std::string::npos) break;
      start = end + 1;
    }
    return app;
  };
  EXPECT_EQ(FlagForField(*command("territories list"), "parent"), "--cohort");
  EXPECT_EQ(FlagForField(*command("exchanges list"), "parent"), "--group");
  EXPECT_EQ(FlagForField(*command("messages post"), "parent"), "--exchange");
  EXPECT_EQ(FlagForField(*command("messages post"), "message.reply_to"),
            "--reply-to");
  EXPECT_EQ(FlagForField(*command("sessions create"), "session.start_time"),
            "--start");
  EXPECT_EQ(FlagForField(*command("reports create"), "report.balises[2]"),
            "--balise");
  EXPECT_EQ(FlagForField(*command("territories get"), "name"), "<name>");
  EXPECT_EQ(FlagForField(*command("cohorts create"), "cohort_id"), "--id");
}

}  // namespace
}  // namespace cohorte::client
