#include "client/cohort_commands.h"

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "client/bundle_commands.h"
#include "client/call.h"
#include "client/labels.h"
#include "client/output.h"
#include "client/times.h"
#include "cohorte/v1/cohorts.grpc.pb.h"

namespace cohorte::client {
namespace {

std::string StateName(v1::Cohort::State state) { return Label(state); }

void ShowCohort(const v1::Cohort& c, const absl::TimeZone& zone) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"name", c.name()},
      {"display_name", c.display_name()},
      {"region", c.region()},
      {"programme", c.programme()},
      {"state", StateName(c.state())},
      {"period", (c.has_start_date() ? FormatDate(c.start_date()) : "?") +
                     " → " +
                     (c.has_end_date() ? FormatDate(c.end_date()) : "?")},
      {"created", FormatUserTime(c.create_time(), zone)},
      {"updated", FormatUserTime(c.update_time(), zone)},
      {"etag", c.etag()},
  };
  if (c.has_delete_time()) {
    fields.push_back({"deleted", FormatUserTime(c.delete_time(), zone)});
  }
  if (c.has_home()) {
    // A replica: read-only here, written at its home.
    const v1::Home& h = c.home();
    fields.push_back(
        {"home", (h.instance_name().empty()
                      ? h.instance_id()
                      : h.instance_name() + " (" + h.instance_id() + ")") +
                     ", followed by " + h.link()});
  }
  PrintFields(fields);
  if (!c.description().empty()) std::cout << "\n" << c.description() << "\n";
}

void PrintCohort(const v1::Cohort& c, const CommandEnv& env) {
  PrintMessage(c, env.format, [&] { ShowCohort(c, env.zone); });
}

struct CohortFlags {
  std::string id;
  std::string display_name;
  std::string region;
  std::string programme;
  std::string description;
  std::string start;
  std::string end;
  std::string etag;
  std::string request_id;
  PageFlags page;
  bool show_deleted = false;
};

void AddFieldOptions(CLI::App* cmd, CohortFlags* f) {
  cmd->add_option("--display-name", f->display_name, "1..200 characters");
  cmd->add_option("--region", f->region, "0..100 characters");
  cmd->add_option("--programme", f->programme, "0..200 characters");
  cmd->add_option("--description", f->description,
                  "0..4000 characters, Markdown");
  cmd->add_option("--start", f->start, "start date, YYYY-MM-DD or DD/MM/YYYY");
  cmd->add_option("--end", f->end, "end date, YYYY-MM-DD or DD/MM/YYYY");
}

// Copies the field flags given on the command line into `cohort`, and their
// names into `mask` (when not null). False (after a message) on a bad date.
// (Text that is not UTF-8 never gets here: main refuses it first.)
bool FillFields(CLI::App* cmd, const CohortFlags& f, v1::Cohort* cohort,
                google::protobuf::FieldMask* mask) {
  auto given = [&](const char* flag, const char* path) {
    bool set = cmd->count(flag) > 0;
    if (set && mask != nullptr) mask->add_paths(path);
    return set;
  };
  if (given("--display-name", "display_name")) {
    cohort->set_display_name(f.display_name);
  }
  if (given("--region", "region")) cohort->set_region(f.region);
  if (given("--programme", "programme")) cohort->set_programme(f.programme);
  if (given("--description", "description")) {
    cohort->set_description(f.description);
  }
  if (given("--start", "start_date") &&
      !ParseUserDate(f.start, cohort->mutable_start_date())) {
    UsageError("--start",
               "'" + f.start + "' is not a date: YYYY-MM-DD or DD/MM/YYYY");
    return false;
  }
  if (given("--end", "end_date") &&
      !ParseUserDate(f.end, cohort->mutable_end_date())) {
    UsageError("--end",
               "'" + f.end + "' is not a date: YYYY-MM-DD or DD/MM/YYYY");
    return false;
  }
  return true;
}

}  // namespace

void AddCohortCommands(CLI::App& app, const CommandEnv& env,
                       CommandRegistry& registry) {
  CLI::App* cohorts = app.add_subcommand("cohorts", "Cohorts of territories");
  cohorts->require_subcommand(1);
  auto flags = std::make_shared<CohortFlags>();
  auto stub = [&env]() {
    return v1::CohortService::NewStub(env.connection()->channel());
  };

  CLI::App* list = cohorts->add_subcommand("list", "List cohorts");
  AddPageFlags(list, &flags->page);
  list->add_flag("--show-deleted", flags->show_deleted,
                 "include soft-deleted cohorts");
  registry.Register(list, [=, &env]() {
    v1::ListCohortsRequest req;
    req.set_show_deleted(flags->show_deleted);
    return CallList<v1::ListCohortsRequest, v1::ListCohortsResponse>(
        env, flags->page, req,
        [&](auto* ctx, const auto& r, auto* resp) {
          return stub()->ListCohorts(ctx, r, resp);
        },
        [](const v1::ListCohortsResponse& all) {
          std::vector<std::vector<std::string>> rows;
          for (const v1::Cohort& c : all.cohorts()) {
            rows.push_back(
                {c.name(), c.display_name(), c.region(),
                 c.has_delete_time() ? "DELETED" : StateName(c.state()),
                 c.etag()});
          }
          PrintTable({"NAME", "DISPLAY NAME", "REGION", "STATE", "ETAG"}, rows);
        });
  });

  CLI::App* get = cohorts->add_subcommand("get", "Show one cohort");
  get->add_option("cohort", flags->id, "id or cohorts/{id}")->required();
  registry.Register(get, [=, &env]() {
    v1::GetCohortRequest req;
    req.set_name(CohortName(flags->id));
    grpc::ClientContext ctx;
    env.connection()->Prepare(&ctx);
    v1::Cohort resp;
    grpc::Status s = stub()->GetCohort(&ctx, req, &resp);
    if (!s.ok()) return ReportError(s);
    PrintCohort(resp, env);
    return kExitOk;
  });

  CLI::App* create = cohorts->add_subcommand("create", "Create a cohort");
  create->add_option("--id", flags->id,
                     "cohort id (lowercase, digits, '-'); generated if absent");
  AddFieldOptions(create, flags.get());
  create->add_option("--request-id", flags->request_id,
                     "idempotency key: a retry with it writes once");
  registry.Register(create, [=, &env]() {
    v1::CreateCohortRequest req;
    req.set_cohort_id(flags->id);
    req.set_request_id(flags->request_id);
    if (!FillFields(create, *flags, req.mutable_cohort(), nullptr)) {
      return kExitUsage;
    }
    grpc::ClientContext ctx;
    env.connection()->Prepare(&ctx);
    v1::Cohort resp;
    grpc::Status s = stub()->CreateCohort(&ctx, req, &resp);
    if (!s.ok()) return ReportError(s);
    PrintCohort(resp, env);
    return kExitOk;
  });

  CLI::App* update =
      cohorts->add_subcommand("update", "Change the fields given (only those)");
  update->add_option("cohort", flags->id, "id or cohorts/{id}")->required();
  AddFieldOptions(update, flags.get());
  update->add_option("--etag", flags->etag,
                     "fail with a conflict if the cohort changed since");
  update->add_option("--request-id", flags->request_id,
                     "idempotency key: a retry with it writes once");
  registry.Register(update, [=, &env]() {
    v1::UpdateCohortRequest req;
    req.mutable_cohort()->set_name(CohortName(flags->id));
    req.mutable_cohort()->set_etag(flags->etag);
    req.set_request_id(flags->request_id);
    if (!FillFields(update, *flags, req.mutable_cohort(),
                    req.mutable_update_mask())) {
      return kExitUsage;
    }
    if (req.update_mask().paths().empty()) {
      std::cerr << "Error: give at least one field to change (see --help)\n";
      return kExitUsage;
    }
    grpc::ClientContext ctx;
    env.connection()->Prepare(&ctx);
    v1::Cohort resp;
    grpc::Status s = stub()->UpdateCohort(&ctx, req, &resp);
    if (!s.ok()) return ReportError(s);
    PrintCohort(resp, env);
    return kExitOk;
  });

  // delete, undelete, archive, unarchive: a name, an optional etag.
  struct Transition {
    const char* verb;
    const char* help;
    bool has_etag;
    grpc::Status (*call)(v1::CohortService::Stub&, grpc::ClientContext*,
                         const std::string& name, const std::string& etag,
                         const std::string& request_id, v1::Cohort*);
  };
  static const Transition kTransitions[] = {
      {"delete", "Soft-delete a cohort (undelete restores it)", true,
       [](v1::CohortService::Stub& st, grpc::ClientContext* c,
          const std::string& n, const std::string& e, const std::string& r,
          v1::Cohort* out) {
         v1::DeleteCohortRequest req;
         req.set_name(n), req.set_etag(e), req.set_request_id(r);
         return st.DeleteCohort(c, req, out);
       }},
      {"undelete", "Restore a soft-deleted cohort", false,
       [](v1::CohortService::Stub& st, grpc::ClientContext* c,
          const std::string& n, const std::string&, const std::string& r,
          v1::Cohort* out) {
         v1::UndeleteCohortRequest req;
         req.set_name(n), req.set_request_id(r);
         return st.UndeleteCohort(c, req, out);
       }},
      {"archive", "Mark a cohort archived", true,
       [](v1::CohortService::Stub& st, grpc::ClientContext* c,
          const std::string& n, const std::string& e, const std::string& r,
          v1::Cohort* out) {
         v1::ArchiveCohortRequest req;
         req.set_name(n), req.set_etag(e), req.set_request_id(r);
         return st.ArchiveCohort(c, req, out);
       }},
      {"unarchive", "Make an archived cohort active again", true,
       [](v1::CohortService::Stub& st, grpc::ClientContext* c,
          const std::string& n, const std::string& e, const std::string& r,
          v1::Cohort* out) {
         v1::UnarchiveCohortRequest req;
         req.set_name(n), req.set_etag(e), req.set_request_id(r);
         return st.UnarchiveCohort(c, req, out);
       }},
  };
  for (const Transition& t : kTransitions) {
    CLI::App* cmd = cohorts->add_subcommand(t.verb, t.help);
    cmd->add_option("cohort", flags->id, "id or cohorts/{id}")->required();
    if (t.has_etag) {
      cmd->add_option("--etag", flags->etag,
                      "fail with a conflict if the cohort changed since");
    }
    cmd->add_option("--request-id", flags->request_id,
                    "idempotency key: a retry with it writes once");
    registry.Register(cmd, [=, &env, &t]() {
      grpc::ClientContext ctx;
      env.connection()->Prepare(&ctx);
      v1::Cohort resp;
      grpc::Status s = t.call(*stub(), &ctx, CohortName(flags->id), flags->etag,
                              flags->request_id, &resp);
      if (!s.ok()) return ReportError(s);
      PrintCohort(resp, env);
      return kExitOk;
    });
  }
  AddBundleCommands(cohorts, env, registry);
}

}  // namespace cohorte::client
