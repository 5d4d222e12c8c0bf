#include "client/invitation_commands.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "client/call.h"
#include "client/csv.h"
#include "client/labels.h"
#include "client/output.h"
#include "client/progress.h"
#include "client/times.h"
#include "cohorte/v1/invitations.grpc.pb.h"
#include "cohorte/v1/members.pb.h"
#include "cohorte/v1/territories.grpc.pb.h"

namespace cohorte::client {
namespace {

// Every flag of these commands; one instance per process.
struct Flags {
  std::string name, cohort, territory, display_name;
  std::string email, role, college, etag, file;
  std::string given, family, organisation, secret_file;
  int expire_days = 0;
  PageFlags page;
  std::string result;
  bool dry_run = false;
  bool skip_existing = false;
};

std::string Time(const google::protobuf::Timestamp& t) { return ShowTime(t); }

// Reads a secret from `path`, or from the environment variable `env_name`
// when `path` is empty: never from argv, which `ps` shows.
bool ReadSecret(const std::string& path, const char* env_name,
                std::string* secret) {
  std::string text;
  if (!path.empty()) {
    std::ifstream in(path);
    if (!in) {
      UsageError("--secret-file", "cannot read " + path);
      return false;
    }
    std::ostringstream content;
    content << in.rdbuf();
    text = content.str();
  } else if (const char* value = std::getenv(env_name); value != nullptr) {
    text = value;
  }
  const size_t begin = text.find_first_not_of(" \t\r\n");
  const size_t end = text.find_last_not_of(" \t\r\n");
  *secret =
      begin == std::string::npos ? "" : text.substr(begin, end - begin + 1);
  if (secret->empty()) {
    UsageError("--secret-file",
               std::string("no secret: give --secret-file or set ") + env_name);
    return false;
  }
  return true;
}

// Builds the invitation of the flags; false (after a message) on a bad
// enum value.
bool FillInvitation(const Flags& f, v1::Invitation* inv) {
  inv->set_email(f.email);
  v1::Member::Role role = v1::Member::MEMBER;
  if (!f.role.empty() && !ParseEnumFlag("--role", f.role, &role)) return false;
  inv->set_role(role);
  if (!f.college.empty()) {
    v1::College college;
    if (!ParseEnumFlag("--college", f.college, &college)) return false;
    inv->set_college(college);
  }
  if (!f.territory.empty()) inv->set_territory(f.territory);
  if (f.expire_days > 0)
    *inv->mutable_expire_time() = DaysFromNow(f.expire_days);
  return true;
}

// `territory` as a full name: `petr` within `cohort` → its resource name.
std::string TerritoryName(const std::string& cohort, const std::string& t) {
  if (t.empty() || t.rfind("cohorts/", 0) == 0) return t;
  return CohortName(cohort) + "/territories/" + t;
}

// The lowercase, accent-free form of a CSV header cell, for matching
// "E-mail", "Collège", "Territoire"…
std::string HeaderKey(const std::string& cell) {
  std::string key;
  for (size_t i = 0; i < cell.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(cell[i]);
    if (c == 0xC3 && i + 1 < cell.size()) {  // é è ê → e, etc.
      const unsigned char d = static_cast<unsigned char>(cell[++i]);
      if (d >= 0xA8 && d <= 0xAB) key += 'e';
      if (d >= 0x88 && d <= 0x8B) key += 'e';
      continue;
    }
    if (std::isalnum(c)) key += static_cast<char>(std::tolower(c));
  }
  return key;
}

// `cohorte invitations import`: checks every row in the client, then on
// the server (validate_only), and sends nothing if one is bad; then one
// invitation per row, printing `email,invitation,secret` CSV on stdout for
// a mail merge, with a progress line on a terminal. Ctrl-C stops after the
// row in flight; the result file then says which rows were sent (exit 130).
int ImportInvitations(const CommandEnv& env, const Flags& f) {
  std::ifstream in(f.file, std::ios::binary);
  if (!in) {
    return UsageError("<file>", "cannot read " + f.file);
  }
  std::ostringstream content;
  content << in.rdbuf();
  CsvParse csv = ParseCsv(content.str());
  if (!csv.error.empty()) {
    PrintError({"INVALID_ARGUMENT", f.file + ": " + csv.error, "", ""});
    return kExitInvalid;
  }
  if (csv.rows.empty()) {
    PrintError({"INVALID_ARGUMENT", f.file + " is empty", "", ""});
    return kExitInvalid;
  }
  std::map<std::string, size_t> columns;
  for (size_t i = 0; i < csv.rows[0].fields.size(); ++i) {
    const std::string key = HeaderKey(csv.rows[0].fields[i]);
    if (key == "email" || key == "mail" || key == "courriel") {
      columns["email"] = i;
    } else if (key == "college") {
      columns["college"] = i;
    } else if (key == "territory" || key == "territoire") {
      columns["territory"] = i;
    } else if (key == "role") {
      columns["role"] = i;
    }
  }
  std::vector<std::string> problems;
  if (!columns.count("email")) {
    problems.push_back("line 1: no 'email' column in the header");
  }
  if (!columns.count("territory") && f.territory.empty()) {
    problems.push_back(
        "line 1: no 'territory' column and no --territory for the file");
  }
  struct Row {
    int line;
    v1::Invitation invitation;
    std::string result;  // "", sent, skipped, failed
    std::string error;   // the code of a failure
  };
  std::vector<Row> rows;
  std::set<std::string> emails;
  for (size_t r = 1; r < csv.rows.size() && problems.size() < 50; ++r) {
    const CsvRow& row = csv.rows[r];
    auto cell = [&](const char* column) -> std::string {
      auto it = columns.find(column);
      if (it == columns.end() || it->second >= row.fields.size()) return "";
      const std::string& v = row.fields[it->second];
      const size_t b = v.find_first_not_of(" \t");
      const size_t e = v.find_last_not_of(" \t");
      return b == std::string::npos ? "" : v.substr(b, e - b + 1);
    };
    const std::string where = "line " + std::to_string(row.line) + ": ";
    Row out{row.line, {}, "", ""};
    v1::Invitation& inv = out.invitation;
    inv.set_email(cell("email"));
    std::string lower = inv.email();
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    const size_t at = inv.email().find('@');
    if (at == std::string::npos || at == 0 ||
        inv.email().find('.', at) == std::string::npos ||
        inv.email().back() == '.') {
      problems.push_back(where + "email '" + inv.email() +
                         "' is not an e-mail address");
    } else if (!emails.insert(lower).second) {
      problems.push_back(where + "email " + inv.email() +
                         " is already on an earlier line");
    }
    v1::Member::Role role = v1::Member::MEMBER;
    const std::string role_text = cell("role");
    if (!role_text.empty()) {
      const int value = EnumValueOf(v1::Member::Role_descriptor(), role_text);
      if (value < 0) {
        problems.push_back(where + "role '" + role_text + "' is unknown");
      } else {
        role = static_cast<v1::Member::Role>(value);
      }
    }
    inv.set_role(role);
    if (role == v1::Member::MEMBER) {
      v1::College college;
      std::string college_text = HeaderKey(cell("college"));
      static const std::map<std::string, v1::College> kColleges = {
          {"elu", v1::ELU},
          {"elus", v1::ELU},
          {"agent", v1::AGENT},
          {"agents", v1::AGENT},
          {"etatterritorial", v1::ETAT_TERRITORIAL},
          {"etat", v1::ETAT_TERRITORIAL},
          {"acteursocioeconomique", v1::ACTEUR_SOCIO_ECONOMIQUE},
          {"acteurssocioeconomiques", v1::ACTEUR_SOCIO_ECONOMIQUE}};
      auto found = kColleges.find(college_text);
      if (found == kColleges.end()) {
        problems.push_back(where + "college '" + cell("college") +
                           "' is not elu, agent, etat-territorial or "
                           "acteur-socio-economique");
      } else {
        college = found->second;
        inv.set_college(college);
      }
      const std::string territory =
          cell("territory").empty() ? f.territory : cell("territory");
      inv.set_territory(TerritoryName(f.cohort, territory));
    }
    if (f.expire_days > 0) {
      *inv.mutable_expire_time() = DaysFromNow(f.expire_days);
    }
    rows.push_back(std::move(out));
  }
  if (!problems.empty()) {
    for (const std::string& p : problems) {
      PrintError({"INVALID_ARGUMENT", f.file + ": " + p, "", ""});
    }
    std::cerr << "nothing was sent\n";
    return kExitInvalid;
  }

  // Every territory named must exist before any row is sent.
  std::set<std::string> territories;
  for (const Row& row : rows) {
    if (!row.invitation.territory().empty()) {
      territories.insert(row.invitation.territory());
    }
  }
  auto territory_stub =
      v1::TerritoryService::NewStub(env.connection()->channel());
  for (const std::string& name : territories) {
    v1::GetTerritoryRequest get;
    get.set_name(name);
    v1::Territory territory;
    grpc::ClientContext ctx;
    env.connection()->Prepare(&ctx);
    grpc::Status s = territory_stub->GetTerritory(&ctx, get, &territory);
    if (!s.ok()) {
      std::string lines;
      for (const Row& row : rows) {
        if (row.invitation.territory() == name) {
          lines += (lines.empty() ? "" : ", ") + std::to_string(row.line);
        }
      }
      const int exit =
          ReportError(s, f.file + ": line " + lines + ": " + name + ": ");
      std::cerr << "nothing was sent\n";
      return exit;
    }
  }
  auto stub = v1::InvitationService::NewStub(env.connection()->channel());
  auto create = [&](const Row& row, bool validate_only,
                    v1::CreateInvitationResponse* resp) {
    v1::CreateInvitationRequest req;
    req.set_parent(CohortName(f.cohort));
    *req.mutable_invitation() = row.invitation;
    req.set_validate_only(validate_only);
    grpc::ClientContext ctx;
    env.connection()->Prepare(&ctx);
    return stub->CreateInvitation(&ctx, req, resp);
  };
  auto where = [&](const Row& row) {
    return f.file + ": line " + std::to_string(row.line) + ": " +
           row.invitation.email() + ": ";
  };

  // The server checks every row as it would create it (its e-mail not a
  // member's nor pending, its territory, the caller's right) before any is
  // sent.
  {
    CountProgress progress("checking", static_cast<int>(rows.size()));
    int first_exit = kExitOk, refused = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      Row& row = rows[i];
      v1::CreateInvitationResponse unused;
      const grpc::Status s = create(row, /*validate_only=*/true, &unused);
      progress.Update(static_cast<int>(i + 1));
      if (s.ok()) continue;
      if (f.skip_existing &&
          s.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
        row.result = "skipped";
        continue;
      }
      const int exit = ReportError(s, where(row));
      if (first_exit == kExitOk) first_exit = exit;
      ++refused;
      // Authentication and permission fail every row alike: stop there.
      if (exit == kExitAuth || exit == kExitUnavailable) break;
    }
    if (refused > 0) {
      std::cerr << "nothing was sent\n";
      return first_exit;
    }
  }
  if (f.dry_run) {
    std::cout << "email,college,territory,result\n";
    for (const Row& row : rows) {
      std::cout << row.invitation.email() << ","
                << v1::College_Name(row.invitation.college()) << ","
                << row.invitation.territory() << ","
                << (row.result.empty() ? "would be invited" : row.result)
                << "\n";
    }
    std::cerr << rows.size()
              << " rows checked by the server; nothing was sent (--dry-run)\n";
    return kExitOk;
  }

  int sent = 0, failed = 0, skipped = 0, exit_code = kExitOk;
  bool interrupted = false;
  std::cout << "email,invitation,secret" << std::endl;
  {
    InterruptGuard guard;
    CountProgress progress("inviting", static_cast<int>(rows.size()));
    for (size_t i = 0; i < rows.size(); ++i) {
      Row& row = rows[i];
      progress.Update(static_cast<int>(i));
      if (row.result == "skipped") {
        ++skipped;
        continue;
      }
      if (InterruptGuard::Interrupted()) {
        interrupted = true;
        break;
      }
      v1::CreateInvitationResponse resp;
      const grpc::Status s = create(row, /*validate_only=*/false, &resp);
      if (s.ok()) {
        ++sent;
        row.result = "sent";
        row.invitation.set_name(resp.invitation().name());
        // Each secret reaches stdout before the next row is sent.
        std::cout << row.invitation.email() << "," << resp.invitation().name()
                  << "," << resp.secret() << std::endl;
        continue;
      }
      if (f.skip_existing &&
          s.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
        ++skipped;
        row.result = "skipped";
        continue;
      }
      ++failed;
      row.result = "failed";
      row.error = CodeName(s.error_code());
      exit_code = ReportError(s, where(row));
      if (exit_code == kExitAuth || exit_code == kExitUnavailable) break;
    }
    if (!interrupted) progress.Update(static_cast<int>(rows.size()));
  }
  const int not_sent = static_cast<int>(std::count_if(
      rows.begin(), rows.end(), [](const Row& r) { return r.result.empty(); }));
  std::cerr << sent << " invited, "
            << (f.skip_existing ? std::to_string(skipped) + " skipped, " : "")
            << failed << " failed"
            << (not_sent > 0 ? ", " + std::to_string(not_sent) + " not sent"
                             : "")
            << "\n";
  if (interrupted || failed > 0 || not_sent > 0 || !f.result.empty()) {
    const std::string path =
        f.result.empty() ? f.file + ".result.csv" : f.result;
    std::ofstream out(path, std::ios::trunc);
    out << "line,email,result,invitation,error\n";
    for (const Row& row : rows) {
      out << row.line << "," << row.invitation.email() << ","
          << (row.result.empty() ? "not-sent" : row.result) << ","
          << row.invitation.name() << "," << row.error << "\n";
    }
    out.close();
    if (!out) {
      PrintError(
          {"USAGE", "cannot write the result file " + path, "", "--result"});
    } else {
      std::cerr << "what was sent and what was not: " << path
                << (not_sent > 0 || failed > 0
                        ? " (run the same import with --skip-existing to "
                          "send the rest)"
                        : "")
                << "\n";
    }
  }
  if (interrupted) {
    std::cerr << "interrupted: the rows after the last one sent were not "
                 "sent\n";
    return kExitInterrupted;
  }
  return failed == 0 ? kExitOk : exit_code;
}

void AddInvitationCommands(CLI::App& app, const CommandEnv& env,
                           CommandRegistry& registry,
                           std::shared_ptr<Flags> f) {
  CLI::App* root = app.add_subcommand("invitations",
                                      "Invite people into a cohort by e-mail");
  root->require_subcommand(1);
  auto stub = [&env] {
    return v1::InvitationService::NewStub(env.connection()->channel());
  };

  CLI::App* create = root->add_subcommand(
      "create", "Invite one person; the one-time secret is printed once");
  create->add_option("--cohort", f->cohort, "cohort id or name")->required();
  create->add_option("--email", f->email, "whom to invite")->required();
  create->add_option("--role", f->role, "member (default), ally, coordinator");
  create->add_option("--college", f->college,
                     "elu, agent, etat-territorial, acteur-socio-economique");
  create->add_option("--territory", f->territory,
                     "territory id or name, for role member");
  create->add_option("--expire-days", f->expire_days, "default 14, at most 30");
  registry.Register(create, [=, &env] {
    v1::CreateInvitationRequest req;
    req.set_parent(CohortName(f->cohort));
    Flags flags = *f;
    flags.territory = TerritoryName(f->cohort, f->territory);
    if (!FillInvitation(flags, req.mutable_invitation())) return kExitUsage;
    return Call<v1::CreateInvitationResponse>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->CreateInvitation(ctx, req, resp);
        },
        [](const v1::CreateInvitationResponse& r) {
          std::cerr << "invitation " << r.invitation().name() << " for "
                    << r.invitation().email()
                    << " (send them the secret below; it is shown once):\n";
          std::cout << r.secret() << "\n";
        },
        /*secret=*/true);
  });

  CLI::App* import = root->add_subcommand(
      "import",
      "Invite a delegation from a CSV file (columns: email, college, "
      "territory, role); prints email,invitation,secret as CSV");
  import->add_option("file", f->file, "CSV, comma or semicolon separated")
      ->required();
  import->add_option("--cohort", f->cohort, "cohort id or name")->required();
  import->add_option("--territory", f->territory,
                     "the territory of rows without one");
  import->add_option("--expire-days", f->expire_days, "default 14, at most 30");
  import->add_flag("--dry-run", f->dry_run,
                   "check every row (and that its territory exists), print "
                   "what would be sent, send nothing");
  import->add_flag("--skip-existing", f->skip_existing,
                   "a row whose e-mail is already invited or a member is "
                   "skipped, not failed (to re-run an import)");
  import->add_option("--result", f->result,
                     "where to write line,email,result,invitation,error for "
                     "every row (default FILE.result.csv, written when the "
                     "import was interrupted or a row was not sent)");
  registry.Register(import, [=, &env] { return ImportInvitations(env, *f); });

  CLI::App* list = root->add_subcommand("list", "A cohort's invitations");
  list->add_option("--cohort", f->cohort, "cohort id or name")->required();
  AddPageFlags(list, &f->page);
  registry.Register(list, [=, &env] {
    v1::ListInvitationsRequest req;
    req.set_parent(CohortName(f->cohort));
    return CallList<v1::ListInvitationsRequest, v1::ListInvitationsResponse>(
        env, f->page, req,
        [&](auto* ctx, const auto& r, auto* resp) {
          return stub()->ListInvitations(ctx, r, resp);
        },
        [](const v1::ListInvitationsResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& i : r.invitations()) {
            rows.push_back({i.name(), i.email(), Label(i.role()),
                            Label(i.college()), Label(i.state()),
                            Time(i.expire_time())});
          }
          PrintTable({"NAME", "EMAIL", "ROLE", "COLLEGE", "STATE", "EXPIRES"},
                     rows);
        });
  });

  CLI::App* get = root->add_subcommand("get", "Show an invitation");
  get->add_option("name", f->name, "invitation id (with --cohort) or full name")
      ->required();
  get->add_option("--cohort", f->cohort, "the cohort of an invitation id");
  registry.Register(get, [=, &env] {
    v1::GetInvitationRequest req;
    if (!Resolve(NameKind::kInvitation, f->name, "<name>",
                 {f->cohort, "", "", ""}, req.mutable_name())) {
      return kExitUsage;
    }
    return Call<v1::Invitation>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->GetInvitation(ctx, req, resp);
        },
        PrintResource);
  });

  CLI::App* revoke = root->add_subcommand("revoke", "Revoke a pending one");
  revoke
      ->add_option("name", f->name,
                   "invitation id (with --cohort) or full name")
      ->required();
  revoke->add_option("--cohort", f->cohort, "the cohort of an invitation id");
  revoke->add_option("--etag", f->etag,
                     "fail with a conflict if the invitation changed since");
  registry.Register(revoke, [=, &env] {
    v1::RevokeInvitationRequest req;
    if (!Resolve(NameKind::kInvitation, f->name, "<name>",
                 {f->cohort, "", "", ""}, req.mutable_name())) {
      return kExitUsage;
    }
    req.set_etag(f->etag);
    return Call<v1::Invitation>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->RevokeInvitation(ctx, req, resp);
        },
        PrintResource);
  });

  CLI::App* accept = root->add_subcommand(
      "accept",
      "Accept an invitation (no token needed): the secret comes from "
      "--secret-file or COHORTE_INVITATION; prints your new token once");
  accept->add_option("--secret-file", f->secret_file,
                     "file holding the invitation secret (else "
                     "COHORTE_INVITATION)");
  accept->add_option("--given-name", f->given, "your given name")->required();
  accept->add_option("--family-name", f->family, "your family name")
      ->required();
  accept->add_option("--organisation", f->organisation,
                     "your organisation, 0..200 characters");
  accept->add_option("--token-display-name", f->display_name,
                     "a name for your first token");
  registry.Register(accept, [=, &env] {
    v1::AcceptInvitationRequest req;
    std::string secret;
    if (!ReadSecret(f->secret_file, "COHORTE_INVITATION", &secret)) {
      return kExitUsage;
    }
    req.set_secret(secret);
    req.set_given_name(f->given);
    req.set_family_name(f->family);
    req.set_organisation(f->organisation);
    req.set_token_display_name(f->display_name);
    return Call<v1::AcceptInvitationResponse>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->AcceptInvitation(ctx, req, resp);
        },
        [](const v1::AcceptInvitationResponse& r) {
          std::cerr << "welcome, " << r.member().name()
                    << "; your token (shown once, keep it safe):\n";
          std::cout << r.token().secret() << "\n";
        },
        /*secret=*/true);
  });
}

}  // namespace

void AddInvitationCommands(CLI::App& app, const CommandEnv& env,
                           CommandRegistry& registry) {
  AddInvitationCommands(app, env, registry, std::make_shared<Flags>());
}

}  // namespace cohorte::client
