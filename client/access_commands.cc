#include "client/access_commands.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "client/call.h"
#include "client/invitation_commands.h"
#include "client/labels.h"
#include "client/output.h"
#include "client/times.h"
#include "cohorte/v1/audit.grpc.pb.h"
#include "cohorte/v1/members.grpc.pb.h"
#include "cohorte/v1/territories.grpc.pb.h"
#include "cohorte/v1/tokens.grpc.pb.h"

namespace cohorte::client {
namespace {

// Every flag of these commands; one instance per process.
struct Flags {
  std::string name, member, cohort, territory, id, display_name, description;
  std::string access, status, etag;
  std::vector<std::string> cohorts, carriers;
  int expire_days = 0;
  PageFlags page;
  bool show_inactive = false;
};

std::string Time(const google::protobuf::Timestamp& t) { return ShowTime(t); }

std::string Join(const google::protobuf::RepeatedPtrField<std::string>& list) {
  std::string out;
  for (const std::string& s : list) out += (out.empty() ? "" : " ") + s;
  return out;
}

void ShowToken(const v1::Token& t) {
  PrintFields(
      {{"name", t.name()},
       {"kind", Label(t.kind())},
       {"member", t.member()},
       {"display_name", t.display_name()},
       {"cohorts", Join(t.cohorts())},
       {"access", t.kind() == v1::Token::SERVICE ? Label(t.access()) : ""},
       {"create_time", Time(t.create_time())},
       {"expire_time", Time(t.expire_time())},
       {"revoke_time", Time(t.revoke_time())},
       {"rotate_time", Time(t.rotate_time())},
       {"etag", t.etag()}});
}

// A secret goes to stdout alone (for `> file`); what it is, to stderr.
void ShowSecret(const v1::TokenSecret& s) {
  std::cerr << "token " << s.token().name()
            << " (the secret below is shown once):\n";
  std::cout << s.secret() << "\n";
}

void AddTokenCommands(CLI::App& app, const CommandEnv& env,
                      CommandRegistry& registry, std::shared_ptr<Flags> f) {
  CLI::App* root = app.add_subcommand(
      "tokens", "Bearer tokens: personal and service (integration) tokens");
  root->require_subcommand(1);
  auto stub = [&env] {
    return v1::TokenService::NewStub(env.connection()->channel());
  };

  CLI::App* create = root->add_subcommand(
      "create", "Make a personal token (admin); its secret is printed once");
  create->add_option("--member", f->member, "member id: whom it acts for")
      ->required();
  create->add_option("--display-name", f->display_name,
                     "what it is for, 0..100 characters");
  create->add_option("--expire-days", f->expire_days,
                     "expire after this many days (at most 366)");
  registry.Register(create, [=, &env] {
    v1::CreateTokenRequest req;
    req.set_parent(MemberName(f->member));
    req.set_display_name(f->display_name);
    if (f->expire_days > 0) {
      *req.mutable_expire_time() = DaysFromNow(f->expire_days);
    }
    auto members = v1::MemberService::NewStub(env.connection()->channel());
    return Call<v1::CreateTokenResponse>(
        env,
        [&](auto* ctx, auto* resp) {
          return members->CreateToken(ctx, req, resp);
        },
        [](const v1::CreateTokenResponse& r) {
          std::cerr << "token " << r.name()
                    << " (the secret below is shown once):\n";
          std::cout << r.secret() << "\n";
        },
        /*secret=*/true);
  });

  CLI::App* service = root->add_subcommand(
      "create-service",
      "Make a service token for an integration (admin); secret printed once");
  service
      ->add_option("--display-name", f->display_name,
                   "what it is for, 1..100 characters")
      ->required();
  service->add_option("--cohort", f->cohorts, "cohort it reaches (repeatable)")
      ->required();
  service->add_option("--access", f->access, "read or read-write")->required();
  service->add_option("--expire-days", f->expire_days,
                      "expire after this many days (at most 366)");
  registry.Register(service, [=, &env] {
    v1::CreateServiceTokenRequest req;
    v1::Token* t = req.mutable_token();
    t->set_display_name(f->display_name);
    for (const std::string& c : f->cohorts) t->add_cohorts(CohortName(c));
    v1::Token::Access access;
    if (!ParseEnumFlag("--access", f->access, &access)) return kExitUsage;
    t->set_access(access);
    if (f->expire_days > 0)
      *t->mutable_expire_time() = DaysFromNow(f->expire_days);
    return Call<v1::TokenSecret>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->CreateServiceToken(ctx, req, resp);
        },
        ShowSecret, /*secret=*/true);
  });

  CLI::App* list = root->add_subcommand(
      "list", "Tokens: the caller's own, or every one for the admin");
  list->add_option("--member", f->member, "only this member's tokens");
  list->add_flag("--show-inactive", f->show_inactive,
                 "also revoked and expired tokens");
  AddPageFlags(list, &f->page);
  registry.Register(list, [=, &env] {
    v1::ListTokensRequest req;
    if (!f->member.empty()) req.set_member(MemberName(f->member));
    req.set_show_inactive(f->show_inactive);
    return CallList<v1::ListTokensRequest, v1::ListTokensResponse>(
        env, f->page, req,
        [&](auto* ctx, const auto& r, auto* resp) {
          return stub()->ListTokens(ctx, r, resp);
        },
        [](const v1::ListTokensResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& t : r.tokens()) {
            const std::string state = t.has_revoke_time() ? "revoked" : "";
            rows.push_back({t.name(), Label(t.kind()),
                            t.kind() == v1::Token::SERVICE ? Join(t.cohorts())
                                                           : t.member(),
                            t.display_name(), Time(t.expire_time()), state});
          }
          PrintTable(
              {"NAME", "KIND", "FOR", "DISPLAY NAME", "EXPIRES", "STATE"},
              rows);
        });
  });

  CLI::App* get =
      root->add_subcommand("get", "Show a token (never its secret)");
  get->add_option("name", f->name, "token id or tokens/{token}")->required();
  registry.Register(get, [=, &env] {
    v1::GetTokenRequest req;
    if (!Resolve(NameKind::kToken, f->name, "<name>", {}, req.mutable_name())) {
      return kExitUsage;
    }
    return Call<v1::Token>(
        env,
        [&](auto* ctx, auto* resp) { return stub()->GetToken(ctx, req, resp); },
        ShowToken);
  });

  CLI::App* revoke = root->add_subcommand("revoke", "Stop a token at once");
  revoke->add_option("name", f->name, "token id or tokens/{token}")->required();
  revoke->add_option("--etag", f->etag,
                     "fail with a conflict if the token changed since");
  registry.Register(revoke, [=, &env] {
    v1::RevokeTokenRequest req;
    if (!Resolve(NameKind::kToken, f->name, "<name>", {}, req.mutable_name())) {
      return kExitUsage;
    }
    req.set_etag(f->etag);
    return Call<v1::Token>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->RevokeToken(ctx, req, resp);
        },
        ShowToken);
  });

  CLI::App* rotate = root->add_subcommand(
      "rotate", "A new secret for a token; the old one stops at once");
  rotate->add_option("name", f->name, "token id or tokens/{token}")->required();
  rotate->add_option("--etag", f->etag,
                     "fail with a conflict if the token changed since");
  registry.Register(rotate, [=, &env] {
    v1::RotateTokenRequest req;
    if (!Resolve(NameKind::kToken, f->name, "<name>", {}, req.mutable_name())) {
      return kExitUsage;
    }
    req.set_etag(f->etag);
    return Call<v1::TokenSecret>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->RotateToken(ctx, req, resp);
        },
        ShowSecret, /*secret=*/true);
  });
}

void AddChantierCommands(CLI::App& app, const CommandEnv& env,
                         CommandRegistry& registry, std::shared_ptr<Flags> f) {
  CLI::App* root =
      app.add_subcommand("chantiers", "A territory's chantiers (work sites)");
  root->require_subcommand(1);
  auto stub = [&env] {
    return v1::TerritoryService::NewStub(env.connection()->channel());
  };

  CLI::App* list = root->add_subcommand("list", "A territory's chantiers");
  list->add_option("--territory", f->territory,
                   "territory id (with --cohort) or full name")
      ->required();
  list->add_option("--cohort", f->cohort, "the cohort of a territory id");
  AddPageFlags(list, &f->page);
  registry.Register(list, [=, &env] {
    v1::ListChantiersRequest req;
    if (!Resolve(NameKind::kTerritory, f->territory, "--territory",
                 {f->cohort, "", "", ""}, req.mutable_parent())) {
      return kExitUsage;
    }
    return CallList<v1::ListChantiersRequest, v1::ListChantiersResponse>(
        env, f->page, req,
        [&](auto* ctx, const auto& r, auto* resp) {
          return stub()->ListChantiers(ctx, r, resp);
        },
        [](const v1::ListChantiersResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& c : r.chantiers()) {
            rows.push_back({c.name(), c.display_name(), Label(c.status()),
                            Join(c.carriers())});
          }
          PrintTable({"NAME", "DISPLAY NAME", "STATUS", "CARRIERS"}, rows);
        });
  });

  CLI::App* get = root->add_subcommand("get", "Show a chantier");
  get->add_option("name", f->name,
                  "chantier id (with --territory) or full name")
      ->required();
  get->add_option("--territory", f->territory,
                  "the territory of a chantier id (id with --cohort, or "
                  "full name)");
  get->add_option("--cohort", f->cohort, "the cohort of a territory id");
  registry.Register(get, [=, &env] {
    v1::GetChantierRequest req;
    if (!Resolve(NameKind::kChantier, f->name, "<name>",
                 {f->cohort, "", f->territory, ""}, req.mutable_name())) {
      return kExitUsage;
    }
    return Call<v1::Chantier>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->GetChantier(ctx, req, resp);
        },
        PrintResource);
  });

  CLI::App* create = root->add_subcommand("create", "Add a chantier");
  create
      ->add_option("--territory", f->territory,
                   "territory id (with --cohort) or full name")
      ->required();
  create->add_option("--cohort", f->cohort, "the cohort of a territory id");
  create->add_option("--id", f->id,
                     "chantier id (lowercase, digits, '-'); generated if "
                     "absent");
  create->add_option("--display-name", f->display_name, "1..200 characters")
      ->required();
  create->add_option("--description", f->description, "0..4000 characters");
  create->add_option("--status", f->status,
                     "identifie (default), en-action, en-pause, termine");
  create->add_option("--carrier", f->carriers, "member (repeatable)");
  registry.Register(create, [=, &env] {
    v1::CreateChantierRequest req;
    if (!Resolve(NameKind::kTerritory, f->territory, "--territory",
                 {f->cohort, "", "", ""}, req.mutable_parent())) {
      return kExitUsage;
    }
    req.set_chantier_id(f->id);
    v1::Chantier* c = req.mutable_chantier();
    c->set_display_name(f->display_name);
    c->set_description(f->description);
    if (!f->status.empty()) {
      v1::Chantier::Status s;
      if (!ParseEnumFlag("--status", f->status, &s)) return kExitUsage;
      c->set_status(s);
    }
    for (const auto& m : f->carriers) c->add_carriers(MemberName(m));
    return Call<v1::Chantier>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->CreateChantier(ctx, req, resp);
        },
        PrintResource);
  });

  CLI::App* update = root->add_subcommand(
      "update", "Change a chantier: only the flags given are changed");
  update
      ->add_option("name", f->name,
                   "chantier id (with --territory) or full name")
      ->required();
  update->add_option("--territory", f->territory,
                     "the territory of a chantier id");
  update->add_option("--cohort", f->cohort, "the cohort of a territory id");
  update->add_option("--display-name", f->display_name, "1..200 characters");
  update->add_option("--description", f->description, "0..4000 characters");
  update->add_option("--status", f->status,
                     "identifie, en-action, en-pause, termine");
  update->add_option("--carrier", f->carriers,
                     "the carriers (repeatable; replaces the list)");
  update->add_option("--etag", f->etag,
                     "fail with a conflict if the chantier changed since");
  registry.Register(update, [=, &env] {
    v1::UpdateChantierRequest req;
    v1::Chantier* c = req.mutable_chantier();
    if (!Resolve(NameKind::kChantier, f->name, "<name>",
                 {f->cohort, "", f->territory, ""}, c->mutable_name())) {
      return kExitUsage;
    }
    c->set_etag(f->etag);
    auto* mask = req.mutable_update_mask();
    if (update->count("--display-name")) {
      c->set_display_name(f->display_name);
      mask->add_paths("display_name");
    }
    if (update->count("--description")) {
      c->set_description(f->description);
      mask->add_paths("description");
    }
    if (update->count("--status")) {
      v1::Chantier::Status s;
      if (!ParseEnumFlag("--status", f->status, &s)) return kExitUsage;
      c->set_status(s);
      mask->add_paths("status");
    }
    if (update->count("--carrier")) {
      for (const auto& m : f->carriers) c->add_carriers(MemberName(m));
      mask->add_paths("carriers");
    }
    return Call<v1::Chantier>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->UpdateChantier(ctx, req, resp);
        },
        PrintResource);
  });
}

void AddAuditCommands(CLI::App& app, const CommandEnv& env,
                      CommandRegistry& registry, std::shared_ptr<Flags> f) {
  CLI::App* root = app.add_subcommand("audit", "The audit log");
  root->require_subcommand(1);
  CLI::App* list = root->add_subcommand(
      "list",
      "Changes to members, roles, groups, tokens and invitations, oldest "
      "first (admin; a coordinator with --cohort)");
  list->add_option("--cohort", f->cohort, "only what touches this cohort");
  AddPageFlags(list, &f->page);
  registry.Register(list, [=, &env] {
    auto stub = v1::AuditService::NewStub(env.connection()->channel());
    v1::ListAuditEventsRequest req;
    if (!f->cohort.empty()) req.set_parent(CohortName(f->cohort));
    return CallList<v1::ListAuditEventsRequest, v1::ListAuditEventsResponse>(
        env, f->page, req,
        [&](auto* ctx, const auto& r, auto* resp) {
          return stub->ListAuditEvents(ctx, r, resp);
        },
        [](const v1::ListAuditEventsResponse& all) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& e : all.events()) {
            std::string what;
            for (const auto& c : e.changes()) {
              what += (what.empty() ? "" : "; ") + c.resource();
              if (!c.has_before()) {
                what += " (created)";
              } else if (!c.changed_fields().empty()) {
                what += " (" + Join(c.changed_fields()) + ")";
              }
            }
            rows.push_back({std::to_string(e.revision()), Time(e.time()),
                            e.actor(), e.method(), what});
          }
          PrintTable({"REVISION", "TIME", "ACTOR", "METHOD", "WHAT"}, rows);
        });
  });
}

}  // namespace

void AddAccessCommands(CLI::App& app, const CommandEnv& env,
                       CommandRegistry& registry) {
  auto flags = std::make_shared<Flags>();
  AddTokenCommands(app, env, registry, flags);
  AddInvitationCommands(app, env, registry);
  AddChantierCommands(app, env, registry, flags);
  AddAuditCommands(app, env, registry, flags);
}

}  // namespace cohorte::client
