#include "client/exchange_commands.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/call.h"
#include "client/editor.h"
#include "client/labels.h"
#include "client/output.h"
#include "client/times.h"
#include "cohorte/v1/exchanges.grpc.pb.h"

namespace cohorte::client {
namespace {

void ShowExchange(const v1::Exchange& e) {
  PrintFields({{"name", e.name()},
               {"title", e.title()},
               {"kind", Label(e.kind())},
               {"state", Label(e.state())},
               {"tags", Join(e.tags())},
               {"author", e.author()},
               {"messages", std::to_string(e.message_count())},
               {"unread", std::to_string(e.unread_count())},
               {"etag", e.etag()}});
}

void ShowMessage(const v1::Message& m) {
  std::cout << "── " << m.name().substr(m.name().rfind('/') + 1) << "  "
            << m.author() << "  " << ShowTime(m.create_time())
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

}  // namespace

void AddExchangeCommands(CLI::App& app, const CommandEnv& env,
                         CommandRegistry& registry,
                         std::shared_ptr<DomainFlags> f) {
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
            rows.push_back({e.name(), e.title(), Label(e.state()),
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
    if (!ReadBody(*create, *f, false, req.mutable_first_message())) {
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
    if (!f->target.empty() && !Resolve(NameKind::kMessage, f->target, "--up-to",
                                       in_exchange, req.mutable_message())) {
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
  mlist->add_flag("--no-mark-read", f->no_mark_read,
                  "leave what is shown unread (reading marks it read)");
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
    // The newest message shown, to mark read once it has been printed.
    std::string newest;
    const int code =
        CallList<v1::ListMessagesRequest, v1::ListMessagesResponse>(
            env, f->page, req,
            [&](auto* ctx, const auto& r, auto* resp) {
              grpc::Status s = stub()->ListMessages(ctx, r, resp);
              for (const auto& m : resp->messages()) {
                if (m.name() > newest) newest = m.name();
              }
              return s;
            },
            [](const v1::ListMessagesResponse& r) {
              for (const auto& m : r.messages()) ShowMessage(m);
            });
    if (code != kExitOk || f->no_mark_read || newest.empty()) return code;
    // Reading marks read: up to the newest message shown (the server never
    // moves a read marker back).
    v1::MarkExchangeReadRequest mark;
    mark.set_name(req.parent());
    mark.set_message(newest);
    grpc::ClientContext ctx;
    env.connection()->Prepare(&ctx);
    v1::MarkExchangeReadResponse unused;
    grpc::Status s = stub()->MarkExchangeRead(&ctx, mark, &unused);
    if (!s.ok()) return ReportError(s);
    return code;
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
        !ReadBody(*post, *f, true, req.mutable_message()->mutable_body())) {
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
        ShowMessage);
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
    if (!message_of(f->name, "<name>", req.mutable_name())) return kExitUsage;
    // In the editor, the author starts from the text as it is.
    std::string current;
    if (ShouldOpenEditor(LongTextGiven(*edit, "body"))) {
      v1::GetMessageRequest get;
      get.set_name(req.name());
      v1::Message message;
      grpc::ClientContext ctx;
      env.connection()->Prepare(&ctx);
      const grpc::Status s = stub()->GetMessage(&ctx, get, &message);
      if (!s.ok()) return ReportError(s);
      current = message.body();
      if (f->etag.empty()) f->etag = message.etag();
    }
    if (!ReadBody(*edit, *f, true, req.mutable_body(), current)) {
      return kExitUsage;
    }
    req.set_etag(f->etag);
    return Call<v1::Message>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->EditMessage(ctx, req, resp);
        },
        ShowMessage);
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
        ShowMessage);
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
        ShowMessage);
  });
}

}  // namespace cohorte::client
