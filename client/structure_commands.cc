#include "client/structure_commands.h"

#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "client/call.h"
#include "client/fields.h"
#include "client/labels.h"
#include "client/output.h"
#include "client/times.h"
#include "cohorte/v1/groups.grpc.pb.h"
#include "cohorte/v1/members.grpc.pb.h"
#include "cohorte/v1/territories.grpc.pb.h"

namespace cohorte::client {
namespace {

// Every flag of these commands; one instance per process.
struct Flags {
  std::string name, cohort, id, display_name, kind, code, phase, note, etag;
  std::string given, family, email, organisation, role, college, territory;
  std::string description, parent;
  std::vector<std::string> delegations, cohorts, members, facilitators;
  std::vector<std::string> add, remove, add_facilitators, remove_facilitators;
  PageFlags page;
  FieldValues fields;

  NameContext Names() const { return {cohort, "", territory, ""}; }
};

// `territories update`: the fields UpdateTerritory may change.
const std::vector<FieldFlag>& TerritoryFields() {
  static const auto* fields = new std::vector<FieldFlag>{
      {"display-name", "display_name", FieldType::kString, "1..200 characters"},
      {"kind", "kind", FieldType::kEnum,
       "commune, intercommunalite, petr, departement, region, other"},
      {"code", "official_code", FieldType::kString,
       "INSEE commune code or SIREN ('' clears it)"},
  };
  return *fields;
}

// `members update`: the fields UpdateMember may change.
const std::vector<FieldFlag>& MemberFields() {
  static const auto* fields = new std::vector<FieldFlag>{
      {"given-name", "given_name", FieldType::kString, "1..100 characters"},
      {"family-name", "family_name", FieldType::kString, "1..100 characters"},
      {"email", "email", FieldType::kString, "unique in the instance"},
      {"organisation", "organisation", FieldType::kString, "0..200 characters"},
      {"role", "role", FieldType::kEnum, "member, ally, coordinator, admin"},
      {"college", "college", FieldType::kEnum,
       "elu, agent, etat-territorial, acteur-socio-economique"},
      {"delegation", "delegations", FieldType::kNames,
       "territory represented: an id with --cohort, or its full name",
       NameKind::kTerritory},
      {"serves", "cohorts", FieldType::kNames,
       "cohort served by an ally or coordinator", NameKind::kCohort},
  };
  return *fields;
}

void ShowTerritory(const v1::Territory& t) {
  PrintFields({{"name", t.name()},
               {"display_name", t.display_name()},
               {"kind", Label(t.kind())},
               {"official_code", t.official_code()},
               {"phase", Label(t.phase())},
               {"etag", t.etag()}});
  for (const auto& c : t.phase_history()) {
    std::cout << "  " << ShowTime(c.change_time()) << "  "
              << Label(c.from_phase()) << " → " << Label(c.to_phase())
              << "  by " << c.actor()
              << (c.note().empty() ? "" : "\n    " + c.note()) << "\n";
  }
}

void ShowMember(const v1::Member& m) {
  std::string delegations, cohorts;
  for (const auto& d : m.delegations()) delegations += d + " ";
  for (const auto& c : m.cohorts()) cohorts += c + " ";
  PrintFields({{"name", m.name()},
               {"given_name", m.given_name()},
               {"family_name", m.family_name()},
               {"email", m.email().empty() ? "(hidden)" : m.email()},
               {"organisation", m.organisation()},
               {"role", Label(m.role())},
               {"college", Label(m.college())},
               {"delegations", delegations},
               {"cohorts", cohorts},
               {"etag", m.etag()}});
}

void ShowGroup(const v1::PeerGroup& g) {
  std::string members, facilitators;
  for (const auto& m : g.members()) members += m + " ";
  for (const auto& f : g.facilitators()) facilitators += f + " ";
  PrintFields({{"name", g.name()},
               {"display_name", g.display_name()},
               {"kind", Label(g.kind())},
               {"college", Label(g.college())},
               {"territory", g.territory()},
               {"members", members},
               {"facilitators", facilitators},
               {"etag", g.etag()}});
}

void AddTerritoryCommands(CLI::App& app, const CommandEnv& env,
                          CommandRegistry& registry, std::shared_ptr<Flags> f) {
  CLI::App* root = app.add_subcommand("territories", "Territories of a cohort");
  root->require_subcommand(1);
  auto stub = [&env] {
    return v1::TerritoryService::NewStub(env.connection()->channel());
  };

  CLI::App* list = root->add_subcommand("list", "List a cohort's territories");
  list->add_option("--cohort", f->cohort, "cohort id or name")->required();
  AddPageFlags(list, &f->page);
  registry.Register(list, [=, &env] {
    v1::ListTerritoriesRequest req;
    req.set_parent(CohortName(f->cohort));
    return CallList<v1::ListTerritoriesRequest, v1::ListTerritoriesResponse>(
        env, f->page, req,
        [&](auto* ctx, const auto& r, auto* resp) {
          return stub()->ListTerritories(ctx, r, resp);
        },
        [](const v1::ListTerritoriesResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& t : r.territories()) {
            rows.push_back({t.name(), t.display_name(), Label(t.kind()),
                            Label(t.phase())});
          }
          PrintTable({"NAME", "DISPLAY NAME", "KIND", "PHASE"}, rows);
        });
  });

  CLI::App* get = root->add_subcommand("get", "Show a territory");
  get->add_option("name", f->name,
                  "territory id (with --cohort) or cohorts/{c}/territories/{t}")
      ->required();
  get->add_option("--cohort", f->cohort, "the cohort of a territory id");
  registry.Register(get, [=, &env] {
    v1::GetTerritoryRequest req;
    if (!Resolve(NameKind::kTerritory, f->name, "<name>", f->Names(),
                 req.mutable_name())) {
      return kExitUsage;
    }
    return Call<v1::Territory>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->GetTerritory(ctx, req, resp);
        },
        ShowTerritory);
  });

  CLI::App* create = root->add_subcommand("create", "Add a territory");
  create->add_option("--cohort", f->cohort, "cohort id or name")->required();
  create->add_option("--id", f->id,
                     "territory id (lowercase, digits, '-'); generated if "
                     "absent");
  create->add_option("--display-name", f->display_name, "1..200 characters")
      ->required();
  create
      ->add_option("--kind", f->kind,
                   "commune, intercommunalite, petr, departement, region, "
                   "other")
      ->required();
  create->add_option("--code", f->code, "INSEE commune code or SIREN");
  registry.Register(create, [=, &env] {
    v1::CreateTerritoryRequest req;
    req.set_parent(CohortName(f->cohort));
    req.set_territory_id(f->id);
    v1::Territory::Kind kind;
    if (!ParseEnumFlag("--kind", f->kind, &kind)) return kExitUsage;
    req.mutable_territory()->set_kind(kind);
    req.mutable_territory()->set_display_name(f->display_name);
    req.mutable_territory()->set_official_code(f->code);
    return Call<v1::Territory>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->CreateTerritory(ctx, req, resp);
        },
        ShowTerritory);
  });

  CLI::App* phase = root->add_subcommand(
      "phase", "Move a territory to another phase of its trajectory");
  phase
      ->add_option("name", f->name, "territory id (with --cohort) or full name")
      ->required();
  phase->add_option("--cohort", f->cohort, "the cohort of a territory id");
  phase
      ->add_option("--to", f->phase,
                   "partage-des-enjeux, emergence, strategie, "
                   "gouvernance-mise-en-oeuvre, suivi")
      ->required();
  phase->add_option("--note", f->note, "why, what was decided");
  phase->add_option("--etag", f->etag,
                    "fail with a conflict if the territory changed since");
  registry.Register(phase, [=, &env] {
    v1::ChangeTerritoryPhaseRequest req;
    if (!Resolve(NameKind::kTerritory, f->name, "<name>", f->Names(),
                 req.mutable_name())) {
      return kExitUsage;
    }
    v1::Territory::Phase p;
    if (!ParseEnumFlag("--to", f->phase, &p)) return kExitUsage;
    req.set_phase(p);
    req.set_note(f->note);
    req.set_etag(f->etag);
    return Call<v1::Territory>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->ChangeTerritoryPhase(ctx, req, resp);
        },
        ShowTerritory);
  });

  CLI::App* update = root->add_subcommand(
      "update", "Change a territory: only the flags given are changed");
  update
      ->add_option("name", f->name, "territory id (with --cohort) or full name")
      ->required();
  update->add_option("--cohort", f->cohort, "the cohort of a territory id");
  AddFieldFlags(update, TerritoryFields(), &f->fields);
  update->add_option("--etag", f->etag,
                     "fail with a conflict if the territory changed since");
  registry.Register(update, [=, &env] {
    v1::UpdateTerritoryRequest req;
    v1::Territory* t = req.mutable_territory();
    if (!Resolve(NameKind::kTerritory, f->name, "<name>", f->Names(),
                 t->mutable_name()) ||
        !FillFields(*update, TerritoryFields(), f->fields, f->Names(),
                    TimeInput{env.zone, absl::Now()}, t,
                    req.mutable_update_mask())) {
      return kExitUsage;
    }
    if (req.update_mask().paths().empty()) {
      return UsageError("", "give at least one field to change (see --help)");
    }
    t->set_etag(f->etag);
    return Call<v1::Territory>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->UpdateTerritory(ctx, req, resp);
        },
        ShowTerritory);
  });
}

void AddMemberCommands(CLI::App& app, const CommandEnv& env,
                       CommandRegistry& registry, std::shared_ptr<Flags> f) {
  CLI::App* root = app.add_subcommand("members", "People of the instance");
  root->require_subcommand(1);
  auto stub = [&env] {
    return v1::MemberService::NewStub(env.connection()->channel());
  };

  CLI::App* list = root->add_subcommand("list", "Members the caller may see");
  list->add_option("--cohort", f->cohort, "only this cohort's members");
  AddPageFlags(list, &f->page);
  registry.Register(list, [=, &env] {
    v1::ListMembersRequest req;
    if (!f->cohort.empty()) req.set_cohort(CohortName(f->cohort));
    return CallList<v1::ListMembersRequest, v1::ListMembersResponse>(
        env, f->page, req,
        [&](auto* ctx, const auto& r, auto* resp) {
          return stub()->ListMembers(ctx, r, resp);
        },
        [](const v1::ListMembersResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& m : r.members()) {
            rows.push_back({m.name(), m.given_name() + " " + m.family_name(),
                            Label(m.role()), Label(m.college()),
                            m.organisation()});
          }
          PrintTable({"NAME", "PERSON", "ROLE", "COLLEGE", "ORGANISATION"},
                     rows);
        });
  });

  CLI::App* get = root->add_subcommand("get", "Show a member (or 'me')");
  get->add_option("member", f->name, "member id, members/{id} or me")
      ->required();
  registry.Register(get, [=, &env] {
    v1::GetMemberRequest req;
    req.set_name(MemberName(f->name));
    return Call<v1::Member>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->GetMember(ctx, req, resp);
        },
        ShowMember);
  });

  CLI::App* create = root->add_subcommand("create", "Add a member (admin)");
  create->add_option("--id", f->id,
                     "member id (lowercase, digits, '-'); generated if absent");
  create->add_option("--given-name", f->given, "1..100 characters")->required();
  create->add_option("--family-name", f->family, "1..100 characters")
      ->required();
  create->add_option("--email", f->email, "unique in the instance")->required();
  create->add_option("--organisation", f->organisation, "0..200 characters");
  create->add_option("--role", f->role, "member, ally, coordinator, admin")
      ->required();
  create->add_option("--college", f->college,
                     "elu, agent, etat-territorial, acteur-socio-economique");
  create->add_option("--cohort", f->cohort,
                     "the cohort of --delegation territory ids");
  create->add_option("--delegation", f->delegations,
                     "territory id (with --cohort) or "
                     "cohorts/{c}/territories/{t} (repeatable)");
  create->add_option("--serves", f->cohorts,
                     "cohort served by an ally or coordinator (repeatable)");
  registry.Register(create, [=, &env] {
    v1::CreateMemberRequest req;
    req.set_member_id(f->id);
    v1::Member* m = req.mutable_member();
    m->set_given_name(f->given);
    m->set_family_name(f->family);
    m->set_email(f->email);
    m->set_organisation(f->organisation);
    v1::Member::Role role;
    if (!ParseEnumFlag("--role", f->role, &role)) return kExitUsage;
    m->set_role(role);
    if (!f->college.empty()) {
      v1::College college;
      if (!ParseEnumFlag("--college", f->college, &college)) return kExitUsage;
      m->set_college(college);
    }
    for (const auto& d : f->delegations) {
      if (!Resolve(NameKind::kTerritory, d, "--delegation", f->Names(),
                   m->add_delegations())) {
        return kExitUsage;
      }
    }
    for (const auto& c : f->cohorts) m->add_cohorts(CohortName(c));
    return Call<v1::Member>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->CreateMember(ctx, req, resp);
        },
        ShowMember);
  });

  CLI::App* update = root->add_subcommand(
      "update", "Change a member (admin): only the flags given are changed");
  update->add_option("member", f->name, "member id or members/{id}")
      ->required();
  update->add_option("--cohort", f->cohort,
                     "the cohort of --delegation territory ids");
  AddFieldFlags(update, MemberFields(), &f->fields);
  update->add_option("--etag", f->etag,
                     "fail with a conflict if the member changed since");
  registry.Register(update, [=, &env] {
    v1::UpdateMemberRequest req;
    v1::Member* m = req.mutable_member();
    m->set_name(MemberName(f->name));
    if (!FillFields(*update, MemberFields(), f->fields, f->Names(),
                    TimeInput{env.zone, absl::Now()}, m,
                    req.mutable_update_mask())) {
      return kExitUsage;
    }
    if (req.update_mask().paths().empty()) {
      return UsageError("", "give at least one field to change (see --help)");
    }
    m->set_etag(f->etag);
    return Call<v1::Member>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->UpdateMember(ctx, req, resp);
        },
        ShowMember);
  });
}

void AddGroupCommands(CLI::App& app, const CommandEnv& env,
                      CommandRegistry& registry, std::shared_ptr<Flags> f) {
  CLI::App* root = app.add_subcommand("groups", "Closed peer groups");
  root->require_subcommand(1);
  auto stub = [&env] {
    return v1::GroupService::NewStub(env.connection()->channel());
  };

  CLI::App* list = root->add_subcommand("list", "A cohort's groups");
  list->add_option("--cohort", f->cohort, "cohort id or name")->required();
  AddPageFlags(list, &f->page);
  registry.Register(list, [=, &env] {
    v1::ListGroupsRequest req;
    req.set_parent(CohortName(f->cohort));
    return CallList<v1::ListGroupsRequest, v1::ListGroupsResponse>(
        env, f->page, req,
        [&](auto* ctx, const auto& r, auto* resp) {
          return stub()->ListGroups(ctx, r, resp);
        },
        [](const v1::ListGroupsResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& g : r.groups()) {
            rows.push_back({g.name(), g.display_name(), Label(g.kind())});
          }
          PrintTable({"NAME", "DISPLAY NAME", "KIND"}, rows);
        });
  });

  CLI::App* get = root->add_subcommand("get", "Show a group");
  get->add_option("name", f->name,
                  "group id (with --cohort) or cohorts/{c}/groups/{g}")
      ->required();
  get->add_option("--cohort", f->cohort, "the cohort of a group id");
  registry.Register(get, [=, &env] {
    v1::GetGroupRequest req;
    if (!Resolve(NameKind::kGroup, f->name, "<name>", f->Names(),
                 req.mutable_name())) {
      return kExitUsage;
    }
    return Call<v1::PeerGroup>(
        env,
        [&](auto* ctx, auto* resp) { return stub()->GetGroup(ctx, req, resp); },
        ShowGroup);
  });

  CLI::App* members = root->add_subcommand(
      "members", "Who is in a group (for its members only)");
  members
      ->add_option("name", f->name,
                   "group id (with --cohort) or cohorts/{c}/groups/{g}")
      ->required();
  members->add_option("--cohort", f->cohort, "the cohort of a group id");
  AddPageFlags(members, &f->page);
  registry.Register(members, [=, &env] {
    v1::ListGroupMembersRequest req;
    if (!Resolve(NameKind::kGroup, f->name, "<name>", f->Names(),
                 req.mutable_name())) {
      return kExitUsage;
    }
    return CallList<v1::ListGroupMembersRequest, v1::ListGroupMembersResponse>(
        env, f->page, req,
        [&](auto* ctx, const auto& r, auto* resp) {
          return stub()->ListGroupMembers(ctx, r, resp);
        },
        [](const v1::ListGroupMembersResponse& r) {
          for (const auto& m : r.members()) std::cout << m << "\n";
        });
  });

  CLI::App* create = root->add_subcommand("create", "Make a group");
  create->add_option("--cohort", f->cohort, "cohort id or name")->required();
  create->add_option("--id", f->id,
                     "group id (lowercase, digits, '-'); generated if absent");
  create->add_option("--display-name", f->display_name, "1..200 characters")
      ->required();
  create->add_option("--description", f->description, "0..2000 characters");
  create->add_option("--kind", f->kind, "geographic, thematic, delegation")
      ->required();
  create->add_option("--territory", f->territory,
                     "for delegation groups: territory id or full name");
  create->add_option("--member", f->members, "member id (repeatable)");
  create->add_option("--facilitator", f->facilitators,
                     "member id (repeatable)");
  registry.Register(create, [=, &env] {
    v1::CreateGroupRequest req;
    req.set_parent(CohortName(f->cohort));
    req.set_group_id(f->id);
    v1::PeerGroup* g = req.mutable_group();
    g->set_display_name(f->display_name);
    g->set_description(f->description);
    v1::PeerGroup::Kind kind;
    if (!ParseEnumFlag("--kind", f->kind, &kind)) return kExitUsage;
    g->set_kind(kind);
    if (!f->territory.empty() &&
        !Resolve(NameKind::kTerritory, f->territory, "--territory",
                 {f->cohort, "", "", ""}, g->mutable_territory())) {
      return kExitUsage;
    }
    for (const auto& m : f->members) g->add_members(MemberName(m));
    for (const auto& m : f->facilitators) g->add_facilitators(MemberName(m));
    return Call<v1::PeerGroup>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->CreateGroup(ctx, req, resp);
        },
        ShowGroup);
  });

  CLI::App* set = root->add_subcommand(
      "set-members", "Add or remove members and facilitators");
  set->add_option("name", f->name,
                  "group id (with --cohort) or cohorts/{c}/groups/{g}")
      ->required();
  set->add_option("--cohort", f->cohort, "the cohort of a group id");
  set->add_option("--add", f->add, "member to add (repeatable)");
  set->add_option("--remove", f->remove, "member to remove (repeatable)");
  set->add_option("--add-facilitator", f->add_facilitators,
                  "facilitator to add (repeatable)");
  set->add_option("--remove-facilitator", f->remove_facilitators,
                  "facilitator to remove (repeatable)");
  set->add_option("--etag", f->etag,
                  "fail with a conflict if the group changed since");
  registry.Register(set, [=, &env] {
    v1::SetGroupMembersRequest req;
    if (!Resolve(NameKind::kGroup, f->name, "<name>", f->Names(),
                 req.mutable_name())) {
      return kExitUsage;
    }
    for (const auto& m : f->add) req.add_add_members(MemberName(m));
    for (const auto& m : f->remove) req.add_remove_members(MemberName(m));
    for (const auto& m : f->add_facilitators) {
      req.add_add_facilitators(MemberName(m));
    }
    for (const auto& m : f->remove_facilitators) {
      req.add_remove_facilitators(MemberName(m));
    }
    req.set_etag(f->etag);
    return Call<v1::PeerGroup>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->SetGroupMembers(ctx, req, resp);
        },
        ShowGroup);
  });
}

}  // namespace

void AddStructureCommands(CLI::App& app, const CommandEnv& env,
                          CommandRegistry& registry) {
  auto flags = std::make_shared<Flags>();
  AddTerritoryCommands(app, env, registry, flags);
  AddMemberCommands(app, env, registry, flags);
  AddGroupCommands(app, env, registry, flags);
}

}  // namespace cohorte::client
