// File: server/service/webhooks/webhook_service.h
//
// WebhookService: the API of webhooks (proto/cohorte/v1/webhooks.proto).
// A webhook binds a URL and a filter to a SERVICE token; what it delivers
// is that token's change feed, so it never carries more than the token may
// read (the dispatcher, dispatcher.h, does the delivering). Who may manage
// a webhook: the administrator, and the coordinators of every cohort its
// token reaches (the WebhookRecord read rule, access/rules.cc).
//
// The signing secret is made here, shown once in CreateWebhook's answer and
// kept in the WebhookRecord only: the change log and the audit log get the
// webhook's API form, which has no secret.
//
// Thread-safe: holds a borrowed Store and allow list, which must outlive it.
#ifndef COHORTE_SERVER_SERVICE_WEBHOOKS_WEBHOOK_SERVICE_H_
#define COHORTE_SERVER_SERVICE_WEBHOOKS_WEBHOOK_SERVICE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cohorte/storage/v1/records.pb.h"
#include "cohorte/v1/webhooks.pb.h"
#include "server/service/access/commit.h"
#include "server/service/access/principal.h"
#include "server/service/access/reader.h"
#include "server/service/webhooks/url_guard.h"
#include "storage/store.h"

namespace cohorte::service {

// A change-feed cursor token, `{instance_id}.{epoch}.{revision}`.
std::string FeedCursorToken(absl::string_view instance_id, int64_t epoch,
                            int64_t revision);
// The revision of a cursor token; -1 if it is not one.
int64_t FeedCursorRevision(absl::string_view token);

// Inside a mutation: stamps `record` (update time, next etag) and writes it;
// the change log gets its API form only.
void SaveWebhook(storage::Txn& txn, storage::v1::WebhookRecord& record);

// Inside a mutation: pauses `record` for `reason` and writes it; if
// `tell_creator`, its creator gets a WEBHOOK_PAUSED inbox item.
absl::Status PauseWebhookInTxn(storage::Txn& txn,
                               storage::v1::WebhookRecord& record,
                               absl::string_view reason, bool tell_creator);

class WebhookService {
 public:
  WebhookService(storage::Store* store, const WebhookAllowList* allow)
      : store_(*store), allow_(*allow) {}
  WebhookService(const WebhookService&) = delete;
  WebhookService& operator=(const WebhookService&) = delete;

  // The new webhook, ACTIVE, delivering the changes committed after it, and
  // its secret. PERMISSION_DENIED unless the caller is the administrator or
  // a coordinator of every cohort of `webhook.token` (whether or not the
  // token exists); INVALID_ARGUMENT naming the field for a bad display
  // name or filter, a URL that is not http(s) or whose host is not allowed
  // (webhook.url), or (for the administrator) a token that is not an
  // active SERVICE token (webhook.token).
  absl::StatusOr<v1::WebhookSecret> CreateWebhook(
      const Principal& caller, const v1::CreateWebhookRequest& req);
  // PERMISSION_DENIED unless the caller may read it (absent or not).
  absl::StatusOr<v1::Webhook> GetWebhook(const Principal& caller,
                                         const v1::GetWebhookRequest& req);
  // The webhooks the caller may read.
  absl::StatusOr<v1::ListWebhooksResponse> ListWebhooks(
      const Principal& caller, const v1::ListWebhooksRequest& req);
  // FAILED_PRECONDITION if already paused; ABORTED on an etag mismatch.
  absl::StatusOr<v1::Webhook> PauseWebhook(const Principal& caller,
                                           const v1::PauseWebhookRequest& req);
  // Delivers again from its cursor, failures forgotten.
  // FAILED_PRECONDITION if not paused.
  absl::StatusOr<v1::Webhook> ResumeWebhook(
      const Principal& caller, const v1::ResumeWebhookRequest& req);
  // Deletes it and its delivery log; returns it as it was.
  absl::StatusOr<v1::Webhook> DeleteWebhook(
      const Principal& caller, const v1::DeleteWebhookRequest& req);
  // The delivery log, newest first.
  absl::StatusOr<v1::ListWebhookDeliveriesResponse> ListWebhookDeliveries(
      const Principal& caller, const v1::ListWebhookDeliveriesRequest& req);

 private:
  // Pause, resume (`pause` false) or delete (`remove`) `name`.
  absl::StatusOr<v1::Webhook> Change(const Principal& caller,
                                     absl::string_view method,
                                     const google::protobuf::Message& req,
                                     absl::string_view name,
                                     absl::string_view etag, bool pause,
                                     bool remove);

  storage::Store& store_;
  const WebhookAllowList& allow_;
};

// A webhook as its reader may see it (the WebhookRecord rule).
template <>
struct Presenter<v1::Webhook> {
  static absl::StatusOr<v1::Webhook> Present(const Reader& reader,
                                             v1::Webhook webhook) {
    storage::v1::WebhookRecord record;
    *record.mutable_webhook() = webhook;
    COHORTE_RETURN_IF_ERROR(reader.Present(webhook.name(), record).status());
    return webhook;
  }
};
// The secret is shown once, to who made the webhook.
template <>
struct Presenter<v1::WebhookSecret> {
  static absl::StatusOr<v1::WebhookSecret> Present(const Reader& reader,
                                                   v1::WebhookSecret secret) {
    COHORTE_ASSIGN_OR_RETURN(
        *secret.mutable_webhook(),
        Presenter<v1::Webhook>::Present(reader, secret.webhook()));
    return secret;
  }
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_WEBHOOKS_WEBHOOK_SERVICE_H_
