#include "client/session_commands.h"

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
#include "cohorte/v1/sessions.grpc.pb.h"

namespace cohorte::client {
namespace {

// `sessions create` and `sessions update`: the fields of a session.
const std::vector<FieldFlag>& SessionFields() {
  static const auto* fields = new std::vector<FieldFlag>{
      {"kind", "kind", FieldType::kEnum,
       "journee-commune, webinaire, atelier, voyage-etude, intersession"},
      {"title", "title", FieldType::kString, "1..200 characters"},
      {"start", "start_time", FieldType::kTime,
       "2027-01-15 09:30 (in the session's time zone), 15/01/2027 09:30 or "
       "RFC 3339"},
      {"end", "end_time", FieldType::kTime, "as --start"},
      {"time-zone", "time_zone", FieldType::kString,
       "IANA zone, default Europe/Paris"},
      {"place", "place", FieldType::kString, "0..300 characters"},
      {"video-link", "video_link", FieldType::kString, "https://…"},
      {"description", "description", FieldType::kLongText, "Markdown, ≤ 4000"},
      {"college", "audience_colleges", FieldType::kEnums, "audience college"},
      {"territory", "audience_territories", FieldType::kNames,
       "audience territory id or full name", NameKind::kTerritory},
      {"capacity", "capacity", FieldType::kInt, "0: no limit"},
      {"report", "reports", FieldType::kNames, "follow-up report id",
       NameKind::kReport},
  };
  return *fields;
}

void ShowSession(const v1::Session& s) {
  std::string colleges;
  for (int c : s.audience_colleges()) {
    colleges +=
        (colleges.empty() ? "" : " ") + Label(static_cast<v1::College>(c));
  }
  PrintFields(
      {{"name", s.name()},
       {"title", s.title()},
       {"kind", Label(s.kind())},
       {"start", SessionTime(s.start_time(), s.time_zone())},
       {"end", SessionTime(s.end_time(), s.time_zone())},
       {"time_zone", s.time_zone()},
       {"place", s.place()},
       {"video_link", s.video_link()},
       {"audience", colleges + (s.audience_territories().empty()
                                    ? ""
                                    : " " + Join(s.audience_territories()))},
       {"capacity",
        s.capacity() == 0 ? "no limit" : std::to_string(s.capacity())},
       {"registered", std::to_string(s.registered_count())},
       {"waiting", std::to_string(s.waitlist_count())},
       {"records", Join(s.records())},
       {"reports", Join(s.reports())},
       {"etag", s.etag()}});
  if (!s.description().empty()) std::cout << "\n" << s.description() << "\n";
  if (!s.minutes().empty()) {
    std::cout << "\n## Compte-rendu\n" << s.minutes() << "\n";
  }
}

}  // namespace

void AddSessionCommands(CLI::App& app, const CommandEnv& env,
                        CommandRegistry& registry,
                        std::shared_ptr<DomainFlags> f) {
  auto stub = [&env] {
    return v1::SessionService::NewStub(env.connection()->channel());
  };
  CLI::App* root = app.add_subcommand("sessions", "Temps collectifs");
  root->require_subcommand(1);
  auto session_arg = [f](CLI::App* cmd) {
    cmd->add_option("name", f->name, "session id (with --cohort) or full name")
        ->required();
    cmd->add_option("--cohort", f->cohort, "the cohort of a session id");
  };
  auto session_name = [f](std::string* out) {
    return Resolve(NameKind::kSession, f->name, "<name>", f->Names(), out);
  };

  CLI::App* list = root->add_subcommand("list", "A cohort's sessions");
  list->add_option("--cohort", f->cohort, "cohort id or name")->required();
  list->add_flag("--upcoming", f->upcoming, "only those not ended");
  AddPageFlags(list, &f->page);
  registry.Register(list, [=, &env] {
    v1::ListSessionsRequest req;
    req.set_parent(CohortName(f->cohort));
    req.set_upcoming_only(f->upcoming);
    return CallList<v1::ListSessionsRequest, v1::ListSessionsResponse>(
        env, f->page, req,
        [&](auto* ctx, const auto& r, auto* resp) {
          return stub()->ListSessions(ctx, r, resp);
        },
        [](const v1::ListSessionsResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& s : r.sessions()) {
            rows.push_back(
                {s.name(), s.title(), Label(s.kind()),
                 SessionTime(s.start_time(), s.time_zone()),
                 std::to_string(s.registered_count()) +
                     (s.capacity() ? "/" + std::to_string(s.capacity()) : "")});
          }
          PrintTable({"NAME", "TITLE", "KIND", "START", "REGISTERED"}, rows);
        });
  });

  CLI::App* upcoming =
      root->add_subcommand("upcoming", "My upcoming sessions, soonest first");
  registry.Register(upcoming, [=, &env] {
    return Call<v1::ListUpcomingSessionsResponse>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->ListUpcomingSessions(
              ctx, v1::ListUpcomingSessionsRequest(), resp);
        },
        [](const v1::ListUpcomingSessionsResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& s : r.sessions()) {
            std::string mine = "-";
            for (const auto& reg : r.registrations()) {
              if (reg.name().rfind(s.name() + "/", 0) == 0) {
                mine = Label(reg.state());
              }
            }
            rows.push_back({s.name(), s.title(),
                            SessionTime(s.start_time(), s.time_zone()), mine});
          }
          PrintTable({"NAME", "TITLE", "START", "ME"}, rows);
        });
  });

  CLI::App* get = root->add_subcommand("get", "Show a session");
  session_arg(get);
  registry.Register(get, [=, &env] {
    v1::GetSessionRequest req;
    if (!session_name(req.mutable_name())) return kExitUsage;
    return Call<v1::Session>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->GetSession(ctx, req, resp);
        },
        ShowSession);
  });

  CLI::App* create = root->add_subcommand("create", "Plan a session");
  create->add_option("--cohort", f->cohort, "cohort id or name")->required();
  create->add_option("--id", f->name,
                     "session id (lowercase, digits, '-'); generated if "
                     "absent");
  AddFieldFlags(create, SessionFields(), &f->fields);
  registry.Register(create, [=, &env] {
    v1::CreateSessionRequest req;
    req.set_parent(CohortName(f->cohort));
    req.set_session_id(f->name);
    // Times without an offset are in the session's zone.
    TimeInput times{absl::TimeZone(), absl::Now()};
    const std::string zone = f->fields.one.at("time-zone");
    if (!LoadZone(zone, &times.zone)) {
      return UsageError("--time-zone", "unknown time zone '" + zone + "'");
    }
    google::protobuf::FieldMask given;
    if (!FillFields(*create, SessionFields(), f->fields, f->Names(), times,
                    req.mutable_session(), &given)) {
      return kExitUsage;
    }
    return Call<v1::Session>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->CreateSession(ctx, req, resp);
        },
        ShowSession);
  });

  CLI::App* update = root->add_subcommand(
      "update",
      "Change a session (reschedule, move…): only the flags given are "
      "changed");
  session_arg(update);
  AddFieldFlags(update, SessionFields(), &f->fields);
  update->add_option("--etag", f->etag,
                     "fail with a conflict if the session changed since");
  registry.Register(update, [=, &env] {
    v1::UpdateSessionRequest req;
    v1::Session* s = req.mutable_session();
    if (!session_name(s->mutable_name())) return kExitUsage;
    TimeInput times{absl::TimeZone(), absl::Now()};
    std::string zone = f->fields.one.at("time-zone");
    if (update->count("--time-zone") == 0 &&
        (update->count("--start") > 0 || update->count("--end") > 0)) {
      // A new time without an offset is in the session's own zone.
      grpc::ClientContext ctx;
      env.connection()->Prepare(&ctx);
      v1::GetSessionRequest get;
      get.set_name(s->name());
      v1::Session current;
      grpc::Status status = stub()->GetSession(&ctx, get, &current);
      if (!status.ok()) return ReportError(status);
      zone = current.time_zone();
    }
    if (!LoadZone(zone, &times.zone)) {
      return UsageError("--time-zone", "unknown time zone '" + zone + "'");
    }
    if (!FillFields(*update, SessionFields(), f->fields, f->Names(), times, s,
                    req.mutable_update_mask())) {
      return kExitUsage;
    }
    if (req.update_mask().paths().empty()) {
      return UsageError("", "give at least one field to change (see --help)");
    }
    s->set_etag(f->etag);
    return Call<v1::Session>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->UpdateSession(ctx, req, resp);
        },
        ShowSession);
  });

  CLI::App* minutes =
      root->add_subcommand("minutes", "Write a session's minutes");
  session_arg(minutes);
  AddLongText(minutes, "text", &f->body, "the minutes, Markdown");
  registry.Register(minutes, [=, &env] {
    v1::UpdateSessionRequest req;
    if (!session_name(req.mutable_session()->mutable_name())) {
      return kExitUsage;
    }
    if (!ReadRequiredText(
            *minutes, "text", f->body, "",
            "# Write the session's minutes above (Markdown).\n"
            "# Save and quit to store them; leave it empty to store nothing.",
            req.mutable_session()->mutable_minutes())) {
      return kExitUsage;
    }
    req.mutable_update_mask()->add_paths("minutes");
    return Call<v1::Session>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->UpdateSession(ctx, req, resp);
        },
        ShowSession);
  });

  CLI::App* reg = root->add_subcommand(
      "register", "Register (or, as a coordinator, register --member)");
  session_arg(reg);
  reg->add_option("--member", f->member,
                  "register this member (coordinators); default: me");
  registry.Register(reg, [=, &env] {
    v1::RegisterRequest req;
    if (!session_name(req.mutable_session())) return kExitUsage;
    if (!f->member.empty()) req.set_member(MemberName(f->member));
    return Call<v1::Registration>(
        env,
        [&](auto* ctx, auto* resp) { return stub()->Register(ctx, req, resp); },
        PrintResource);
  });

  CLI::App* cancel = root->add_subcommand("cancel", "Cancel my registration");
  session_arg(cancel);
  registry.Register(cancel, [=, &env] {
    v1::CancelRegistrationRequest req;
    if (!session_name(req.mutable_session())) return kExitUsage;
    return Call<v1::Registration>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->CancelRegistration(ctx, req, resp);
        },
        PrintResource);
  });

  CLI::App* regs =
      root->add_subcommand("registrations", "Who registered (coordinators)");
  session_arg(regs);
  AddPageFlags(regs, &f->page);
  registry.Register(regs, [=, &env] {
    v1::ListRegistrationsRequest req;
    if (!session_name(req.mutable_session())) return kExitUsage;
    return CallList<v1::ListRegistrationsRequest,
                    v1::ListRegistrationsResponse>(
        env, f->page, req,
        [&](auto* ctx, const auto& r, auto* resp) {
          return stub()->ListRegistrations(ctx, r, resp);
        },
        [](const v1::ListRegistrationsResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& x : r.registrations()) {
            rows.push_back(
                {x.member(), Label(x.state()), x.attended() ? "yes" : "no"});
          }
          PrintTable({"MEMBER", "STATE", "ATTENDED"}, rows);
        });
  });

  CLI::App* attendance =
      root->add_subcommand("attendance", "Record who came (coordinators)");
  session_arg(attendance);
  attendance->add_option("--member", f->member, "member id")->required();
  attendance->add_option("--attended", f->attended, "true (default) or false");
  registry.Register(attendance, [=, &env] {
    v1::RecordAttendanceRequest req;
    if (!session_name(req.mutable_session())) return kExitUsage;
    req.set_member(MemberName(f->member));
    req.set_attended(f->attended);
    return Call<v1::Registration>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->RecordAttendance(ctx, req, resp);
        },
        PrintResource);
  });
}

}  // namespace cohorte::client
