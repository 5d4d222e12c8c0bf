#include "client/inbox_commands.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/call.h"
#include "client/labels.h"
#include "client/output.h"
#include "cohorte/v1/inbox.grpc.pb.h"
#include "cohorte/v1/members.grpc.pb.h"
#include "cohorte/v1/moderation.grpc.pb.h"
#include "cohorte/v1/referentiel.grpc.pb.h"

namespace cohorte::client {
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

void AddInboxCommands(CLI::App& app, const CommandEnv& env,
                      CommandRegistry& registry,
                      std::shared_ptr<DomainFlags> f) {
  auto stub = [&env] {
    return v1::InboxService::NewStub(env.connection()->channel());
  };
  CLI::App* inbox = app.add_subcommand("inbox", "What is new for me");
  inbox->add_flag("--unread", f->unread_only, "only unread items");
  AddPageFlags(inbox, &f->page);
  CLI::App* read = inbox->add_subcommand("read", "Mark items read");
  read->add_option("item", f->items,
                   "an item: its id or members/{me}/inbox/{i} (repeatable)");
  read->add_flag("--all", f->all, "mark every item read");
  registry.Register(read, [=, &env] {
    v1::MarkInboxReadRequest req;
    std::string me;  // the caller's name, for item ids
    for (const auto& i : f->items) {
      if (i.find('/') == std::string::npos && me.empty()) {
        auto members = v1::MemberService::NewStub(env.connection()->channel());
        v1::GetMemberRequest get;
        get.set_name("members/me");
        v1::Member member;
        grpc::ClientContext ctx;
        env.connection()->Prepare(&ctx);
        grpc::Status status = members->GetMember(&ctx, get, &member);
        if (!status.ok()) return ReportError(status);
        me = member.name();
      }
      req.add_items(i.find('/') == std::string::npos ? me + "/inbox/" + i : i);
    }
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
            // An arrival in a group says who now reads it.
            const std::string title =
                i.subject().empty() ? i.title()
                                    : absl::StrCat(i.title(), ": ", i.subject(),
                                                   " (", i.context(), ")");
            rows.push_back({i.read() ? " " : "•", Label(i.kind()), title,
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

// The content a moderation command is about: a message (its id with
// --exchange…) or a report (its id with --cohort), or a full name.
void AddContentFlags(CLI::App* cmd, DomainFlags* f) {
  cmd->add_option("target", f->target,
                  "the message (id with --exchange) or report (id with "
                  "--cohort), or its full name")
      ->required();
  cmd->add_option("--exchange", f->exchange,
                  "the exchange of a message id (id with --group and "
                  "--cohort, or full name)");
  cmd->add_option("--group", f->group, "the group of an exchange id");
  cmd->add_option("--cohort", f->cohort, "the cohort of a report or group id");
}

bool ContentName(const DomainFlags& f, std::string* out) {
  if (f.target.find('/') != std::string::npos) {
    *out = f.target;  // a full name: the server checks its kind
    return true;
  }
  if (!f.exchange.empty()) {
    return Resolve(NameKind::kMessage, f.target, "<target>", f.Names(), out);
  }
  if (!f.cohort.empty()) {
    return Resolve(NameKind::kReport, f.target, "<target>", f.Names(), out);
  }
  UsageError("<target>", "'" + f.target +
                             "' is a short id: give --exchange (a message) "
                             "or --cohort (a report) too, or the full name");
  return false;
}

void AddModerationCommands(CLI::App& app, const CommandEnv& env,
                           CommandRegistry& registry,
                           std::shared_ptr<DomainFlags> f) {
  auto stub = [&env] {
    return v1::ModerationService::NewStub(env.connection()->channel());
  };
  CLI::App* root = app.add_subcommand("moderation", "Flags and hiding");
  root->require_subcommand(1);
  CLI::App* flag = root->add_subcommand("flag", "Report a message or report");
  AddContentFlags(flag, f.get());
  flag->add_option("--reason", f->reason, "spam, abuse, confidentiality, other")
      ->required();
  flag->add_option("--note", f->note, "what is wrong, ≤ 1000 characters");
  registry.Register(flag, [=, &env] {
    v1::FlagContentRequest req;
    if (!ContentName(*f, req.mutable_flag()->mutable_target())) {
      return kExitUsage;
    }
    const std::string& target = req.flag().target();
    req.set_parent(target.substr(0, target.find('/', 8)));
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
            rows.push_back({x.name(), x.target(), Label(x.reason()),
                            Label(x.state()), x.note()});
          }
          PrintTable({"NAME", "TARGET", "REASON", "STATE", "NOTE"}, rows);
        });
  });
  for (const bool hide : {true, false}) {
    CLI::App* cmd = root->add_subcommand(
        hide ? "hide" : "unhide",
        hide ? "Hide content (kept)" : "Show hidden content again");
    AddContentFlags(cmd, f.get());
    if (hide) {
      cmd->add_option("--reason", f->reason,
                      "why, 1..1000 characters (shown in its place)")
          ->required();
    }
    registry.Register(cmd, [=, &env] {
      std::string target;
      if (!ContentName(*f, &target)) return kExitUsage;
      return Call<v1::HideContentResponse>(
          env,
          [&](auto* ctx, auto* resp) {
            if (hide) {
              v1::HideContentRequest req;
              req.set_target(target);
              req.set_reason(f->reason);
              return stub()->HideContent(ctx, req, resp);
            }
            v1::UnhideContentRequest req;
            req.set_target(target);
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

}  // namespace cohorte::client
