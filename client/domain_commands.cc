#include "client/domain_commands.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "client/call.h"
#include "client/output.h"
#include "cohorte/v1/exchanges.grpc.pb.h"
#include "cohorte/v1/inbox.grpc.pb.h"
#include "cohorte/v1/moderation.grpc.pb.h"
#include "cohorte/v1/referentiel.grpc.pb.h"
#include "cohorte/v1/reports.grpc.pb.h"
#include "cohorte/v1/sessions.grpc.pb.h"
#include "google/protobuf/util/time_util.h"

namespace cohorte::client {
namespace {

using google::protobuf::util::TimeUtil;

// Every flag of these commands; one instance per process.
struct Flags {
  std::string name, parent, cohort, group, territory, title, kind, state;
  std::string body, reply_to, etag, since, visibility, fundamental, balise;
  std::string theme, start, end, time_zone, place, video_link, description;
  std::string member, reason, note, target, minutes;
  std::string context, actions, results, what_worked, what_failed, lessons;
  std::vector<std::string> tags, attachments, authors, balises, fundamentals;
  std::vector<std::string> themes, chantiers, colleges, territories, items;
  int page_size = 0;
  int capacity = 0;
  bool newest_first = false, unread_only = false, show_deleted = false;
  bool upcoming = false, all = false, attended = true, show_resolved = false;
};

// RFC 3339 to the second (UTC), or "" for an unset time.
std::string Time(const google::protobuf::Timestamp& t) {
  return t.seconds() == 0 && t.nanos() == 0
             ? ""
             : TimeUtil::ToString(TimeUtil::SecondsToTimestamp(t.seconds()));
}

std::string Join(const google::protobuf::RepeatedPtrField<std::string>& list,
                 const char* sep = " ") {
  std::string out;
  for (const std::string& s : list) out += (out.empty() ? "" : sep) + s;
  return out;
}

// `t` in the session's time zone, e.g. "2026-12-13 09:30 CET".
std::string LocalTime(const google::protobuf::Timestamp& t,
                      const std::string& zone) {
  absl::TimeZone tz = absl::UTCTimeZone();
  absl::LoadTimeZone(zone.empty() ? "Europe/Paris" : zone, &tz);
  return absl::FormatTime("%Y-%m-%d %H:%M %Z",
                          absl::FromUnixSeconds(t.seconds()), tz);
}

// RFC 3339 (`2026-12-03T09:30:00+01:00`); false after a usage message.
bool ParseTime(const char* flag, const std::string& text,
               google::protobuf::Timestamp* out) {
  if (TimeUtil::FromString(text, out)) return true;
  std::cerr << "Error: " << flag << ": '" << text
            << "' is not an RFC 3339 time such as 2026-12-03T09:30:00+01:00\n";
  return false;
}

// `--group elus --cohort occitanie` or a full group name.
std::string GroupName(const Flags& f) {
  if (f.group.rfind("cohorts/", 0) == 0) return f.group;
  return CohortName(f.cohort) + "/groups/" + f.group;
}

void ShowExchange(const v1::Exchange& e) {
  PrintFields({{"name", e.name()},
               {"title", e.title()},
               {"kind", v1::Exchange::Kind_Name(e.kind())},
               {"state", v1::Exchange::State_Name(e.state())},
               {"tags", Join(e.tags())},
               {"author", e.author()},
               {"messages", std::to_string(e.message_count())},
               {"unread", std::to_string(e.unread_count())},
               {"etag", e.etag()}});
}

void PrintMessage(const v1::Message& m) {
  std::cout << "── " << m.name().substr(m.name().rfind('/') + 1) << "  "
            << m.author() << "  " << Time(m.create_time())
            << (m.reply_to().empty()
                    ? ""
                    : "  ↳ " + m.reply_to().substr(m.reply_to().rfind('/') + 1))
            << (m.edits().empty() ? "" : "  (edited)") << "\n";
  if (m.hidden()) {
    std::cout << "[hidden: " << m.hidden_reason() << "]\n";
  } else if (m.has_delete_time()) {
    std::cout << "[deleted by its author]\n";
  } else {
    std::cout << m.body() << "\n";
  }
}

void ShowReport(const v1::ExperienceReport& r) {
  PrintFields({{"name", r.name()},
               {"title", r.title()},
               {"territory", r.territory()},
               {"authors", Join(r.authors())},
               {"state", v1::ExperienceReport::State_Name(r.state())},
               {"visibility", v1::Visibility_Name(r.visibility())},
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

void ShowSession(const v1::Session& s) {
  std::string colleges;
  for (int c : s.audience_colleges()) {
    colleges += (colleges.empty() ? "" : " ") +
                v1::College_Name(static_cast<v1::College>(c));
  }
  PrintFields(
      {{"name", s.name()},
       {"title", s.title()},
       {"kind", v1::Session::Kind_Name(s.kind())},
       {"start", LocalTime(s.start_time(), s.time_zone())},
       {"end", LocalTime(s.end_time(), s.time_zone())},
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

void ShowRegistration(const v1::Registration& r) {
  PrintFields({{"name", r.name()},
               {"member", r.member()},
               {"state", v1::Registration::State_Name(r.state())},
               {"attended", r.attended() ? "yes" : "no"}});
}

template <typename Enum>
bool EnumFlag(const char* flag, const std::string& text,
              bool (*parse)(const std::string&, Enum*), Enum* out) {
  if (ParseEnum(text, parse, out)) return true;
  BadEnum(flag, text);
  return false;
}

void AddReferentielCommands(CLI::App& app, const CommandEnv& env,
                            CommandRegistry& registry) {
  CLI::App* cmd = app.add_subcommand(
      "referentiel", "The référentiel: fundamentals, balises, ids to tag with");
  registry.Register(cmd, [&env] {
    auto stub = v1::ReferentielService::NewStub(env.connection()->channel());
    return Call<v1::Referentiel>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub->GetReferentiel(ctx, v1::GetReferentielRequest(), resp);
        },
        [](const v1::Referentiel& r) {
          for (const auto& f : r.fundamentals()) {
            std::cout << f.id() << "  " << f.title() << "\n";
            for (const auto& b : f.balises()) {
              std::cout << "  " << b.id() << "  " << b.title() << "\n";
            }
          }
        });
  });
}

void AddExchangeCommands(CLI::App& app, const CommandEnv& env,
                         CommandRegistry& registry, std::shared_ptr<Flags> f) {
  auto stub = [&env] {
    return v1::ExchangeService::NewStub(env.connection()->channel());
  };
  CLI::App* root =
      app.add_subcommand("exchanges", "Threads of a closed peer group");
  root->require_subcommand(1);

  CLI::App* list = root->add_subcommand("list", "A group's exchanges");
  list->add_option("--group", f->group, "group id (with --cohort) or name")
      ->required();
  list->add_option("--cohort", f->cohort);
  list->add_option("--page-size", f->page_size);
  registry.Register(list, [=, &env] {
    v1::ListExchangesRequest req;
    req.set_parent(GroupName(*f));
    req.set_page_size(f->page_size);
    return Call<v1::ListExchangesResponse>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->ListExchanges(ctx, req, resp);
        },
        [](const v1::ListExchangesResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& e : r.exchanges()) {
            rows.push_back({e.name(), e.title(),
                            v1::Exchange::State_Name(e.state()),
                            std::to_string(e.message_count()),
                            std::to_string(e.unread_count())});
          }
          PrintTable({"NAME", "TITLE", "STATE", "MESSAGES", "UNREAD"}, rows);
        });
  });

  CLI::App* get = root->add_subcommand("get", "Show an exchange");
  get->add_option("name", f->name)->required();
  registry.Register(get, [=, &env] {
    v1::GetExchangeRequest req;
    req.set_name(f->name);
    return Call<v1::Exchange>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->GetExchange(ctx, req, resp);
        },
        ShowExchange);
  });

  CLI::App* create = root->add_subcommand("create", "Open an exchange");
  create->add_option("--group", f->group)->required();
  create->add_option("--cohort", f->cohort);
  create->add_option("--title", f->title)->required();
  create
      ->add_option("--kind", f->kind,
                   "question, sharing, call-for-help, debate")
      ->required();
  create->add_option("--tag", f->tags, "référentiel id (repeatable)");
  create->add_option("--body", f->body, "the first message, Markdown");
  registry.Register(create, [=, &env] {
    v1::CreateExchangeRequest req;
    req.set_parent(GroupName(*f));
    req.mutable_exchange()->set_title(f->title);
    v1::Exchange::Kind kind;
    if (!EnumFlag("--kind", f->kind, &v1::Exchange::Kind_Parse, &kind)) {
      return kExitUsage;
    }
    req.mutable_exchange()->set_kind(kind);
    for (const auto& t : f->tags) req.mutable_exchange()->add_tags(t);
    req.set_first_message(f->body);
    return Call<v1::Exchange>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->CreateExchange(ctx, req, resp);
        },
        ShowExchange);
  });

  CLI::App* state = root->add_subcommand(
      "set-state", "Mark an exchange open, resolved or closed");
  state->add_option("name", f->name)->required();
  state->add_option("--state", f->state, "open, resolved, closed")->required();
  registry.Register(state, [=, &env] {
    v1::UpdateExchangeRequest req;
    req.mutable_exchange()->set_name(f->name);
    v1::Exchange::State s;
    if (!EnumFlag("--state", f->state, &v1::Exchange::State_Parse, &s)) {
      return kExitUsage;
    }
    req.mutable_exchange()->set_state(s);
    req.mutable_update_mask()->add_paths("state");
    return Call<v1::Exchange>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->UpdateExchange(ctx, req, resp);
        },
        ShowExchange);
  });

  CLI::App* read = root->add_subcommand(
      "mark-read", "Mark an exchange read (up to a message, or all)");
  read->add_option("name", f->name)->required();
  read->add_option("--up-to", f->target, "the last message read");
  registry.Register(read, [=, &env] {
    v1::MarkExchangeReadRequest req;
    req.set_name(f->name);
    req.set_message(f->target);
    return Call<v1::MarkExchangeReadResponse>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->MarkExchangeRead(ctx, req, resp);
        },
        [](const v1::MarkExchangeReadResponse& r) {
          ShowExchange(r.exchange());
        });
  });

  CLI::App* messages =
      app.add_subcommand("messages", "Messages of an exchange");
  messages->require_subcommand(1);
  CLI::App* mlist = messages->add_subcommand("list", "Read an exchange");
  mlist->add_option("--exchange", f->parent)->required();
  mlist->add_flag("--newest-first", f->newest_first);
  mlist->add_flag("--unread", f->unread_only, "only what is new for me");
  mlist->add_flag("--show-deleted", f->show_deleted);
  mlist->add_option("--since", f->since, "RFC 3339 time");
  mlist->add_option("--page-size", f->page_size);
  registry.Register(mlist, [=, &env] {
    v1::ListMessagesRequest req;
    req.set_parent(f->parent);
    req.set_newest_first(f->newest_first);
    req.set_unread_only(f->unread_only);
    req.set_show_deleted(f->show_deleted);
    req.set_page_size(f->page_size);
    if (!f->since.empty() &&
        !ParseTime("--since", f->since, req.mutable_since())) {
      return kExitUsage;
    }
    return Call<v1::ListMessagesResponse>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->ListMessages(ctx, req, resp);
        },
        [](const v1::ListMessagesResponse& r) {
          for (const auto& m : r.messages()) PrintMessage(m);
          if (!r.next_page_token().empty()) {
            std::cerr << "(more: --page-size larger)\n";
          }
        });
  });

  CLI::App* post = messages->add_subcommand("post", "Write in an exchange");
  post->add_option("--exchange", f->parent)->required();
  post->add_option("--body", f->body, "Markdown")->required();
  post->add_option("--reply-to", f->reply_to, "a message of the exchange");
  post->add_option("--attach", f->attachments, "a shared record (repeatable)");
  registry.Register(post, [=, &env] {
    v1::PostMessageRequest req;
    req.set_parent(f->parent);
    req.mutable_message()->set_body(f->body);
    req.mutable_message()->set_reply_to(f->reply_to);
    for (const auto& a : f->attachments) {
      req.mutable_message()->add_attachments(a);
    }
    return Call<v1::Message>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->PostMessage(ctx, req, resp);
        },
        PrintMessage);
  });

  CLI::App* edit = messages->add_subcommand("edit", "Change your message");
  edit->add_option("name", f->name)->required();
  edit->add_option("--body", f->body)->required();
  edit->add_option("--etag", f->etag);
  registry.Register(edit, [=, &env] {
    v1::EditMessageRequest req;
    req.set_name(f->name);
    req.set_body(f->body);
    req.set_etag(f->etag);
    return Call<v1::Message>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->EditMessage(ctx, req, resp);
        },
        PrintMessage);
  });

  CLI::App* del = messages->add_subcommand("delete", "Withdraw your message");
  del->add_option("name", f->name)->required();
  registry.Register(del, [=, &env] {
    v1::DeleteMessageRequest req;
    req.set_name(f->name);
    return Call<v1::Message>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->DeleteMessage(ctx, req, resp);
        },
        PrintMessage);
  });

  CLI::App* undel =
      messages->add_subcommand("undelete", "Restore your withdrawn message");
  undel->add_option("name", f->name)->required();
  registry.Register(undel, [=, &env] {
    v1::UndeleteMessageRequest req;
    req.set_name(f->name);
    return Call<v1::Message>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->UndeleteMessage(ctx, req, resp);
        },
        PrintMessage);
  });
}

void AddReportCommands(CLI::App& app, const CommandEnv& env,
                       CommandRegistry& registry, std::shared_ptr<Flags> f) {
  auto stub = [&env] {
    return v1::ReportService::NewStub(env.connection()->channel());
  };
  CLI::App* root = app.add_subcommand(
      "reports", "Retours d'expérience (experience reports)");
  root->require_subcommand(1);

  CLI::App* list = root->add_subcommand("list", "Reports the caller may read");
  list->add_option("--cohort", f->cohort, "a cohort, or - for all")->required();
  list->add_option("--territory", f->territory);
  list->add_option("--fundamental", f->fundamental);
  list->add_option("--balise", f->balise);
  list->add_option("--theme", f->theme);
  list->add_option("--state", f->state, "draft, published, archived");
  list->add_option("--page-size", f->page_size);
  registry.Register(list, [=, &env] {
    v1::ListReportsRequest req;
    req.set_parent(f->cohort == "-" ? "cohorts/-" : CohortName(f->cohort));
    req.set_territory(f->territory);
    req.set_fundamental(f->fundamental);
    req.set_balise(f->balise);
    req.set_theme(f->theme);
    req.set_page_size(f->page_size);
    if (!f->state.empty()) {
      v1::ExperienceReport::State s;
      if (!EnumFlag("--state", f->state, &v1::ExperienceReport::State_Parse,
                    &s)) {
        return kExitUsage;
      }
      req.set_state(s);
    }
    return Call<v1::ListReportsResponse>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->ListReports(ctx, req, resp);
        },
        [](const v1::ListReportsResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& x : r.reports()) {
            rows.push_back({x.name(), x.title(),
                            v1::ExperienceReport::State_Name(x.state()),
                            v1::Visibility_Name(x.visibility()),
                            Join(x.balises())});
          }
          PrintTable({"NAME", "TITLE", "STATE", "VISIBILITY", "BALISES"}, rows);
        });
  });

  CLI::App* get = root->add_subcommand("get", "Read a report");
  get->add_option("name", f->name)->required();
  registry.Register(get, [=, &env] {
    v1::GetReportRequest req;
    req.set_name(f->name);
    return Call<v1::ExperienceReport>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->GetReport(ctx, req, resp);
        },
        ShowReport);
  });

  CLI::App* create = root->add_subcommand("create", "Write a draft report");
  create->add_option("--territory", f->territory, "cohorts/{c}/territories/{t}")
      ->required();
  create->add_option("--title", f->title)->required();
  create
      ->add_option("--visibility", f->visibility,
                   "group, cohort, network, public")
      ->required();
  create->add_option("--group", f->group, "for group visibility");
  create->add_option("--author", f->authors, "co-author (repeatable)");
  create->add_option("--context", f->context);
  create->add_option("--actions", f->actions, "what was done");
  create->add_option("--results", f->results);
  create->add_option("--what-worked", f->what_worked);
  create->add_option("--what-failed", f->what_failed, "and why");
  create->add_option("--lessons", f->lessons);
  create->add_option("--fundamental", f->fundamentals, "repeatable");
  create->add_option("--balise", f->balises, "repeatable");
  create->add_option("--theme", f->themes, "repeatable");
  create->add_option("--chantier", f->chantiers, "repeatable");
  registry.Register(create, [=, &env] {
    v1::CreateReportRequest req;
    const std::string territory = f->territory;
    req.set_parent(territory.substr(0, territory.find("/territories/")));
    v1::ExperienceReport* r = req.mutable_report();
    r->set_territory(territory);
    r->set_title(f->title);
    v1::Visibility v;
    if (!EnumFlag("--visibility", f->visibility, &v1::Visibility_Parse, &v)) {
      return kExitUsage;
    }
    r->set_visibility(v);
    if (!f->group.empty()) {
      r->set_group(f->group.rfind("cohorts/", 0) == 0
                       ? f->group
                       : req.parent() + "/groups/" + f->group);
    }
    for (const auto& a : f->authors) r->add_authors(MemberName(a));
    r->set_context(f->context);
    r->set_actions(f->actions);
    r->set_results(f->results);
    r->set_what_worked(f->what_worked);
    r->set_what_failed(f->what_failed);
    r->set_lessons(f->lessons);
    for (const auto& x : f->fundamentals) r->add_fundamentals(x);
    for (const auto& x : f->balises) r->add_balises(x);
    for (const auto& x : f->themes) r->add_themes(x);
    for (const auto& x : f->chantiers) r->add_chantiers(x);
    return Call<v1::ExperienceReport>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->CreateReport(ctx, req, resp);
        },
        ShowReport);
  });

  CLI::App* publish = root->add_subcommand("publish", "Publish a draft");
  publish->add_option("name", f->name)->required();
  registry.Register(publish, [=, &env] {
    v1::PublishReportRequest req;
    req.set_name(f->name);
    return Call<v1::ExperienceReport>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->PublishReport(ctx, req, resp);
        },
        ShowReport);
  });

  CLI::App* archive = root->add_subcommand("archive", "Archive a report");
  archive->add_option("name", f->name)->required();
  registry.Register(archive, [=, &env] {
    v1::ArchiveReportRequest req;
    req.set_name(f->name);
    return Call<v1::ExperienceReport>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->ArchiveReport(ctx, req, resp);
        },
        ShowReport);
  });
}

void AddSessionCommands(CLI::App& app, const CommandEnv& env,
                        CommandRegistry& registry, std::shared_ptr<Flags> f) {
  auto stub = [&env] {
    return v1::SessionService::NewStub(env.connection()->channel());
  };
  CLI::App* root = app.add_subcommand("sessions", "Temps collectifs");
  root->require_subcommand(1);
  auto session_name = [f](const std::string& s) {
    return s.rfind("cohorts/", 0) == 0
               ? s
               : CohortName(f->cohort) + "/sessions/" + s;
  };

  CLI::App* list = root->add_subcommand("list", "A cohort's sessions");
  list->add_option("--cohort", f->cohort)->required();
  list->add_flag("--upcoming", f->upcoming, "only those not ended");
  registry.Register(list, [=, &env] {
    v1::ListSessionsRequest req;
    req.set_parent(CohortName(f->cohort));
    req.set_upcoming_only(f->upcoming);
    return Call<v1::ListSessionsResponse>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->ListSessions(ctx, req, resp);
        },
        [](const v1::ListSessionsResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& s : r.sessions()) {
            rows.push_back(
                {s.name(), s.title(), v1::Session::Kind_Name(s.kind()),
                 LocalTime(s.start_time(), s.time_zone()),
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
                mine = v1::Registration::State_Name(reg.state());
              }
            }
            rows.push_back({s.name(), s.title(),
                            LocalTime(s.start_time(), s.time_zone()), mine});
          }
          PrintTable({"NAME", "TITLE", "START", "ME"}, rows);
        });
  });

  CLI::App* get = root->add_subcommand("get", "Show a session");
  get->add_option("name", f->name)->required();
  get->add_option("--cohort", f->cohort);
  registry.Register(get, [=, &env] {
    v1::GetSessionRequest req;
    req.set_name(session_name(f->name));
    return Call<v1::Session>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->GetSession(ctx, req, resp);
        },
        ShowSession);
  });

  CLI::App* create = root->add_subcommand("create", "Plan a session");
  create->add_option("--cohort", f->cohort)->required();
  create->add_option("--id", f->name);
  create
      ->add_option("--kind", f->kind,
                   "journee-commune, webinaire, atelier, voyage-etude, "
                   "intersession")
      ->required();
  create->add_option("--title", f->title)->required();
  create->add_option("--start", f->start, "RFC 3339")->required();
  create->add_option("--end", f->end, "RFC 3339")->required();
  create->add_option("--time-zone", f->time_zone, "default Europe/Paris");
  create->add_option("--place", f->place);
  create->add_option("--video-link", f->video_link, "https://…");
  create->add_option("--description", f->description);
  create->add_option("--college", f->colleges, "audience (repeatable)");
  create->add_option("--territory", f->territories, "audience (repeatable)");
  create->add_option("--capacity", f->capacity, "0: no limit");
  registry.Register(create, [=, &env] {
    v1::CreateSessionRequest req;
    req.set_parent(CohortName(f->cohort));
    req.set_session_id(f->name);
    v1::Session* s = req.mutable_session();
    v1::Session::Kind kind;
    if (!EnumFlag("--kind", f->kind, &v1::Session::Kind_Parse, &kind) ||
        !ParseTime("--start", f->start, s->mutable_start_time()) ||
        !ParseTime("--end", f->end, s->mutable_end_time())) {
      return kExitUsage;
    }
    s->set_kind(kind);
    s->set_title(f->title);
    s->set_time_zone(f->time_zone);
    s->set_place(f->place);
    s->set_video_link(f->video_link);
    s->set_description(f->description);
    s->set_capacity(f->capacity);
    for (const auto& c : f->colleges) {
      v1::College college;
      if (!EnumFlag("--college", c, &v1::College_Parse, &college)) {
        return kExitUsage;
      }
      s->add_audience_colleges(college);
    }
    for (const auto& t : f->territories) {
      s->add_audience_territories(
          t.rfind("cohorts/", 0) == 0 ? t : req.parent() + "/territories/" + t);
    }
    return Call<v1::Session>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->CreateSession(ctx, req, resp);
        },
        ShowSession);
  });

  CLI::App* minutes =
      root->add_subcommand("minutes", "Write a session's minutes");
  minutes->add_option("name", f->name)->required();
  minutes->add_option("--cohort", f->cohort);
  minutes->add_option("--text", f->minutes, "Markdown")->required();
  registry.Register(minutes, [=, &env] {
    v1::UpdateSessionRequest req;
    req.mutable_session()->set_name(session_name(f->name));
    req.mutable_session()->set_minutes(f->minutes);
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
  reg->add_option("name", f->name)->required();
  reg->add_option("--cohort", f->cohort);
  reg->add_option("--member", f->member);
  registry.Register(reg, [=, &env] {
    v1::RegisterRequest req;
    req.set_session(session_name(f->name));
    if (!f->member.empty()) req.set_member(MemberName(f->member));
    return Call<v1::Registration>(
        env,
        [&](auto* ctx, auto* resp) { return stub()->Register(ctx, req, resp); },
        ShowRegistration);
  });

  CLI::App* cancel = root->add_subcommand("cancel", "Cancel my registration");
  cancel->add_option("name", f->name)->required();
  cancel->add_option("--cohort", f->cohort);
  registry.Register(cancel, [=, &env] {
    v1::CancelRegistrationRequest req;
    req.set_session(session_name(f->name));
    return Call<v1::Registration>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->CancelRegistration(ctx, req, resp);
        },
        ShowRegistration);
  });

  CLI::App* regs =
      root->add_subcommand("registrations", "Who registered (coordinators)");
  regs->add_option("name", f->name)->required();
  regs->add_option("--cohort", f->cohort);
  registry.Register(regs, [=, &env] {
    v1::ListRegistrationsRequest req;
    req.set_session(session_name(f->name));
    req.set_page_size(1000);
    return Call<v1::ListRegistrationsResponse>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->ListRegistrations(ctx, req, resp);
        },
        [](const v1::ListRegistrationsResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& x : r.registrations()) {
            rows.push_back({x.member(), v1::Registration::State_Name(x.state()),
                            x.attended() ? "yes" : "no"});
          }
          PrintTable({"MEMBER", "STATE", "ATTENDED"}, rows);
        });
  });

  CLI::App* attendance =
      root->add_subcommand("attendance", "Record who came (coordinators)");
  attendance->add_option("name", f->name)->required();
  attendance->add_option("--cohort", f->cohort);
  attendance->add_option("--member", f->member)->required();
  attendance->add_option("--attended", f->attended, "true or false");
  registry.Register(attendance, [=, &env] {
    v1::RecordAttendanceRequest req;
    req.set_session(session_name(f->name));
    req.set_member(MemberName(f->member));
    req.set_attended(f->attended);
    return Call<v1::Registration>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->RecordAttendance(ctx, req, resp);
        },
        ShowRegistration);
  });
}

void AddInboxCommands(CLI::App& app, const CommandEnv& env,
                      CommandRegistry& registry, std::shared_ptr<Flags> f) {
  auto stub = [&env] {
    return v1::InboxService::NewStub(env.connection()->channel());
  };
  CLI::App* inbox = app.add_subcommand("inbox", "What is new for me");
  inbox->add_flag("--unread", f->unread_only, "only unread items");
  inbox->add_option("--page-size", f->page_size);
  CLI::App* read = inbox->add_subcommand("read", "Mark items read");
  read->add_option("item", f->items, "members/{me}/inbox/{i} (repeatable)");
  read->add_flag("--all", f->all);
  registry.Register(read, [=, &env] {
    v1::MarkInboxReadRequest req;
    for (const auto& i : f->items) req.add_items(i);
    req.set_all(f->all);
    return Call<v1::MarkInboxReadResponse>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->MarkInboxRead(ctx, req, resp);
        },
        [](const v1::MarkInboxReadResponse& r) {
          std::cout << r.marked() << " marked read\n";
        });
  });
  // `cohorte inbox` alone lists.
  registry.Register(inbox, [=, &env] {
    if (read->parsed()) return kExitOk;
    v1::ListInboxRequest req;
    req.set_unread_only(f->unread_only);
    req.set_page_size(f->page_size);
    return Call<v1::ListInboxResponse>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->ListInbox(ctx, req, resp);
        },
        [](const v1::ListInboxResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& i : r.items()) {
            rows.push_back({i.read() ? " " : "•",
                            v1::InboxItem::Kind_Name(i.kind()), i.title(),
                            i.actor(), i.resource()});
          }
          PrintTable({"", "WHAT", "TITLE", "BY", "RESOURCE"}, rows);
          std::cout << r.unread_count() << " unread\n";
        });
  });

  auto follow_cmd = [&](const char* name, const char* help, bool on) {
    CLI::App* cmd = app.add_subcommand(name, help);
    cmd->add_option("target", f->target, "an exchange, a group or a territory")
        ->required();
    registry.Register(cmd, [=, &env] {
      v1::FollowRequest req;
      req.set_target(f->target);
      return Call<v1::FollowResponse>(
          env,
          [&](auto* ctx, auto* resp) {
            return on ? stub()->Follow(ctx, req, resp)
                      : stub()->Unfollow(ctx, req, resp);
          },
          [on](const v1::FollowResponse& r) {
            std::cout << (on ? "following " : "no longer following ")
                      << r.target() << "\n";
          });
    });
  };
  follow_cmd("follow", "Hear of what is new in an exchange, group, territory",
             true);
  follow_cmd("unfollow", "Stop following", false);
  CLI::App* follows = app.add_subcommand("follows", "What I follow");
  registry.Register(follows, [=, &env] {
    return Call<v1::ListFollowsResponse>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->ListFollows(ctx, v1::ListFollowsRequest(), resp);
        },
        [](const v1::ListFollowsResponse& r) {
          for (const auto& t : r.targets()) std::cout << t << "\n";
        });
  });
}

void AddModerationCommands(CLI::App& app, const CommandEnv& env,
                           CommandRegistry& registry,
                           std::shared_ptr<Flags> f) {
  auto stub = [&env] {
    return v1::ModerationService::NewStub(env.connection()->channel());
  };
  CLI::App* root = app.add_subcommand("moderation", "Flags and hiding");
  root->require_subcommand(1);
  CLI::App* flag = root->add_subcommand("flag", "Report a message or report");
  flag->add_option("target", f->target)->required();
  flag->add_option("--reason", f->reason, "spam, abuse, confidentiality, other")
      ->required();
  flag->add_option("--note", f->note);
  registry.Register(flag, [=, &env] {
    v1::FlagContentRequest req;
    req.set_parent(f->target.substr(0, f->target.find('/', 8)));
    req.mutable_flag()->set_target(f->target);
    v1::ContentFlag::Reason reason;
    if (!EnumFlag("--reason", f->reason, &v1::ContentFlag::Reason_Parse,
                  &reason)) {
      return kExitUsage;
    }
    req.mutable_flag()->set_reason(reason);
    req.mutable_flag()->set_note(f->note);
    return Call<v1::ContentFlag>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->FlagContent(ctx, req, resp);
        },
        [](const v1::ContentFlag& c) { std::cout << c.name() << "\n"; });
  });
  CLI::App* queue = root->add_subcommand("queue", "Flags I moderate");
  queue->add_option("--cohort", f->cohort)->required();
  queue->add_flag("--show-resolved", f->show_resolved);
  registry.Register(queue, [=, &env] {
    v1::ListFlagsRequest req;
    req.set_parent(CohortName(f->cohort));
    req.set_show_resolved(f->show_resolved);
    return Call<v1::ListFlagsResponse>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->ListFlags(ctx, req, resp);
        },
        [](const v1::ListFlagsResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& x : r.flags()) {
            rows.push_back({x.name(), x.target(),
                            v1::ContentFlag::Reason_Name(x.reason()),
                            v1::ContentFlag::State_Name(x.state()), x.note()});
          }
          PrintTable({"NAME", "TARGET", "REASON", "STATE", "NOTE"}, rows);
        });
  });
  for (const bool hide : {true, false}) {
    CLI::App* cmd = root->add_subcommand(
        hide ? "hide" : "unhide",
        hide ? "Hide content (kept)" : "Show hidden content again");
    cmd->add_option("target", f->target)->required();
    if (hide) cmd->add_option("--reason", f->reason)->required();
    registry.Register(cmd, [=, &env] {
      return Call<v1::HideContentResponse>(
          env,
          [&](auto* ctx, auto* resp) {
            if (hide) {
              v1::HideContentRequest req;
              req.set_target(f->target);
              req.set_reason(f->reason);
              return stub()->HideContent(ctx, req, resp);
            }
            v1::UnhideContentRequest req;
            req.set_target(f->target);
            return stub()->UnhideContent(ctx, req, resp);
          },
          [hide](const v1::HideContentResponse& r) {
            std::cout << (hide ? "hidden: " : "shown: ") << r.target() << "\n";
          });
    });
  }
  CLI::App* dismiss = root->add_subcommand("dismiss", "Dismiss a flag");
  dismiss->add_option("name", f->name)->required();
  registry.Register(dismiss, [=, &env] {
    v1::DismissFlagRequest req;
    req.set_name(f->name);
    return Call<v1::ContentFlag>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->DismissFlag(ctx, req, resp);
        },
        [](const v1::ContentFlag& c) { std::cout << c.name() << "\n"; });
  });
}

}  // namespace

void AddDomainCommands(CLI::App& app, const CommandEnv& env,
                       CommandRegistry& registry) {
  auto flags = std::make_shared<Flags>();
  AddReferentielCommands(app, env, registry);
  AddExchangeCommands(app, env, registry, flags);
  AddReportCommands(app, env, registry, flags);
  AddSessionCommands(app, env, registry, flags);
  AddInboxCommands(app, env, registry, flags);
  AddModerationCommands(app, env, registry, flags);
}

}  // namespace cohorte::client
