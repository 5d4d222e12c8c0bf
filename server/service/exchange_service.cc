#include "server/service/exchange_service.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cohorte/storage/v1/records.pb.h"
#include "cohorte/v1/groups.pb.h"
#include "cohorte/v1/members.pb.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/entities.h"
#include "server/service/errors.h"
#include "server/service/group_service.h"
#include "server/service/inbox.h"
#include "server/service/limits.h"
#include "server/service/mutations.h"
#include "server/service/policy.h"
#include "server/service/referentiel.h"
#include "server/service/validation.h"
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
  const size_t slash = name.rfind("/m");
  int64_t seq = 0;
  if (slash == absl::string_view::npos ||
      !absl::SimpleAtoi(name.substr(slash + 2), &seq)) {
    return 0;
  }
  return seq;
}

std::string MarkerKey(absl::string_view member, absl::string_view exchange) {
  std::string name(member);
  name.push_back('\0');
  name.append(exchange.data(), exchange.size());
  return storage::EntityKey(EntityKind::kReadMarker, name);
}

int64_t LastRead(const storage::Store& store, absl::string_view member,
                 absl::string_view exchange) {
  storage::v1::ReadMarkerRecord marker;
  if (!store.GetProto(Table::kEntities, MarkerKey(member, exchange), &marker)
           .ok()) {
    return 0;
  }
  return marker.last_read();
}

Exchange WithUnread(const storage::Store& store, const Principal& caller,
                    Exchange e) {
  const int64_t unread =
      e.message_count() - LastRead(store, caller.member, e.name());
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
  if (paths.count("kind") && (e.kind() == Exchange::KIND_UNSPECIFIED ||
                              !Exchange::Kind_IsValid(e.kind()))) {
    return InvalidField("exchange.kind", "is required");
  }
  if (paths.count("state") && (e.state() == Exchange::STATE_UNSPECIFIED ||
                               !Exchange::State_IsValid(e.state()))) {
    return InvalidField("exchange.state", "is required");
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
  absl::StatusOr<v1::Member> m =
      LoadEntity<v1::Member>(txn, EntityKind::kMember, name);
  return m.ok() && IsGroupMember(Principal::FromMember(*m, ""), group);
}

// Loads `name` (a message) inside a mutation for its author: NOT_FOUND,
// PERMISSION_DENIED for someone else's message.
absl::StatusOr<Message> LoadOwnMessage(const Txn& txn, const Principal& caller,
                                       absl::string_view name) {
  COHORTE_ASSIGN_OR_RETURN(
      Message m, LoadEntity<Message>(txn, EntityKind::kMessage, name));
  if (m.author() != caller.member) {
    return PermissionDenied(
        absl::StrCat("change ", name, ": only its author may"));
  }
  return m;
}

// OK if `name` is a message's name and `caller` may read its group.
absl::Status AuthorizeMessage(const storage::Store& store,
                              const Principal& caller, absl::string_view name) {
  COHORTE_ASSIGN_OR_RETURN(
      std::string exchange,
      ParseNestedName("name", name,
                      {"cohorts", "groups", "exchanges", "messages"}));
  return LoadGroupForContent(store, caller, GroupOfExchange(exchange)).status();
}

}  // namespace

Message PresentMessage(Message m) {
  if (m.has_delete_time() || m.hidden()) {
    m.clear_body();
    m.clear_edits();
    m.clear_attachments();
  }
  return m;
}

absl::StatusOr<Exchange> ExchangeService::CreateExchange(
    const Principal& caller, const v1::CreateExchangeRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseNestedName("parent", req.parent(), {"cohorts", "groups"}).status());
  COHORTE_ASSIGN_OR_RETURN(PeerGroup group,
                           LoadGroupForContent(store_, caller, req.parent()));
  COHORTE_RETURN_IF_ERROR(
      CheckExchangeFields(req.exchange(), {"title", "kind", "tags"}));
  if (!req.first_message().empty()) {
    COHORTE_RETURN_IF_ERROR(CheckBody("first_message", req.first_message()));
  }
  COHORTE_RETURN_IF_ERROR(CheckRequestId("request_id", req.request_id()));
  return CommitForResponse<Exchange>(
      store_, caller, "CreateExchange", req, req.request_id(),
      [&](Txn& txn) -> absl::StatusOr<Exchange> {
        Exchange e;
        e.set_name(absl::StrFormat("%s/exchanges/e%012d", req.parent(),
                                   txn.revision()));
        e.set_title(req.exchange().title());
        e.set_kind(req.exchange().kind());
        e.set_state(Exchange::OPEN);
        *e.mutable_tags() = req.exchange().tags();
        e.set_author(caller.member);
        if (!req.first_message().empty()) {
          Message m;
          m.set_name(absl::StrCat(e.name(), "/messages/m000001"));
          m.set_body(req.first_message());
          m.set_author(caller.member);
          CreateEntity(txn, EntityKind::kMessage, m);
          e.set_message_count(1);
          *e.mutable_last_message_time() = ToTimestamp(txn.commit_time());
        }
        CreateEntity(txn, EntityKind::kExchange, e);
        // Followers of the group hear of it.
        absl::StatusOr<std::vector<std::string>> followers =
            FollowersOf(store_, group.name());
        std::map<std::string, v1::InboxItem::Kind> recipients;
        if (followers.ok()) {
          for (const std::string& f : *followers) {
            if (MemberMayRead(txn, f, group)) {
              recipients[f] = v1::InboxItem::NEW_MESSAGE;
            }
          }
        }
        v1::InboxItem item;
        item.set_resource(e.message_count() > 0
                              ? absl::StrCat(e.name(), "/messages/m000001")
                              : e.name());
        item.set_context(e.name());
        item.set_title(e.title());
        item.set_actor(caller.member);
        NotifyMembers(txn, recipients, item);
        e.set_unread_count(0);
        return e;
      });
}

absl::StatusOr<Exchange> ExchangeService::GetExchange(
    const Principal& caller, const v1::GetExchangeRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(
      std::string group,
      ParseNestedName("name", req.name(), {"cohorts", "groups", "exchanges"}));
  COHORTE_RETURN_IF_ERROR(LoadGroupForContent(store_, caller, group).status());
  COHORTE_ASSIGN_OR_RETURN(
      Exchange e,
      ReadEntity<Exchange>(store_, EntityKind::kExchange, req.name()));
  return WithUnread(store_, caller, std::move(e));
}

absl::StatusOr<v1::ListExchangesResponse> ExchangeService::ListExchanges(
    const Principal& caller, const v1::ListExchangesRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseNestedName("parent", req.parent(), {"cohorts", "groups"}).status());
  COHORTE_RETURN_IF_ERROR(
      LoadGroupForContent(store_, caller, req.parent()).status());
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  v1::ListExchangesResponse response;
  COHORTE_ASSIGN_OR_RETURN(
      *response.mutable_next_page_token(),
      ScanPage<Exchange>(
          store_,
          storage::CollectionPrefix(EntityKind::kExchange, req.parent(),
                                    "exchanges"),
          page,
          [&](Exchange& e) {
            e = WithUnread(store_, caller, std::move(e));
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
  COHORTE_ASSIGN_OR_RETURN(PeerGroup group,
                           LoadGroupForContent(store_, caller, group_name));
  const std::set<std::string> allowed = {"title", "kind", "state", "tags"};
  std::set<std::string> paths(req.update_mask().paths().begin(),
                              req.update_mask().paths().end());
  if (paths.empty()) {
    return InvalidField("update_mask",
                        "is required (title, kind, state, tags)");
  }
  for (const std::string& p : paths) {
    if (!allowed.count(p)) {
      return InvalidField(
          "update_mask", absl::StrCat("'", p.substr(0, 64),
                                      "' is not a field of Exchange that can "
                                      "be updated (title, kind, state, tags)"));
    }
  }
  COHORTE_RETURN_IF_ERROR(CheckExchangeFields(req.exchange(), paths));
  COHORTE_RETURN_IF_ERROR(CheckRequestId("request_id", req.request_id()));
  const bool facilitator =
      std::find(group.facilitators().begin(), group.facilitators().end(),
                caller.member) != group.facilitators().end();
  google::protobuf::util::FieldMaskUtil::MergeOptions merge;
  merge.set_replace_repeated_fields(true);
  return CommitForResponse<Exchange>(
      store_, caller, "UpdateExchange", req, req.request_id(),
      [&](Txn& txn) -> absl::StatusOr<Exchange> {
        COHORTE_ASSIGN_OR_RETURN(
            Exchange e, LoadEntity<Exchange>(txn, EntityKind::kExchange, name));
        if (e.author() != caller.member && !facilitator) {
          return PermissionDenied(
              absl::StrCat("update ", name,
                           ": its author and the group's facilitators may"));
        }
        COHORTE_RETURN_IF_ERROR(
            CheckEtag(name, e.etag(), req.exchange().etag()));
        google::protobuf::util::FieldMaskUtil::MergeMessageTo(
            req.exchange(), req.update_mask(), merge, &e);
        SaveEntity(txn, EntityKind::kExchange, e);
        return e;
      });
}

absl::StatusOr<Message> ExchangeService::PostMessage(
    const Principal& caller, const v1::PostMessageRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(std::string group_name,
                           ParseNestedName("parent", req.parent(),
                                           {"cohorts", "groups", "exchanges"}));
  COHORTE_ASSIGN_OR_RETURN(PeerGroup group,
                           LoadGroupForContent(store_, caller, group_name));
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
  // Recipients, from committed state: followers of the exchange and of the
  // group; filtered inside the mutation by who may read the group.
  std::vector<std::string> followers;
  for (const std::string& target : {req.parent(), group.name()}) {
    COHORTE_ASSIGN_OR_RETURN(std::vector<std::string> f,
                             FollowersOf(store_, target));
    followers.insert(followers.end(), f.begin(), f.end());
  }
  return CommitForResponse<Message>(
      store_, caller, "PostMessage", req, req.request_id(),
      [&](Txn& txn) -> absl::StatusOr<Message> {
        COHORTE_ASSIGN_OR_RETURN(
            Exchange e,
            LoadEntity<Exchange>(txn, EntityKind::kExchange, req.parent()));
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
              LoadEntity<Message>(txn, EntityKind::kMessage, in.reply_to());
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
        m.set_name(absl::StrFormat("%s/messages/m%06d", e.name(),
                                   e.message_count() + 1));
        m.set_body(in.body());
        m.set_author(caller.member);
        m.set_reply_to(in.reply_to());
        *m.mutable_attachments() = in.attachments();
        CreateEntity(txn, EntityKind::kMessage, m);
        e.set_message_count(e.message_count() + 1);
        *e.mutable_last_message_time() = ToTimestamp(txn.commit_time());
        SaveEntity(txn, EntityKind::kExchange, e);
        v1::InboxItem item;
        item.set_resource(m.name());
        item.set_context(e.name());
        item.set_title(e.title());
        item.set_actor(caller.member);
        NotifyMembers(txn, recipients, item);
        return m;
      });
}

absl::StatusOr<Message> ExchangeService::GetMessage(
    const Principal& caller, const v1::GetMessageRequest& req) {
  COHORTE_RETURN_IF_ERROR(AuthorizeMessage(store_, caller, req.name()));
  COHORTE_ASSIGN_OR_RETURN(
      Message m, ReadEntity<Message>(store_, EntityKind::kMessage, req.name()));
  return PresentMessage(std::move(m));
}

absl::StatusOr<v1::ListMessagesResponse> ExchangeService::ListMessages(
    const Principal& caller, const v1::ListMessagesRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(std::string group,
                           ParseNestedName("parent", req.parent(),
                                           {"cohorts", "groups", "exchanges"}));
  COHORTE_RETURN_IF_ERROR(LoadGroupForContent(store_, caller, group).status());
  if (req.has_since() &&
      (req.since().seconds() < TimeUtil::kTimestampMinSeconds ||
       req.since().seconds() > TimeUtil::kTimestampMaxSeconds)) {
    return InvalidField("since", "is not a valid timestamp");
  }
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  COHORTE_RETURN_IF_ERROR(
      ReadEntity<Exchange>(store_, EntityKind::kExchange, req.parent())
          .status());
  const int64_t last_read =
      req.unread_only() ? LastRead(store_, caller.member, req.parent()) : 0;
  const int64_t since = req.has_since()
                            ? TimeUtil::TimestampToNanoseconds(req.since())
                            : INT64_MIN;
  v1::ListMessagesResponse response;
  COHORTE_ASSIGN_OR_RETURN(
      *response.mutable_next_page_token(),
      ScanPage<Message>(
          store_,
          storage::CollectionPrefix(EntityKind::kMessage, req.parent(),
                                    "messages"),
          page,
          [&](Message& m) {
            if (m.has_delete_time() && !req.show_deleted()) return false;
            if (SequenceOf(m.name()) <= last_read) return false;
            if (TimeUtil::TimestampToNanoseconds(m.create_time()) < since) {
              return false;
            }
            m = PresentMessage(std::move(m));
            return true;
          },
          response.mutable_messages(), req.newest_first()));
  return response;
}

absl::StatusOr<Message> ExchangeService::EditMessage(
    const Principal& caller, const v1::EditMessageRequest& req) {
  COHORTE_RETURN_IF_ERROR(AuthorizeMessage(store_, caller, req.name()));
  COHORTE_RETURN_IF_ERROR(CheckBody("body", req.body()));
  return CommitForResponse<Message>(
      store_, caller, "EditMessage", req, /*request_id=*/"",
      [&](Txn& txn) -> absl::StatusOr<Message> {
        COHORTE_ASSIGN_OR_RETURN(Message m,
                                 LoadOwnMessage(txn, caller, req.name()));
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
        m.set_body(req.body());
        SaveEntity(txn, EntityKind::kMessage, m);
        return m;
      });
}

absl::StatusOr<Message> ExchangeService::DeleteMessage(
    const Principal& caller, const v1::DeleteMessageRequest& req) {
  COHORTE_RETURN_IF_ERROR(AuthorizeMessage(store_, caller, req.name()));
  return CommitForResponse<Message>(
      store_, caller, "DeleteMessage", req, /*request_id=*/"",
      [&](Txn& txn) -> absl::StatusOr<Message> {
        COHORTE_ASSIGN_OR_RETURN(Message m,
                                 LoadOwnMessage(txn, caller, req.name()));
        COHORTE_RETURN_IF_ERROR(CheckEtag(m.name(), m.etag(), req.etag()));
        if (m.has_delete_time()) {
          return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                                 kReasonWrongState,
                                 absl::StrCat(m.name(), " is already deleted"));
        }
        *m.mutable_delete_time() = ToTimestamp(txn.commit_time());
        SaveEntity(txn, EntityKind::kMessage, m);
        return PresentMessage(m);
      });
}

absl::StatusOr<Message> ExchangeService::UndeleteMessage(
    const Principal& caller, const v1::UndeleteMessageRequest& req) {
  COHORTE_RETURN_IF_ERROR(AuthorizeMessage(store_, caller, req.name()));
  return CommitForResponse<Message>(
      store_, caller, "UndeleteMessage", req, /*request_id=*/"",
      [&](Txn& txn) -> absl::StatusOr<Message> {
        COHORTE_ASSIGN_OR_RETURN(Message m,
                                 LoadOwnMessage(txn, caller, req.name()));
        if (!m.has_delete_time()) {
          return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                                 kReasonWrongState,
                                 absl::StrCat(m.name(), " is not deleted"));
        }
        m.clear_delete_time();
        SaveEntity(txn, EntityKind::kMessage, m);
        return PresentMessage(m);
      });
}

absl::StatusOr<v1::MarkExchangeReadResponse> ExchangeService::MarkExchangeRead(
    const Principal& caller, const v1::MarkExchangeReadRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(
      std::string group,
      ParseNestedName("name", req.name(), {"cohorts", "groups", "exchanges"}));
  COHORTE_RETURN_IF_ERROR(LoadGroupForContent(store_, caller, group).status());
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
      [&](Txn& txn) -> absl::StatusOr<v1::MarkExchangeReadResponse> {
        COHORTE_ASSIGN_OR_RETURN(
            Exchange e,
            LoadEntity<Exchange>(txn, EntityKind::kExchange, req.name()));
        int64_t last = e.message_count();
        if (!req.message().empty()) {
          COHORTE_RETURN_IF_ERROR(
              LoadEntity<Message>(txn, EntityKind::kMessage, req.message())
                  .status());
          last = SequenceOf(req.message());
        }
        storage::v1::ReadMarkerRecord marker;
        marker.set_last_read(last);
        txn.PutProto(Table::kEntities, MarkerKey(caller.member, e.name()),
                     marker);
        v1::MarkExchangeReadResponse response;
        const int64_t unread = e.message_count() - last;
        e.set_unread_count(unread > 0 ? unread : 0);
        *response.mutable_exchange() = e;
        return response;
      });
}

}  // namespace cohorte::service
