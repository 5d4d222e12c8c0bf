// Links, in process: the home guard on every write path, ListSnapshot's
// paging, and what ApplyChange stores or refuses whatever a peer sends.
// The "peer" is a real second store with its own services: its snapshot,
// read as a SERVICE token, is applied to the follower the way the
// Replicator's workers do (a replicated mutation per page).

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/service/core/errors.h"
#include "server/service/records/content_check.h"
#include "server/service/records/content_intake.h"
#include "server/service/records/record_store.h"
#include "server/service/replication/home_guard.h"
#include "server/service/replication/link_service.h"
#include "server/service/replication/replicator.h"
#include "tests/service/access_fixture.h"
#include "tests/service/record_helpers.h"
#include "tests/testing/pseudo_random.h"
#include "tests/testing/raw_access.h"

namespace cohorte::service {
namespace {

using ::cohorte::testing::IsOk;

constexpr char kToken[] =
    "coh_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

class ReplicationTest : public AccessFixture {
 protected:
  void SetUp() override {
    AccessFixture::SetUp();
    // A published COHORT report and a GROUP one at home.
    for (auto [id, visibility] :
         std::vector<std::pair<std::string, v1::Visibility>>{
             {"ouvert", v1::NETWORK}, {"entre-elus", v1::GROUP}}) {
      v1::CreateReportRequest req;
      req.set_parent(kOccitanie);
      req.set_report_id(id);
      req.mutable_report()->set_title("REX " + id);
      req.mutable_report()->set_territory(kPetr);
      req.mutable_report()->set_visibility(visibility);
      if (visibility == v1::GROUP) {
        req.mutable_report()->set_group("cohorts/occitanie/groups/elus");
      }
      ASSERT_THAT(services_.reports->CreateReport(who("elu-petr"), req),
                  IsOk());
      v1::PublishReportRequest publish;
      publish.set_name(absl::StrCat(kOccitanie, "/reports/", id));
      ASSERT_THAT(services_.reports->PublishReport(who("elu-petr"), publish),
                  IsOk());
    }
    v1::CreateLinkRequest req;
    req.set_link_id("occitanie");
    req.mutable_link()->set_display_name("Occitanie");
    req.mutable_link()->set_endpoint("127.0.0.1:9");
    req.mutable_link()->add_cohorts(kOccitanie);
    req.mutable_link()->set_peer_instance_id(store_->instance_id());
    req.set_token(kToken);
    ASSERT_THAT(follower_.all->links.CreateLink(admin_, req), IsOk());
  }

  // Every page of the home's snapshot of occitanie as a service token.
  std::vector<v1::ChangeEvent> HomeSnapshot(int page_size = 1000) {
    const Principal svc =
        Principal::ForService("tokens/svc", {kOccitanie}, false);
    v1::ListSnapshotRequest req;
    req.mutable_filter()->add_cohorts(kOccitanie);
    for (const std::string& t : ReplicatedTypes()) {
      req.mutable_filter()->add_resource_types(t);
    }
    req.set_page_size(page_size);
    std::vector<v1::ChangeEvent> out;
    do {
      absl::StatusOr<v1::ListSnapshotResponse> page =
          services_.all->changes.ListSnapshot(svc, req);
      EXPECT_THAT(page, IsOk());
      if (!page.ok()) break;
      for (const v1::ChangeEvent& e : page->events()) out.push_back(e);
      req.set_page_token(page->next_page_token());
    } while (!req.page_token().empty());
    return out;
  }

  // Applies `events` on the follower as link occitanie does.
  absl::Status Apply(const std::vector<v1::ChangeEvent>& events,
                     ApplyCounts* counts) {
    storage::Mutation m;
    m.actor = "links/occitanie";
    m.method = "ReplicateChanges";
    m.replicated = true;
    m.apply = [&](storage::Txn& txn) -> absl::StatusOr<std::string> {
      storage::v1::LinkRecord link;
      COHORTE_RETURN_IF_ERROR(
          txn.GetEntity<storage::v1::LinkRecord>("links/occitanie", &link));
      for (const v1::ChangeEvent& e : events) {
        COHORTE_RETURN_IF_ERROR(ApplyChange(txn, link, e, counts, nullptr,
                                            [](absl::string_view) {}));
      }
      return std::string();
    };
    return follower_.store->Commit(std::move(m)).status();
  }

  ::cohorte::testing::TempDir follower_dir_;
  ::cohorte::testing::Services follower_{follower_dir_.path()};
};

TEST_F(ReplicationTest, ASnapshotPagesThroughEverythingTheTokenReads) {
  const std::vector<v1::ChangeEvent> all = HomeSnapshot(1000);
  const std::vector<v1::ChangeEvent> paged = HomeSnapshot(2);
  ASSERT_EQ(all.size(), paged.size());
  std::set<std::string> names;
  for (const v1::ChangeEvent& e : all) names.insert(e.resource_name());
  for (const v1::ChangeEvent& e : paged) {
    EXPECT_TRUE(names.count(e.resource_name())) << e.resource_name();
  }
  EXPECT_TRUE(names.count(kOccitanie));
  EXPECT_TRUE(names.count(kPetr));
  EXPECT_TRUE(names.count("cohorts/occitanie/reports/ouvert"));
  // The token never reads the GROUP report, nor anything of cohort autre.
  EXPECT_FALSE(names.count("cohorts/occitanie/reports/entre-elus"));
  for (const std::string& n : names) {
    EXPECT_EQ(n.rfind("cohorts/autre", 0), std::string::npos) << n;
  }
  // A token is good for its filter only.
  v1::ListSnapshotRequest req;
  req.mutable_filter()->add_cohorts(kOccitanie);
  req.set_page_size(1);
  absl::StatusOr<v1::ListSnapshotResponse> first =
      services_.all->changes.ListSnapshot(admin_, req);
  ASSERT_THAT(first, IsOk());
  req.set_page_token(first->next_page_token());
  req.mutable_filter()->add_cohorts(kAutre);
  absl::StatusOr<v1::ListSnapshotResponse> other =
      services_.all->changes.ListSnapshot(admin_, req);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorField(other.status()), "page_token");
  v1::ListSnapshotRequest none;
  EXPECT_EQ(
      ErrorField(services_.all->changes.ListSnapshot(admin_, none).status()),
      "filter.cohorts");
}

TEST_F(ReplicationTest, AReplicaIsWrittenByItsLinkOnly) {
  ApplyCounts counts;
  ASSERT_THAT(Apply(HomeSnapshot(), &counts), IsOk());
  EXPECT_GT(counts.applied, 5);
  EXPECT_EQ(counts.refused, 0);
  // Applying it again changes nothing more (idempotent).
  const int64_t revision = follower_.store->revision();
  ApplyCounts again;
  ASSERT_THAT(Apply(HomeSnapshot(), &again), IsOk());
  EXPECT_EQ(again.applied, counts.applied);
  EXPECT_EQ(follower_.store->revision(), revision + 1);

  const Principal admin = admin_;
  absl::StatusOr<v1::Cohort> replica =
      Reader(*follower_.store, admin).Get<v1::Cohort>(kOccitanie);
  ASSERT_THAT(replica, IsOk());
  EXPECT_EQ(replica->home().instance_id(), store_->instance_id());
  EXPECT_EQ(replica->home().link(), "links/occitanie");

  // Every write path, even the administrator's, is refused by the guard.
  v1::UpdateCohortRequest update;
  update.mutable_cohort()->set_name(kOccitanie);
  update.mutable_cohort()->set_description("écrit ici");
  update.mutable_update_mask()->add_paths("description");
  absl::Status s = follower_.cohorts->UpdateCohort(admin, update).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(s), kReasonReplicaReadOnly);
  EXPECT_EQ(ErrorMetadata(s, "home_instance_id"), store_->instance_id());
  v1::CreateTerritoryRequest territory;
  territory.set_parent(kOccitanie);
  territory.set_territory_id("intrus");
  territory.mutable_territory()->set_display_name("Intrus");
  territory.mutable_territory()->set_kind(v1::Territory::COMMUNE);
  EXPECT_EQ(
      ErrorReason(
          follower_.territories->CreateTerritory(admin, territory).status()),
      kReasonReplicaReadOnly);
  v1::DeleteCohortRequest del;
  del.set_name(kOccitanie);
  EXPECT_EQ(ErrorReason(follower_.cohorts->DeleteCohort(admin, del).status()),
            kReasonReplicaReadOnly);
  // Nobody here is delegated to a replica.
  v1::CreateMemberRequest member;
  member.set_member_id("intruse");
  member.mutable_member()->set_given_name("Intruse");
  member.mutable_member()->set_family_name("Test");
  member.mutable_member()->set_email("intruse@example.org");
  member.mutable_member()->set_role(v1::Member::MEMBER);
  member.mutable_member()->set_college(v1::ELU);
  member.mutable_member()->add_delegations(kPetr);
  EXPECT_EQ(
      ErrorReason(follower_.members->CreateMember(admin, member).status()),
      kReasonReplicaReadOnly);
  EXPECT_EQ(follower_.store->revision(), revision + 1);
}

TEST_F(ReplicationTest, WhatMayNotLeaveItsGroupIsRefusedWhateverThePeerSends) {
  v1::CreateExchangeRequest said;
  said.set_parent("cohorts/occitanie/groups/elus");
  said.mutable_exchange()->set_title("Entre élus");
  said.mutable_exchange()->set_kind(v1::Exchange::QUESTION);
  said.set_first_message("Ce qui se dit ici reste ici.");
  ASSERT_THAT(services_.exchanges->CreateExchange(who("elu-petr"), said),
              IsOk());
  ApplyCounts counts;
  ASSERT_THAT(Apply(HomeSnapshot(), &counts), IsOk());
  // A peer that sends more than the token reads: an élue's snapshot.
  v1::ListSnapshotRequest req;
  req.mutable_filter()->add_cohorts(kOccitanie);
  req.set_page_size(1000);
  absl::StatusOr<v1::ListSnapshotResponse> everything =
      services_.all->changes.ListSnapshot(who("elu-petr"), req);
  ASSERT_THAT(everything, IsOk());
  std::vector<v1::ChangeEvent> events(everything->events().begin(),
                                      everything->events().end());
  // And a resource of a cohort the link does not follow.
  v1::ChangeEvent outside = events.front();
  outside.set_resource_name(kAutre);
  events.push_back(outside);
  ApplyCounts more;
  ASSERT_THAT(Apply(events, &more), IsOk());
  // The GROUP report, the exchange and its message, the cohort autre.
  EXPECT_GE(more.refused, 4);
  const Reader reader(*follower_.store, admin_);
  // Not there at all (underneath the gate).
  const storage::View& raw =
      storage::testing::RawAccess::Committed(*follower_.store);
  for (absl::string_view prefix : {"cohorts/occitanie/reports/entre-elus",
                                   "cohorts/occitanie/groups/elus/"}) {
    int found = 0;
    for (int kind = 1; kind <= storage::kMaxEntityKind; ++kind) {
      ASSERT_THAT(raw.Scan(storage::Table::kEntities,
                           storage::EntityKey(
                               static_cast<storage::EntityKind>(kind), prefix),
                           "",
                           [&](absl::string_view, absl::string_view) {
                             ++found;
                             return true;
                           }),
                  IsOk());
    }
    EXPECT_EQ(found, 0) << prefix;
  }
  EXPECT_THAT(
      reader.Get<v1::ExperienceReport>("cohorts/occitanie/reports/ouvert"),
      IsOk());
  int exchanges = 0;
  ASSERT_THAT(reader.ForEach<v1::Exchange>(
                  storage::EntityKeyOf<v1::Exchange>("cohorts/"),
                  [&](const v1::Exchange&) {
                    ++exchanges;
                    return true;
                  }),
              IsOk());
  EXPECT_EQ(exchanges, 0);
  // A group's member list is never stored elsewhere.
  absl::StatusOr<v1::PeerGroup> elus =
      reader.Get<v1::PeerGroup>("cohorts/occitanie/groups/elus");
  ASSERT_THAT(elus, IsOk());
  EXPECT_EQ(elus->members_size(), 0);

  // Garbage is refused whole.
  v1::ChangeEvent garbage = HomeSnapshot().front();
  garbage.mutable_resource()->set_value("\xff\xff not a proto");
  ApplyCounts none;
  absl::Status bad = Apply({garbage}, &none);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReason(bad), "PEER_PROTOCOL");
  v1::ChangeEvent renamed = HomeSnapshot().back();
  renamed.set_resource_name("cohorts/occitanie/territories/autre-nom");
  renamed.set_resource_type(renamed.resource().type_url().substr(
      renamed.resource().type_url().rfind('/') + 1));
  EXPECT_EQ(ErrorReason(Apply({renamed}, &none)), "PEER_PROTOCOL");
}

TEST_F(ReplicationTest, ACohortMadeHereIsNeverOverwritten) {
  // cohort autre exists on the follower, made there.
  v1::CreateCohortRequest local;
  local.set_cohort_id("autre");
  local.mutable_cohort()->set_display_name("Autre, ici");
  ASSERT_THAT(follower_.cohorts->CreateCohort(admin_, local), IsOk());
  v1::CreateLinkRequest req;
  req.set_link_id("autre");
  req.mutable_link()->set_display_name("Autre");
  req.mutable_link()->set_endpoint("127.0.0.1:9");
  req.mutable_link()->add_cohorts(kAutre);
  req.set_token(kToken);
  absl::Status s = follower_.all->links.CreateLink(admin_, req).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(s), kReasonNameConflict);
  // The same cohort by two links.
  req.set_link_id("deux");
  req.mutable_link()->set_cohorts(0, kOccitanie);
  EXPECT_EQ(ErrorReason(follower_.all->links.CreateLink(admin_, req).status()),
            kReasonNameConflict);
  // Bad input, each naming its field; nothing written.
  const int64_t revision = follower_.store->revision();
  for (auto [field, edit] : std::vector<
           std::pair<std::string, std::function<void(v1::CreateLinkRequest&)>>>{
           {"link.endpoint",
            [](v1::CreateLinkRequest& r) {
              r.mutable_link()->set_endpoint("pas un hôte");
            }},
           {"link.endpoint",
            [](v1::CreateLinkRequest& r) {
              r.mutable_link()->set_endpoint("127.0.0.1:70000");
            }},
           {"link.cohorts[0]",
            [](v1::CreateLinkRequest& r) {
              r.mutable_link()->set_cohorts(0, "cohorts/Pas Valide");
            }},
           {"link.cohorts",
            [](v1::CreateLinkRequest& r) {
              r.mutable_link()->clear_cohorts();
            }},
           {"token", [](v1::CreateLinkRequest& r) { r.set_token("coh_123"); }},
           {"link.tls_ca_pem",
            [](v1::CreateLinkRequest& r) {
              r.mutable_link()->set_tls_ca_pem("not a pem");
            }},
           {"link.peer_instance_id",
            [](v1::CreateLinkRequest& r) {
              r.mutable_link()->set_peer_instance_id("XYZ");
            }},
           {"link.display_name",
            [](v1::CreateLinkRequest& r) {
              r.mutable_link()->clear_display_name();
            }},
       }) {
    v1::CreateLinkRequest bad = req;
    bad.set_link_id("neuf");
    bad.mutable_link()->set_cohorts(0, "cohorts/neuve");
    edit(bad);
    absl::Status st = follower_.all->links.CreateLink(admin_, bad).status();
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_EQ(ErrorField(st), field);
  }
  EXPECT_EQ(follower_.store->revision(), revision);
  // Links are the administrator's.
  EXPECT_EQ(
      follower_.all->links.CreateLink(who("coordinator"), req).status().code(),
      absl::StatusCode::kPermissionDenied);
  // The token never comes back.
  v1::GetLinkRequest get;
  get.set_name("links/occitanie");
  absl::StatusOr<v1::Link> link = follower_.all->links.GetLink(admin_, get);
  ASSERT_THAT(link, IsOk());
  EXPECT_EQ(link->DebugString().find(kToken), std::string::npos);
}

TEST_F(ReplicationTest, DeletingALinkDropsOrKeepsItsCopies) {
  ApplyCounts counts;
  ASSERT_THAT(Apply(HomeSnapshot(), &counts), IsOk());
  v1::DeleteLinkRequest del;
  del.set_name("links/occitanie");
  del.set_keep_copies(true);
  ASSERT_THAT(follower_.all->links.DeleteLink(admin_, del), IsOk());
  const Reader reader(*follower_.store, admin_);
  ASSERT_THAT(reader.Get<v1::Cohort>(kOccitanie), IsOk());
  // Kept copies stay read-only, and a new link to the same instance takes
  // them over.
  v1::CreateLinkRequest again;
  again.set_link_id("occitanie-bis");
  again.mutable_link()->set_display_name("Occitanie");
  again.mutable_link()->set_endpoint("127.0.0.1:9");
  again.mutable_link()->add_cohorts(kOccitanie);
  again.mutable_link()->set_peer_instance_id(store_->instance_id());
  again.set_token(kToken);
  ASSERT_THAT(follower_.all->links.CreateLink(admin_, again), IsOk());
  v1::DeleteLinkRequest drop;
  drop.set_name("links/occitanie-bis");
  // Its copies are still the old link's until it applies something.
  ASSERT_THAT(follower_.all->links.DeleteLink(admin_, drop), IsOk());
  ASSERT_THAT(reader.Get<v1::Cohort>(kOccitanie), IsOk());
  again.set_link_id("occitanie");
  ASSERT_THAT(follower_.all->links.CreateLink(admin_, again), IsOk());
  del.set_keep_copies(false);
  ASSERT_THAT(follower_.all->links.DeleteLink(admin_, del), IsOk());
  EXPECT_EQ(reader.Get<v1::Cohort>(kOccitanie).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(reader.Get<v1::Territory>(kPetr).status().code(),
            absl::StatusCode::kNotFound);
}

// ---- Record contents across a link -----------------------------------------

constexpr int64_t kMiB = ::cohorte::testing::kRecordMiB;

// What an InProcessPeer does to the contents it serves, and what it was
// asked (read by the test once the replicator stopped).
struct PeerScript {
  bool corrupt = false;    // flips a byte of every content
  int64_t cut_after = -1;  // ends the first content read after so many bytes
  std::vector<int64_t> offsets;  // of every content read
  int64_t served = 0;            // content bytes sent
};

// The home instance seen through a SERVICE token of occitanie, in process:
// what GrpcPeerFeed does over the network. Watch pages through ListChanges
// and waits for the home's next revision.
class InProcessPeer final : public PeerFeed {
 public:
  InProcessPeer(storage::Store* store, Services* services, PeerScript* script)
      : store_(store), services_(services), script_(script) {}

  absl::StatusOr<v1::Token> WhoAmI() override {
    v1::Token t;
    t.set_name("tokens/svc");
    t.set_kind(v1::Token::SERVICE);
    t.add_cohorts("cohorts/occitanie");
    return t;
  }
  absl::StatusOr<v1::ListSnapshotResponse> ListSnapshot(
      const v1::ListSnapshotRequest& request) override {
    if (Cancelled()) return absl::CancelledError("cancelled");
    return services_->changes.ListSnapshot(Svc(), request);
  }
  absl::Status Watch(const v1::WatchRequest& request,
                     const std::function<bool(const v1::WatchResponse&)>&
                         on_response) override {
    std::string since = request.since();
    while (!Cancelled()) {
      v1::ListChangesRequest list;
      list.set_since(since);
      *list.mutable_filter() = request.filter();
      absl::StatusOr<v1::ListChangesResponse> page =
          services_->changes.ListChanges(Svc(), list);
      if (!page.ok()) return page.status();
      v1::WatchResponse r;
      *r.mutable_events() = page->events();
      *r.mutable_cursor() = page->cursor();
      if (!on_response(r)) return absl::OkStatus();
      since = page->cursor().token();
      if (page->caught_up()) {
        store_->WaitForRevision(page->cursor().revision(),
                                absl::Now() + absl::Milliseconds(200));
      }
    }
    return absl::OkStatus();
  }
  absl::Status ReadRecordVersion(
      const std::string& name, int64_t offset,
      const std::function<absl::Status(absl::string_view)>& on_data) override {
    script_->offsets.push_back(offset);
    int64_t sent = 0;
    while (!Cancelled()) {
      absl::StatusOr<std::string> chunk =
          services_->records.ReadChunk(Svc(), name, offset, kMiB);
      if (!chunk.ok()) return chunk.status();
      if (chunk->empty()) return absl::OkStatus();
      if (script_->corrupt && offset == 0) (*chunk)[0] ^= 1;
      if (script_->cut_after >= 0 && sent >= script_->cut_after) {
        script_->cut_after = -1;
        return absl::UnavailableError("the connection was cut");
      }
      offset += static_cast<int64_t>(chunk->size());
      sent += static_cast<int64_t>(chunk->size());
      script_->served += static_cast<int64_t>(chunk->size());
      if (absl::Status s = on_data(*chunk); !s.ok()) return s;
    }
    return absl::CancelledError("cancelled");
  }
  void Cancel() override { cancelled_ = true; }

 private:
  static Principal Svc() {
    return Principal::ForService("tokens/svc", {"cohorts/occitanie"}, false);
  }
  bool Cancelled() const { return cancelled_.load(); }

  storage::Store* const store_;
  Services* const services_;
  PeerScript* const script_;
  std::atomic<bool> cancelled_{false};
};

class ReplicatedContentTest : public ReplicationTest {
 protected:
  RecordService& home_records() { return services_.all->records; }

  // A record of occitanie made by `who` at home; its name.
  std::string MakeRecord(const std::string& who, const std::string& id,
                         v1::Visibility visibility) {
    absl::StatusOr<v1::Record> r = ::cohorte::testing::MakeRecordAs(
        home_records(), who_.at(who), kOccitanie, id, visibility,
        "cohorts/occitanie/groups/elus");
    EXPECT_THAT(r, IsOk());
    return r.ok() ? r->name() : "";
  }

  // Uploads `content` to `record` at home as `who`; the version's name.
  std::string Push(const std::string& who, const std::string& record,
                   const std::string& content) {
    absl::StatusOr<std::string> v = ::cohorte::testing::PushContentAs(
        home_records(), who_.at(who), record, content);
    EXPECT_THAT(v, IsOk());
    return v.value_or("");
  }

  // The content of `version` on the follower, read as its administrator
  // through its gate.
  absl::StatusOr<std::string> FollowerContent(const std::string& version) {
    return ::cohorte::testing::ReadContentAs(follower_.all->records, admin_,
                                             version);
  }

  // Runs link occitanie on the follower against the home, until `done`
  // holds of the link (deadline: 60 s); the link as last read.
  v1::Link RunUntil(bool corrupt,
                    const std::function<bool(const v1::Link&)>& done) {
    script_.corrupt = corrupt;
    if (replicator_ == nullptr) {
      ReplicationOptions options;
      options.min_backoff = absl::Milliseconds(10);
      options.log = [](absl::string_view, absl::string_view) {};
      replicator_ = std::make_unique<Replicator>(
          follower_.store.get(),
          [this](const PeerConfig&) -> std::unique_ptr<PeerFeed> {
            return std::make_unique<InProcessPeer>(
                store_.get(), services_.all.get(), &script_);
          },
          options);
      EXPECT_THAT(replicator_->Start(), IsOk());
    }
    v1::GetLinkRequest get;
    get.set_name("links/occitanie");
    v1::Link l;
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    int64_t seen = 0;
    while (absl::Now() < deadline) {
      absl::StatusOr<v1::Link> got = follower_.all->links.GetLink(admin_, get);
      if (got.ok()) {
        l = *got;
        if (done(l)) return l;
      }
      seen = follower_.store->WaitForRevision(
          seen, absl::Now() + absl::Milliseconds(100));
    }
    ADD_FAILURE() << "the link never reached the state awaited: "
                  << l.ShortDebugString();
    return l;
  }

  // Record contents stored on the follower (0x89 entries), by SHA-256.
  std::map<std::string, storage::v1::RecordContentRecord> FollowerContents() {
    std::map<std::string, storage::v1::RecordContentRecord> out;
    const std::string prefix =
        storage::IndexKey(storage::IndexKind::kRecordContent, "");
    EXPECT_THAT(storage::testing::RawAccess::Committed(*follower_.store)
                    .Scan(storage::Table::kIndexes, prefix, "",
                          [&](absl::string_view key, absl::string_view value) {
                            storage::v1::RecordContentRecord c;
                            EXPECT_THAT(storage::DecodeValue(value, &c),
                                        IsOk());
                            out[std::string(key.substr(prefix.size()))] = c;
                            return true;
                          }),
                IsOk());
    return out;
  }

  // Whether any key of the follower's `table` starting with `prefix` holds
  // `needle` in its value; and how many keys there are.
  int64_t CountWith(storage::Table table, absl::string_view prefix,
                    absl::string_view needle, bool* found) {
    int64_t n = 0;
    EXPECT_THAT(storage::testing::RawAccess::Committed(*follower_.store)
                    .Scan(table, prefix, "",
                          [&](absl::string_view, absl::string_view value) {
                            ++n;
                            if (value.find(needle) != absl::string_view::npos) {
                              *found = true;
                            }
                            return true;
                          }),
                IsOk());
    return n;
  }

  void TearDown() override {
    if (replicator_ != nullptr) replicator_->Stop();
    replicator_.reset();
    ReplicationTest::TearDown();
  }

  PeerScript script_;
  std::unique_ptr<Replicator> replicator_;
};

TEST_F(ReplicatedContentTest, VersionsArriveWithTheirContentStoredOnce) {
  const std::string a = ::cohorte::testing::PseudoRandomBytes(3 * kMiB + 17, 1);
  const std::string b = ::cohorte::testing::PseudoRandomBytes(12 * kMiB + 5, 2);
  const std::string cr = MakeRecord("agent-petr", "cr", v1::COHORT);
  const std::string kit = MakeRecord("agent-petr", "kit", v1::NETWORK);
  const std::string cr1 = Push("agent-petr", cr, a);
  const std::string kit1 = Push("agent-petr", kit, a);  // the same bytes
  const std::string kit2 = Push("agent-petr", kit, b);
  // What the élus keep among themselves, in its bytes too.
  const std::string secret = MakeRecord("elu-petr", "secret", v1::GROUP);
  const std::string hidden = "SECRET-CONTENT-ENTRE-ELUS " +
                             ::cohorte::testing::PseudoRandomBytes(kMiB, 3);
  ASSERT_FALSE(Push("elu-petr", secret, hidden).empty());

  RunUntil(false,
           [](const v1::Link& l) { return l.state() == v1::Link::FOLLOWING; });
  EXPECT_EQ(FollowerContent(cr1).value_or("missing"), a);
  EXPECT_EQ(FollowerContent(kit1).value_or("missing"), a);
  EXPECT_EQ(FollowerContent(kit2).value_or("missing"), b);
  // Stored once by SHA-256: a for two versions, b for one; nothing else.
  std::map<std::string, storage::v1::RecordContentRecord> held =
      FollowerContents();
  ASSERT_EQ(held.size(), 2u);
  EXPECT_EQ(held[Sha256Hex(a)].references(), 2);
  EXPECT_EQ(held[Sha256Hex(b)].references(), 1);
  bool found = false;
  CountWith(storage::Table::kRecordChunks, "", "SECRET-CONTENT", &found);
  EXPECT_FALSE(found) << "a GROUP record's bytes reached the follower";
  EXPECT_EQ(CountWith(storage::Table::kIndexes,
                      storage::IndexKey(storage::IndexKind::kPendingBlob, ""),
                      "", &found),
            0);

  // While following: a new version arrives with its content.
  const std::string c = ::cohorte::testing::PseudoRandomBytes(kMiB + 1, 4);
  const std::string cr2 = Push("agent-petr", cr, c);
  RunUntil(false, [&](const v1::Link&) { return FollowerContent(cr2).ok(); });
  EXPECT_EQ(FollowerContent(cr2).value_or("missing"), c);

  // Deleting the link and its copies releases every content; the
  // collector then frees every chunk.
  replicator_->Stop();
  v1::DeleteLinkRequest del;
  del.set_name("links/occitanie");
  ASSERT_THAT(follower_.all->links.DeleteLink(admin_, del), IsOk());
  EXPECT_TRUE(FollowerContents().empty());
  ASSERT_THAT(follower_.all->records.CollectGarbage(absl::Now()), IsOk());
  EXPECT_EQ(CountWith(storage::Table::kRecordChunks, "", "", &found), 0);
}

TEST_F(ReplicatedContentTest, AContentThatIsNotItsDigestStopsTheLink) {
  const std::string cr = MakeRecord("agent-petr", "cr", v1::COHORT);
  const std::string a = ::cohorte::testing::PseudoRandomBytes(2 * kMiB, 5);
  ASSERT_FALSE(Push("agent-petr", cr, a).empty());
  const v1::Link l = RunUntil(
      true, [](const v1::Link& l) { return l.state() == v1::Link::ERROR; });
  EXPECT_EQ(l.error_reason(), "PEER_PROTOCOL");
  EXPECT_THAT(l.error_message(), ::testing::HasSubstr("SHA-256"));
  replicator_->Stop();
  // Nothing of it counts, nothing is left pending, and the collector frees
  // the bytes received.
  EXPECT_TRUE(FollowerContents().empty());
  bool found = false;
  EXPECT_EQ(CountWith(storage::Table::kIndexes,
                      storage::IndexKey(storage::IndexKind::kPendingBlob, ""),
                      "", &found),
            0);
  EXPECT_EQ(CountWith(storage::Table::kEntities,
                      storage::EntityKeyOf<v1::RecordVersion>(""), "", &found),
            0);
  ASSERT_THAT(follower_.all->records.CollectGarbage(absl::Now()), IsOk());
  EXPECT_EQ(CountWith(storage::Table::kRecordChunks, "", "", &found), 0);
}

TEST_F(ReplicatedContentTest, BytesLeftPendingByACrashAreCollected) {
  ContentIntake intake(*follower_.store);
  const std::string a = ::cohorte::testing::PseudoRandomBytes(9 * kMiB, 6);
  absl::StatusOr<IncomingContents> incoming = intake.Begin(
      "links/occitanie", {{Sha256Hex(a), static_cast<int64_t>(a.size())}});
  ASSERT_THAT(incoming, IsOk());
  ASSERT_EQ(incoming->size(), 1u);
  // Past the announced size: refused.
  EXPECT_EQ(ErrorReason((*incoming)[0]->Append(a + "x")),
            kReasonContentMismatch);
  ASSERT_THAT((*incoming)[0]->Append(a.substr(0, 8 * kMiB + 1)), IsOk());
  // The process stops here, without settling; the next start discards.
  bool found = false;
  EXPECT_GT(CountWith(storage::Table::kRecordChunks, "", "", &found), 0);
  EXPECT_EQ(DiscardPendingBlobs(*follower_.store).value_or(-1), 1);
  EXPECT_EQ(DiscardPendingBlobs(*follower_.store).value_or(-1), 0);
  ASSERT_THAT(follower_.all->records.CollectGarbage(absl::Now()), IsOk());
  EXPECT_EQ(CountWith(storage::Table::kRecordChunks, "", "", &found), 0);
}

TEST_F(ReplicatedContentTest, ALazyLinkCopiesAContentOnItsFirstDownload) {
  v1::DeleteLinkRequest del;
  del.set_name("links/occitanie");
  ASSERT_THAT(follower_.all->links.DeleteLink(admin_, del), IsOk());
  v1::CreateLinkRequest req;
  req.set_link_id("occitanie");
  req.mutable_link()->set_display_name("Occitanie");
  req.mutable_link()->set_endpoint("127.0.0.1:9");
  req.mutable_link()->add_cohorts(kOccitanie);
  req.mutable_link()->set_record_contents(v1::Link::LAZY);
  req.set_token(kToken);
  ASSERT_THAT(follower_.all->links.CreateLink(admin_, req), IsOk());
  follower_.all->records.SetContentFetcher([this](const v1::RecordVersion& v) {
    return replicator_->FetchContent(v);
  });

  const std::string a = ::cohorte::testing::PseudoRandomBytes(3 * kMiB, 8);
  const std::string b = ::cohorte::testing::PseudoRandomBytes(kMiB + 9, 9);
  const std::string cr = MakeRecord("agent-petr", "cr", v1::COHORT);
  const std::string kit = MakeRecord("agent-petr", "kit", v1::COHORT);
  const std::string cr1 = Push("agent-petr", cr, a);
  const std::string kit1 = Push("agent-petr", kit, a);
  const std::string kit2 = Push("agent-petr", kit, b);
  RunUntil(false,
           [](const v1::Link& l) { return l.state() == v1::Link::FOLLOWING; });
  // The versions are here, their bytes are not.
  bool found = false;
  EXPECT_EQ(CountWith(storage::Table::kRecordChunks, "", "", &found), 0);
  std::map<std::string, storage::v1::RecordContentRecord> held =
      FollowerContents();
  ASSERT_EQ(held.size(), 2u);
  EXPECT_TRUE(held[Sha256Hex(a)].at_home());
  EXPECT_EQ(held[Sha256Hex(a)].references(), 2);
  EXPECT_EQ(ErrorReason(FollowerContent(cr1).status()), kReasonContentAtHome);

  // The first download copies (once for both versions of it).
  v1::ReadRecordVersionRequest read;
  read.set_name(kit1);
  ASSERT_THAT(follower_.all->records.StartRead(admin_, read), IsOk());
  EXPECT_EQ(FollowerContent(cr1).value_or("missing"), a);
  EXPECT_EQ(FollowerContent(kit1).value_or("missing"), a);
  held = FollowerContents();
  EXPECT_FALSE(held[Sha256Hex(a)].at_home());
  EXPECT_EQ(held[Sha256Hex(a)].references(), 2);
  EXPECT_TRUE(held[Sha256Hex(b)].at_home());

  // A paused link copies nothing: the download says why.
  replicator_->Stop();
  v1::PauseLinkRequest pause;
  pause.set_name("links/occitanie");
  ASSERT_THAT(follower_.all->links.PauseLink(admin_, pause), IsOk());
  read.set_name(kit2);
  absl::Status paused = follower_.all->records.StartRead(admin_, read).status();
  EXPECT_EQ(paused.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrorReason(paused), kReasonContentAtHome);
  EXPECT_THAT(paused.message(), ::testing::HasSubstr("paused"));

  // Deleting the copies releases both, the copied bytes are collected.
  del.set_keep_copies(false);
  ASSERT_THAT(follower_.all->links.DeleteLink(admin_, del), IsOk());
  EXPECT_TRUE(FollowerContents().empty());
  ASSERT_THAT(follower_.all->records.CollectGarbage(absl::Now()), IsOk());
  EXPECT_EQ(CountWith(storage::Table::kRecordChunks, "", "", &found), 0);
}

TEST_F(ReplicatedContentTest, AContentCutMidWayResumesFromWhatWasWritten) {
  const std::string a = ::cohorte::testing::PseudoRandomBytes(20 * kMiB, 10);
  const std::string cr = MakeRecord("agent-petr", "cr", v1::COHORT);
  const std::string cr1 = Push("agent-petr", cr, a);
  script_.cut_after = 11 * kMiB;
  RunUntil(false,
           [](const v1::Link& l) { return l.state() == v1::Link::FOLLOWING; });
  replicator_->Stop();
  EXPECT_EQ(FollowerContent(cr1).value_or("missing"), a);
  // The second read went on from the batch written (8 MiB), not from 0:
  // what was sent twice is at most the batch cut (3 MiB).
  ASSERT_EQ(script_.offsets.size(), 2u);
  EXPECT_EQ(script_.offsets[0], 0);
  EXPECT_EQ(script_.offsets[1], 8 * kMiB);
  EXPECT_EQ(script_.served, 23 * kMiB);
  bool found = false;
  EXPECT_EQ(CountWith(storage::Table::kIndexes,
                      storage::IndexKey(storage::IndexKind::kPendingBlob, ""),
                      "", &found),
            0);
}

}  // namespace
}  // namespace cohorte::service
