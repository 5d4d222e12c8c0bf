// What the cohort says and learns, through the real `cohorted` (seeded
// with the demo) and the real `cohorte` CLI: exchanges, reports, sessions,
// the inbox, moderation and the référentiel.

#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace cohorte {
namespace {

using ::cohorte::testing::ProcessResult;
using ::cohorte::testing::RunProcess;
using ::cohorte::testing::ServerProcess;
using ::testing::HasSubstr;
using ::testing::Not;

class DomainE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() + "/data";
    server_ = ServerProcess::Start(data_, {"--seed-demo"});
    ASSERT_NE(server_, nullptr);
  }

  ProcessResult As(const std::string& who, std::vector<std::string> args) {
    std::ifstream in(who == "admin" ? data_ + "/admin.token"
                                    : data_ + "/demo-tokens/" + who + ".token");
    std::string token;
    std::getline(in, token);
    args.insert(args.begin(), COHORTE_CLI_PATH);
    return RunProcess(args, {"COHORTE_SERVER=" + server_->address(),
                             "COHORTE_TOKEN=" + token});
  }

  // The first match of `pattern` in `text`, or "".
  static std::string Find(const std::string& text, const std::string& pattern) {
    std::smatch m;
    return std::regex_search(text, m, std::regex(pattern)) ? m.str(0) : "";
  }

  ::cohorte::testing::TempDir dir_;
  std::string data_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(DomainE2eTest, TheElusExchangeIsReadAndWrittenByElusOnly) {
  ProcessResult r = As("marie-dubois", {"exchanges", "list", "--cohort",
                                        "occitanie", "--group", "elus"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string exchange =
      Find(r.out, "cohorts/occitanie/groups/elus/exchanges/e[0-9]+");
  ASSERT_FALSE(exchange.empty()) << r.out;
  // The README walks through this very name: keep them in step.
  EXPECT_EQ(exchange, "cohorts/occitanie/groups/elus/exchanges/e000000000001");

  // As the README does: a reply to the exchange's first message.
  r = As("marie-dubois", {"messages", "post", "--exchange", exchange, "--body",
                          "Merci Anne, racontons-nous cela en mai.",
                          "--reply-to", exchange + "/messages/m000001"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string mine = exchange + "/messages/m000003";
  r = As("marie-dubois", {"messages", "edit", mine, "--body",
                          "Merci Anne, racontons-nous cela en juin."});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("(edited)"));
  r = As("marie-dubois", {"-o", "json", "messages", "list", "--exchange",
                          exchange, "--newest-first"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("en juin"));
  EXPECT_THAT(r.out, HasSubstr("\"previousBody\": \"Merci Anne, "
                               "racontons-nous cela en mai.\""));
  EXPECT_LT(r.out.find("\"name\": \"" + exchange + "/messages/m000003"),
            r.out.find("\"name\": \"" + exchange + "/messages/m000001"));
  // Someone else's message cannot be edited.
  r = As("marie-dubois",
         {"messages", "edit", exchange + "/messages/m000002", "--body", "x"});
  EXPECT_EQ(r.exit_code, 77) << r.err;
  r = As("marie-dubois", {"messages", "delete", mine});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = As("marie-dubois", {"messages", "list", "--exchange", exchange});
  EXPECT_THAT(r.out, Not(HasSubstr("en juin")));
  r = As("marie-dubois", {"messages", "undelete", mine});
  EXPECT_EQ(r.exit_code, 0) << r.err;

  // Not the agent of her own territory, not the coordinator, not the ally,
  // not the ally's integration, not the administrator.
  for (const char* outsider : {"thomas-petit", "claire-martin", "hugo-bernard",
                               "ally-service", "admin"}) {
    r = As(outsider, {"messages", "list", "--exchange", exchange});
    EXPECT_EQ(r.exit_code, 77) << outsider;
    EXPECT_EQ(r.out, "") << outsider;
    r = As(outsider,
           {"exchanges", "list", "--cohort", "occitanie", "--group", "elus"});
    EXPECT_EQ(r.exit_code, 77) << outsider;
  }
  // And the agent's inbox holds nothing from it.
  r = As("thomas-petit", {"-o", "json", "inbox"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("/groups/elus")));
}

TEST_F(DomainE2eTest, AReportGoesFromDraftToPublishedForTheCohort) {
  ProcessResult r =
      As("thomas-petit",
         {"reports", "create", "--territory",
          "cohorts/occitanie/territories/petr-vallees", "--title",
          "Mobilités : le transport à la demande", "--visibility", "cohort",
          "--what-failed", "Trop peu d'usagers la première année.", "--balise",
          "systemique-2", "--theme", "mobilité", "--author", "luc-moreau"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string report =
      Find(r.out, "cohorts/occitanie/reports/report-[0-9a-f]+");
  ASSERT_FALSE(report.empty()) << r.out;
  EXPECT_THAT(r.out, HasSubstr("DRAFT"));
  EXPECT_EQ(As("claire-martin", {"reports", "get", report}).exit_code, 77);
  EXPECT_EQ(As("marie-dubois", {"reports", "publish", report}).exit_code, 77);
  r = As("thomas-petit", {"reports", "publish", report});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = As("claire-martin",
         {"reports", "list", "--cohort", "-", "--balise", "systemique-2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(report));
  r = As("thomas-petit",
         {"reports", "create", "--territory",
          "cohorts/occitanie/territories/petr-vallees", "--title", "x",
          "--visibility", "cohort", "--balise", "engagement-99"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_THAT(r.err, HasSubstr("field: --balise"));
}

TEST_F(DomainE2eTest, TheLastSeatGoesToTheWaitingListThenToTheFirstInIt) {
  ProcessResult r =
      As("claire-martin",
         {"sessions", "create", "--cohort", "occitanie", "--id", "atelier",
          "--kind", "atelier", "--title", "Atelier sobriété", "--start",
          "2031-03-05T09:30:00+01:00", "--end", "2031-03-05T17:00:00+01:00",
          "--capacity", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("2031-03-05 09:30 CET"));
  r = As("marie-dubois",
         {"sessions", "register", "atelier", "--cohort", "occitanie"});
  EXPECT_THAT(r.out, HasSubstr("REGISTERED"));
  r = As("thomas-petit",
         {"sessions", "register", "atelier", "--cohort", "occitanie"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("WAITLISTED"));
  r = As("claire-martin", {"sessions", "attendance", "atelier", "--cohort",
                           "occitanie", "--member", "thomas-petit"});
  EXPECT_EQ(r.exit_code, 6) << r.err;
  r = As("marie-dubois",
         {"sessions", "cancel", "atelier", "--cohort", "occitanie"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = As("thomas-petit", {"sessions", "upcoming"});
  EXPECT_THAT(r.out, ::testing::ContainsRegex("atelier.*REGISTERED"));
  r = As("claire-martin", {"sessions", "attendance", "atelier", "--cohort",
                           "occitanie", "--member", "thomas-petit"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::ContainsRegex("attended: +yes"));
  // The demo's study trip starts at nine, Paris time.
  r = As("thomas-petit",
         {"sessions", "get", "voyage-etude-trieves", "--cohort", "occitanie"});
  EXPECT_THAT(r.out, ::testing::ContainsRegex("start: +[0-9-]+ 09:00 CES?T"));
  // The demo's past common day, its attendance and minutes.
  r = As("marie-dubois",
         {"sessions", "get", "journee-commune-1", "--cohort", "occitanie"});
  EXPECT_THAT(r.out, HasSubstr("Compte-rendu"));
  r = As("claire-martin", {"sessions", "registrations", "journee-commune-1",
                           "--cohort", "occitanie"});
  EXPECT_THAT(r.out, ::testing::ContainsRegex("karim-benali +REGISTERED +no"));
}

TEST_F(DomainE2eTest, FollowersHearOfNewsAndModeratorsHide) {
  ProcessResult r = As("thomas-petit", {"exchanges", "list", "--cohort",
                                        "occitanie", "--group", "agents"});
  const std::string exchange =
      Find(r.out, "cohorts/occitanie/groups/agents/exchanges/e[0-9]+");
  ASSERT_FALSE(exchange.empty()) << r.out << r.err;
  ASSERT_EQ(As("thomas-petit", {"follow", exchange}).exit_code, 0);
  ASSERT_EQ(As("thomas-petit", {"inbox", "read", "--all"}).exit_code, 0);
  // The administrator mints karim a token; karim answers; thomas hears.
  r = As("admin", {"tokens", "create", "--member", "karim-benali"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string karim = r.out;
  while (!karim.empty() && karim.back() == '\n') karim.pop_back();
  r = RunProcess(
      {COHORTE_CLI_PATH, "messages", "post", "--exchange", exchange, "--body",
       "Nous, c'est un tableur partagé."},
      {"COHORTE_SERVER=" + server_->address(), "COHORTE_TOKEN=" + karim});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = As("thomas-petit", {"inbox", "--unread"});
  EXPECT_THAT(r.out,
              ::testing::ContainsRegex("NEW_MESSAGE .*members/karim-benali"));
  EXPECT_THAT(r.out, HasSubstr("1 unread"));
  // The coordinator is no agent: no post there.
  r = As("claire-martin",
         {"messages", "post", "--exchange", exchange, "--body", "x"});
  EXPECT_EQ(r.exit_code, 77);

  // In the club, hugo-bernard (an ally) facilitates; marie writes there.
  r = As("marie-dubois", {"exchanges", "create", "--cohort", "occitanie",
                          "--group", "club-sobriete", "--title", "Achats",
                          "--kind", "debate", "--body", "Un propos blessant"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string club =
      Find(r.out, "cohorts/occitanie/groups/club-sobriete/exchanges/e[0-9]+");
  const std::string message = club + "/messages/m000001";
  r = As("hugo-bernard", {"moderation", "flag", message, "--reason", "abuse"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = As("hugo-bernard", {"moderation", "queue", "--cohort", "occitanie"});
  EXPECT_THAT(r.out, HasSubstr(message));
  r = As("claire-martin", {"moderation", "queue", "--cohort", "occitanie"});
  EXPECT_THAT(r.out, Not(HasSubstr(message)));
  r = As("hugo-bernard",
         {"moderation", "hide", message, "--reason", "Propos blessant"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = As("marie-dubois", {"messages", "list", "--exchange", club});
  EXPECT_THAT(r.out, HasSubstr("[hidden: Propos blessant]"));
  EXPECT_THAT(r.out, Not(HasSubstr("Un propos blessant")));
}

TEST_F(DomainE2eTest, TheReferentielIsServed) {
  ProcessResult r = As("ally-service", {"-o", "json", "referentiel"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* id : {"\"engagement\"", "\"cooperation\"", "\"systemique\"",
                         "\"evaluation\"", "\"engagement-6\""}) {
    EXPECT_THAT(r.out, HasSubstr(id));
  }
}

}  // namespace
}  // namespace cohorte
