// Exchanges and messages: threads, edit history, soft delete, read
// markers, ordering and paging, closed exchanges, and every limit with its
// field. (Who may read is the confidentiality matrix's.)

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "tests/service/access_fixture.h"

namespace cohorte::service {
namespace {

using ::cohorte::testing::InvalidFieldIs;
using ::cohorte::testing::IsOk;
using ::cohorte::testing::StatusIs;

constexpr char kElus[] = "cohorts/occitanie/groups/elus";

class ExchangeTest : public AccessFixture {
 protected:
  void SetUp() override {
    AccessFixture::SetUp();
    v1::CreateExchangeRequest req;
    req.set_parent(kElus);
    req.mutable_exchange()->set_title("La cantine bio");
    req.mutable_exchange()->set_kind(v1::Exchange::QUESTION);
    req.mutable_exchange()->add_tags("engagement-6");
    req.set_first_message("Qui a essayé ?");
    absl::StatusOr<v1::Exchange> e =
        services_.exchanges->CreateExchange(who("elu-petr"), req);
    ASSERT_THAT(e, IsOk());
    exchange_ = e->name();
  }

  absl::StatusOr<v1::Message> Post(const std::string& as,
                                   const std::string& body,
                                   const std::string& reply_to = "") {
    v1::PostMessageRequest req;
    req.set_parent(exchange_);
    req.mutable_message()->set_body(body);
    req.mutable_message()->set_reply_to(reply_to);
    return services_.exchanges->PostMessage(who(as), req);
  }

  std::vector<std::string> Bodies(const v1::ListMessagesRequest& base,
                                  const std::string& as = "elu-petr") {
    std::vector<std::string> bodies;
    v1::ListMessagesRequest req = base;
    req.set_parent(exchange_);
    do {
      absl::StatusOr<v1::ListMessagesResponse> page =
          services_.exchanges->ListMessages(who(as), req);
      EXPECT_THAT(page, IsOk());
      if (!page.ok()) break;
      for (const auto& m : page->messages()) bodies.push_back(m.body());
      req.set_page_token(page->next_page_token());
    } while (!req.page_token().empty());
    return bodies;
  }

  std::string exchange_;
};

TEST_F(ExchangeTest, MessagesListOldestOrNewestFirstAcrossPages) {
  for (int i = 2; i <= 7; ++i) {
    ASSERT_THAT(Post(i % 2 ? "elu-petr" : "elu-coteaux", absl::StrCat("m", i)),
                IsOk());
  }
  v1::ListMessagesRequest req;
  req.set_page_size(4);
  EXPECT_THAT(Bodies(req), ::testing::ElementsAre("Qui a essayé ?", "m2", "m3",
                                                  "m4", "m5", "m6", "m7"));
  req.set_newest_first(true);
  req.set_page_size(3);
  EXPECT_THAT(Bodies(req), ::testing::ElementsAre("m7", "m6", "m5", "m4", "m3",
                                                  "m2", "Qui a essayé ?"));
  // A page token is bound to its query.
  v1::ListMessagesRequest first;
  first.set_parent(exchange_);
  first.set_page_size(2);
  absl::StatusOr<v1::ListMessagesResponse> page =
      services_.exchanges->ListMessages(who("elu-petr"), first);
  ASSERT_THAT(page, IsOk());
  first.set_page_token(page->next_page_token());
  first.set_newest_first(true);
  EXPECT_THAT(services_.exchanges->ListMessages(who("elu-petr"), first),
              InvalidFieldIs("page_token"));
}

TEST_F(ExchangeTest, ReadMarkersSayWhatIsNewForEachMember) {
  ASSERT_THAT(Post("elu-coteaux", "deux"), IsOk());
  v1::GetExchangeRequest get;
  get.set_name(exchange_);
  EXPECT_EQ(
      services_.exchanges->GetExchange(who("elu-coteaux"), get)->unread_count(),
      2);
  v1::MarkExchangeReadRequest mark;
  mark.set_name(exchange_);
  mark.set_message(exchange_ + "/messages/m000001");
  absl::StatusOr<v1::MarkExchangeReadResponse> marked =
      services_.exchanges->MarkExchangeRead(who("elu-coteaux"), mark);
  ASSERT_THAT(marked, IsOk());
  EXPECT_EQ(marked->exchange().unread_count(), 1);
  v1::ListMessagesRequest unread;
  unread.set_unread_only(true);
  EXPECT_THAT(Bodies(unread, "elu-coteaux"), ::testing::ElementsAre("deux"));
  ASSERT_THAT(Post("elu-petr", "trois"), IsOk());
  EXPECT_THAT(Bodies(unread, "elu-coteaux"),
              ::testing::ElementsAre("deux", "trois"));
  mark.clear_message();
  ASSERT_THAT(services_.exchanges->MarkExchangeRead(who("elu-coteaux"), mark),
              IsOk());
  EXPECT_TRUE(Bodies(unread, "elu-coteaux").empty());
  // Markers are per member.
  EXPECT_EQ(Bodies(unread, "elu-petr").size(), 3u);
}

TEST_F(ExchangeTest, SinceKeepsLaterMessagesOnly) {
  ASSERT_THAT(Post("elu-coteaux", "avant"), IsOk());
  // (TimeUtil::GetCurrentTime has whole seconds here: too coarse.)
  const google::protobuf::Timestamp cut =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
          absl::ToUnixNanos(absl::Now()));
  ASSERT_THAT(Post("elu-coteaux", "après"), IsOk());
  v1::ListMessagesRequest req;
  *req.mutable_since() = cut;
  EXPECT_THAT(Bodies(req), ::testing::ElementsAre("après"));
  // Not a timestamp: nanos out of [0, 999999999].
  req.set_parent(exchange_);
  for (int nanos : {-5, 1000000000}) {
    req.mutable_since()->set_seconds(1);
    req.mutable_since()->set_nanos(nanos);
    EXPECT_THAT(services_.exchanges->ListMessages(who("elu-petr"), req),
                InvalidFieldIs("since"))
        << nanos;
  }
}

TEST_F(ExchangeTest, EditsKeepTheirHistoryAndOnlyTheAuthorEdits) {
  absl::StatusOr<v1::Message> m = Post("elu-coteaux", "premier jet");
  ASSERT_THAT(m, IsOk());
  v1::EditMessageRequest edit;
  edit.set_name(m->name());
  edit.set_body("version corrigée");
  EXPECT_THAT(services_.exchanges->EditMessage(who("elu-petr"), edit),
              StatusIs(absl::StatusCode::kPermissionDenied));
  absl::StatusOr<v1::Message> edited =
      services_.exchanges->EditMessage(who("elu-coteaux"), edit);
  ASSERT_THAT(edited, IsOk());
  EXPECT_EQ(edited->body(), "version corrigée");
  ASSERT_EQ(edited->edits_size(), 1);
  EXPECT_EQ(edited->edits(0).previous_body(), "premier jet");
  EXPECT_EQ(edited->edits(0).editor(), "members/elu-coteaux");
  edit.set_etag("1");
  EXPECT_THAT(services_.exchanges->EditMessage(who("elu-coteaux"), edit),
              StatusIs(absl::StatusCode::kAborted, kReasonEtagMismatch));
}

TEST_F(ExchangeTest, AuthorsSoftDeleteAndUndeleteTheirOwn) {
  absl::StatusOr<v1::Message> m = Post("elu-coteaux", "à retirer");
  ASSERT_THAT(m, IsOk());
  v1::DeleteMessageRequest del;
  del.set_name(m->name());
  EXPECT_THAT(services_.exchanges->DeleteMessage(who("elu-petr"), del),
              StatusIs(absl::StatusCode::kPermissionDenied));
  absl::StatusOr<v1::Message> deleted =
      services_.exchanges->DeleteMessage(who("elu-coteaux"), del);
  ASSERT_THAT(deleted, IsOk());
  EXPECT_TRUE(deleted->has_delete_time());
  EXPECT_EQ(deleted->body(), "");
  EXPECT_THAT(Bodies({}), ::testing::ElementsAre("Qui a essayé ?"));
  v1::ListMessagesRequest with_deleted;
  with_deleted.set_show_deleted(true);
  EXPECT_THAT(Bodies(with_deleted),
              ::testing::ElementsAre("Qui a essayé ?", ""));
  EXPECT_THAT(services_.exchanges->DeleteMessage(who("elu-coteaux"), del),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  v1::UndeleteMessageRequest undel;
  undel.set_name(m->name());
  absl::StatusOr<v1::Message> back =
      services_.exchanges->UndeleteMessage(who("elu-coteaux"), undel);
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->body(), "à retirer");
}

TEST_F(ExchangeTest, ThreadsAreOneLevelWithinOneExchange) {
  const std::string root = exchange_ + "/messages/m000001";
  absl::StatusOr<v1::Message> reply = Post("elu-coteaux", "réponse", root);
  ASSERT_THAT(reply, IsOk());
  const int64_t revision = store_->revision();
  EXPECT_THAT(Post("elu-petr", "réponse à la réponse", reply->name()),
              InvalidFieldIs("message.reply_to"));
  EXPECT_THAT(Post("elu-petr", "ailleurs",
                   "cohorts/occitanie/groups/elus/exchanges/e000000000999/"
                   "messages/m000001"),
              InvalidFieldIs("message.reply_to"));
  EXPECT_THAT(Post("elu-petr", "absent", exchange_ + "/messages/m000099"),
              InvalidFieldIs("message.reply_to"));
  EXPECT_EQ(store_->revision(), revision);
}

TEST_F(ExchangeTest, AClosedExchangeTakesNoMessage) {
  v1::UpdateExchangeRequest close;
  close.mutable_exchange()->set_name(exchange_);
  close.mutable_exchange()->set_state(v1::Exchange::CLOSED);
  close.mutable_update_mask()->add_paths("state");
  // Another member of the group is neither its author nor a facilitator.
  EXPECT_THAT(services_.exchanges->UpdateExchange(who("elu-coteaux"), close),
              StatusIs(absl::StatusCode::kPermissionDenied));
  ASSERT_THAT(services_.exchanges->UpdateExchange(who("elu-petr"), close),
              IsOk());
  EXPECT_THAT(
      Post("elu-coteaux", "trop tard"),
      StatusIs(absl::StatusCode::kFailedPrecondition, kReasonWrongState));
}

TEST_F(ExchangeTest, EveryLimitNamesItsFieldAndWritesNothing) {
  const int64_t before = store_->revision();
  auto create = [&](const v1::CreateExchangeRequest& req) {
    return services_.exchanges->CreateExchange(who("elu-petr"), req);
  };
  v1::CreateExchangeRequest req;
  req.set_parent(kElus);
  req.mutable_exchange()->set_kind(v1::Exchange::DEBATE);
  req.mutable_exchange()->set_title(
      std::string(kMaxExchangeTitleChars + 1, 'x'));
  EXPECT_THAT(create(req), InvalidFieldIs("exchange.title"));
  req.mutable_exchange()->set_title("");
  EXPECT_THAT(create(req), InvalidFieldIs("exchange.title"));
  req.mutable_exchange()->set_title("t");
  req.mutable_exchange()->set_kind(v1::Exchange::KIND_UNSPECIFIED);
  EXPECT_THAT(create(req), InvalidFieldIs("exchange.kind"));
  // A number no kind has is not "required": it says what is wrong.
  req.mutable_exchange()->set_kind(static_cast<v1::Exchange::Kind>(99));
  absl::StatusOr<v1::Exchange> unknown = create(req);
  EXPECT_THAT(unknown, InvalidFieldIs("exchange.kind"));
  EXPECT_THAT(std::string(unknown.status().message()),
              ::testing::HasSubstr("no value numbered 99"));
  req.mutable_exchange()->set_kind(v1::Exchange::DEBATE);
  req.mutable_exchange()->add_tags("engagement-99");
  EXPECT_THAT(create(req), InvalidFieldIs("exchange.tags"));
  req.mutable_exchange()->clear_tags();
  for (int i = 1; i <= kMaxTagsPerItem + 1; ++i) {
    req.mutable_exchange()->add_tags(absl::StrCat("engagement-mf-", i % 3 + 1));
  }
  EXPECT_THAT(create(req), InvalidFieldIs("exchange.tags"));
  req.mutable_exchange()->clear_tags();
  req.set_first_message(std::string(kMaxMessageBodyChars + 1, 'x'));
  EXPECT_THAT(create(req), InvalidFieldIs("first_message"));
  EXPECT_EQ(store_->revision(), before);

  EXPECT_THAT(Post("elu-petr", ""), InvalidFieldIs("message.body"));
  EXPECT_THAT(Post("elu-petr", std::string(kMaxMessageBodyChars + 1, 'x')),
              InvalidFieldIs("message.body"));
  v1::PostMessageRequest post;
  post.set_parent(exchange_);
  post.mutable_message()->set_body("pièces jointes");
  for (int i = 0; i <= kMaxAttachmentsPerMessage; ++i) {
    post.mutable_message()->add_attachments(
        absl::StrCat("cohorts/occitanie/records/r", i));
  }
  EXPECT_THAT(services_.exchanges->PostMessage(who("elu-petr"), post),
              InvalidFieldIs("message.attachments"));
  post.mutable_message()->clear_attachments();
  post.mutable_message()->add_attachments("cohorts/autre/records/r1");
  EXPECT_THAT(services_.exchanges->PostMessage(who("elu-petr"), post),
              InvalidFieldIs("message.attachments"));
  EXPECT_EQ(store_->revision(), before);
  // At the bounds: accepted.
  EXPECT_THAT(Post("elu-petr", std::string(kMaxMessageBodyChars, 'x')), IsOk());
  req.set_first_message("");
  req.mutable_exchange()->set_title(std::string(kMaxExchangeTitleChars, 'x'));
  EXPECT_THAT(create(req), IsOk());
}

// One's own messages are never unread; marking read never moves back.
TEST_F(ExchangeTest, OwnMessagesAreNotNewsAndMarkersOnlyMoveForward) {
  v1::MarkExchangeReadRequest read;
  read.set_name(exchange_);
  ASSERT_THAT(services_.exchanges->MarkExchangeRead(who("elu-petr"), read),
              IsOk());
  ASSERT_THAT(Post("elu-petr", "moi-même"), IsOk());
  ASSERT_THAT(Post("elu-petr", "encore moi"), IsOk());
  v1::GetExchangeRequest get;
  get.set_name(exchange_);
  absl::StatusOr<v1::Exchange> mine =
      services_.exchanges->GetExchange(who("elu-petr"), get);
  ASSERT_THAT(mine, IsOk());
  EXPECT_EQ(mine->unread_count(), 0);
  absl::StatusOr<v1::Exchange> theirs =
      services_.exchanges->GetExchange(who("elu-coteaux"), get);
  ASSERT_THAT(theirs, IsOk());
  EXPECT_GE(theirs->unread_count(), 2);
  // Marking the first message read after all was read changes nothing.
  read.set_message(exchange_ + "/messages/m000001");
  ASSERT_THAT(services_.exchanges->MarkExchangeRead(who("elu-petr"), read),
              IsOk());
  EXPECT_EQ(
      services_.exchanges->GetExchange(who("elu-petr"), get)->unread_count(),
      0);
}

}  // namespace
}  // namespace cohorte::service
