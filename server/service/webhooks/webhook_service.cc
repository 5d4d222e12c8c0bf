#include "server/service/webhooks/webhook_service.h"

#include <map>
#include <set>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/access/policy.h"
#include "server/service/access/tokens.h"
#include "server/service/audit/audit.h"
#include "server/service/core/entities.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "server/service/core/validation.h"
#include "server/service/inbox/inbox.h"
#include "server/service/webhooks/signature.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace cohorte::service {
namespace {

using google::protobuf::util::TimeUtil;
using storage::Txn;
using storage::v1::TokenRecord;
using storage::v1::WebhookRecord;

absl::Status CheckName(absl::string_view field, absl::string_view name) {
  return ParseTopLevelName(field, name, "webhooks").status();
}

absl::Status CheckFilter(const v1::ChangeFilter& filter) {
  for (const std::string& c : filter.cohorts()) {
    COHORTE_RETURN_IF_ERROR(
        ParseTopLevelName("webhook.filter.cohorts", c, "cohorts").status());
  }
  if (filter.resource_types_size() > kMaxWebhookFilterTypes) {
    return InvalidField("webhook.filter.resource_types",
                        absl::StrCat("has more than ", kMaxWebhookFilterTypes));
  }
  for (const std::string& t : filter.resource_types()) {
    COHORTE_RETURN_IF_ERROR(CheckText("webhook.filter.resource_types", t, 1,
                                      100, TextKind::kSingleLine));
  }
  return CheckText("webhook.filter.name_prefix", filter.name_prefix(), 0,
                   kMaxWebhookUrlLength, TextKind::kSingleLine);
}

absl::Status Audit(Txn& txn, absl::string_view actor, absl::string_view method,
                   const v1::Webhook* before, const v1::Webhook* after) {
  AuditLog audit(actor, method);
  const v1::Webhook& w = after != nullptr ? *after : *before;
  audit.Change(w.name(), before, after);
  for (const std::string& c : w.cohorts()) audit.Touch(c);
  return audit.Write(txn);
}

bool ActiveServiceToken(const TokenRecord& t, absl::Time now) {
  return t.kind() == v1::Token::SERVICE && !t.has_revoke_time() &&
         !(t.has_expire_time() &&
           TimeUtil::TimestampToNanoseconds(t.expire_time()) <=
               absl::ToUnixNanos(now));
}

}  // namespace

std::string FeedCursorToken(absl::string_view instance_id, int64_t epoch,
                            int64_t revision) {
  return absl::StrCat(instance_id, ".", epoch, ".", revision);
}

int64_t FeedCursorRevision(absl::string_view token) {
  const size_t dot = token.rfind('.');
  int64_t revision = -1;
  if (dot == absl::string_view::npos ||
      !absl::SimpleAtoi(token.substr(dot + 1), &revision)) {
    return -1;
  }
  return revision;
}

void SaveWebhook(Txn& txn, WebhookRecord& record) {
  v1::Webhook& w = *record.mutable_webhook();
  *w.mutable_update_time() = ToTimestamp(txn.commit_time());
  w.set_etag(NextEtag(w.etag()));
  // The change log gets the API form, never the secret.
  txn.PutEntity(w.name(), record, w);
}

absl::Status PauseWebhookInTxn(Txn& txn, WebhookRecord& record,
                               absl::string_view reason, bool tell_creator) {
  v1::Webhook& w = *record.mutable_webhook();
  w.set_state(v1::Webhook::PAUSED);
  w.set_pause_reason(std::string(reason));
  *w.mutable_pause_time() = ToTimestamp(txn.commit_time());
  w.clear_next_attempt_time();
  SaveWebhook(txn, record);
  if (!tell_creator || w.creator().empty()) return absl::OkStatus();
  v1::InboxItem item;
  item.set_resource(w.name());
  item.set_context(std::string(reason));
  item.set_title(w.display_name().empty() ? w.url() : w.display_name());
  return NotifyMembers(txn, {{w.creator(), v1::InboxItem::WEBHOOK_PAUSED}},
                       item);
}

absl::StatusOr<v1::WebhookSecret> WebhookService::CreateWebhook(
    const Principal& caller, const v1::CreateWebhookRequest& req) {
  if (!caller.authenticated() || caller.service ||
      (!caller.is_admin() && caller.role != v1::Member::COORDINATOR)) {
    return PermissionDenied("create webhooks");
  }
  const v1::Webhook& w = req.webhook();
  COHORTE_RETURN_IF_ERROR(CheckText("webhook.display_name", w.display_name(), 0,
                                    kMaxWebhookDisplayNameChars,
                                    TextKind::kSingleLine));
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("webhook.token", w.token(), "tokens").status());
  COHORTE_RETURN_IF_ERROR(CheckFilter(w.filter()));
  COHORTE_RETURN_IF_ERROR(allow_.Check("webhook.url", w.url()).status());
  const std::string secret = NewTokenSecret(kWebhookSecretPrefix);
  const std::string name = GenerateId("webhooks/wh-");
  const std::string instance = store_.instance_id();
  const int64_t epoch = store_.epoch();
  return CommitForResponse<v1::WebhookSecret>(
      store_, caller, "CreateWebhook", req, /*request_id=*/"",
      [&](Txn& txn, const Reader& reader) -> absl::StatusOr<v1::WebhookSecret> {
        const Principal& me = reader.caller();
        absl::StatusOr<TokenRecord> token =
            LoadEntity<TokenRecord>(txn, w.token());
        if (!token.ok() && !absl::IsNotFound(token.status())) {
          return token.status();
        }
        const bool usable =
            token.ok() && ActiveServiceToken(*token, txn.commit_time());
        if (!me.is_admin()) {
          bool coordinates_all = usable && !token->cohorts().empty();
          for (int i = 0; coordinates_all && i < token->cohorts_size(); ++i) {
            coordinates_all = Coordinates(me, token->cohorts(i));
          }
          if (!coordinates_all) {
            return PermissionDenied(
                absl::StrCat("create webhooks for ", w.token()));
          }
        } else if (!usable) {
          return InvalidField(
              "webhook.token",
              absl::StrCat(w.token(), " is not an active service token"));
        }
        WebhookRecord record;
        v1::Webhook& hook = *record.mutable_webhook();
        hook.set_name(name);
        hook.set_display_name(w.display_name());
        hook.set_token(w.token());
        hook.set_url(w.url());
        *hook.mutable_filter() = w.filter();
        hook.set_state(v1::Webhook::ACTIVE);
        hook.set_creator(me.member);
        *hook.mutable_cohorts() = token->cohorts();
        *hook.mutable_create_time() = ToTimestamp(txn.commit_time());
        // From now: the changes committed after this one.
        hook.set_cursor(FeedCursorToken(instance, epoch, txn.revision()));
        record.set_secret(secret);
        SaveWebhook(txn, record);
        COHORTE_RETURN_IF_ERROR(
            Audit(txn, me.actor(), "CreateWebhook", nullptr, &hook));
        v1::WebhookSecret response;
        *response.mutable_webhook() = hook;
        response.set_secret(secret);
        return response;
      });
}

absl::StatusOr<v1::Webhook> WebhookService::GetWebhook(
    const Principal& caller, const v1::GetWebhookRequest& req) {
  COHORTE_RETURN_IF_ERROR(CheckName("name", req.name()));
  COHORTE_ASSIGN_OR_RETURN(
      WebhookRecord record,
      Reader(store_, caller).Get<WebhookRecord>(req.name()));
  return record.webhook();
}

absl::StatusOr<v1::ListWebhooksResponse> WebhookService::ListWebhooks(
    const Principal& caller, const v1::ListWebhooksRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  google::protobuf::RepeatedPtrField<WebhookRecord> records;
  v1::ListWebhooksResponse response;
  COHORTE_ASSIGN_OR_RETURN(
      *response.mutable_next_page_token(),
      Reader(store_, caller)
          .List<WebhookRecord>(
              storage::CollectionPrefixOf<WebhookRecord>("", "webhooks"), page,
              [](WebhookRecord&) { return true; }, &records));
  for (const WebhookRecord& r : records) *response.add_webhooks() = r.webhook();
  return response;
}

absl::StatusOr<v1::Webhook> WebhookService::Change(
    const Principal& caller, absl::string_view method,
    const google::protobuf::Message& req, absl::string_view name,
    absl::string_view etag, bool pause, bool remove) {
  COHORTE_RETURN_IF_ERROR(CheckName("name", name));
  return CommitForResponse<v1::Webhook>(
      store_, caller, method, req, /*request_id=*/"",
      [&](Txn& txn, const Reader& reader) -> absl::StatusOr<v1::Webhook> {
        COHORTE_ASSIGN_OR_RETURN(WebhookRecord record,
                                 reader.Load<WebhookRecord>(name));
        COHORTE_RETURN_IF_ERROR(CheckEtag(name, record.webhook().etag(), etag));
        const v1::Webhook before = record.webhook();
        if (remove) {
          std::vector<std::string> deliveries;
          COHORTE_RETURN_IF_ERROR(txn.Scan(
              storage::Table::kEntities,
              storage::CollectionPrefixOf<v1::WebhookDelivery>(name,
                                                               "deliveries"),
              [&](absl::string_view key, absl::string_view) {
                deliveries.emplace_back(storage::EntityNameFromKey(key));
                return true;
              }));
          for (const std::string& d : deliveries) {
            txn.DeleteEntity<v1::WebhookDelivery>(d);
          }
          txn.DeleteEntity<WebhookRecord>(name);
          COHORTE_RETURN_IF_ERROR(
              Audit(txn, caller.actor(), method, &before, nullptr));
          return before;
        }
        const bool paused = before.state() == v1::Webhook::PAUSED;
        if (pause == paused) {
          return WrongState(
              absl::StrCat(name, " is already ", paused ? "paused" : "active"));
        }
        if (pause) {
          COHORTE_RETURN_IF_ERROR(PauseWebhookInTxn(
              txn, record, absl::StrCat("paused by ", caller.actor()),
              /*tell_creator=*/false));
        } else {
          v1::Webhook& w = *record.mutable_webhook();
          w.set_state(v1::Webhook::ACTIVE);
          w.clear_pause_reason();
          w.clear_pause_time();
          w.clear_failing_since();
          w.clear_next_attempt_time();
          w.set_consecutive_failures(0);
          SaveWebhook(txn, record);
        }
        COHORTE_RETURN_IF_ERROR(
            Audit(txn, caller.actor(), method, &before, &record.webhook()));
        return record.webhook();
      });
}

absl::StatusOr<v1::Webhook> WebhookService::PauseWebhook(
    const Principal& caller, const v1::PauseWebhookRequest& req) {
  return Change(caller, "PauseWebhook", req, req.name(), req.etag(),
                /*pause=*/true, /*remove=*/false);
}

absl::StatusOr<v1::Webhook> WebhookService::ResumeWebhook(
    const Principal& caller, const v1::ResumeWebhookRequest& req) {
  return Change(caller, "ResumeWebhook", req, req.name(), req.etag(),
                /*pause=*/false, /*remove=*/false);
}

absl::StatusOr<v1::Webhook> WebhookService::DeleteWebhook(
    const Principal& caller, const v1::DeleteWebhookRequest& req) {
  return Change(caller, "DeleteWebhook", req, req.name(), req.etag(),
                /*pause=*/false, /*remove=*/true);
}

absl::StatusOr<v1::ListWebhookDeliveriesResponse>
WebhookService::ListWebhookDeliveries(
    const Principal& caller, const v1::ListWebhookDeliveriesRequest& req) {
  COHORTE_RETURN_IF_ERROR(CheckName("parent", req.parent()));
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  const Reader reader(store_, caller);
  COHORTE_RETURN_IF_ERROR(reader.Get<WebhookRecord>(req.parent()).status());
  v1::ListWebhookDeliveriesResponse response;
  COHORTE_ASSIGN_OR_RETURN(
      *response.mutable_next_page_token(),
      reader.List<v1::WebhookDelivery>(
          storage::CollectionPrefixOf<v1::WebhookDelivery>(req.parent(),
                                                           "deliveries"),
          page, [](v1::WebhookDelivery&) { return true; },
          response.mutable_deliveries(), /*reverse=*/true));
  return response;
}

}  // namespace cohorte::service
