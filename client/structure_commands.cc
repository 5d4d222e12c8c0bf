#include "client/structure_commands.h"

#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "client/call.h"
#include "client/output.h"
#include "cohorte/v1/groups.grpc.pb.h"
#include "cohorte/v1/members.grpc.pb.h"
#include "cohorte/v1/territories.grpc.pb.h"
#include "google/protobuf/util/time_util.h"

namespace cohorte::client {
namespace {

using google::protobuf::util::TimeUtil;

// Every flag of these commands; one instance per process.
struct Flags {
  std::string name, cohort, id, display_name, kind, code, phase, note, etag;
  std::string given, family, email, organisation, role, college, territory;
  std::string description, parent;
  std::vector<std::string> delegations, cohorts, members, facilitators;
  std::vector<std::string> add, remove, add_facilitators, remove_facilitators;
  int page_size = 0;
  int expire_days = 0;
};

void ShowTerritory(const v1::Territory& t) {
  PrintFields({{"name", t.name()},
               {"display_name", t.display_name()},
               {"kind", v1::Territory::Kind_Name(t.kind())},
               {"official_code", t.official_code()},
               {"phase", v1::Territory::Phase_Name(t.phase())},
               {"etag", t.etag()}});
  for (const auto& c : t.phase_history()) {
    std::cout << "  " << TimeUtil::ToString(c.change_time()) << "  "
              << v1::Territory::Phase_Name(c.from_phase()) << " → "
              << v1::Territory::Phase_Name(c.to_phase()) << "  by " << c.actor()
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
               {"role", v1::Member::Role_Name(m.role())},
               {"college", v1::College_Name(m.college())},
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
               {"kind", v1::PeerGroup::Kind_Name(g.kind())},
               {"college", v1::College_Name(g.college())},
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
  list->add_option("--page-size", f->page_size);
  registry.Register(list, [=, &env] {
    v1::ListTerritoriesRequest req;
    req.set_parent(CohortName(f->cohort));
    req.set_page_size(f->page_size);
    return Call<v1::ListTerritoriesResponse>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->ListTerritories(ctx, req, resp);
        },
        [](const v1::ListTerritoriesResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& t : r.territories()) {
            rows.push_back({t.name(), t.display_name(),
                            v1::Territory::Kind_Name(t.kind()),
                            v1::Territory::Phase_Name(t.phase())});
          }
          PrintTable({"NAME", "DISPLAY NAME", "KIND", "PHASE"}, rows);
        });
  });

  CLI::App* get = root->add_subcommand("get", "Show a territory");
  get->add_option("name", f->name, "cohorts/{c}/territories/{t}")->required();
  registry.Register(get, [=, &env] {
    v1::GetTerritoryRequest req;
    req.set_name(f->name);
    return Call<v1::Territory>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->GetTerritory(ctx, req, resp);
        },
        ShowTerritory);
  });

  CLI::App* create = root->add_subcommand("create", "Add a territory");
  create->add_option("--cohort", f->cohort)->required();
  create->add_option("--id", f->id);
  create->add_option("--display-name", f->display_name)->required();
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
    if (!ParseEnum(f->kind, &v1::Territory::Kind_Parse, &kind)) {
      return BadEnum("--kind", f->kind);
    }
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
  phase->add_option("name", f->name)->required();
  phase
      ->add_option("--to", f->phase,
                   "partage-des-enjeux, emergence, strategie, "
                   "gouvernance-mise-en-oeuvre, suivi")
      ->required();
  phase->add_option("--note", f->note, "why, what was decided");
  phase->add_option("--etag", f->etag);
  registry.Register(phase, [=, &env] {
    v1::ChangeTerritoryPhaseRequest req;
    req.set_name(f->name);
    v1::Territory::Phase p;
    if (!ParseEnum(f->phase, &v1::Territory::Phase_Parse, &p)) {
      return BadEnum("--to", f->phase);
    }
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
  list->add_option("--page-size", f->page_size);
  registry.Register(list, [=, &env] {
    v1::ListMembersRequest req;
    if (!f->cohort.empty()) req.set_cohort(CohortName(f->cohort));
    req.set_page_size(f->page_size);
    return Call<v1::ListMembersResponse>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->ListMembers(ctx, req, resp);
        },
        [](const v1::ListMembersResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& m : r.members()) {
            rows.push_back({m.name(), m.given_name() + " " + m.family_name(),
                            v1::Member::Role_Name(m.role()),
                            v1::College_Name(m.college()), m.organisation()});
          }
          PrintTable({"NAME", "PERSON", "ROLE", "COLLEGE", "ORGANISATION"},
                     rows);
        });
  });

  CLI::App* get = root->add_subcommand("get", "Show a member (or 'me')");
  get->add_option("member", f->name)->required();
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
  create->add_option("--id", f->id);
  create->add_option("--given-name", f->given)->required();
  create->add_option("--family-name", f->family)->required();
  create->add_option("--email", f->email)->required();
  create->add_option("--organisation", f->organisation);
  create->add_option("--role", f->role, "member, ally, coordinator, admin")
      ->required();
  create->add_option("--college", f->college,
                     "elu, agent, etat-territorial, acteur-socio-economique");
  create->add_option("--delegation", f->delegations,
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
    if (!ParseEnum(f->role, &v1::Member::Role_Parse, &role)) {
      return BadEnum("--role", f->role);
    }
    m->set_role(role);
    if (!f->college.empty()) {
      v1::College college;
      if (!ParseEnum(f->college, &v1::College_Parse, &college)) {
        return BadEnum("--college", f->college);
      }
      m->set_college(college);
    }
    for (const auto& d : f->delegations) m->add_delegations(d);
    for (const auto& c : f->cohorts) m->add_cohorts(CohortName(c));
    return Call<v1::Member>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->CreateMember(ctx, req, resp);
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
  list->add_option("--cohort", f->cohort)->required();
  registry.Register(list, [=, &env] {
    v1::ListGroupsRequest req;
    req.set_parent(CohortName(f->cohort));
    return Call<v1::ListGroupsResponse>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->ListGroups(ctx, req, resp);
        },
        [](const v1::ListGroupsResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& g : r.groups()) {
            rows.push_back({g.name(), g.display_name(),
                            v1::PeerGroup::Kind_Name(g.kind())});
          }
          PrintTable({"NAME", "DISPLAY NAME", "KIND"}, rows);
        });
  });

  CLI::App* get = root->add_subcommand("get", "Show a group");
  get->add_option("name", f->name)->required();
  registry.Register(get, [=, &env] {
    v1::GetGroupRequest req;
    req.set_name(f->name);
    return Call<v1::PeerGroup>(
        env,
        [&](auto* ctx, auto* resp) { return stub()->GetGroup(ctx, req, resp); },
        ShowGroup);
  });

  CLI::App* members = root->add_subcommand(
      "members", "Who is in a group (for its members only)");
  members->add_option("name", f->name)->required();
  registry.Register(members, [=, &env] {
    v1::ListGroupMembersRequest req;
    req.set_name(f->name);
    return Call<v1::ListGroupMembersResponse>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->ListGroupMembers(ctx, req, resp);
        },
        [](const v1::ListGroupMembersResponse& r) {
          for (const auto& m : r.members()) std::cout << m << "\n";
        });
  });

  CLI::App* create = root->add_subcommand("create", "Make a group");
  create->add_option("--cohort", f->cohort)->required();
  create->add_option("--id", f->id);
  create->add_option("--display-name", f->display_name)->required();
  create->add_option("--description", f->description);
  create->add_option("--kind", f->kind, "geographic, thematic, delegation")
      ->required();
  create->add_option("--territory", f->territory, "for delegation groups");
  create->add_option("--member", f->members, "repeatable");
  create->add_option("--facilitator", f->facilitators, "repeatable");
  registry.Register(create, [=, &env] {
    v1::CreateGroupRequest req;
    req.set_parent(CohortName(f->cohort));
    req.set_group_id(f->id);
    v1::PeerGroup* g = req.mutable_group();
    g->set_display_name(f->display_name);
    g->set_description(f->description);
    v1::PeerGroup::Kind kind;
    if (!ParseEnum(f->kind, &v1::PeerGroup::Kind_Parse, &kind)) {
      return BadEnum("--kind", f->kind);
    }
    g->set_kind(kind);
    g->set_territory(f->territory);
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
  set->add_option("name", f->name)->required();
  set->add_option("--add", f->add, "repeatable");
  set->add_option("--remove", f->remove, "repeatable");
  set->add_option("--add-facilitator", f->add_facilitators);
  set->add_option("--remove-facilitator", f->remove_facilitators);
  set->add_option("--etag", f->etag);
  registry.Register(set, [=, &env] {
    v1::SetGroupMembersRequest req;
    req.set_name(f->name);
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
