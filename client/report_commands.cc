#include "client/report_commands.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/call.h"
#include "client/fields.h"
#include "client/labels.h"
#include "client/output.h"
#include "client/times.h"
#include "cohorte/v1/reports.grpc.pb.h"

namespace cohorte::client {
namespace {

// `reports create` and `reports update`: the fields of a report.
const std::vector<FieldFlag>& ReportFields() {
  static const auto* fields = new std::vector<FieldFlag>{
      {"title", "title", FieldType::kString, "1..200 characters"},
      {"visibility", "visibility", FieldType::kEnum,
       "group, cohort, network, public"},
      {"group", "group", FieldType::kName,
       "for group visibility: group id or full name", NameKind::kGroup},
      {"author", "authors", FieldType::kNames, "co-author, a member id"},
      {"context", "context", FieldType::kLongText, "Markdown, ≤ 10000"},
      {"actions", "actions", FieldType::kLongText, "what was done"},
      {"results", "results", FieldType::kLongText, "Markdown, ≤ 10000"},
      {"what-worked", "what_worked", FieldType::kLongText, "Markdown, ≤ 10000"},
      {"what-failed", "what_failed", FieldType::kLongText, "and why"},
      {"lessons", "lessons", FieldType::kLongText, "Markdown, ≤ 10000"},
      {"fundamental", "fundamentals", FieldType::kStrings,
       "référentiel fundamental id"},
      {"balise", "balises", FieldType::kStrings, "référentiel balise id"},
      {"theme", "themes", FieldType::kStrings, "a free theme, 1..50"},
      {"chantier", "chantiers", FieldType::kNames,
       "chantier id of the report's territory, or full name",
       NameKind::kChantier},
      {"session", "sessions", FieldType::kNames, "session id or full name",
       NameKind::kSession},
  };
  return *fields;
}

void ShowReport(const v1::ExperienceReport& r) {
  PrintFields({{"name", r.name()},
               {"title", r.title()},
               {"territory", r.territory()},
               {"authors", Join(r.authors())},
               {"state", Label(r.state())},
               {"visibility", Label(r.visibility())},
               {"fundamentals", Join(r.fundamentals())},
               {"balises", Join(r.balises())},
               {"themes", Join(r.themes(), ", ")},
               {"chantiers", Join(r.chantiers())},
               {"sessions", Join(r.sessions())},
               {"etag", r.etag()}});
  if (r.hidden()) {
    std::cout << "\n[hidden: " << r.hidden_reason() << "]\n";
    return;
  }
  for (const auto& [title, text] :
       std::vector<std::pair<const char*, std::string>>{
           {"Contexte", r.context()},
           {"Ce qui a été fait", r.actions()},
           {"Résultats", r.results()},
           {"Ce qui a marché", r.what_worked()},
           {"Ce qui n'a pas marché, et pourquoi", r.what_failed()},
           {"Enseignements", r.lessons()}}) {
    if (!text.empty()) std::cout << "\n## " << title << "\n" << text << "\n";
  }
}

// Runs `rpc` (GetReport, PublishReport, ArchiveReport: one report named on
// the command line) and shows the report it answers.
template <typename Request>
int ReportByName(const CommandEnv& env, const DomainFlags& f,
                 grpc::Status (v1::ReportService::Stub::*rpc)(
                     grpc::ClientContext*, const Request&,
                     v1::ExperienceReport*)) {
  Request req;
  if (!Resolve(NameKind::kReport, f.name, "<name>", f.Names(),
               req.mutable_name())) {
    return kExitUsage;
  }
  auto stub = v1::ReportService::NewStub(env.connection()->channel());
  return Call<v1::ExperienceReport>(
      env,
      [&](auto* ctx, auto* resp) { return ((*stub).*rpc)(ctx, req, resp); },
      ShowReport);
}

}  // namespace

void AddReportCommands(CLI::App& app, const CommandEnv& env,
                       CommandRegistry& registry,
                       std::shared_ptr<DomainFlags> f) {
  auto stub = [&env] {
    return v1::ReportService::NewStub(env.connection()->channel());
  };
  CLI::App* root = app.add_subcommand(
      "reports", "Retours d'expérience (experience reports)");
  root->require_subcommand(1);

  CLI::App* list = root->add_subcommand("list", "Reports the caller may read");
  list->add_option("--cohort", f->cohort, "a cohort, or - for all")->required();
  list->add_option("--territory", f->territory,
                   "only this territory's: id (with --cohort) or full name");
  list->add_option("--fundamental", f->fundamental,
                   "only those tagged with this référentiel fundamental");
  list->add_option("--balise", f->balise,
                   "only those tagged with this référentiel balise");
  list->add_option("--theme", f->theme, "only those of this theme");
  list->add_option("--state", f->state, "draft, published, archived");
  AddPageFlags(list, &f->page);
  registry.Register(list, [=, &env] {
    v1::ListReportsRequest req;
    req.set_parent(f->cohort == "-" ? "cohorts/-" : CohortName(f->cohort));
    if (!f->territory.empty() &&
        !Resolve(NameKind::kTerritory, f->territory, "--territory",
                 f->cohort == "-" ? NameContext{} : f->Names(),
                 req.mutable_territory())) {
      return kExitUsage;
    }
    req.set_fundamental(f->fundamental);
    req.set_balise(f->balise);
    req.set_theme(f->theme);
    if (!f->state.empty()) {
      v1::ExperienceReport::State s;
      if (!ParseEnumFlag("--state", f->state, &s)) return kExitUsage;
      req.set_state(s);
    }
    return CallList<v1::ListReportsRequest, v1::ListReportsResponse>(
        env, f->page, req,
        [&](auto* ctx, const auto& r, auto* resp) {
          return stub()->ListReports(ctx, r, resp);
        },
        [](const v1::ListReportsResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& x : r.reports()) {
            rows.push_back({x.name(), x.title(), Label(x.state()),
                            Label(x.visibility()), Join(x.balises())});
          }
          PrintTable({"NAME", "TITLE", "STATE", "VISIBILITY", "BALISES"}, rows);
        });
  });

  auto report_arg = [f](CLI::App* cmd) {
    cmd->add_option("name", f->name, "report id (with --cohort) or full name")
        ->required();
    cmd->add_option("--cohort", f->cohort, "the cohort of a report id");
  };
  CLI::App* get = root->add_subcommand("get", "Read a report");
  report_arg(get);
  registry.Register(get, [=, &env] {
    return ReportByName(env, *f, &v1::ReportService::Stub::GetReport);
  });

  CLI::App* create = root->add_subcommand("create", "Write a draft report");
  create
      ->add_option("--territory", f->territory,
                   "territory id (with --cohort) or full name")
      ->required();
  create->add_option("--cohort", f->cohort, "the cohort of a territory id");
  AddFieldFlags(create, ReportFields(), &f->fields);
  registry.Register(create, [=, &env] {
    v1::CreateReportRequest req;
    v1::ExperienceReport* r = req.mutable_report();
    if (!Resolve(NameKind::kTerritory, f->territory, "--territory", f->Names(),
                 r->mutable_territory())) {
      return kExitUsage;
    }
    req.set_parent(
        r->territory().substr(0, r->territory().find("/territories/")));
    NameContext names = f->Names();
    names.cohort = req.parent();
    names.territory = r->territory();
    google::protobuf::FieldMask given;
    if (!FillFields(*create, ReportFields(), f->fields, names,
                    TimeInput{env.zone, absl::Now()}, r, &given) ||
        // On a terminal without any text flag: the narrative in the editor.
        !EditLongTexts(*create, ReportFields(), /*force=*/false,
                       v1::ExperienceReport(), r, &given)) {
      return kExitUsage;
    }
    return Call<v1::ExperienceReport>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->CreateReport(ctx, req, resp);
        },
        ShowReport);
  });

  CLI::App* update = root->add_subcommand(
      "update", "Change a report (its authors): only the flags given");
  report_arg(update);
  update->add_option("--territory", f->territory,
                     "the territory of --chantier ids");
  AddFieldFlags(update, ReportFields(), &f->fields);
  update->add_option("--etag", f->etag,
                     "fail with a conflict if the report changed since");
  update->add_flag("--edit", f->edit,
                   "edit the narrative (context … lessons) in $VISUAL or "
                   "$EDITOR, starting from the current text");
  registry.Register(update, [=, &env] {
    v1::UpdateReportRequest req;
    v1::ExperienceReport* r = req.mutable_report();
    if (!Resolve(NameKind::kReport, f->name, "<name>", f->Names(),
                 r->mutable_name())) {
      return kExitUsage;
    }
    NameContext names = f->Names();
    names.cohort = r->name().substr(0, r->name().find("/reports/"));
    if (!FillFields(*update, ReportFields(), f->fields, names,
                    TimeInput{env.zone, absl::Now()}, r,
                    req.mutable_update_mask())) {
      return kExitUsage;
    }
    if (f->edit) {
      // The author starts from the report as it is, and an edit made
      // meanwhile is a conflict (its etag).
      v1::GetReportRequest get;
      get.set_name(r->name());
      v1::ExperienceReport current;
      grpc::ClientContext ctx;
      env.connection()->Prepare(&ctx);
      const grpc::Status s = stub()->GetReport(&ctx, get, &current);
      if (!s.ok()) return ReportError(s);
      if (f->etag.empty()) f->etag = current.etag();
      if (!EditLongTexts(*update, ReportFields(), /*force=*/true, current, r,
                         req.mutable_update_mask())) {
        return kExitUsage;
      }
    }
    if (req.update_mask().paths().empty()) {
      return UsageError("", "give at least one field to change (see --help)");
    }
    r->set_etag(f->etag);
    return Call<v1::ExperienceReport>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->UpdateReport(ctx, req, resp);
        },
        ShowReport);
  });

  CLI::App* publish = root->add_subcommand("publish", "Publish a draft");
  report_arg(publish);
  registry.Register(publish, [=, &env] {
    return ReportByName(env, *f, &v1::ReportService::Stub::PublishReport);
  });

  CLI::App* archive = root->add_subcommand("archive", "Archive a report");
  report_arg(archive);
  registry.Register(archive, [=, &env] {
    return ReportByName(env, *f, &v1::ReportService::Stub::ArchiveReport);
  });
}

}  // namespace cohorte::client
