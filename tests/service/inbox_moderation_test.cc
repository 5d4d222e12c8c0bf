// Follows and the inbox (what is new for a member, and never what they can
// no longer read), and moderation (flags, the queue, hiding, the audit log
// without content).

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/core/errors.h"
#include "tests/service/access_fixture.h"

namespace cohorte::service {
namespace {

using ::cohorte::testing::InvalidFieldIs;
using ::cohorte::testing::IsOk;
using ::cohorte::testing::StatusIs;

constexpr char kElus[] = "cohorts/occitanie/groups/elus";

class InboxModerationTest : public AccessFixture {
 protected:
  void SetUp() override {
    AccessFixture::SetUp();
    v1::CreateExchangeRequest req;
    req.set_parent(kElus);
    req.mutable_exchange()->set_title("Entre élus");
    req.mutable_exchange()->set_kind(v1::Exchange::SHARING);
    req.set_first_message("Premier message");
    absl::StatusOr<v1::Exchange> e =
        services_.exchanges->CreateExchange(who("elu-petr"), req);
    ASSERT_THAT(e, IsOk());
    exchange_ = e->name();
  }

  absl::StatusOr<v1::Message> Post(const std::string& as,
                                   const std::string& body) {
    v1::PostMessageRequest req;
    req.set_parent(exchange_);
    req.mutable_message()->set_body(body);
    return services_.exchanges->PostMessage(who(as), req);
  }

  std::vector<std::string> Inbox(const Principal& p) {
    std::vector<std::string> kinds;
    absl::StatusOr<v1::ListInboxResponse> r = services_.inbox->ListInbox(p, {});
    EXPECT_THAT(r, IsOk());
    if (!r.ok()) return kinds;
    for (const auto& item : r->items()) {
      // Arrivals in groups are tested on their own (GroupReaders*).
      if (item.kind() == v1::InboxItem::GROUP_READER_ADDED) continue;
      kinds.push_back(absl::StrCat(v1::InboxItem::Kind_Name(item.kind()), " ",
                                   item.resource()));
    }
    return kinds;
  }

  std::string exchange_;
};

TEST_F(InboxModerationTest, FollowersHearOfNewMessagesUntilTheyLeave) {
  v1::FollowRequest follow;
  follow.set_target(exchange_);
  ASSERT_THAT(services_.inbox->Follow(who("elu-coteaux"), follow), IsOk());
  // The agent may not follow what they may not read.
  EXPECT_THAT(services_.inbox->Follow(who("agent-petr"), follow),
              StatusIs(absl::StatusCode::kPermissionDenied));
  ASSERT_THAT(Post("elu-petr", "Du nouveau"), IsOk());
  EXPECT_THAT(
      Inbox(who("elu-coteaux")),
      ::testing::ElementsAre("NEW_MESSAGE " + exchange_ + "/messages/m000002"));
  // The poster hears nothing of their own message.
  EXPECT_TRUE(Inbox(who("elu-petr")).empty());

  // elu-coteaux becomes an agent: the item is no longer theirs to see.
  v1::UpdateMemberRequest update;
  update.mutable_member()->set_name("members/elu-coteaux");
  update.mutable_member()->set_college(v1::AGENT);
  update.mutable_update_mask()->add_paths("college");
  absl::StatusOr<v1::Member> moved =
      services_.members->UpdateMember(admin_, update);
  ASSERT_THAT(moved, IsOk());
  const Principal now_agent = Principal::FromMember(*moved, "tokens/x");
  EXPECT_TRUE(Inbox(now_agent).empty());
  absl::StatusOr<v1::ListInboxResponse> r =
      services_.inbox->ListInbox(now_agent, {});
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->unread_count(), 0);
  // Nor do new messages reach them.
  ASSERT_THAT(Post("elu-petr", "Encore"), IsOk());
  EXPECT_TRUE(Inbox(now_agent).empty());
}

TEST_F(InboxModerationTest, RepliesAndMentionsReachReadersOnly) {
  v1::PostMessageRequest reply;
  reply.set_parent(exchange_);
  reply.mutable_message()->set_body(
      "@elu-coteaux et @agent-petr, votre avis ? (contact: x@elu-petr.fr)");
  reply.mutable_message()->set_reply_to(exchange_ + "/messages/m000001");
  ASSERT_THAT(services_.exchanges->PostMessage(who("elu-coteaux"), reply),
              IsOk());
  EXPECT_THAT(
      Inbox(who("elu-petr")),
      ::testing::ElementsAre("REPLY " + exchange_ + "/messages/m000002"));
  EXPECT_TRUE(Inbox(who("agent-petr")).empty());

  v1::MarkInboxReadRequest mark;
  mark.set_all(true);
  absl::StatusOr<v1::MarkInboxReadResponse> marked =
      services_.inbox->MarkInboxRead(who("elu-petr"), mark);
  ASSERT_THAT(marked, IsOk());
  EXPECT_EQ(marked->marked(), 1);
  v1::ListInboxRequest unread;
  unread.set_unread_only(true);
  EXPECT_EQ(services_.inbox->ListInbox(who("elu-petr"), unread)->items_size(),
            0);
  mark.set_all(false);
  mark.add_items("members/elu-coteaux/inbox/i0000000000000001");
  EXPECT_THAT(services_.inbox->MarkInboxRead(who("elu-petr"), mark),
              InvalidFieldIs("items"));
}

TEST_F(InboxModerationTest,
       AFlagNobodyCouldModerateIsRefusedUntilAFacilitatorIsNamed) {
  // The élus group has no facilitator and the coordinator is no élu: a flag
  // there would wait in a queue nobody reads. The flagger is told why, and
  // nothing is written.
  const std::string message = exchange_ + "/messages/m000001";
  v1::FlagContentRequest flag;
  flag.set_parent(kOccitanie);
  flag.mutable_flag()->set_target(message);
  flag.mutable_flag()->set_reason(v1::ContentFlag::ABUSE);
  absl::StatusOr<v1::ContentFlag> refused =
      services_.moderation->FlagContent(who("elu-coteaux"), flag);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition,
                                std::string(kReasonNoModerator)));
  EXPECT_THAT(std::string(refused.status().message()),
              ::testing::HasSubstr("has no facilitator"));
  EXPECT_THAT(std::string(refused.status().message()),
              ::testing::Not(::testing::HasSubstr("Premier message")));

  // Once an élue facilitates the group, the flag reaches her, and still not
  // the coordinator, who reads nothing of the group.
  v1::SetGroupMembersRequest name;
  name.set_name(kElus);
  name.add_add_facilitators("members/elu-petr");
  ASSERT_THAT(services_.groups->SetGroupMembers(admin_, name), IsOk());
  ASSERT_THAT(services_.moderation->FlagContent(who("elu-coteaux"), flag),
              IsOk());
  v1::ListFlagsRequest queue;
  queue.set_parent(kOccitanie);
  queue.set_show_resolved(true);
  absl::StatusOr<v1::ListFlagsResponse> hers =
      services_.moderation->ListFlags(who("elu-petr"), queue);
  ASSERT_THAT(hers, IsOk());
  ASSERT_EQ(hers->flags_size(), 1);
  EXPECT_EQ(hers->flags(0).target(), message);
  EXPECT_EQ(
      services_.moderation->ListFlags(who("coordinator"), queue)->flags_size(),
      0);
  v1::GetMessageRequest get;
  get.set_name(message);
  EXPECT_THAT(services_.exchanges->GetMessage(who("coordinator"), get),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(InboxModerationTest, FacilitatorsHideContentAndTheAuditShowsNoneOfIt) {
  // A club with a facilitator; the coordinator is not in it.
  v1::CreateGroupRequest club;
  club.set_parent(kOccitanie);
  club.set_group_id("club");
  club.mutable_group()->set_display_name("Club");
  club.mutable_group()->set_kind(v1::PeerGroup::THEMATIC);
  club.mutable_group()->add_members("members/agent-petr");
  club.mutable_group()->add_facilitators("members/elu-petr");
  ASSERT_THAT(services_.groups->CreateGroup(admin_, club), IsOk());
  v1::CreateExchangeRequest x;
  x.set_parent("cohorts/occitanie/groups/club");
  x.mutable_exchange()->set_title("Achats");
  x.mutable_exchange()->set_kind(v1::Exchange::DEBATE);
  x.set_first_message("Un propos à retirer : secret-du-club");
  absl::StatusOr<v1::Exchange> e =
      services_.exchanges->CreateExchange(who("agent-petr"), x);
  ASSERT_THAT(e, IsOk());
  const std::string message = e->name() + "/messages/m000001";

  v1::FlagContentRequest flag;
  flag.set_parent(kOccitanie);
  flag.mutable_flag()->set_target(message);
  flag.mutable_flag()->set_reason(v1::ContentFlag::ABUSE);
  // Only readers flag; the flag names its field when incomplete.
  EXPECT_THAT(services_.moderation->FlagContent(who("coordinator"), flag),
              StatusIs(absl::StatusCode::kPermissionDenied));
  flag.mutable_flag()->set_reason(v1::ContentFlag::REASON_UNSPECIFIED);
  EXPECT_THAT(services_.moderation->FlagContent(who("agent-petr"), flag),
              InvalidFieldIs("flag.reason"));
  flag.mutable_flag()->set_reason(v1::ContentFlag::ABUSE);
  ASSERT_THAT(services_.moderation->FlagContent(who("agent-petr"), flag),
              IsOk());

  v1::ListFlagsRequest queue;
  queue.set_parent(kOccitanie);
  EXPECT_EQ(
      services_.moderation->ListFlags(who("elu-petr"), queue)->flags_size(), 1);
  EXPECT_EQ(
      services_.moderation->ListFlags(who("coordinator"), queue)->flags_size(),
      0);
  EXPECT_EQ(
      services_.moderation->ListFlags(who("agent-petr"), queue)->flags_size(),
      0);

  v1::HideContentRequest hide;
  hide.set_target(message);
  hide.set_reason("Propos blessant");
  EXPECT_THAT(services_.moderation->HideContent(who("agent-petr"), hide),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(services_.moderation->HideContent(who("coordinator"), hide),
              StatusIs(absl::StatusCode::kPermissionDenied));
  absl::StatusOr<v1::HideContentResponse> hidden =
      services_.moderation->HideContent(who("elu-petr"), hide);
  ASSERT_THAT(hidden, IsOk());
  EXPECT_EQ(hidden->resolved_flags(), 1);
  EXPECT_THAT(services_.moderation->HideContent(who("elu-petr"), hide),
              StatusIs(absl::StatusCode::kFailedPrecondition));

  v1::GetMessageRequest get;
  get.set_name(message);
  absl::StatusOr<v1::Message> seen =
      services_.exchanges->GetMessage(who("agent-petr"), get);
  ASSERT_THAT(seen, IsOk());
  EXPECT_TRUE(seen->hidden());
  EXPECT_EQ(seen->hidden_reason(), "Propos blessant");
  EXPECT_EQ(seen->body(), "");

  // The audit log's readers outside the club (the coordinator, the
  // administrator) see nothing of the hiding: not the message's name, not
  // the reason, not a word of what was said.
  for (const Principal* reader : {&who("coordinator"), &admin_}) {
    v1::ListAuditEventsRequest audit;
    if (reader != &admin_) audit.set_parent(kOccitanie);
    audit.set_page_size(1000);
    absl::StatusOr<v1::ListAuditEventsResponse> events =
        services_.audit->ListAuditEvents(*reader, audit);
    ASSERT_THAT(events, IsOk());
    ASSERT_GT(events->events_size(), 0);
    for (const v1::AuditEvent& e : events->events()) {
      EXPECT_NE(e.method(), "HideContent") << reader->member;
      const std::string text = e.DebugString();
      EXPECT_EQ(text.find("secret-du-club"), std::string::npos);
      EXPECT_EQ(text.find("Propos blessant"), std::string::npos);
      EXPECT_EQ(text.find(message), std::string::npos);
    }
  }

  v1::UnhideContentRequest unhide;
  unhide.set_target(message);
  ASSERT_THAT(services_.moderation->UnhideContent(who("elu-petr"), unhide),
              IsOk());
  EXPECT_EQ(services_.exchanges->GetMessage(who("agent-petr"), get)->body(),
            "Un propos à retirer : secret-du-club");
}

// Mentions reach their readers from a first message and from an edit that
// adds them; a seat given from the waiting list is announced; a title of
// spaces is empty.
TEST_F(InboxModerationTest, FirstMessagesEditsAndSeatsNotify) {
  v1::CreateExchangeRequest req;
  req.set_parent(kElus);
  req.mutable_exchange()->set_title("Question");
  req.mutable_exchange()->set_kind(v1::Exchange::QUESTION);
  req.set_first_message("@elu-coteaux qu'en penses-tu ? (@agent-petr aussi)");
  absl::StatusOr<v1::Exchange> e =
      services_.exchanges->CreateExchange(who("elu-petr"), req);
  ASSERT_THAT(e, IsOk());
  const std::string first = e->name() + "/messages/m000001";
  EXPECT_THAT(Inbox(who("elu-coteaux")),
              ::testing::ElementsAre("MENTION " + first));
  EXPECT_TRUE(Inbox(who("agent-petr")).empty());  // not a reader of it

  v1::PostMessageRequest post;
  post.set_parent(e->name());
  post.mutable_message()->set_body("Rien à signaler");
  absl::StatusOr<v1::Message> m =
      services_.exchanges->PostMessage(who("elu-coteaux"), post);
  ASSERT_THAT(m, IsOk());
  v1::EditMessageRequest edit;
  edit.set_name(m->name());
  edit.set_body("Rien à signaler, @elu-petr");
  ASSERT_THAT(services_.exchanges->EditMessage(who("elu-coteaux"), edit),
              IsOk());
  EXPECT_THAT(Inbox(who("elu-petr")),
              ::testing::Contains("MENTION " + m->name()));
  const size_t items = Inbox(who("elu-petr")).size();
  edit.set_body("Rien à signaler, @elu-petr !");  // the same mention
  ASSERT_THAT(services_.exchanges->EditMessage(who("elu-coteaux"), edit),
              IsOk());
  EXPECT_EQ(Inbox(who("elu-petr")).size(), items);

  v1::CreateExchangeRequest blank = req;
  blank.mutable_exchange()->set_title("   ");
  EXPECT_THAT(services_.exchanges->CreateExchange(who("elu-petr"), blank),
              InvalidFieldIs("exchange.title"));

  v1::CreateSessionRequest s;
  s.set_parent(kOccitanie);
  s.set_session_id("petit-atelier");
  s.mutable_session()->set_kind(v1::Session::ATELIER);
  s.mutable_session()->set_title("Petit atelier");
  s.mutable_session()->set_capacity(1);
  *s.mutable_session()->mutable_start_time() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
          absl::ToUnixNanos(absl::Now() + absl::Hours(48)));
  *s.mutable_session()->mutable_end_time() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
          absl::ToUnixNanos(absl::Now() + absl::Hours(50)));
  ASSERT_THAT(services_.sessions->CreateSession(who("coordinator"), s), IsOk());
  v1::RegisterRequest reg;
  reg.set_session("cohorts/occitanie/sessions/petit-atelier");
  ASSERT_THAT(services_.sessions->Register(who("elu-petr"), reg), IsOk());
  absl::StatusOr<v1::Registration> waiting =
      services_.sessions->Register(who("agent-petr"), reg);
  ASSERT_THAT(waiting, IsOk());
  EXPECT_EQ(waiting->state(), v1::Registration::WAITLISTED);
  v1::CancelRegistrationRequest cancel;
  cancel.set_session(reg.session());
  ASSERT_THAT(services_.sessions->CancelRegistration(who("elu-petr"), cancel),
              IsOk());
  EXPECT_THAT(Inbox(who("agent-petr")),
              ::testing::Contains("SEAT_GRANTED " + reg.session()));
}

}  // namespace
}  // namespace cohorte::service
