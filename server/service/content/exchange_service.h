// File: server/service/content/exchange_service.h
//
// ExchangeService: the exchanges (threads) of a closed peer group and their
// messages, with edit history, soft delete by the author, one level of
// threading, and per-member read markers. Every call goes through the read
// gate (Reader::GroupForContent, the Exchange and Message read rules, which
// also present a message: no text while deleted or hidden, edit history
// for its author and facilitators): the group's members, and nobody else,
// read and write here. New messages notify followers, the author of the message
// replied to and mentioned members (Inbox), each only if they may read the
// group. No gRPC. Thread-safe; `store` must outlive it.
#ifndef COHORTE_SERVER_SERVICE_CONTENT_EXCHANGE_SERVICE_H_
#define COHORTE_SERVER_SERVICE_CONTENT_EXCHANGE_SERVICE_H_

#include <functional>

#include "absl/status/statusor.h"
#include "cohorte/v1/exchanges.pb.h"
#include "server/service/access/principal.h"
#include "storage/store.h"

namespace cohorte::service {

class ExchangeService {
 public:
  explicit ExchangeService(storage::Store* store) : store_(*store) {}
  ExchangeService(const ExchangeService&) = delete;
  ExchangeService& operator=(const ExchangeService&) = delete;

  // INVALID_ARGUMENT naming the field for a bad title, kind, tag (not in
  // the référentiel) or first message.
  absl::StatusOr<v1::Exchange> CreateExchange(
      const Principal& caller, const v1::CreateExchangeRequest& req);
  absl::StatusOr<v1::Exchange> GetExchange(const Principal& caller,
                                           const v1::GetExchangeRequest& req);
  // Newest first, each with the caller's unread_count.
  absl::StatusOr<v1::ListExchangesResponse> ListExchanges(
      const Principal& caller, const v1::ListExchangesRequest& req);
  // The exchange's author or the group's facilitators; PERMISSION_DENIED
  // for other members.
  absl::StatusOr<v1::Exchange> UpdateExchange(
      const Principal& caller, const v1::UpdateExchangeRequest& req);
  // FAILED_PRECONDITION (WRONG_STATE) if the exchange is CLOSED;
  // INVALID_ARGUMENT (reply_to) for a message of another exchange or a
  // reply.
  absl::StatusOr<v1::Message> PostMessage(const Principal& caller,
                                          const v1::PostMessageRequest& req);
  // PostMessage without blocking the calling thread on the group commit
  // (CommitForResponseAsync): `done` gets what PostMessage would return,
  // exactly once, maybe before PostMessageAsync returns, maybe on the
  // thread that led the commit. `req` must stay valid until `done` ran.
  void PostMessageAsync(const Principal& caller,
                        const v1::PostMessageRequest& req,
                        std::function<void(absl::StatusOr<v1::Message>)> done);
  absl::StatusOr<v1::Message> GetMessage(const Principal& caller,
                                         const v1::GetMessageRequest& req);
  absl::StatusOr<v1::ListMessagesResponse> ListMessages(
      const Principal& caller, const v1::ListMessagesRequest& req);
  // The author only (PERMISSION_DENIED for anyone else); FAILED_PRECONDITION
  // on a deleted or hidden message.
  absl::StatusOr<v1::Message> EditMessage(const Principal& caller,
                                          const v1::EditMessageRequest& req);
  absl::StatusOr<v1::Message> DeleteMessage(
      const Principal& caller, const v1::DeleteMessageRequest& req);
  absl::StatusOr<v1::Message> UndeleteMessage(
      const Principal& caller, const v1::UndeleteMessageRequest& req);
  absl::StatusOr<v1::MarkExchangeReadResponse> MarkExchangeRead(
      const Principal& caller, const v1::MarkExchangeReadRequest& req);

 private:
  // PostMessage's checks that need no transaction (names, limits, that the
  // caller may post in the group as committed): the group's name, or the
  // error to answer. Checked again inside the mutation.
  absl::StatusOr<std::string> CheckPost(const Principal& caller,
                                        const v1::PostMessageRequest& req);
  storage::Store& store_;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_CONTENT_EXCHANGE_SERVICE_H_
