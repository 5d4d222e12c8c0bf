// The `cohorte` CLI as its daily users meet it, through the real binaries
// (`cohorted` seeded with the demo): secrets never printed, lists never
// silently cut, JSON for scripts, short ids, dates as people type them.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
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

class CliE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() + "/data";
    server_ = ServerProcess::Start(data_, {"--seed-demo"});
    ASSERT_NE(server_, nullptr);
  }

  std::string Token(const std::string& who) {
    std::ifstream in(who == "admin" ? data_ + "/admin.token"
                                    : data_ + "/demo-tokens/" + who + ".token");
    std::string token;
    std::getline(in, token);
    return token;
  }

  // The CLI under test: COHORTE_CLI_UNDER_TEST (to show that a test fails
  // on an older build) or the one built with the tests.
  static std::string CliPath() {
    const char* path = std::getenv("COHORTE_CLI_UNDER_TEST");
    return path != nullptr && *path != '\0' ? path : COHORTE_CLI_PATH;
  }

  // Runs the CLI as `who` ("" for no token) with `extra_env` added.
  ProcessResult As(const std::string& who, std::vector<std::string> args,
                   std::vector<std::string> extra_env = {}) {
    args.insert(args.begin(), CliPath());
    extra_env.push_back("COHORTE_SERVER=" + server_->address());
    extra_env.push_back("TZ=Europe/Paris");
    if (!who.empty()) extra_env.push_back("COHORTE_TOKEN=" + Token(who));
    return RunProcess(args, extra_env);
  }

  std::string WriteFile(const std::string& name, const std::string& content) {
    const std::string path = dir_.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  static std::string Find(const std::string& text, const std::string& pattern) {
    std::smatch m;
    return std::regex_search(text, m, std::regex(pattern)) ? m.str(0) : "";
  }

  ::cohorte::testing::TempDir dir_;
  std::string data_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(CliE2eTest, ATokenFileWithALineBreakInsideIsRefusedWithoutPrintingIt) {
  const std::string secret = Token("admin");
  ASSERT_EQ(secret.size(), 68u);
  // A token pasted twice, a stray line break in the middle, a NUL byte:
  // none may reach gRPC (which aborts and prints the header), and the
  // error must not hold any of it.
  for (const std::string& bad :
       {secret + "\n" + secret + "\n",
        secret.substr(0, 30) + "\n" + secret.substr(30) + "\n",
        secret.substr(0, 30) + std::string(1, '\0') + secret.substr(31)}) {
    const std::string file = WriteFile("bad.token", bad);
    ProcessResult r =
        As("", {"--token-file", file, "cohorts", "list"}, {"COHORTE_TOKEN="});
    EXPECT_EQ(r.exit_code, 77) << r.err;
    EXPECT_THAT(r.err, HasSubstr("token"));
    EXPECT_THAT(r.err, HasSubstr("coh_ followed by 64 hex digits"));
    EXPECT_THAT(r.err, Not(HasSubstr(secret.substr(4, 16))));
    EXPECT_THAT(r.err, Not(HasSubstr(secret.substr(40, 16))));
    EXPECT_EQ(r.out, "");
  }
  // From the environment too, under -o json.
  ProcessResult r = As("", {"-o", "json", "whoami"},
                       {"COHORTE_TOKEN=" + secret.substr(0, 40) + "\r\nX"});
  EXPECT_EQ(r.exit_code, 77) << r.err;
  EXPECT_THAT(r.err, HasSubstr("\"code\""));
  EXPECT_THAT(r.err, Not(HasSubstr(secret.substr(4, 16))));
  // A trailing line break, as every editor writes, is fine.
  const std::string good = WriteFile("good.token", secret + "\n");
  r = As("", {"--token-file", good, "whoami"}, {"COHORTE_TOKEN="});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(CliE2eTest, EveryListSaysWhenItWasCutAndAllFetchesTheRest) {
  struct List {
    std::string who;
    std::vector<std::string> args;
  };
  const std::vector<List> lists = {
      {"admin", {"cohorts", "list"}},
      {"admin", {"members", "list"}},
      {"admin", {"tokens", "list"}},
      {"admin", {"audit", "list"}},
      {"claire-martin", {"territories", "list", "--cohort", "occitanie"}},
      {"claire-martin", {"groups", "list", "--cohort", "occitanie"}},
      {"claire-martin", {"sessions", "list", "--cohort", "occitanie"}},
      {"claire-martin", {"reports", "list", "--cohort", "occitanie"}},
      {"claire-martin",
       {"chantiers", "list", "--territory", "petr-vallees", "--cohort",
        "occitanie"}},
      {"marie-dubois", {"groups", "members", "elus", "--cohort", "occitanie"}},
      {"marie-dubois",
       {"messages", "list", "--exchange", "e000000000001", "--group", "elus",
        "--cohort", "occitanie"}},
      {"marie-dubois", {"inbox"}},
      {"claire-martin",
       {"sessions", "registrations", "journee-commune-1", "--cohort",
        "occitanie"}},
  };
  for (const List& list : lists) {
    std::vector<std::string> one = list.args;
    one.insert(one.end(), {"--page-size", "1"});
    ProcessResult r = As(list.who, one);
    const std::string what = list.who + " " + one[0] + " " + one[1];
    ASSERT_EQ(r.exit_code, 0) << what << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("more results: rerun with --all or "
                                 "--page-token "))
        << what;
    const std::string token =
        Find(r.err, "--page-token [A-Za-z0-9_=-]+").substr(13);
    one.insert(one.end(), {"--page-token", token});
    ProcessResult next = As(list.who, one);
    EXPECT_EQ(next.exit_code, 0) << what << ": " << next.err;
    EXPECT_NE(next.out, r.out) << what;

    std::vector<std::string> all = list.args;
    all.insert(all.end(), {"--page-size", "1", "--all", "-o", "json"});
    r = As(list.who, all);
    EXPECT_EQ(r.exit_code, 0) << what << ": " << r.err;
    EXPECT_THAT(r.out, HasSubstr("\"nextPageToken\": \"\"")) << what;
    EXPECT_EQ(r.err, "") << what;
  }
}

TEST_F(CliE2eTest, JsonIsCanonicalAndErrorsAreJsonToo) {
  // Global flags anywhere, lowerCamelCase, empty lists present.
  ProcessResult r = As("thomas-petit", {"follows", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"targets\": []"));
  r = As("claire-martin",
         {"territories", "get", "petr-vallees", "--cohort", "occitanie"},
         {"COHORTE_OUTPUT=json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"displayName\": \"PETR des Vallées"));
  EXPECT_THAT(r.out, HasSubstr("\"phaseHistory\": ["));

  r = As("admin", {"cohorts", "get", "absent", "--output", "json"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("{\"code\":\"NOT_FOUND\",\"message\":"));
  r = As("claire-martin",
         {"-o", "json", "territories", "create", "--cohort", "occitanie",
          "--display-name", "", "--kind", "commune"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_THAT(r.err, HasSubstr("\"reason\":\"FIELD_INVALID\","
                               "\"field\":\"--display-name\"}"));
  r = As("admin", {"-o", "json", "cohorts", "frobnicate"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_THAT(r.err, HasSubstr("{\"code\":\"USAGE\""));

  // -o name: one resource name a line.
  r = As("claire-martin",
         {"-o", "name", "territories", "list", "--cohort", "occitanie"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "cohorts/occitanie/territories/cc-coteaux\n"
            "cohorts/occitanie/territories/petr-vallees\n"
            "cohorts/occitanie/territories/saint-exemple\n");

  // COHORTE_TIMEOUT is read (and checked) like --timeout.
  r = As("admin", {"whoami"}, {"COHORTE_TIMEOUT=-3"});
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--timeout"));
}

TEST_F(CliE2eTest, ShortIdsWorkEverywhereAndErrorsNameTheFlag) {
  ProcessResult r = As("claire-martin", {"territories", "get", "petr-vallees",
                                         "--cohort", "occitanie"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("cohorts/occitanie/territories/petr-vallees"));

  const std::string body = WriteFile("reply.md", "Merci Anne !\n");
  r = As("marie-dubois", {"messages", "post", "--exchange", "e000000000001",
                          "--group", "elus", "--cohort", "occitanie",
                          "--body-file", body, "--reply-to", "m000001"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("↳ m000001"));
  EXPECT_THAT(r.out, HasSubstr("Merci Anne !\n"));

  // A short id without its parent: the flag to add is named.
  r = As("claire-martin", {"territories", "get", "petr-vallees"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_THAT(r.err, HasSubstr("give --cohort too"));
  r = As("marie-dubois",
         {"messages", "post", "--exchange",
          "cohorts/occitanie/groups/elus/exchanges/e000000000001", "--body",
          "x", "--reply-to", "cohorts/occitanie/groups/elus"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_THAT(r.err, HasSubstr("--reply-to: 'cohorts/occitanie/groups/elus' "
                               "is not a name"));
  // The server's field is shown as the flag that set it.
  r = As("claire-martin", {"sessions", "create", "--cohort", "occitanie",
                           "--kind", "atelier", "--title", "", "--start",
                           "2027-01-15 09:30", "--end", "2027-01-15 12:00"});
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_THAT(r.err, HasSubstr("field: --title"));
  // A misspelt word gets a suggestion.
  r = As("claire-martin", {"territories", "phase", "petr-vallees", "--cohort",
                           "occitanie", "--to", "strategy"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_THAT(r.err, HasSubstr("did you mean strategie?"));
}

TEST_F(CliE2eTest, DatesAsPeopleTypeThemAndTimesInParis) {
  ProcessResult r =
      As("claire-martin", {"sessions", "create", "--cohort", "occitanie",
                           "--id", "atelier-1", "--kind", "atelier", "--title",
                           "Atelier mobilités", "--start", "2027-01-15 09:30",
                           "--end", "15/01/2027 17:00", "--college", "élus"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("start:      2027-01-15 09:30 CET"));
  EXPECT_THAT(r.out, HasSubstr("end:        2027-01-15 17:00 CET"));
  // Rescheduled in summer: the session's zone gives the offset (CEST).
  r = As("claire-martin",
         {"sessions", "update", "atelier-1", "--cohort", "occitanie", "--start",
          "2027-07-01 09:30", "--end", "2027-07-01 12:00", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"startTime\": \"2027-07-01T07:30:00Z\""));
  r = As("claire-martin", {"sessions", "update", "atelier-1", "--cohort",
                           "occitanie", "--start", "demain"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_THAT(r.err, HasSubstr("--start: 'demain' is not a time"));

  r = As("marie-dubois",
         {"messages", "list", "--exchange", "e000000000001", "--group", "elus",
          "--cohort", "occitanie", "--since", "30d"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("m000001"));
  // Times are printed in Paris, to the minute, never with nanoseconds.
  EXPECT_THAT(r.out, HasSubstr(" CET"));
  EXPECT_EQ(Find(r.out, "T[0-9:]+\\.[0-9]+Z"), "");
}

TEST_F(CliE2eTest, LongTextComesFromAFileOrStdin) {
  const std::string context = WriteFile("context.md", "# Contexte\n\nLong.\n");
  ProcessResult r =
      As("thomas-petit", {"reports", "create", "--territory", "petr-vallees",
                          "--cohort", "occitanie", "--title", "Brouillon",
                          "--visibility", "cohort", "--context-file", context});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string report =
      Find(r.out, "cohorts/occitanie/reports/report-[0-9a-f]+");
  ASSERT_FALSE(report.empty()) << r.out;
  EXPECT_THAT(r.out, HasSubstr("# Contexte\n\nLong.\n"));

  // Piped in: `--lessons -`.
  ProcessResult piped = RunProcess(
      {"/bin/sh", "-c",
       "printf 'Tout faire à quatre voix.\n' | \"$0\" reports update \"$1\" "
       "--lessons - --title 'Brouillon relu'",
       CliPath(), report},
      {"COHORTE_SERVER=" + server_->address(),
       "COHORTE_TOKEN=" + Token("thomas-petit")});
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_THAT(piped.out, HasSubstr("title:        Brouillon relu"));
  EXPECT_THAT(piped.out,
              HasSubstr("## Enseignements\nTout faire à quatre voix.\n"));
  EXPECT_THAT(piped.out, HasSubstr("# Contexte"));
}

TEST_F(CliE2eTest, UpdateCommandsChangeOnlyWhatIsGiven) {
  ProcessResult r =
      As("claire-martin", {"territories", "update", "petr-vallees", "--cohort",
                           "occitanie", "--display-name", "PETR des Vallées"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("display_name:  PETR des Vallées\n"));
  EXPECT_THAT(r.out, HasSubstr("kind:          PETR"));

  r = As("admin", {"members", "update", "luc-moreau", "--organisation",
                   "Vallées en transition"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("organisation: Vallées en transition"));
  EXPECT_THAT(r.out, HasSubstr("given_name:   Luc"));

  r = As("claire-martin", {"sessions", "update", "voyage-etude-trieves",
                           "--cohort", "occitanie", "--place", "Mens (38)"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("place:      Mens (38)"));

  r = As("claire-martin", {"sessions", "update", "voyage-etude-trieves",
                           "--cohort", "occitanie"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_THAT(r.err, HasSubstr("give at least one field to change"));
}

TEST_F(CliE2eTest, VersionAndHelp) {
  ProcessResult r = As("", {"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("cohorte "));
  r = As("", {"sessions", "update", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("--start"));
  EXPECT_THAT(r.out, HasSubstr("--description-file"));
}

TEST_F(CliE2eTest, InboxItemsAndFlaggedContentByShortId) {
  ProcessResult r = As("marie-dubois", {"-o", "name", "inbox", "--unread"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string item = Find(r.out, "/inbox/[a-z0-9]+").substr(7);
  ASSERT_FALSE(item.empty()) << r.out;
  r = As("marie-dubois", {"inbox", "read", item});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1 marked read\n");

  r = As("marie-dubois",
         {"moderation", "flag", "m000002", "--exchange", "e000000000001",
          "--group", "elus", "--cohort", "occitanie", "--reason", "other"});
  // The demo's élus group has no facilitator and its coordinator is no
  // élue: nobody could moderate the flag, and the flagger is told so.
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_THAT(r.err, HasSubstr("FAILED_PRECONDITION: nobody may moderate "
                               "cohorts/occitanie/groups/elus/exchanges/"
                               "e000000000001/messages/m000002"));
  EXPECT_THAT(r.err, HasSubstr("reason: NO_MODERATOR"));
  r = As("admin", {"groups", "set-members", "elus", "--cohort", "occitanie",
                   "--add-facilitator", "marie-dubois"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = As("marie-dubois",
         {"moderation", "flag", "m000002", "--exchange", "e000000000001",
          "--group", "elus", "--cohort", "occitanie", "--reason", "other"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("cohorts/occitanie/flags/"));
  r = As("marie-dubois", {"moderation", "queue", "--cohort", "occitanie"});
  EXPECT_THAT(r.out,
              HasSubstr("elus/exchanges/e000000000001/messages/m000002"));
  r = As("claire-martin", {"moderation", "queue", "--cohort", "occitanie"});
  EXPECT_THAT(r.out, Not(HasSubstr("groups/elus")));
  r = As("marie-dubois", {"moderation", "flag", "m000002", "--reason", "spam"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_THAT(r.err, HasSubstr("give --exchange (a message) or --cohort"));
}

TEST_F(CliE2eTest, AnImportChecksTerritoriesFirstDryRunsAndReRuns) {
  // A territory that does not exist, on the last line: nothing is sent.
  const std::string unknown =
      WriteFile("unknown.csv",
                "email;college;territory\n"
                "ines.garcia@example.org;elu;cc-coteaux\n"
                "paul.henry@example.org;agent;nulle-part\n");
  ProcessResult r = As("claire-martin", {"invitations", "import", unknown,
                                         "--cohort", "occitanie"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_THAT(r.err, HasSubstr("unknown.csv: line 3: "
                               "cohorts/occitanie/territories/nulle-part: "));
  EXPECT_THAT(r.err, HasSubstr("nothing was sent"));
  r = As("claire-martin", {"invitations", "list", "--cohort", "occitanie"});
  EXPECT_THAT(r.out, Not(HasSubstr("ines.garcia")));

  // An e-mail without a domain is caught before anything is sent.
  const std::string nodomain =
      WriteFile("nodomain.csv", "email;college\npaul@localhost;agent\n");
  r = As("claire-martin", {"invitations", "import", nodomain, "--cohort",
                           "occitanie", "--territory", "cc-coteaux"});
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_THAT(r.err, HasSubstr("'paul@localhost' is not an e-mail address"));

  const std::string good =
      WriteFile("good.csv",
                "email;college\nines.garcia@example.org;élus\n"
                "paul.henry@example.org;agents\n");
  r = As("claire-martin",
         {"invitations", "import", good, "--cohort", "occitanie", "--territory",
          "cc-coteaux", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "email,college,territory,result\n"
            "ines.garcia@example.org,ELU,cohorts/occitanie/territories/"
            "cc-coteaux,would be invited\n"
            "paul.henry@example.org,AGENT,cohorts/occitanie/territories/"
            "cc-coteaux,would be invited\n");
  EXPECT_THAT(r.err, HasSubstr("nothing was sent (--dry-run)"));
  r = As("claire-martin", {"invitations", "list", "--cohort", "occitanie"});
  EXPECT_THAT(r.out, Not(HasSubstr("ines.garcia")));

  r = As("claire-martin", {"invitations", "import", good, "--cohort",
                           "occitanie", "--territory", "cc-coteaux"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("2 invited, 0 failed"));
  // A re-run after a partial import: what was sent is skipped.
  const std::string more =
      WriteFile("more.csv",
                "email;college\nines.garcia@example.org;élus\n"
                "lina.petit@example.org;agents\n");
  r = As("claire-martin",
         {"invitations", "import", more, "--cohort", "occitanie", "--territory",
          "cc-coteaux", "--skip-existing", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("1 invited, 1 skipped, 0 failed"));
  EXPECT_THAT(r.out, HasSubstr("lina.petit@example.org,"));
}

TEST_F(CliE2eTest, TablesSpeakFrenchWhereTheLocaleIsFrenchAndJsonNever) {
  ProcessResult r = As("claire-martin", {"members", "get", "marie-dubois"},
                       {"LC_ALL=fr_FR.UTF-8"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("college:      Élus\n"));
  EXPECT_THAT(r.out, HasSubstr("role:         Membre de délégation\n"));
  r = As("claire-martin",
         {"territories", "phase", "petr-vallees", "--cohort", "occitanie",
          "--to", "Suivi"},
         {"LC_ALL=fr_FR.UTF-8"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("phase:         Suivi\n"));
  EXPECT_THAT(r.out, HasSubstr("Gouvernance et mise en œuvre → Suivi"));
  r = As("claire-martin", {"-o", "json", "members", "get", "marie-dubois"},
         {"LC_ALL=fr_FR.UTF-8"});
  EXPECT_THAT(r.out, HasSubstr("\"college\": \"ELU\""));
  r = As("claire-martin", {"members", "get", "marie-dubois"},
         {"LC_ALL=en_GB.UTF-8"});
  EXPECT_THAT(r.out, HasSubstr("college:      Elected officials\n"));
}

TEST_F(CliE2eTest, BashCompletionComesFromTheCommandTree) {
  auto complete = [&](const std::string& words, int cword) {
    return RunProcess({"/bin/bash", "-c",
                       "source <(\"$0\" completion bash) && COMP_WORDS=(" +
                           words + ") && COMP_CWORD=" + std::to_string(cword) +
                           " && _cohorte && echo \"${COMPREPLY[*]}\"",
                       CliPath()});
  };
  ProcessResult r = complete("cohorte cohorts li", 2);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "list\n");
  r = complete("cohorte -o json sessions update x --st", 6);
  EXPECT_EQ(r.out, "--start\n");
  r = complete("cohorte inbox read --a", 3);
  EXPECT_EQ(r.out, "--all\n");
}

TEST_F(CliE2eTest, AServerThatCannotBeReachedIsNamed) {
  ProcessResult r = RunProcess({CliPath(), "--server", "127.0.0.1:1",
                                "--timeout", "2", "cohorts", "list"},
                               {"COHORTE_TOKEN=" + Token("admin")});
  EXPECT_EQ(r.exit_code, 69);
  EXPECT_THAT(r.err, HasSubstr("server 127.0.0.1:1: is cohorted running"));
}

TEST_F(CliE2eTest, ASecretIsNeverReducedToANameUnderOutputName) {
  ProcessResult r =
      As("admin", {"-o", "name", "tokens", "create", "--member", "luc-moreau"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::MatchesRegex("coh_[0-9a-f]{64}\n"));
}

}  // namespace
}  // namespace cohorte

namespace cohorte {
namespace {

// The CLI's daily comforts: contexts, YAML, the editor, batch imports that
// can be stopped, the manual and completion.
class CliComfortE2eTest : public CliE2eTest {
 protected:
  void SetUp() override {
    CliE2eTest::SetUp();
    // Contexts go to the test's directory, never the runner's home.
    config_ = dir_.path() + "/config";
    ::setenv("XDG_CONFIG_HOME", config_.c_str(), 1);
  }
  void TearDown() override { ::unsetenv("XDG_CONFIG_HOME"); }

  // The CLI with `env` and nothing else of the server or token.
  ProcessResult Cli(std::vector<std::string> args,
                    std::vector<std::string> env = {}) {
    args.insert(args.begin(), CliPath());
    env.push_back("TZ=Europe/Paris");
    return RunProcess(args, env);
  }

  static std::string Slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static unsigned Mode(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 ? st.st_mode & 0777 : 0;
  }

  std::string config_;
};

TEST_F(CliComfortE2eTest, LoginSavesAContextThatHoldsNoSecret) {
  const std::string secret = Token("marie-dubois");
  ProcessResult r =
      Cli({"login", "marie"},
          {"COHORTE_SERVER=" + server_->address(), "COHORTE_TOKEN=" + secret});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("as members/marie-dubois"));
  const std::string config = config_ + "/cohorte/config";
  const std::string token_file = config_ + "/cohorte/tokens/marie.token";
  EXPECT_EQ(Mode(config), 0600u);
  EXPECT_EQ(Mode(config_ + "/cohorte"), 0700u);
  EXPECT_EQ(Mode(token_file), 0600u);
  EXPECT_THAT(Slurp(config), HasSubstr("token-file = " + token_file));
  EXPECT_THAT(Slurp(config), Not(HasSubstr(secret)));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr(secret)));

  // With no server and no token given, the current context serves.
  r = Cli({"whoami"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("members/marie-dubois"));
  r = Cli({"config", "get-contexts", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"tokenFile\": \"" + token_file + "\""));
  EXPECT_THAT(r.out, Not(HasSubstr(secret)));

  // A second context, from a token file (referenced, not copied).
  const std::string admin_file = data_ + "/admin.token";
  r = Cli({"login", "admin", "--token-file", admin_file, "--server",
           server_->address()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(Slurp(config), HasSubstr("token-file = " + admin_file));
  r = Cli({"config", "current-context"});
  EXPECT_EQ(r.out, "admin\n");
  r = Cli({"--context", "marie", "whoami", "-o", "name"});
  EXPECT_EQ(r.out, "members/marie-dubois\n") << r.err;
  r = Cli({"config", "use-context", "nowhere"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_THAT(r.err, HasSubstr("no context 'nowhere'"));
  EXPECT_THAT(r.err, HasSubstr("contexts: marie, admin"));
  r = Cli({"config", "delete-context", "marie"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(::access(token_file.c_str(), F_OK), 0);

  // A bad token or an unreachable server saves nothing.
  const std::string before = Slurp(config);
  r = Cli({"login", "bad"}, {"COHORTE_SERVER=" + server_->address(),
                             "COHORTE_TOKEN=coh_" + std::string(64, 'a')});
  EXPECT_EQ(r.exit_code, 77) << r.err;
  EXPECT_THAT(r.err, HasSubstr("context bad was not saved"));
  r = Cli({"login", "down"},
          {"COHORTE_SERVER=127.0.0.1:1", "COHORTE_TOKEN=" + secret});
  EXPECT_EQ(r.exit_code, 69) << r.err;
  EXPECT_THAT(r.err, Not(HasSubstr(secret)));
  EXPECT_EQ(Slurp(config), before);
}

TEST_F(CliComfortE2eTest, YamlIsTheJsonDocumentAndErrorsStayJson) {
  ProcessResult r =
      As("marie-dubois", {"cohorts", "get", "occitanie", "-o", "yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("name: cohorts/occitanie\n"));
  EXPECT_THAT(r.out, HasSubstr("displayName: "));
  r = As("marie-dubois", {"exchanges", "list", "--cohort", "occitanie",
                          "--group", "agents", "-o", "yaml"});
  EXPECT_EQ(r.exit_code, 77);
  EXPECT_THAT(r.err, HasSubstr("{\"code\":\"PERMISSION_DENIED\""));
}

TEST_F(CliComfortE2eTest, TheEditorWritesAMessageOnATerminalAndNeverInAScript) {
  const char* kScript = "/usr/bin/script";
  if (::access(kScript, X_OK) != 0) GTEST_SKIP() << "no script(1)";
  const std::vector<std::string> post = {
      "messages", "post", "--exchange", "e000000000001",
      "--group",  "elus", "--cohort",   "occitanie"};
  // In a script: a usage error naming the flags, nothing posted.
  ProcessResult r = As("marie-dubois", post);
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_THAT(r.err, HasSubstr("give --body TEXT, --body - (stdin) or "
                               "--body-file"));
  // On a terminal (script(1) gives one): the editor's text is posted.
  std::string command = std::string(CliPath());
  for (const std::string& a : post) command += " " + a;
  r = RunProcess({kScript, "-qec", command, "/dev/null"},
                 {"COHORTE_SERVER=" + server_->address(),
                  "COHORTE_TOKEN=" + Token("marie-dubois"),
                  "VISUAL=sed -i 1s/^/Ecrit-dans-l-editeur/"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = As("marie-dubois", {"messages", "list", "--exchange", "e000000000001",
                          "--group", "elus", "--cohort", "occitanie"});
  EXPECT_THAT(r.out, HasSubstr("Ecrit-dans-l-editeur"));
  EXPECT_THAT(r.out, Not(HasSubstr(">8")));
}

TEST_F(CliComfortE2eTest, AReportsNarrativeIsEditedAsOneDocument) {
  const char* kScript = "/usr/bin/script";
  if (::access(kScript, X_OK) != 0) GTEST_SKIP() << "no script(1)";
  ProcessResult r =
      As("thomas-petit",
         {"reports", "create", "--territory", "petr-vallees", "--cohort",
          "occitanie", "--title", "Brouillon", "--visibility", "cohort",
          "--context", "Ancien contexte", "-o", "name"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string report = r.out.substr(0, r.out.find('\n'));
  // The editor gets every text under its === line and changes two.
  r = RunProcess(
      {kScript, "-qec", CliPath() + " reports update " + report + " --edit",
       "/dev/null"},
      {"COHORTE_SERVER=" + server_->address(),
       "COHORTE_TOKEN=" + Token("thomas-petit"),
       "VISUAL=sed -i -e s/Ancien/Nouveau/ -e /^===.lessons.===$/aEcouter"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = As("thomas-petit", {"reports", "get", report});
  EXPECT_THAT(r.out, HasSubstr("## Contexte\nNouveau contexte\n"));
  EXPECT_THAT(r.out, HasSubstr("## Enseignements\nEcouter\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("===")));
  // --edit in a script has no terminal to edit on.
  r = As("thomas-petit", {"reports", "update", report, "--edit"});
  EXPECT_EQ(r.exit_code, 64) << r.err;
}

TEST_F(CliComfortE2eTest, TheServerChecksEveryRowBeforeAnyIsSent) {
  const std::string csv = dir_.path() + "/taken.csv";
  std::ofstream(csv) << "email;college\nnouvelle@example.org;elu\n"
                        "marie-dubois@example.org;elu\n";
  ProcessResult r =
      As("claire-martin", {"invitations", "import", csv, "--cohort",
                           "occitanie", "--territory", "cc-coteaux"});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_THAT(r.err, HasSubstr("ALREADY_EXISTS: "));
  EXPECT_THAT(r.err, HasSubstr("taken.csv: line 3: marie-dubois@example.org: "
                               "invitation.email: a member already has this "
                               "e-mail"));
  EXPECT_THAT(r.err, HasSubstr("nothing was sent"));
  r = As("claire-martin", {"invitations", "list", "--cohort", "occitanie"});
  EXPECT_THAT(r.out, Not(HasSubstr("nouvelle@example.org")));
}

TEST_F(CliComfortE2eTest, CtrlCDuringAnImportLeavesAResultFileToResumeFrom) {
  constexpr int kRows = 700;
  const std::string csv = dir_.path() + "/grand.csv";
  {
    std::ofstream out(csv);
    out << "email;college\n";
    for (int i = 0; i < kRows; ++i) {
      out << "personne" << i << "@example.org;agent\n";
    }
  }
  // The secrets go to a pipe this test reads only after the signal: when
  // it is full, the import waits, so it cannot finish before the Ctrl-C.
  int out_pipe[2];
  ASSERT_EQ(::pipe(out_pipe), 0);
  const std::vector<std::string> env = {
      "COHORTE_SERVER=" + server_->address(),
      "COHORTE_TOKEN=" + Token("claire-martin"), "TZ=Europe/Paris"};
  // Everything the child needs is built before fork (no allocation after).
  std::vector<std::string> args = {CliPath(),     "invitations", "import",
                                   csv,           "--cohort",    "occitanie",
                                   "--territory", "cc-coteaux"};
  std::vector<char*> argv, envp;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = env;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int null_fd = ::open("/dev/null", O_RDWR);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(null_fd, STDERR_FILENO);
    ::close(out_pipe[0]);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(null_fd);
  ::close(out_pipe[1]);
  std::string out;
  char buf[4096];
  // Three secrets are out: the sending has begun.
  while (std::count(out.begin(), out.end(), '\n') < 4) {
    const ssize_t n = ::read(out_pipe[0], buf, sizeof(buf));
    ASSERT_GT(n, 0);
    out.append(buf, n);
  }
  ::kill(pid, SIGINT);
  for (ssize_t n; (n = ::read(out_pipe[0], buf, sizeof(buf))) > 0;) {
    out.append(buf, n);
  }
  ::close(out_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);

  const int printed =
      static_cast<int>(std::count(out.begin(), out.end(), '\n')) - 1;
  const std::string result = Slurp(csv + ".result.csv");
  auto count = [&](const std::string& what) {
    int n = 0;
    for (size_t at = 0; (at = result.find(what, at)) != std::string::npos;
         ++at) {
      ++n;
    }
    return n;
  };
  // Every secret printed is a row marked sent, and the rest not sent.
  EXPECT_EQ(count(",sent,"), printed);
  EXPECT_GT(printed, 2);
  EXPECT_LT(printed, kRows);
  EXPECT_EQ(count(",not-sent,"), kRows - printed);

  ProcessResult r = Cli({"invitations", "import", csv, "--cohort", "occitanie",
                         "--territory", "cc-coteaux", "--skip-existing"},
                        env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr(std::to_string(kRows - printed) + " invited, " +
                               std::to_string(printed) + " skipped, 0 failed"));
}

TEST_F(CliComfortE2eTest, TheManualAndCompletionNeedNoServer) {
  ProcessResult r = Cli({"help", "--man"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(".TH COHORTE 1"));
  EXPECT_THAT(r.out, HasSubstr(".SS \"cohorte invitations import\""));
  for (const char* shell : {"bash", "zsh", "fish"}) {
    r = Cli({"completion", shell});
    EXPECT_EQ(r.exit_code, 0) << shell << r.err;
    EXPECT_THAT(r.out, HasSubstr("login")) << shell;
  }
  r = Cli({"completion", "bash"});
  const std::string script = dir_.path() + "/completion.bash";
  std::ofstream(script) << r.out;
  r = RunProcess({"/bin/bash", "-n", script});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace cohorte
