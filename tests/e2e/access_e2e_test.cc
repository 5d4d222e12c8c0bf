// Tokens, invitations, chantiers and the audit log through the real
// `cohorted` (seeded with the demo) and the real `cohorte` CLI.

#include <fstream>
#include <memory>
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

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

class AccessE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() + "/data";
    server_ = ServerProcess::Start(data_, {"--seed-demo"});
    ASSERT_NE(server_, nullptr);
  }

  std::string DemoSecret(const std::string& file) {
    std::ifstream in(data_ + "/" + file);
    std::string secret;
    std::getline(in, secret);
    return secret;
  }

  // Runs the CLI with `token` (a secret; empty: none) and extra env.
  ProcessResult Cli(const std::string& token, std::vector<std::string> args,
                    std::vector<std::string> env = {}) {
    args.insert(args.begin(), COHORTE_CLI_PATH);
    env.push_back("COHORTE_SERVER=" + server_->address());
    if (!token.empty()) env.push_back("COHORTE_TOKEN=" + token);
    return RunProcess(args, env);
  }

  // Runs the CLI as a demo person (`admin` or a demo-tokens file name).
  ProcessResult As(const std::string& who, std::vector<std::string> args) {
    return Cli(DemoSecret(who == "admin" ? "admin.token"
                                         : "demo-tokens/" + who + ".token"),
               std::move(args));
  }

  ::cohorte::testing::TempDir dir_;
  std::string data_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(AccessE2eTest, TheAllysServiceTokenReadsTheCohortButNoClosedGroup) {
  ProcessResult r =
      As("ally-service", {"territories", "list", "--cohort", "occitanie"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("petr-vallees"));
  r = As("ally-service", {"chantiers", "list", "--territory",
                          "cohorts/occitanie/territories/petr-vallees"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("EN_ACTION"));
  for (const std::vector<std::string>& denied :
       std::vector<std::vector<std::string>>{
           {"groups", "members", "cohorts/occitanie/groups/elus"},
           {"groups", "members", "cohorts/occitanie/groups/club-sobriete"},
           {"tokens", "list"},
           {"audit", "list", "--cohort", "occitanie"},
           {"invitations", "list", "--cohort", "occitanie"},
           {"territories", "phase",
            "cohorts/occitanie/territories/petr-vallees", "--to", "suivi"}}) {
    r = As("ally-service", denied);
    EXPECT_EQ(r.exit_code, 77) << denied[0] << " " << denied[1] << r.err;
    EXPECT_EQ(r.out, "");
  }
  // whoami for an integration: its token, the cohorts it reaches, its
  // access; never a secret or a hash.
  r = As("ally-service", {"whoami"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("tokens/"));
  EXPECT_THAT(r.out, HasSubstr("cohorts/occitanie"));
  EXPECT_THAT(r.out, HasSubstr("READ"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("coh_")));
}

TEST_F(AccessE2eTest, AnInviteeJoinsWithTheirOwnTokenWhichNobodyElseSaw) {
  ProcessResult invited =
      As("claire-martin", {"invitations", "create", "--cohort", "occitanie",
                           "--email", "paul.girard@example.org", "--college",
                           "elu", "--territory", "cc-coteaux"});
  ASSERT_EQ(invited.exit_code, 0) << invited.err;
  const std::string secret = Trimmed(invited.out);
  EXPECT_THAT(secret, ::testing::MatchesRegex("inv_[0-9a-f]{64}"));

  // No bearer token: the invitation's secret is the credential, read from
  // the environment (never from argv).
  ProcessResult accepted = Cli("",
                               {"invitations", "accept", "--given-name", "Paul",
                                "--family-name", "Girard"},
                               {"COHORTE_INVITATION=" + secret});
  ASSERT_EQ(accepted.exit_code, 0) << accepted.err;
  const std::string token = Trimmed(accepted.out);
  EXPECT_THAT(token, ::testing::MatchesRegex("coh_[0-9a-f]{64}"));
  EXPECT_THAT(accepted.err, HasSubstr("members/paul-girard"));

  ProcessResult r =
      Cli(token, {"groups", "members", "cohorts/occitanie/groups/elus"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("members/paul-girard"));
  r = Cli("",
          {"invitations", "accept", "--given-name", "Paul", "--family-name",
           "Girard"},
          {"COHORTE_INVITATION=" + secret});
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_THAT(r.err, HasSubstr("INVITATION_USED"));

  // The coordinator sees the acceptance in the audit log, not the token.
  r = As("claire-martin",
         {"-o", "json", "audit", "list", "--cohort", "occitanie", "--all"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("AcceptInvitation"));
  EXPECT_THAT(r.out, Not(HasSubstr(token)));
  EXPECT_THAT(r.out, Not(HasSubstr(secret)));
}

TEST_F(AccessE2eTest, RevokedAndRotatedSecretsFailOnTheNextCall) {
  ProcessResult listed = As("marie-dubois", {"-o", "json", "tokens", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const size_t at = listed.out.find("tokens/token-");
  ASSERT_NE(at, std::string::npos) << listed.out;
  const std::string marie_token = listed.out.substr(at, 23);

  ProcessResult r = As("admin", {"tokens", "revoke", marie_token});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = As("marie-dubois", {"whoami"});
  EXPECT_EQ(r.exit_code, 77) << r.err;

  listed = As("thomas-petit", {"-o", "json", "tokens", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const std::string thomas_token =
      listed.out.substr(listed.out.find("tokens/token-"), 23);
  ProcessResult rotated =
      As("thomas-petit", {"tokens", "rotate", thomas_token});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  EXPECT_EQ(As("thomas-petit", {"whoami"}).exit_code, 77);
  r = Cli(Trimmed(rotated.out), {"whoami"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("members/thomas-petit"));
  // Someone else's token: refused, as if it did not exist.
  EXPECT_EQ(As("claire-martin", {"tokens", "revoke", thomas_token}).exit_code,
            77);
}

TEST_F(AccessE2eTest, ADelegationIsImportedFromCsvOrNothingIsSent) {
  const std::string bad = dir_.path() + "/bad.csv";
  {
    std::ofstream out(bad);
    out << "Prénom;Nom;E-mail;Collège\n"
        << "Léa;Martin;lea.martin@example.org;Élu\n"
        << "Jean;Roy;jean.roy@example.org;maire\n"
        << "Léa;Bis;LEA.MARTIN@example.org;agent\n";
  }
  ProcessResult r =
      As("claire-martin", {"invitations", "import", bad, "--cohort",
                           "occitanie", "--territory", "cc-coteaux"});
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_THAT(r.err, HasSubstr("line 3: college 'maire'"));
  EXPECT_THAT(r.err, HasSubstr("line 4: email LEA.MARTIN@example.org is "
                               "already on an earlier line"));
  EXPECT_THAT(r.err, HasSubstr("nothing was sent"));
  r = As("claire-martin", {"invitations", "list", "--cohort", "occitanie"});
  EXPECT_THAT(r.out, Not(HasSubstr("lea.martin")));

  const std::string good = dir_.path() + "/good.csv";
  {
    std::ofstream out(good);
    out << "\xEF\xBB\xBF"
        << "Prénom;Nom;E-mail;Collège;Territoire\r\n"
        << "Léa;Martin;lea.martin@example.org;Élu;cc-coteaux\r\n"
        << "\"Jean, dit \"\"Jeannot\"\"\";Roy;jean.roy@example.org;"
           "Acteur socio-économique;\r\n";
  }
  r = As("claire-martin", {"invitations", "import", good, "--cohort",
                           "occitanie", "--territory", "saint-exemple"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::StartsWith("email,invitation,secret\n"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex(
                         "lea.martin@example.org,cohorts/occitanie/"
                         "invitations/invitation-[0-9a-f]+,inv_[0-9a-f]{64}"));
  EXPECT_THAT(r.out, HasSubstr("jean.roy@example.org,"));
  EXPECT_THAT(r.err, HasSubstr("2 invited, 0 failed"));
  r = As("claire-martin",
         {"-o", "json", "invitations", "list", "--cohort", "occitanie"});
  EXPECT_THAT(r.out, HasSubstr("cohorts/occitanie/territories/saint-exemple"));
  EXPECT_THAT(r.out, HasSubstr("ACTEUR_SOCIO_ECONOMIQUE"));

  // Again: the pending invitations hold those e-mails, which the server
  // says of every row before any is sent.
  r = As("claire-martin", {"invitations", "import", good, "--cohort",
                           "occitanie", "--territory", "saint-exemple"});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_THAT(r.err, HasSubstr("line 2: lea.martin@example.org: "));
  EXPECT_THAT(r.err, HasSubstr("line 3: jean.roy@example.org: "));
  EXPECT_THAT(r.err, HasSubstr("nothing was sent"));
}

TEST_F(AccessE2eTest, TextThatIsNotUtf8IsRefusedBeforeSending) {
  ProcessResult r = As("admin", {"chantiers", "create", "--territory",
                                 "cohorts/occitanie/territories/petr-vallees",
                                 "--display-name", "caf\xe9"});
  EXPECT_EQ(r.exit_code, 65) << r.err;
  EXPECT_THAT(r.err, HasSubstr("not valid UTF-8"));
}

}  // namespace
}  // namespace cohorte
