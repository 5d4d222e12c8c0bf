#include "client/webhook_commands.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "client/call.h"
#include "client/labels.h"
#include "client/output.h"
#include "client/times.h"
#include "cohorte/v1/webhooks.grpc.pb.h"

namespace cohorte::client {
namespace {

// Every flag of these commands; one instance per process.
struct Flags {
  std::string name, token, url, display_name, name_prefix, etag;
  std::vector<std::string> cohorts, kinds;
  PageFlags page;
};

// `wh-0123456789` → `webhooks/wh-0123456789`; a full name is kept.
std::string WebhookName(const std::string& s) {
  return s.rfind("webhooks/", 0) == 0 ? s : "webhooks/" + s;
}

std::string Join(const google::protobuf::RepeatedPtrField<std::string>& list) {
  std::string out;
  for (const std::string& s : list) out += (out.empty() ? "" : " ") + s;
  return out;
}

void ShowWebhook(const v1::Webhook& w) {
  PrintFields(
      {{"name", w.name()},
       {"display_name", w.display_name()},
       {"token", w.token()},
       {"url", w.url()},
       {"cohorts", Join(w.cohorts())},
       {"filter.cohorts", Join(w.filter().cohorts())},
       {"filter.resource_types", Join(w.filter().resource_types())},
       {"filter.name_prefix", w.filter().name_prefix()},
       {"state", Label(w.state())},
       {"pause_reason", w.pause_reason()},
       {"creator", w.creator()},
       {"cursor", w.cursor()},
       {"last_delivery_time", ShowTime(w.last_delivery_time())},
       {"failing_since", ShowTime(w.failing_since())},
       {"consecutive_failures", w.consecutive_failures() == 0
                                    ? ""
                                    : std::to_string(w.consecutive_failures())},
       {"next_attempt_time", ShowTime(w.next_attempt_time())},
       {"last_error", w.last_error()},
       {"create_time", ShowTime(w.create_time())},
       {"etag", w.etag()}});
}

// The secret goes to stdout alone (for `> file`); what it is, to stderr.
void ShowSecret(const v1::WebhookSecret& s) {
  std::cerr << "webhook " << s.webhook().name()
            << " (the signing secret below is shown once):\n";
  std::cout << s.secret() << "\n";
}

}  // namespace

void AddWebhookCommands(CLI::App& app, const CommandEnv& env,
                        CommandRegistry& registry) {
  auto f = std::make_shared<Flags>();
  CLI::App* root = app.add_subcommand(
      "webhooks",
      "Push a service token's change feed to a URL (signed JSON POSTs)");
  root->require_subcommand(1);
  auto stub = [&env] {
    return v1::WebhookService::NewStub(env.connection()->channel());
  };

  CLI::App* create = root->add_subcommand(
      "create",
      "Make a webhook for a service token (admin, or a coordinator of all "
      "its cohorts); the signing secret is printed once");
  create->add_option("--token", f->token, "service token id or tokens/{t}")
      ->required();
  create
      ->add_option("--url", f->url,
                   "http(s) URL the server allows (--webhook-allow)")
      ->required();
  create->add_option("--display-name", f->display_name,
                     "what it is for, 0..100 characters");
  create->add_option("--cohort", f->cohorts,
                     "only this cohort's changes (repeatable)");
  create->add_option("--kind", f->kinds,
                     "only this resource type, e.g. Session (repeatable)");
  create->add_option("--name-prefix", f->name_prefix,
                     "only resources whose name starts with this");
  registry.Register(create, [=, &env] {
    v1::CreateWebhookRequest req;
    v1::Webhook* w = req.mutable_webhook();
    if (!Resolve(NameKind::kToken, f->token, "--token", {},
                 w->mutable_token())) {
      return kExitUsage;
    }
    w->set_url(f->url);
    w->set_display_name(f->display_name);
    for (const std::string& c : f->cohorts) {
      w->mutable_filter()->add_cohorts(CohortName(c));
    }
    for (const std::string& k : f->kinds) {
      w->mutable_filter()->add_resource_types(k);
    }
    w->mutable_filter()->set_name_prefix(f->name_prefix);
    return Call<v1::WebhookSecret>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->CreateWebhook(ctx, req, resp);
        },
        ShowSecret, /*secret=*/true);
  });

  CLI::App* list = root->add_subcommand("list", "Webhooks the caller manages");
  AddPageFlags(list, &f->page);
  registry.Register(list, [=, &env] {
    v1::ListWebhooksRequest req;
    return CallList<v1::ListWebhooksRequest, v1::ListWebhooksResponse>(
        env, f->page, req,
        [&](auto* ctx, const auto& r, auto* resp) {
          return stub()->ListWebhooks(ctx, r, resp);
        },
        [](const v1::ListWebhooksResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& w : r.webhooks()) {
            rows.push_back({w.name(), w.token(), w.url(), Label(w.state()),
                            ShowTime(w.last_delivery_time()), w.last_error()});
          }
          PrintTable(
              {"NAME", "TOKEN", "URL", "STATE", "LAST DELIVERY", "LAST ERROR"},
              rows);
        });
  });

  CLI::App* get = root->add_subcommand(
      "get", "Show a webhook and its delivery state (never its secret)");
  get->add_option("name", f->name, "webhook id or webhooks/{w}")->required();
  registry.Register(get, [=, &env] {
    v1::GetWebhookRequest req;
    req.set_name(WebhookName(f->name));
    return Call<v1::Webhook>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->GetWebhook(ctx, req, resp);
        },
        ShowWebhook);
  });

  CLI::App* deliveries = root->add_subcommand(
      "deliveries", "The delivery log of a webhook, newest first");
  deliveries->add_option("name", f->name, "webhook id or webhooks/{w}")
      ->required();
  AddPageFlags(deliveries, &f->page);
  registry.Register(deliveries, [=, &env] {
    v1::ListWebhookDeliveriesRequest req;
    req.set_parent(WebhookName(f->name));
    return CallList<v1::ListWebhookDeliveriesRequest,
                    v1::ListWebhookDeliveriesResponse>(
        env, f->page, req,
        [&](auto* ctx, const auto& r, auto* resp) {
          return stub()->ListWebhookDeliveries(ctx, r, resp);
        },
        [](const v1::ListWebhookDeliveriesResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& d : r.deliveries()) {
            rows.push_back(
                {ShowTime(d.attempt_time()), std::to_string(d.revision()),
                 Label(d.status()), std::to_string(d.attempt()),
                 d.http_status() == 0 ? "" : std::to_string(d.http_status()),
                 d.error()});
          }
          PrintTable({"TIME", "REVISION", "STATUS", "ATTEMPT", "HTTP", "ERROR"},
                     rows);
        });
  });

  struct Verb {
    const char* name;
    const char* help;
  };
  for (const Verb& v : {Verb{"pause", "Stop delivering (kept, resumable)"},
                        Verb{"resume", "Deliver again from where it stopped"},
                        Verb{"delete", "Delete a webhook and its log"}}) {
    CLI::App* cmd = root->add_subcommand(v.name, v.help);
    cmd->add_option("name", f->name, "webhook id or webhooks/{w}")->required();
    cmd->add_option("--etag", f->etag,
                    "fail with a conflict if the webhook changed since");
    const std::string verb = v.name;
    registry.Register(cmd, [=, &env] {
      const std::string name = WebhookName(f->name);
      return Call<v1::Webhook>(
          env,
          [&](auto* ctx, auto* resp) {
            if (verb == "pause") {
              v1::PauseWebhookRequest req;
              req.set_name(name);
              req.set_etag(f->etag);
              return stub()->PauseWebhook(ctx, req, resp);
            }
            if (verb == "resume") {
              v1::ResumeWebhookRequest req;
              req.set_name(name);
              req.set_etag(f->etag);
              return stub()->ResumeWebhook(ctx, req, resp);
            }
            v1::DeleteWebhookRequest req;
            req.set_name(name);
            req.set_etag(f->etag);
            return stub()->DeleteWebhook(ctx, req, resp);
          },
          ShowWebhook);
    });
  }
}

}  // namespace cohorte::client
