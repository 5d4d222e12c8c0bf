#include "client/domain_commands.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "client/call.h"
#include "client/fields.h"
#include "client/output.h"
#include "client/times.h"
#include "cohorte/v1/exchanges.grpc.pb.h"
#include "cohorte/v1/inbox.grpc.pb.h"
#include "cohorte/v1/moderation.grpc.pb.h"
#include "cohorte/v1/referentiel.grpc.pb.h"
#include "cohorte/v1/reports.grpc.pb.h"
#include "cohorte/v1/sessions.grpc.pb.h"

namespace cohorte::client {
namespace {

// Every flag of these commands; one instance per process.
struct Flags {
  std::string name, parent, cohort, group, territory, title, kind, state;
  std::string reply_to, etag, since, visibility, fundamental, balise;
  std::string theme, time_zone, exchange;
  std::string member, reason, note, target;
  LongText body;
  std::vector<std::string> tags, attachments, items;
  PageFlags page;
  FieldValues fields;
  bool newest_first = false, unread_only = false, show_deleted = false;
  bool upcoming = false, all = false, attended = true, show_resolved = false;

  NameContext Names() const { return {cohort, group, territory, exchange}; }
};

std::string Time(const google::protobuf::Timestamp& t) { return ShowTime(t); }

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
      {"what-worked", "what_worked", FieldType::kLongText,
       "Markdown, ≤ 10000"},
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
      {"description", "description", FieldType::kLongText,
       "Markdown, ≤ 4000"},
      {"college", "audience_colleges", FieldType::kEnums,
       "audience college"},
      {"territory", "audience_territories", FieldType::kNames,
       "audience territory id or full name", NameKind::kTerritory},
      {"capacity", "capacity", FieldType::kInt, "0: no limit"},
      {"report", "reports", FieldType::kNames, "follow-up report id",
       NameKind::kReport},
  };
  return *fields;
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
  absl::TimeZone tz;
  if (!LoadZone(zone, &tz)) tz = absl::UTCTimeZone();
  return FormatUserTime(t, tz);
}

// Sets the bodies of `--body`/`--body-file`; false after a usage message
// (also when neither is given and `required`).
bool Body(const CLI::App& cmd, const Flags& f, bool required,
          std::string* out) {
  if (required && !LongTextGiven(cmd, "body")) {
    UsageError("--body", "give --body TEXT, --body - (stdin) or --body-file");
    return false;
  }
  return ReadLongText(cmd, "body", f.body, out);
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
  list->add_option("--cohort", f->cohort, "the cohort of a group id");
  AddPageFlags(list, &f->page);
  registry.Register(list, [=, &env] {
    v1::ListExchangesRequest req;
    if (!Resolve(NameKind::kGroup, f->group, "--group", f->Names(),
                 req.mutable_parent())) {
      return kExitUsage;
    }
    return CallList<v1::ListExchangesRequest, v1::ListExchangesResponse>(
        env, f->page, req,
        [&](auto* ctx, const auto& r, auto* resp) {
          return stub()->ListExchanges(ctx, r, resp);
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

  auto exchange_flags = [f](CLI::App* cmd, const char* what) {
    cmd->add_option("name", f->name,
                    std::string(what) +
                        ": exchange id (with --group and --cohort) or full "
                        "name")
        ->required();
    cmd->add_option("--group", f->group, "the group of an exchange id");
    cmd->add_option("--cohort", f->cohort, "the cohort of a group id");
  };
  CLI::App* get = root->add_subcommand("get", "Show an exchange");
  exchange_flags(get, "the exchange");
  registry.Register(get, [=, &env] {
    v1::GetExchangeRequest req;
    if (!Resolve(NameKind::kExchange, f->name, "<name>", f->Names(),
                 req.mutable_name())) {
      return kExitUsage;
    }
    return Call<v1::Exchange>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->GetExchange(ctx, req, resp);
        },
        ShowExchange);
  });

  CLI::App* create = root->add_subcommand("create", "Open an exchange");
  create->add_option("--group", f->group, "group id (with --cohort) or name")
      ->required();
  create->add_option("--cohort", f->cohort, "the cohort of a group id");
  create->add_option("--title", f->title, "1..200 characters")->required();
  create
      ->add_option("--kind", f->kind,
                   "question, sharing, call-for-help, debate")
      ->required();
  create->add_option("--tag", f->tags, "référentiel id (repeatable)");
  AddLongText(create, "body", &f->body, "the first message, Markdown");
  registry.Register(create, [=, &env] {
    v1::CreateExchangeRequest req;
    if (!Resolve(NameKind::kGroup, f->group, "--group", f->Names(),
                 req.mutable_parent())) {
      return kExitUsage;
    }
    req.mutable_exchange()->set_title(f->title);
    v1::Exchange::Kind kind;
    if (!ParseEnumFlag("--kind", f->kind, &kind)) return kExitUsage;
    req.mutable_exchange()->set_kind(kind);
    for (const auto& t : f->tags) req.mutable_exchange()->add_tags(t);
    if (!Body(*create, *f, false, req.mutable_first_message())) {
      return kExitUsage;
    }
    return Call<v1::Exchange>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->CreateExchange(ctx, req, resp);
        },
        ShowExchange);
  });

  CLI::App* state = root->add_subcommand(
      "set-state", "Mark an exchange open, resolved or closed");
  exchange_flags(state, "the exchange");
  state->add_option("--state", f->state, "open, resolved, closed")->required();
  registry.Register(state, [=, &env] {
    v1::UpdateExchangeRequest req;
    if (!Resolve(NameKind::kExchange, f->name, "<name>", f->Names(),
                 req.mutable_exchange()->mutable_name())) {
      return kExitUsage;
    }
    v1::Exchange::State s;
    if (!ParseEnumFlag("--state", f->state, &s)) return kExitUsage;
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
  exchange_flags(read, "the exchange");
  read->add_option("--up-to", f->target,
                   "the last message read: its id or full name");
  registry.Register(read, [=, &env] {
    v1::MarkExchangeReadRequest req;
    if (!Resolve(NameKind::kExchange, f->name, "<name>", f->Names(),
                 req.mutable_name())) {
      return kExitUsage;
    }
    NameContext in_exchange = f->Names();
    in_exchange.exchange = req.name();
    if (!f->target.empty() &&
        !Resolve(NameKind::kMessage, f->target, "--up-to", in_exchange,
                 req.mutable_message())) {
      return kExitUsage;
    }
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
  // --exchange (an id with --group and --cohort, or a full name), and the
  // message names relative to it.
  auto in_exchange = [f](CLI::App* cmd) {
    cmd->add_option("--exchange", f->exchange,
                    "exchange id (with --group and --cohort) or full name");
    cmd->add_option("--group", f->group, "the group of an exchange id");
    cmd->add_option("--cohort", f->cohort, "the cohort of a group id");
  };
  auto exchange_of = [f](std::string* out) {
    if (f->exchange.empty()) {
      UsageError("--exchange", "give --exchange");
      return false;
    }
    return Resolve(NameKind::kExchange, f->exchange, "--exchange", f->Names(),
                   out);
  };
  auto message_of = [f](const std::string& value, const std::string& flag,
                        std::string* out) {
    NameContext names = f->Names();
    if (!names.exchange.empty()) {
      absl::StatusOr<std::string> exchange = ResolveName(
          NameKind::kExchange, f->exchange, "--exchange", f->Names());
      if (exchange.ok()) names.exchange = *exchange;
    }
    return Resolve(NameKind::kMessage, value, flag, names, out);
  };

  CLI::App* mlist = messages->add_subcommand("list", "Read an exchange");
  in_exchange(mlist);
  mlist->add_flag("--newest-first", f->newest_first, "newest message first");
  mlist->add_flag("--unread", f->unread_only, "only what is new for me");
  mlist->add_flag("--show-deleted", f->show_deleted,
                  "also withdrawn messages (marked as such)");
  mlist->add_option("--since", f->since,
                    "only messages since: 30d, 12h, 2027-01-15 09:30, "
                    "15/01/2027, RFC 3339");
  AddPageFlags(mlist, &f->page);
  registry.Register(mlist, [=, &env] {
    v1::ListMessagesRequest req;
    if (!exchange_of(req.mutable_parent())) return kExitUsage;
    req.set_newest_first(f->newest_first);
    req.set_unread_only(f->unread_only);
    req.set_show_deleted(f->show_deleted);
    std::string error;
    if (!f->since.empty() &&
        !ParseUserTime(f->since, TimeInput{env.zone, absl::Now(), true},
                       req.mutable_since(), &error)) {
      return UsageError("--since", error);
    }
    return CallList<v1::ListMessagesRequest, v1::ListMessagesResponse>(
        env, f->page, req,
        [&](auto* ctx, const auto& r, auto* resp) {
          return stub()->ListMessages(ctx, r, resp);
        },
        [](const v1::ListMessagesResponse& r) {
          for (const auto& m : r.messages()) PrintMessage(m);
        });
  });

  CLI::App* post = messages->add_subcommand("post", "Write in an exchange");
  in_exchange(post);
  AddLongText(post, "body", &f->body, "the message, Markdown");
  post->add_option("--reply-to", f->reply_to,
                   "a message of the exchange: its id (m000001) or full name");
  post->add_option("--attach", f->attachments,
                   "a shared record's name (repeatable)");
  registry.Register(post, [=, &env] {
    v1::PostMessageRequest req;
    if (!exchange_of(req.mutable_parent()) ||
        !Body(*post, *f, true, req.mutable_message()->mutable_body())) {
      return kExitUsage;
    }
    if (!f->reply_to.empty() &&
        !message_of(f->reply_to, "--reply-to",
                    req.mutable_message()->mutable_reply_to())) {
      return kExitUsage;
    }
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

  auto message_arg = [f, in_exchange](CLI::App* cmd) {
    cmd->add_option("name", f->name,
                    "message id (with --exchange) or full name")
        ->required();
    in_exchange(cmd);
  };
  CLI::App* edit = messages->add_subcommand("edit", "Change your message");
  message_arg(edit);
  AddLongText(edit, "body", &f->body, "the new text, Markdown");
  edit->add_option("--etag", f->etag,
                   "fail with a conflict if the message changed since");
  registry.Register(edit, [=, &env] {
    v1::EditMessageRequest req;
    if (!message_of(f->name, "<name>", req.mutable_name()) ||
        !Body(*edit, *f, true, req.mutable_body())) {
      return kExitUsage;
    }
    req.set_etag(f->etag);
    return Call<v1::Message>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->EditMessage(ctx, req, resp);
        },
        PrintMessage);
  });

  CLI::App* del = messages->add_subcommand("delete", "Withdraw your message");
  message_arg(del);
  registry.Register(del, [=, &env] {
    v1::DeleteMessageRequest req;
    if (!message_of(f->name, "<name>", req.mutable_name())) return kExitUsage;
    return Call<v1::Message>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->DeleteMessage(ctx, req, resp);
        },
        PrintMessage);
  });

  CLI::App* undel =
      messages->add_subcommand("undelete", "Restore your withdrawn message");
  message_arg(undel);
  registry.Register(undel, [=, &env] {
    v1::UndeleteMessageRequest req;
    if (!message_of(f->name, "<name>", req.mutable_name())) return kExitUsage;
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
            rows.push_back({x.name(), x.title(),
                            v1::ExperienceReport::State_Name(x.state()),
                            v1::Visibility_Name(x.visibility()),
                            Join(x.balises())});
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
    v1::GetReportRequest req;
    if (!Resolve(NameKind::kReport, f->name, "<name>", f->Names(),
                 req.mutable_name())) {
      return kExitUsage;
    }
    return Call<v1::ExperienceReport>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->GetReport(ctx, req, resp);
        },
        ShowReport);
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
    if (!Resolve(NameKind::kTerritory, f->territory, "--territory",
                 f->Names(), r->mutable_territory())) {
      return kExitUsage;
    }
    req.set_parent(r->territory().substr(0, r->territory().find("/territories/")));
    NameContext names = f->Names();
    names.cohort = req.parent();
    names.territory = r->territory();
    google::protobuf::FieldMask given;
    if (!FillFields(*create, ReportFields(), f->fields, names,
                    TimeInput{env.zone, absl::Now()}, r, &given)) {
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
    v1::PublishReportRequest req;
    if (!Resolve(NameKind::kReport, f->name, "<name>", f->Names(),
                 req.mutable_name())) {
      return kExitUsage;
    }
    return Call<v1::ExperienceReport>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->PublishReport(ctx, req, resp);
        },
        ShowReport);
  });

  CLI::App* archive = root->add_subcommand("archive", "Archive a report");
  report_arg(archive);
  registry.Register(archive, [=, &env] {
    v1::ArchiveReportRequest req;
    if (!Resolve(NameKind::kReport, f->name, "<name>", f->Names(),
                 req.mutable_name())) {
      return kExitUsage;
    }
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
    if (!LongTextGiven(*minutes, "text")) {
      return UsageError("--text", "give --text TEXT, --text - or --text-file");
    }
    if (!ReadLongText(*minutes, "text", f->body,
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
        ShowRegistration);
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
        ShowRegistration);
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
            rows.push_back({x.member(), v1::Registration::State_Name(x.state()),
                            x.attended() ? "yes" : "no"});
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
  AddPageFlags(inbox, &f->page);
  CLI::App* read = inbox->add_subcommand("read", "Mark items read");
  read->add_option("item", f->items, "members/{me}/inbox/{i} (repeatable)");
  read->add_flag("--all", f->all, "mark every item read");
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
    return CallList<v1::ListInboxRequest, v1::ListInboxResponse>(
        env, f->page, req,
        [&](auto* ctx, const auto& r, auto* resp) {
          return stub()->ListInbox(ctx, r, resp);
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
  flag->add_option("target", f->target,
                   "the message or report: its full name")
      ->required();
  flag->add_option("--reason", f->reason, "spam, abuse, confidentiality, other")
      ->required();
  flag->add_option("--note", f->note, "what is wrong, ≤ 1000 characters");
  registry.Register(flag, [=, &env] {
    v1::FlagContentRequest req;
    req.set_parent(f->target.substr(0, f->target.find('/', 8)));
    req.mutable_flag()->set_target(f->target);
    v1::ContentFlag::Reason reason;
    if (!ParseEnumFlag("--reason", f->reason, &reason)) return kExitUsage;
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
  queue->add_option("--cohort", f->cohort, "cohort id or name")->required();
  queue->add_flag("--show-resolved", f->show_resolved,
                  "also flags already handled");
  AddPageFlags(queue, &f->page);
  registry.Register(queue, [=, &env] {
    v1::ListFlagsRequest req;
    req.set_parent(CohortName(f->cohort));
    req.set_show_resolved(f->show_resolved);
    return CallList<v1::ListFlagsRequest, v1::ListFlagsResponse>(
        env, f->page, req,
        [&](auto* ctx, const auto& r, auto* resp) {
          return stub()->ListFlags(ctx, r, resp);
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
    cmd->add_option("target", f->target,
                    "the message or report: its full name")
        ->required();
    if (hide) {
      cmd->add_option("--reason", f->reason,
                      "why, 1..1000 characters (shown in its place)")
          ->required();
    }
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
  dismiss->add_option("name", f->name, "flag id (with --cohort) or full name")
      ->required();
  dismiss->add_option("--cohort", f->cohort, "the cohort of a flag id");
  registry.Register(dismiss, [=, &env] {
    v1::DismissFlagRequest req;
    if (!Resolve(NameKind::kFlag, f->name, "<name>", f->Names(),
                 req.mutable_name())) {
      return kExitUsage;
    }
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
