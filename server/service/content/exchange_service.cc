#include "server/service/content/exchange_service.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "cohorte/storage/v1/records.pb.h"
#include "cohorte/v1/groups.pb.h"
#include "cohorte/v1/members.pb.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/access/commit.h"
#include "server/service/access/policy.h"
#include "server/service/access/reader.h"
#include "server/service/access/record_links.h"
#include "server/service/content/referentiel.h"
#include "server/service/core/entities.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "server/service/core/validation.h"
#include "server/service/inbox/inbox.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace cohorte::service {
namespace {

using google::protobuf::util::TimeUtil;
using storage::EntityKind;
using storage::Table;
using storage::Txn;
using v1::Exchange;
using v1::Message;
using v1::PeerGroup;

std::string GroupOfExchange(absl::string_view exchange) {
  return std::string(exchange.substr(0, exchange.find("/exchanges/")));
}

// The sequence number of message `name` (…/messages/m000042 → 42), 0 if
// it has none.
int64_t SequenceOf(absl::string_view name) {
  const size_t slash = name.rfind('/');
  int64_t seq = 0;
  if (slash == absl::string_view::npos ||
      !storage::ParseSequenceId("m", name.substr(slash + 1), &seq)) {
    return 0;
  }
  return seq;
}

// The name a read marker is stored under: member NUL exchange.
std::string MarkerName(absl::string_view member, absl::string_view exchange) {
  std::string name(member);
  name.push_back('\0');
  name.append(exchange.data(), exchange.size());
  return name;
}

// How far the reader's caller has read `exchange` (the sequence number of
// the last message read), 0 without a marker. A marker that cannot be read
// counts as none: it only says how far its member read, and
// MarkExchangeRead writes it anew.
int64_t LastRead(const Reader& reader, absl::string_view exchange) {
  if (reader.caller().member.empty()) return 0;
  absl::StatusOr<std::optional<storage::v1::ReadMarkerRecord>> marker =
      reader.Find<storage::v1::ReadMarkerRecord>(
          MarkerName(reader.caller().member, exchange));
  return marker.ok() && marker->has_value() ? (*marker)->last_read() : 0;
}

Exchange WithUnread(const Reader& reader, Exchange e) {
  const int64_t unread = e.message_count() - LastRead(reader, e.name());
  e.set_unread_count(unread > 0 ? unread : 0);
  return e;
}

absl::Status CheckTags(
    absl::string_view field,
    const google::protobuf::RepeatedPtrField<std::string>& tags) {
  if (tags.size() > kMaxTagsPerItem) {
    return InvalidField(field, absl::StrCat("has more than ", kMaxTagsPerItem));
  }
  std::set<std::string> seen;
  for (const std::string& tag : tags) {
    if (!BuiltInReferentiel().Contains(tag)) {
      return InvalidField(field,
                          absl::StrCat("'", tag.substr(0, 64),
                                       "' is not an id of the référentiel"));
    }
    if (!seen.insert(tag).second) {
      return InvalidField(field, absl::StrCat(tag, " twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckExchangeFields(const Exchange& e,
                                 const std::set<std::string>& paths) {
  if (paths.count("title")) {
    COHORTE_RETURN_IF_ERROR(CheckText("exchange.title", e.title(), 1,
                                      kMaxExchangeTitleChars,
                                      TextKind::kSingleLine));
  }
  if (paths.count("kind")) {
    COHORTE_RETURN_IF_ERROR(
        CheckEnumValue("exchange.kind", e.kind(), Exchange::Kind_IsValid));
  }
  if (paths.count("state")) {
    COHORTE_RETURN_IF_ERROR(
        CheckEnumValue("exchange.state", e.state(), Exchange::State_IsValid));
  }
  if (paths.count("tags")) {
    COHORTE_RETURN_IF_ERROR(CheckTags("exchange.tags", e.tags()));
  }
  return absl::OkStatus();
}

absl::Status CheckBody(absl::string_view field, absl::string_view body) {
  return CheckText(field, body, 1, kMaxMessageBodyChars, TextKind::kMultiLine);
}

// The members named "@member-id" in `body`.
std::vector<std::string> Mentions(absl::string_view body) {
  std::vector<std::string> out;
  for (size_t at = body.find('@'); at != absl::string_view::npos;
       at = body.find('@', at + 1)) {
    if (at > 0 && (std::isalnum(static_cast<unsigned char>(body[at - 1])) ||
                   body[at - 1] == '.')) {
      continue;  // an e-mail address
    }
    size_t end = at + 1;
    while (end < body.size() &&
           (std::islower(static_cast<unsigned char>(body[end])) ||
            std::isdigit(static_cast<unsigned char>(body[end])) ||
            body[end] == '-')) {
      ++end;
    }
    absl::string_view id = body.substr(at + 1, end - at - 1);
    while (!id.empty() && id.back() == '-') id.remove_suffix(1);
    if (CheckResourceId("", id).ok()) {
      out.push_back(absl::StrCat("members/", id));
    }
  }
  return out;
}

// Whether member `name` (committed) may read `group`.
bool MemberMayRead(const Txn& txn, absl::string_view name,
                   const PeerGroup& group) {
  absl::StatusOr<v1::Member> m = LoadEntity<v1::Member>(txn, name);
  return m.ok() && IsGroupMember(Principal::FromMember(*m, ""), group);
}

// Loads `name` (a message) inside a mutation for its author, through the
// gate: PERMISSION_DENIED alike for a message the caller may not read, a
// missing one, and someone else's.
absl::StatusOr<Message> LoadOwnMessage(const Reader& reader,
                                       absl::string_view name) {
  COHORTE_ASSIGN_OR_RETURN(Message m, reader.Load<Message>(name));
  if (m.author() != reader.caller().member) {
    return PermissionDenied(
        absl::StrCat("change ", name, ": only its author may"));
  }
  return m;
}

// OK if `name` is a message's name and the reader's caller may read its
// group.
absl::Status AuthorizeMessage(const Reader& reader, absl::string_view name) {
  COHORTE_ASSIGN_OR_RETURN(
      std::string exchange,
      ParseNestedName("name", name,
                      {"cohorts", "groups", "exchanges", "messages"}));
  return reader.GroupForContent(GroupOfExchange(exchange)).status();
}

}  // namespace

// MarkExchangeRead returns the caller's own view of an exchange they read.
template <>
struct Presenter<v1::MarkExchangeReadResponse> {
  static absl::StatusOr<v1::MarkExchangeReadResponse> Present(
      const Reader& reader, v1::MarkExchangeReadResponse r) {
    COHORTE_ASSIGN_OR_RETURN(*r.mutable_exchange(),
                             reader.Present(r.exchange()));
    return r;
  }
};

absl::StatusOr<Exchange> ExchangeService::CreateExchange(
    const Principal& caller, const v1::CreateExchangeRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseNestedName("parent", req.parent(), {"cohorts", "groups"}).status());
  COHORTE_RETURN_IF_ERROR(
      Reader(store_, caller).GroupForContent(req.parent()).status());
  COHORTE_RETURN_IF_ERROR(
      CheckExchangeFields(req.exchange(), {"title", "kind", "tags"}));
  if (!req.first_message().empty()) {
    COHORTE_RETURN_IF_ERROR(CheckBody("first_message", req.first_message()));
  }
  COHORTE_RETURN_IF_ERROR(CheckRequestId("request_id", req.request_id()));
  return CommitForResponse<Exchange>(
      store_, caller, "CreateExchange", req, req.request_id(),
      [&](Txn& txn,
          [[maybe_unused]] const Reader& reader) -> absl::StatusOr<Exchange> {
        COHORTE_ASSIGN_OR_RETURN(PeerGroup group,
                                 reader.GroupForContent(req.parent()));
        // Ids number a group's exchanges in order; they say nothing of
        // other groups' activity.
        COHORTE_ASSIGN_OR_RETURN(
            int64_t seq, NextSequence(txn,
                                      storage::CollectionPrefixOf<Exchange>(
                                          req.parent(), "exchanges"),
                                      "e"));
        Exchange e;
        e.set_name(absl::StrCat(req.parent(), "/exchanges/",
                                storage::WideSequenceId("e", 12, seq)));
        e.set_title(req.exchange().title());
        e.set_kind(req.exchange().kind());
        e.set_state(Exchange::OPEN);
        *e.mutable_tags() = req.exchange().tags();
        e.set_author(caller.member);
        if (!req.first_message().empty()) {
          Message m;
          m.set_name(absl::StrCat(e.name(), "/messages/",
                                  storage::SequenceId("m", 1)));
          m.set_body(req.first_message());
          m.set_author(caller.member);
          CreateSequencedEntity(txn, m);
          e.set_message_count(1);
          *e.mutable_last_message_time() = ToTimestamp(txn.commit_time());
        }
        CreateEntity(txn, e);
        // Followers of the group hear of it.
        absl::StatusOr<std::vector<std::string>> followers =
            FollowersOf(txn, group.name());
        std::map<std::string, v1::InboxItem::Kind> recipients;
        if (followers.ok()) {
          for (const std::string& f : *followers) {
            if (MemberMayRead(txn, f, group)) {
              recipients[f] = v1::InboxItem::NEW_MESSAGE;
            }
          }
        }
        // "@member-id" in the first message reaches who may read it.
        for (const std::string& mentioned : Mentions(req.first_message())) {
          if (MemberMayRead(txn, mentioned, group)) {
            recipients[mentioned] = v1::InboxItem::MENTION;
          }
        }
        v1::InboxItem item;
        item.set_resource(e.message_count() > 0
                              ? absl::StrCat(e.name(), "/messages/",
                                             storage::SequenceId("m", 1))
                              : e.name());
        item.set_context(e.name());
        item.set_title(e.title());
        item.set_actor(caller.member);
        COHORTE_RETURN_IF_ERROR(NotifyMembers(txn, recipients, item));
        e.set_unread_count(0);
        return e;
      });
}

absl::StatusOr<Exchange> ExchangeService::GetExchange(
    const Principal& caller, const v1::GetExchangeRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(
      std::string group,
      ParseNestedName("name", req.name(), {"cohorts", "groups", "exchanges"}));
  const Reader reader(store_, caller);
  COHORTE_RETURN_IF_ERROR(reader.GroupForContent(group).status());
  COHORTE_ASSIGN_OR_RETURN(Exchange e, reader.Get<Exchange>(req.name()));
  return WithUnread(reader, std::move(e));
}

absl::StatusOr<v1::ListExchangesResponse> ExchangeService::ListExchanges(
    const Principal& caller, const v1::ListExchangesRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseNestedName("parent", req.parent(), {"cohorts", "groups"}).status());
  COHORTE_RETURN_IF_ERROR(
      Reader(store_, caller).GroupForContent(req.parent()).status());
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  v1::ListExchangesResponse response;
  COHORTE_ASSIGN_OR_RETURN(
      *response.mutable_next_page_token(),
      Reader(store_, caller)
          .List<Exchange>(
              storage::CollectionPrefixOf<v1::Exchange>(req.parent(),
                                                        "exchanges"),
              page,
              [&](Exchange& e) {
                e = WithUnread(Reader(store_, caller), std::move(e));
                return true;
              },
              response.mutable_exchanges(), /*reverse=*/true));
  return response;
}

absl::StatusOr<Exchange> ExchangeService::UpdateExchange(
    const Principal& caller, const v1::UpdateExchangeRequest& req) {
  const std::string& name = req.exchange().name();
  COHORTE_ASSIGN_OR_RETURN(std::string group_name,
                           ParseNestedName("exchange.name", name,
                                           {"cohorts", "groups", "exchanges"}));
  COHORTE_RETURN_IF_ERROR(
      Reader(store_, caller).GroupForContent(group_name).status());
  COHORTE_ASSIGN_OR_RETURN(
      std::set<std::string> paths,
      CheckUpdateMask(req.update_mask(), {"title", "kind", "state", "tags"},
                      "Exchange"));
  COHORTE_RETURN_IF_ERROR(CheckExchangeFields(req.exchange(), paths));
  COHORTE_RETURN_IF_ERROR(CheckRequestId("request_id", req.request_id()));
  google::protobuf::util::FieldMaskUtil::MergeOptions merge;
  merge.set_replace_repeated_fields(true);
  return CommitForResponse<Exchange>(
      store_, caller, "UpdateExchange", req, req.request_id(),
      [&](Txn& txn,
          [[maybe_unused]] const Reader& reader) -> absl::StatusOr<Exchange> {
        COHORTE_ASSIGN_OR_RETURN(PeerGroup group,
                                 reader.GroupForContent(group_name));
        const bool facilitator =
            std::find(group.facilitators().begin(), group.facilitators().end(),
                      caller.member) != group.facilitators().end();
        COHORTE_ASSIGN_OR_RETURN(Exchange e, reader.Load<Exchange>(name));
        if (e.author() != caller.member && !facilitator) {
          return PermissionDenied(
              absl::StrCat("update ", name,
                           ": its author and the group's facilitators may"));
        }
        COHORTE_RETURN_IF_ERROR(
            CheckEtag(name, e.etag(), req.exchange().etag()));
        google::protobuf::util::FieldMaskUtil::MergeMessageTo(
            req.exchange(), req.update_mask(), merge, &e);
        SaveEntity(txn, e);
        return e;
      });
}

absl::StatusOr<Message> ExchangeService::PostMessage(
    const Principal& caller, const v1::PostMessageRequest& req) {
  absl::Notification posted;
  absl::StatusOr<Message> result;
  PostMessageAsync(caller, req, [&](absl::StatusOr<Message> r) {
    result = std::move(r);
    posted.Notify();
  });
  posted.WaitForNotification();
  return result;
}

void ExchangeService::PostMessageAsync(
    const Principal& caller, const v1::PostMessageRequest& req,
    std::function<void(absl::StatusOr<Message>)> done) {
  absl::StatusOr<std::string> checked = CheckPost(caller, req);
  if (!checked.ok()) {
    done(checked.status());
    return;
  }
  const Message& in = req.message();
  CommitForResponseAsync<Message>(
      store_, caller, "PostMessage", req, req.request_id(),
      [&req, &in, group_name = *std::move(checked)](
          Txn& txn,
          [[maybe_unused]] const Reader& reader) -> absl::StatusOr<Message> {
        const Principal& caller = reader.caller();
        // The caller's membership, checked atomically with the post.
        COHORTE_ASSIGN_OR_RETURN(PeerGroup group,
                                 reader.GroupForContent(group_name));
        COHORTE_RETURN_IF_ERROR(CheckRecordLinks(reader, "message.attachments",
                                                 in.attachments(), v1::GROUP,
                                                 group_name));
        // Recipients: followers of the exchange and of the group who may
        // read the group.
        std::vector<std::string> followers;
        for (const std::string& target : {req.parent(), group.name()}) {
          COHORTE_ASSIGN_OR_RETURN(std::vector<std::string> f,
                                   FollowersOf(txn, target));
          followers.insert(followers.end(), f.begin(), f.end());
        }
        COHORTE_ASSIGN_OR_RETURN(Exchange e,
                                 LoadEntity<Exchange>(txn, req.parent()));
        if (e.state() == Exchange::CLOSED) {
          return ErrorWithReason(
              absl::StatusCode::kFailedPrecondition, kReasonWrongState,
              absl::StrCat(e.name(), " is closed: no new message"));
        }
        std::map<std::string, v1::InboxItem::Kind> recipients;
        for (const std::string& f : followers) {
          if (MemberMayRead(txn, f, group)) {
            recipients[f] = v1::InboxItem::NEW_MESSAGE;
          }
        }
        if (!in.reply_to().empty()) {
          absl::StatusOr<Message> parent =
              LoadEntity<Message>(txn, in.reply_to());
          if (absl::IsNotFound(parent.status())) {
            return InvalidField("message.reply_to", "does not exist");
          }
          COHORTE_RETURN_IF_ERROR(parent.status());
          if (!parent->reply_to().empty()) {
            return InvalidField(
                "message.reply_to",
                absl::StrCat("is itself a reply; reply to ", parent->reply_to(),
                             " (one level of threads)"));
          }
          if (MemberMayRead(txn, parent->author(), group)) {
            recipients[parent->author()] = v1::InboxItem::REPLY;
          }
        }
        for (const std::string& mentioned : Mentions(in.body())) {
          if (MemberMayRead(txn, mentioned, group)) {
            recipients[mentioned] = v1::InboxItem::MENTION;
          }
        }
        Message m;
        m.set_name(
            absl::StrCat(e.name(), "/messages/",
                         storage::SequenceId("m", e.message_count() + 1)));
        m.set_body(in.body());
        m.set_author(caller.member);
        m.set_reply_to(in.reply_to());
        *m.mutable_attachments() = in.attachments();
        CreateSequencedEntity(txn, m);
        // One's own message is never news to oneself: an author who had
        // read everything stays so.
        {
          if (LastRead(reader, e.name()) >= e.message_count()) {
            storage::v1::ReadMarkerRecord next;
            next.set_last_read(e.message_count() + 1);
            next.set_member(caller.member);
            next.set_exchange(e.name());
            txn.PutEntity(MarkerName(caller.member, e.name()), next);
          }
        }
        e.set_message_count(e.message_count() + 1);
        *e.mutable_last_message_time() = ToTimestamp(txn.commit_time());
        SaveEntity(txn, e);
        v1::InboxItem item;
        item.set_resource(m.name());
        item.set_context(e.name());
        item.set_title(e.title());
        item.set_actor(caller.member);
        COHORTE_RETURN_IF_ERROR(NotifyMembers(txn, recipients, item));
        return m;
      },
      std::move(done));
}

absl::StatusOr<std::string> ExchangeService::CheckPost(
    const Principal& caller, const v1::PostMessageRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(std::string group_name,
                           ParseNestedName("parent", req.parent(),
                                           {"cohorts", "groups", "exchanges"}));
  COHORTE_RETURN_IF_ERROR(
      Reader(store_, caller).GroupForContent(group_name).status());
  const Message& in = req.message();
  COHORTE_RETURN_IF_ERROR(CheckBody("message.body", in.body()));
  if (in.attachments_size() > kMaxAttachmentsPerMessage) {
    return InvalidField(
        "message.attachments",
        absl::StrCat("has more than ", kMaxAttachmentsPerMessage));
  }
  const std::string cohort(CohortOf(req.parent()));
  for (const std::string& a : in.attachments()) {
    COHORTE_ASSIGN_OR_RETURN(
        std::string record_cohort,
        ParseCohortChildName("message.attachments", a, "records"));
    if (record_cohort != cohort) {
      return InvalidField("message.attachments",
                          absl::StrCat(a, " is not a record of ", cohort));
    }
  }
  if (!in.reply_to().empty()) {
    COHORTE_ASSIGN_OR_RETURN(
        std::string reply_exchange,
        ParseNestedName("message.reply_to", in.reply_to(),
                        {"cohorts", "groups", "exchanges", "messages"}));
    if (reply_exchange != req.parent()) {
      return InvalidField("message.reply_to",
                          "is a message of another exchange");
    }
  }
  COHORTE_RETURN_IF_ERROR(CheckRequestId("request_id", req.request_id()));
  return group_name;
}

absl::StatusOr<Message> ExchangeService::GetMessage(
    const Principal& caller, const v1::GetMessageRequest& req) {
  COHORTE_RETURN_IF_ERROR(AuthorizeMessage(Reader(store_, caller), req.name()));
  return Reader(store_, caller).Get<Message>(req.name());
}

absl::StatusOr<v1::ListMessagesResponse> ExchangeService::ListMessages(
    const Principal& caller, const v1::ListMessagesRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(std::string group,
                           ParseNestedName("parent", req.parent(),
                                           {"cohorts", "groups", "exchanges"}));
  COHORTE_RETURN_IF_ERROR(
      Reader(store_, caller).GroupForContent(group).status());
  if (req.has_since() &&
      (req.since().seconds() < TimeUtil::kTimestampMinSeconds ||
       req.since().seconds() > TimeUtil::kTimestampMaxSeconds ||
       req.since().nanos() < 0 || req.since().nanos() > 999999999)) {
    return InvalidField("since", "is not a valid timestamp");
  }
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  COHORTE_RETURN_IF_ERROR(
      Reader(store_, caller).Get<Exchange>(req.parent()).status());
  const int64_t last_read =
      req.unread_only() ? LastRead(Reader(store_, caller), req.parent()) : 0;
  const int64_t since = req.has_since()
                            ? TimeUtil::TimestampToNanoseconds(req.since())
                            : INT64_MIN;
  v1::ListMessagesResponse response;
  COHORTE_ASSIGN_OR_RETURN(
      *response.mutable_next_page_token(),
      Reader(store_, caller)
          .List<Message>(
              storage::CollectionPrefixOf<v1::Message>(req.parent(),
                                                       "messages"),
              page,
              [&](Message& m) {
                if (m.has_delete_time() && !req.show_deleted()) return false;
                if (SequenceOf(m.name()) <= last_read) return false;
                if (TimeUtil::TimestampToNanoseconds(m.create_time()) < since) {
                  return false;
                }
                return true;
              },
              response.mutable_messages(), req.newest_first()));
  return response;
}

absl::StatusOr<Message> ExchangeService::EditMessage(
    const Principal& caller, const v1::EditMessageRequest& req) {
  COHORTE_RETURN_IF_ERROR(AuthorizeMessage(Reader(store_, caller), req.name()));
  COHORTE_RETURN_IF_ERROR(CheckBody("body", req.body()));
  return CommitForResponse<Message>(
      store_, caller, "EditMessage", req, /*request_id=*/"",
      [&](Txn& txn,
          [[maybe_unused]] const Reader& reader) -> absl::StatusOr<Message> {
        COHORTE_ASSIGN_OR_RETURN(Message m, LoadOwnMessage(reader, req.name()));
        COHORTE_RETURN_IF_ERROR(CheckEtag(m.name(), m.etag(), req.etag()));
        if (m.has_delete_time() || m.hidden()) {
          return ErrorWithReason(
              absl::StatusCode::kFailedPrecondition, kReasonWrongState,
              absl::StrCat(m.name(), " is deleted or hidden"));
        }
        if (m.body() == req.body()) return m;
        Message::Edit* edit = m.add_edits();
        edit->set_editor(caller.member);
        *edit->mutable_edit_time() = ToTimestamp(txn.commit_time());
        edit->set_previous_body(m.body());
        // A mention the edit adds reaches who may read the group.
        const std::vector<std::string> before = Mentions(m.body());
        m.set_body(req.body());
        SaveEntity(txn, m);
        COHORTE_ASSIGN_OR_RETURN(
            PeerGroup group,
            reader.GroupForContent(GroupOfExchange(
                m.name().substr(0, m.name().find("/messages/")))));
        std::map<std::string, v1::InboxItem::Kind> recipients;
        for (const std::string& mentioned : Mentions(m.body())) {
          if (std::find(before.begin(), before.end(), mentioned) ==
                  before.end() &&
              MemberMayRead(txn, mentioned, group)) {
            recipients[mentioned] = v1::InboxItem::MENTION;
          }
        }
        const std::string exchange =
            m.name().substr(0, m.name().find("/messages/"));
        COHORTE_ASSIGN_OR_RETURN(Exchange e, reader.Load<Exchange>(exchange));
        v1::InboxItem item;
        item.set_resource(m.name());
        item.set_context(exchange);
        item.set_title(e.title());
        item.set_actor(caller.member);
        COHORTE_RETURN_IF_ERROR(NotifyMembers(txn, recipients, item));
        return m;
      });
}

absl::StatusOr<Message> ExchangeService::DeleteMessage(
    const Principal& caller, const v1::DeleteMessageRequest& req) {
  COHORTE_RETURN_IF_ERROR(AuthorizeMessage(Reader(store_, caller), req.name()));
  return CommitForResponse<Message>(
      store_, caller, "DeleteMessage", req, /*request_id=*/"",
      [&](Txn& txn,
          [[maybe_unused]] const Reader& reader) -> absl::StatusOr<Message> {
        COHORTE_ASSIGN_OR_RETURN(Message m, LoadOwnMessage(reader, req.name()));
        COHORTE_RETURN_IF_ERROR(CheckEtag(m.name(), m.etag(), req.etag()));
        if (m.has_delete_time()) {
          return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                                 kReasonWrongState,
                                 absl::StrCat(m.name(), " is already deleted"));
        }
        *m.mutable_delete_time() = ToTimestamp(txn.commit_time());
        SaveEntity(txn, m);
        return m;
      });
}

absl::StatusOr<Message> ExchangeService::UndeleteMessage(
    const Principal& caller, const v1::UndeleteMessageRequest& req) {
  COHORTE_RETURN_IF_ERROR(AuthorizeMessage(Reader(store_, caller), req.name()));
  return CommitForResponse<Message>(
      store_, caller, "UndeleteMessage", req, /*request_id=*/"",
      [&](Txn& txn,
          [[maybe_unused]] const Reader& reader) -> absl::StatusOr<Message> {
        COHORTE_ASSIGN_OR_RETURN(Message m, LoadOwnMessage(reader, req.name()));
        if (!m.has_delete_time()) {
          return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                                 kReasonWrongState,
                                 absl::StrCat(m.name(), " is not deleted"));
        }
        m.clear_delete_time();
        SaveEntity(txn, m);
        return m;
      });
}

absl::StatusOr<v1::MarkExchangeReadResponse> ExchangeService::MarkExchangeRead(
    const Principal& caller, const v1::MarkExchangeReadRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(
      std::string group,
      ParseNestedName("name", req.name(), {"cohorts", "groups", "exchanges"}));
  COHORTE_RETURN_IF_ERROR(
      Reader(store_, caller).GroupForContent(group).status());
  if (!req.message().empty()) {
    COHORTE_ASSIGN_OR_RETURN(
        std::string exchange,
        ParseNestedName("message", req.message(),
                        {"cohorts", "groups", "exchanges", "messages"}));
    if (exchange != req.name()) {
      return InvalidField("message", "is a message of another exchange");
    }
  }
  return CommitForResponse<v1::MarkExchangeReadResponse>(
      store_, caller, "MarkExchangeRead", req, /*request_id=*/"",
      [&](Txn& txn, [[maybe_unused]] const Reader& reader)
          -> absl::StatusOr<v1::MarkExchangeReadResponse> {
        COHORTE_ASSIGN_OR_RETURN(Exchange e, reader.Load<Exchange>(req.name()));
        int64_t last = e.message_count();
        if (!req.message().empty()) {
          COHORTE_RETURN_IF_ERROR(reader.Load<Message>(req.message()).status());
          last = SequenceOf(req.message());
        }
        // A marker only moves forward: marking an older message read
        // (a page read again) leaves what was read after it read.
        last = std::max(last, LastRead(reader, e.name()));
        storage::v1::ReadMarkerRecord marker;
        marker.set_last_read(last);
        marker.set_member(caller.member);
        marker.set_exchange(e.name());
        txn.PutEntity(MarkerName(caller.member, e.name()), marker);
        v1::MarkExchangeReadResponse response;
        const int64_t unread = e.message_count() - last;
        e.set_unread_count(unread > 0 ? unread : 0);
        *response.mutable_exchange() = e;
        return response;
      });
}

}  // namespace cohorte::service
