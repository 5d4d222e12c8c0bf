#include "server/service/webhooks/dispatcher.h"

#include <algorithm>
#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/core/entities.h"
#include "server/service/webhooks/signature.h"
#include "server/service/webhooks/webhook_service.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace cohorte::service {
namespace {

using google::protobuf::util::TimeUtil;
using storage::Txn;
using storage::v1::TokenRecord;
using storage::v1::WebhookRecord;

// The loaded webhooks are re-read at least this often, so that a token
// expiring without any write is noticed.
constexpr absl::Duration kReloadInterval = absl::Seconds(5);

absl::Time FromTimestamp(const google::protobuf::Timestamp& t) {
  return absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(t));
}

// What the feed answers when the cursor can never work again: the webhook
// must be looked at by a person.
bool Permanent(const absl::Status& s) {
  return absl::IsInvalidArgument(s) || absl::IsFailedPrecondition(s) ||
         absl::IsOutOfRange(s) || absl::IsPermissionDenied(s) ||
         absl::IsUnauthenticated(s);
}

std::string Cut(absl::string_view text) {
  return std::string(text.substr(0, kMaxWebhookErrorChars));
}

}  // namespace

absl::Duration WebhookBackoff(int failures) {
  absl::Duration wait = absl::Seconds(kWebhookFirstBackoffSeconds);
  const absl::Duration max = absl::Seconds(kWebhookMaxBackoffSeconds);
  for (int i = 1; i < failures && wait < max; ++i) wait *= 2;
  return std::min(wait, max);
}

WebhookDispatcher::WebhookDispatcher(storage::Store* store, FeedSource feed,
                                     HttpPoster poster,
                                     DispatcherOptions options)
    : store_(*store),
      feed_(std::move(feed)),
      poster_(std::move(poster)),
      options_(std::move(options)) {}

WebhookDispatcher::~WebhookDispatcher() { Stop(); }

void WebhookDispatcher::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void WebhookDispatcher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void WebhookDispatcher::Loop() {
  std::string last_error;
  while (true) {
    const int64_t seen = store_.revision();
    absl::StatusOr<int> posts = RunOnce();
    if (!posts.ok() && posts.status().ToString() != last_error) {
      last_error = posts.status().ToString();
      std::cerr << "cohorted: webhooks: " << last_error << "\n";
    }
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
    }
    if (posts.ok() && *posts > 0) continue;
    // Until the next commit, or the poll interval (a retry may come due).
    store_.WaitForRevision(seen, absl::Now() + options_.poll_interval);
  }
}

absl::StatusOr<std::vector<WebhookDispatcher::Target>>
WebhookDispatcher::LoadTargets() {
  std::vector<Target> targets;
  storage::Mutation look;
  look.actor = "webhooks";
  look.method = "LoadWebhooks";
  look.apply = [&](Txn& txn) -> absl::StatusOr<std::string> {
    targets.clear();
    absl::Status error;
    COHORTE_RETURN_IF_ERROR(
        txn.Scan(storage::Table::kEntities,
                 storage::CollectionPrefixOf<WebhookRecord>("", "webhooks"),
                 [&](absl::string_view, absl::string_view value) {
                   Target t;
                   error = storage::DecodeValue(value, &t.record);
                   if (!error.ok()) return false;
                   if (t.record.webhook().state() == v1::Webhook::ACTIVE) {
                     targets.push_back(std::move(t));
                   }
                   return true;
                 }));
    COHORTE_RETURN_IF_ERROR(error);
    for (Target& t : targets) {
      TokenRecord token;
      absl::Status s =
          txn.GetEntity<TokenRecord>(t.record.webhook().token(), &token);
      if (!s.ok() && !absl::IsNotFound(s)) return s;
      t.token_ok = s.ok() && token.kind() == v1::Token::SERVICE &&
                   !token.has_revoke_time() &&
                   !(token.has_expire_time() &&
                     FromTimestamp(token.expire_time()) <= txn.commit_time());
      if (t.token_ok) {
        t.principal = Principal::ForService(
            token.name(),
            std::vector<std::string>(token.cohorts().begin(),
                                     token.cohorts().end()),
            token.access() == v1::Token::READ_WRITE);
      }
    }
    // Never commit: this mutation only looks (the dispatcher holds no key
    // to the committed state, and needs the secrets, which no reader gets).
    return absl::CancelledError("looked");
  };
  absl::Status s = store_.Commit(std::move(look)).status();
  if (!absl::IsCancelled(s)) {
    return s.ok() ? absl::InternalError("LoadWebhooks committed") : s;
  }
  return targets;
}

absl::StatusOr<int> WebhookDispatcher::RunOnce() {
  // Re-read when something was written (at most once per poll interval:
  // under load that is every pass), and now and then regardless.
  const absl::Time now = options_.now();
  const absl::Time real_now = absl::Now();
  if ((store_.revision() != loaded_revision_ &&
       real_now >= loaded_real_ + options_.poll_interval) ||
      now >= loaded_at_ + kReloadInterval) {
    const int64_t revision = store_.revision();
    COHORTE_ASSIGN_OR_RETURN(targets_, LoadTargets());
    loaded_revision_ = revision;
    loaded_at_ = now;
    loaded_real_ = real_now;
  }
  int posts = 0;
  for (Target& t : targets_) {
    COHORTE_RETURN_IF_ERROR(Step(t, &posts));
  }
  return posts;
}

absl::Status WebhookDispatcher::Step(Target& target, int* posts) {
  v1::Webhook& hook = *target.record.mutable_webhook();
  if (hook.state() != v1::Webhook::ACTIVE) return absl::OkStatus();
  if (!target.token_ok) {
    return Pause(target, absl::StrCat("its token ", hook.token(),
                                      " is revoked, expired or deleted"));
  }
  if (hook.has_next_attempt_time() &&
      FromTimestamp(hook.next_attempt_time()) > options_.now()) {
    return absl::OkStatus();
  }
  std::string since = hook.cursor();
  auto reached = reached_.find(hook.name());
  if (reached != reached_.end() &&
      FeedCursorRevision(reached->second) > FeedCursorRevision(since)) {
    since = reached->second;
  }
  if (FeedCursorRevision(since) >= store_.revision()) {
    return MaybeSaveCursor(target, since);
  }

  v1::ListChangesRequest request;
  request.set_since(since);
  request.set_page_size(kWebhookFeedPageSize);
  *request.mutable_filter() = hook.filter();
  absl::StatusOr<v1::ListChangesResponse> page =
      feed_(target.principal, request);
  if (!page.ok()) {
    if (Permanent(page.status())) {
      return Pause(target, Cut(absl::StrCat("the change feed refuses it: ",
                                            page.status().message())));
    }
    return page.status();
  }
  if (page->events().empty()) {
    reached_[hook.name()] = page->cursor().token();
    return MaybeSaveCursor(target, page->cursor().token());
  }
  google::protobuf::util::JsonPrintOptions json;
  for (const v1::ChangeEvent& event : page->events()) {
    std::string body;
    if (!google::protobuf::util::MessageToJsonString(event, &body, json).ok()) {
      return absl::InternalError(absl::StrCat("revision ", event.revision(),
                                              " does not print as JSON"));
    }
    const absl::Time at = options_.now();
    HttpPost post;
    post.url = target.record.webhook().url();
    post.body = body;
    post.headers = {
        {"Content-Type", "application/json"},
        {"Cohorte-Delivery", absl::StrCat(event.revision())},
        {"Cohorte-Signature", WebhookSignature(target.record.secret(),
                                               absl::ToUnixSeconds(at), body)}};
    const HttpOutcome outcome = poster_(post);
    ++*posts;
    bool stop = false;
    COHORTE_RETURN_IF_ERROR(RecordAttempt(target, event, outcome, at, &stop));
    if (stop || !outcome.ok()) break;
  }
  return absl::OkStatus();
}

absl::Status WebhookDispatcher::RecordAttempt(Target& target,
                                              const v1::ChangeEvent& event,
                                              const HttpOutcome& outcome,
                                              absl::Time at, bool* stop) {
  const std::string name = target.record.webhook().name();
  WebhookRecord saved;
  storage::Mutation m;
  m.actor = name;
  m.method = "DeliverWebhook";
  m.apply = [&](Txn& txn) -> absl::StatusOr<std::string> {
    COHORTE_ASSIGN_OR_RETURN(WebhookRecord record,
                             LoadEntity<WebhookRecord>(txn, name));
    v1::Webhook& w = *record.mutable_webhook();
    // Paused, resumed or moved meanwhile: this attempt is not the webhook's
    // business any more.
    if (w.state() != v1::Webhook::ACTIVE ||
        w.cursor() != target.record.webhook().cursor()) {
      return absl::AbortedError("the webhook changed meanwhile");
    }
    const std::string prefix =
        storage::CollectionPrefixOf<v1::WebhookDelivery>(name, "deliveries");
    std::vector<std::string> kept;
    COHORTE_RETURN_IF_ERROR(
        txn.Scan(storage::Table::kEntities, prefix,
                 [&](absl::string_view key, absl::string_view) {
                   kept.emplace_back(storage::EntityNameFromKey(key));
                   return true;
                 }));
    for (size_t i = 0; i + kMaxWebhookDeliveriesKept <= kept.size(); ++i) {
      txn.DeleteEntity<v1::WebhookDelivery>(kept[i]);
    }
    COHORTE_ASSIGN_OR_RETURN(int64_t seq, NextSequence(txn, prefix, "d"));
    v1::WebhookDelivery d;
    d.set_name(absl::StrCat(name, "/deliveries/",
                            storage::WideSequenceId("d", 16, seq)));
    d.set_revision(event.revision());
    d.set_status(outcome.ok() ? v1::WebhookDelivery::DELIVERED
                              : v1::WebhookDelivery::FAILED);
    d.set_http_status(outcome.status);
    d.set_error(Cut(outcome.error));
    d.set_attempt(w.consecutive_failures() + 1);
    *d.mutable_attempt_time() = ToTimestamp(at);
    txn.PutEntity(d);
    if (outcome.ok()) {
      w.set_cursor(event.cursor().token());
      w.clear_failing_since();
      w.clear_next_attempt_time();
      w.clear_last_error();
      w.set_consecutive_failures(0);
      *w.mutable_last_delivery_time() = ToTimestamp(at);
      SaveWebhook(txn, record);
    } else {
      w.set_consecutive_failures(w.consecutive_failures() + 1);
      if (!w.has_failing_since()) *w.mutable_failing_since() = ToTimestamp(at);
      w.set_last_error(d.error());
      const absl::Time since = FromTimestamp(w.failing_since());
      if (at - since >= options_.pause_after) {
        COHORTE_RETURN_IF_ERROR(
            PauseWebhookInTxn(txn, record,
                              Cut(absl::StrCat("deliveries failed for ",
                                               absl::FormatDuration(at - since),
                                               "; last error: ", d.error())),
                              /*tell_creator=*/true));
      } else {
        *w.mutable_next_attempt_time() =
            ToTimestamp(at + WebhookBackoff(w.consecutive_failures()));
        SaveWebhook(txn, record);
      }
    }
    saved = record;
    return std::string();
  };
  absl::Status s = store_.Commit(std::move(m)).status();
  if (absl::IsAborted(s) || absl::IsNotFound(s)) {
    target.record.mutable_webhook()->set_state(v1::Webhook::PAUSED);
    *stop = true;
    return absl::OkStatus();
  }
  COHORTE_RETURN_IF_ERROR(s);
  target.record = std::move(saved);
  *stop = target.record.webhook().state() != v1::Webhook::ACTIVE;
  return absl::OkStatus();
}

absl::Status WebhookDispatcher::MaybeSaveCursor(Target& target,
                                                const std::string& reached) {
  const v1::Webhook& hook = target.record.webhook();
  const int64_t ahead =
      FeedCursorRevision(reached) - FeedCursorRevision(hook.cursor());
  if (ahead <= 0) return absl::OkStatus();
  // Since when this thread knows the webhook's cursor (by its own clock).
  const absl::Time known =
      cursor_known_since_.emplace(hook.name(), options_.now()).first->second;
  if (ahead < kWebhookCursorSaveRevisions &&
      options_.now() - known < absl::Seconds(kWebhookCursorSaveSeconds)) {
    return absl::OkStatus();
  }
  cursor_known_since_[hook.name()] = options_.now();
  return SaveCursor(target, reached);
}

absl::Status WebhookDispatcher::SaveCursor(Target& target,
                                           const std::string& reached) {
  const std::string name = target.record.webhook().name();
  WebhookRecord saved;
  storage::Mutation m;
  m.actor = name;
  m.method = "SaveWebhookCursor";
  m.apply = [&](Txn& txn) -> absl::StatusOr<std::string> {
    COHORTE_ASSIGN_OR_RETURN(WebhookRecord record,
                             LoadEntity<WebhookRecord>(txn, name));
    if (record.webhook().state() != v1::Webhook::ACTIVE ||
        record.webhook().cursor() != target.record.webhook().cursor()) {
      return absl::AbortedError("the webhook changed meanwhile");
    }
    record.mutable_webhook()->set_cursor(reached);
    SaveWebhook(txn, record);
    saved = record;
    return std::string();
  };
  absl::Status s = store_.Commit(std::move(m)).status();
  if (absl::IsAborted(s) || absl::IsNotFound(s)) return absl::OkStatus();
  COHORTE_RETURN_IF_ERROR(s);
  target.record = std::move(saved);
  return absl::OkStatus();
}

absl::Status WebhookDispatcher::Pause(const Target& target,
                                      const std::string& reason) {
  const std::string name = target.record.webhook().name();
  storage::Mutation m;
  m.actor = name;
  m.method = "PauseWebhook";
  m.apply = [&](Txn& txn) -> absl::StatusOr<std::string> {
    COHORTE_ASSIGN_OR_RETURN(WebhookRecord record,
                             LoadEntity<WebhookRecord>(txn, name));
    if (record.webhook().state() != v1::Webhook::ACTIVE) {
      return absl::AbortedError("already paused");
    }
    COHORTE_RETURN_IF_ERROR(
        PauseWebhookInTxn(txn, record, reason, /*tell_creator=*/true));
    return std::string();
  };
  absl::Status s = store_.Commit(std::move(m)).status();
  if (absl::IsAborted(s) || absl::IsNotFound(s)) s = absl::OkStatus();
  // Not delivered again until a reload shows it active.
  for (Target& t : targets_) {
    if (t.record.webhook().name() == name) {
      t.record.mutable_webhook()->set_state(v1::Webhook::PAUSED);
    }
  }
  return s;
}

}  // namespace cohorte::service
