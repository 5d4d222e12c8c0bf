// Cohort bundles, in process: ImportCohort (cohort_import.h) on a second
// store, from a bundle built of the home's ListSnapshot as the exporting
// CLI builds it. Idempotence, tampered bundles refused with nothing
// written, closed content refused whatever the bundle says, the replica
// read-only, name conflicts, and adoption by a later link.

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/service/core/errors.h"
#include "server/service/replication/link_service.h"
#include "server/service/replication/replicator.h"
#include "tests/service/access_fixture.h"
#include "tests/service/record_helpers.h"
#include "tests/testing/bundles.h"
#include "tests/testing/pseudo_random.h"
#include "tests/testing/raw_access.h"

namespace cohorte::service {
namespace {

using ::cohorte::testing::IsOk;

class CohortImportTest : public AccessFixture {
 protected:
  void SetUp() override {
    AccessFixture::SetUp();
    v1::CreateReportRequest req;
    req.set_parent(kOccitanie);
    req.set_report_id("ouvert");
    req.mutable_report()->set_title("REX ouvert");
    req.mutable_report()->set_territory(kPetr);
    req.mutable_report()->set_visibility(v1::NETWORK);
    ASSERT_THAT(services_.reports->CreateReport(who("elu-petr"), req), IsOk());
    v1::PublishReportRequest publish;
    publish.set_name("cohorts/occitanie/reports/ouvert");
    ASSERT_THAT(services_.reports->PublishReport(who("elu-petr"), publish),
                IsOk());
  }

  // The home's snapshot of occitanie as the administrator reads it.
  std::vector<v1::ChangeEvent> HomeSnapshot() {
    v1::ListSnapshotRequest req;
    req.mutable_filter()->add_cohorts(kOccitanie);
    for (const std::string& t : ReplicatedTypes()) {
      req.mutable_filter()->add_resource_types(t);
    }
    absl::StatusOr<v1::ListSnapshotResponse> page =
        services_.all->changes.ListSnapshot(admin_, req);
    EXPECT_THAT(page, IsOk());
    EXPECT_TRUE(page->next_page_token().empty());
    return {page->events().begin(), page->events().end()};
  }

  static std::string Delimited(const std::vector<v1::ChangeEvent>& events) {
    return ::cohorte::testing::DelimitedEvents(events);
  }

  // A bundle's stream: the manifest of `events_pb` (declaring `count`
  // events), then its bytes in chunks of 100.
  std::vector<v1::ImportCohortRequest> Stream(const std::string& events_pb,
                                              int64_t count) {
    std::vector<v1::ImportCohortRequest> out = {::cohorte::testing::ManifestOf(
        events_pb, store_->instance_id(), kOccitanie, count)};
    for (size_t at = 0; at < events_pb.size(); at += 100) {
      out.emplace_back().set_events_data(events_pb.substr(at, 100));
    }
    return out;
  }

  absl::StatusOr<v1::ImportCohortResponse> Import(
      const std::vector<v1::ImportCohortRequest>& stream,
      const Principal* caller = nullptr) {
    std::unique_ptr<CohortImport> import =
        target_->all->links.StartImport(caller ? *caller : admin_);
    for (const v1::ImportCohortRequest& m : stream) {
      COHORTE_RETURN_IF_ERROR(import->Add(m));
    }
    return import->Finish();
  }

  // Lists `content` in `stream`'s manifest and, unless `send` is false,
  // appends its pieces (1 MiB) to the stream; `tamper` flips a byte.
  static void AddContent(std::vector<v1::ImportCohortRequest>& stream,
                         const std::string& content, bool send = true,
                         bool tamper = false) {
    v1::BundleManifest& m = *stream[0].mutable_manifest();
    v1::BundleFile* f = m.add_files();
    f->set_path("contents/" + Sha256Hex(content));
    f->set_size_bytes(static_cast<int64_t>(content.size()));
    f->set_sha256(Sha256Hex(content));
    m.set_content_count(m.content_count() + 1);
    if (!send) return;
    for (size_t at = 0; at < content.size(); at += 1 << 20) {
      v1::BundleContentPiece* piece = stream.emplace_back().mutable_content();
      piece->set_sha256(Sha256Hex(content));
      piece->set_data(content.substr(at, 1 << 20));
      if (tamper && at == 0) (*piece->mutable_data())[7] ^= 1;
    }
  }

  // How many keys the follower's `table` holds under `prefix`.
  int64_t FollowerKeys(storage::Table table, absl::string_view prefix) {
    int64_t n = 0;
    EXPECT_THAT(storage::testing::RawAccess::Committed(*follower_.store)
                    .Scan(table, prefix, "",
                          [&](absl::string_view, absl::string_view) {
                            ++n;
                            return true;
                          }),
                IsOk());
    return n;
  }

  absl::StatusOr<v1::ImportCohortResponse> Import(
      const std::vector<v1::ChangeEvent>& events) {
    return Import(Stream(Delimited(events), events.size()));
  }

  // The follower's copy of occitanie, resources only, by name.
  std::map<std::string, std::string> FollowerCopy() {
    v1::ListSnapshotRequest req;
    req.mutable_filter()->add_cohorts(kOccitanie);
    absl::StatusOr<v1::ListSnapshotResponse> page =
        follower_.all->changes.ListSnapshot(admin_, req);
    EXPECT_THAT(page, IsOk());
    std::map<std::string, std::string> out;
    if (!page.ok()) return out;
    for (const v1::ChangeEvent& e : page->events()) {
      out[e.resource_name()] = e.resource().SerializeAsString();
    }
    return out;
  }

  ::cohorte::testing::TempDir follower_dir_;
  ::cohorte::testing::Services follower_{follower_dir_.path()};
  // Where Import imports.
  ::cohorte::testing::Services* target_ = &follower_;
};

TEST_F(CohortImportTest, AnImportIsAReadOnlyReplicaAndIdempotent) {
  const std::vector<v1::ChangeEvent> events = HomeSnapshot();
  absl::StatusOr<v1::ImportCohortResponse> first = Import(events);
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->applied(), static_cast<int64_t>(events.size()));
  EXPECT_EQ(first->refused(), 0);
  EXPECT_EQ(first->cohort().home().instance_id(), store_->instance_id());
  EXPECT_EQ(first->cohort().home().instance_name(), "Occitanie (AREC)");
  EXPECT_EQ(first->cohort().home().link(), kImportedLink);
  const std::map<std::string, std::string> copy = FollowerCopy();
  EXPECT_EQ(copy.size(), events.size());
  EXPECT_TRUE(copy.count("cohorts/occitanie/reports/ouvert"));

  // Again: nothing more changes.
  absl::StatusOr<v1::ImportCohortResponse> again = Import(events);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->deleted(), 0);
  EXPECT_EQ(FollowerCopy(), copy);

  // A newer bundle without the territory coteaux: it goes.
  std::vector<v1::ChangeEvent> fewer;
  for (const v1::ChangeEvent& e : events) {
    if (e.resource_name() != "cohorts/occitanie/territories/coteaux") {
      fewer.push_back(e);
    }
  }
  ASSERT_EQ(fewer.size() + 1, events.size());
  absl::StatusOr<v1::ImportCohortResponse> newer = Import(fewer);
  ASSERT_THAT(newer, IsOk());
  EXPECT_EQ(newer->deleted(), 1);
  EXPECT_EQ(FollowerCopy().size(), fewer.size());

  // Read-only here, even for the administrator.
  v1::UpdateCohortRequest update;
  update.mutable_cohort()->set_name(kOccitanie);
  update.mutable_cohort()->set_description("écrit ici");
  update.mutable_update_mask()->add_paths("description");
  absl::Status s = follower_.cohorts->UpdateCohort(admin_, update).status();
  EXPECT_EQ(ErrorReason(s), kReasonReplicaReadOnly);
  EXPECT_EQ(ErrorMetadata(s, "home_instance_id"), store_->instance_id());
  v1::DeleteCohortRequest del;
  del.set_name(kOccitanie);
  EXPECT_EQ(ErrorReason(follower_.cohorts->DeleteCohort(admin_, del).status()),
            kReasonReplicaReadOnly);
}

TEST_F(CohortImportTest, ATamperedBundleIsRefusedAndNothingWritten) {
  const std::vector<v1::ChangeEvent> events = HomeSnapshot();
  const std::string good = Delimited(events);
  const int64_t revision = follower_.store->revision();
  auto expect_corrupt = [&](const absl::StatusOr<v1::ImportCohortResponse>& r,
                            const std::string& what) {
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << what;
    EXPECT_EQ(ErrorReason(r.status()), kReasonBundleCorrupt)
        << what << ": " << r.status();
    EXPECT_EQ(follower_.store->revision(), revision) << what;
  };
  // A byte changed after the manifest was made.
  std::vector<v1::ImportCohortRequest> flipped = Stream(good, events.size());
  std::string& chunk = *flipped[2].mutable_events_data();
  chunk[10] = static_cast<char>(chunk[10] ^ 0x20);
  expect_corrupt(Import(flipped), "a byte flipped");
  // Truncated.
  std::vector<v1::ImportCohortRequest> truncated = Stream(good, events.size());
  truncated.pop_back();
  expect_corrupt(Import(truncated), "truncated");
  // More than declared.
  std::vector<v1::ImportCohortRequest> longer = Stream(good, events.size());
  longer.emplace_back().set_events_data("x");
  expect_corrupt(Import(longer), "longer");
  // Garbage whose manifest matches it.
  expect_corrupt(Import(Stream(std::string(300, '\xff'), 3)), "garbage");
  // Another count than the manifest's.
  expect_corrupt(Import(Stream(good, events.size() + 1)), "count");
  // No cohort in it.
  std::vector<v1::ChangeEvent> headless(events.begin() + 1, events.end());
  expect_corrupt(Import(headless), "no cohort");
  // A bad manifest names its field.
  std::vector<v1::ImportCohortRequest> bad = Stream(good, events.size());
  bad[0].mutable_manifest()->set_format_version(2);
  EXPECT_EQ(ErrorField(Import(bad).status()), "manifest.format_version");
  EXPECT_EQ(follower_.store->revision(), revision);
}

TEST_F(CohortImportTest, WhatMayNotLeaveItsGroupIsRefusedWhateverTheBundle) {
  std::vector<v1::ChangeEvent> events = HomeSnapshot();
  auto add = [&](const google::protobuf::Message& m, const std::string& name) {
    v1::ChangeEvent& e = events.emplace_back();
    e.set_type(v1::ChangeEvent::CREATED);
    e.set_resource_name(name);
    e.set_resource_type(std::string(m.GetDescriptor()->full_name()));
    e.mutable_resource()->PackFrom(m);
  };
  v1::ExperienceReport closed;
  closed.set_name("cohorts/occitanie/reports/entre-elus");
  closed.set_title("ELUSMARK");
  closed.set_visibility(v1::GROUP);
  closed.set_state(v1::ExperienceReport::PUBLISHED);
  add(closed, closed.name());
  v1::ExperienceReport draft;
  draft.set_name("cohorts/occitanie/reports/brouillon");
  draft.set_visibility(v1::NETWORK);
  draft.set_state(v1::ExperienceReport::DRAFT);
  add(draft, draft.name());
  v1::Record record;
  record.set_name("cohorts/occitanie/records/groupe");
  record.set_visibility(v1::GROUP);
  add(record, record.name());
  v1::RecordVersion version;
  version.set_name("cohorts/occitanie/records/groupe/versions/1");
  version.set_file_name("ELUSMARK.pdf");
  add(version, version.name());
  v1::PeerGroup group;
  group.set_name("cohorts/occitanie/groups/club");
  group.set_display_name("Club");
  group.set_kind(v1::PeerGroup::THEMATIC);
  group.add_members("members/elu-petr");
  add(group, group.name());
  v1::Session elsewhere;
  elsewhere.set_name("cohorts/autre/sessions/s1");
  add(elsewhere, elsewhere.name());

  absl::StatusOr<v1::ImportCohortResponse> r = Import(events);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->refused(), 5);
  const std::map<std::string, std::string> copy = FollowerCopy();
  for (const auto& [name, bytes] : copy) {
    EXPECT_EQ(bytes.find("ELUSMARK"), std::string::npos) << name;
  }
  // The group's metadata, never its members.
  ASSERT_TRUE(copy.count(group.name()));
  EXPECT_EQ(copy.at(group.name()).find("elu-petr"), std::string::npos);
  EXPECT_FALSE(copy.count(closed.name()));
  EXPECT_FALSE(copy.count(draft.name()));
  EXPECT_FALSE(copy.count(version.name()));
  EXPECT_TRUE(copy.count(group.name()));
}

TEST_F(CohortImportTest, TakenNamesAndCallersAreRefusedAndALinkAdopts) {
  const std::vector<v1::ChangeEvent> events = HomeSnapshot();
  // Not the administrator.
  const Principal coordinator = who("coordinator");
  EXPECT_EQ(Import(Stream(Delimited(events), events.size()), &coordinator)
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  // Imported, then a link to the same instance adopts the copy.
  ASSERT_THAT(Import(events), IsOk());
  v1::CreateLinkRequest link;
  link.set_link_id("occitanie");
  link.mutable_link()->set_display_name("Occitanie");
  link.mutable_link()->set_endpoint("127.0.0.1:9");
  link.mutable_link()->add_cohorts(kOccitanie);
  link.mutable_link()->set_peer_instance_id(store_->instance_id());
  link.set_token(
      "coh_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  ASSERT_THAT(follower_.all->links.CreateLink(admin_, link), IsOk());
  storage::Mutation m;
  m.replicated = true;
  m.actor = "links/occitanie";
  m.apply = [&](storage::Txn& txn) -> absl::StatusOr<std::string> {
    storage::v1::LinkRecord rec;
    COHORTE_RETURN_IF_ERROR(
        txn.GetEntity<storage::v1::LinkRecord>("links/occitanie", &rec));
    ApplyCounts counts;
    COHORTE_RETURN_IF_ERROR(ApplyChange(txn, rec, events[0], &counts, nullptr,
                                        [](absl::string_view) {}));
    return std::string();
  };
  ASSERT_THAT(follower_.store->Commit(std::move(m)).status(), IsOk());
  absl::StatusOr<v1::Cohort> adopted =
      Reader(*follower_.store, admin_).Get<v1::Cohort>(kOccitanie);
  ASSERT_THAT(adopted, IsOk());
  EXPECT_EQ(adopted->home().link(), "links/occitanie");
  // Now followed by the link: an import is a conflict.
  absl::Status s = Import(events).status();
  EXPECT_EQ(ErrorReason(s), kReasonNameConflict);
  // A cohort made here (on a third instance).
  ::cohorte::testing::TempDir other_dir;
  ::cohorte::testing::Services other{other_dir.path()};
  v1::CreateCohortRequest own;
  own.set_cohort_id("occitanie");
  own.mutable_cohort()->set_display_name("Occitanie d'ici");
  ASSERT_THAT(other.cohorts->CreateCohort(admin_, own), IsOk());
  target_ = &other;
  s = Import(events).status();
  target_ = &follower_;
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(s), kReasonNameConflict);
}

TEST_F(CohortImportTest, RecordContentsComeWithTheBundleChecked) {
  RecordService& home = services_.all->records;
  absl::StatusOr<v1::Record> record = ::cohorte::testing::MakeRecordAs(
      home, who("agent-petr"), kOccitanie, "cr", v1::COHORT);
  ASSERT_THAT(record, IsOk());
  const std::string a = ::cohorte::testing::PseudoRandomBytes(
      2 * ::cohorte::testing::kRecordMiB + 3, 7);
  absl::StatusOr<std::string> version = ::cohorte::testing::PushContentAs(
      home, who("agent-petr"), record->name(), a);
  ASSERT_THAT(version, IsOk());
  const std::vector<v1::ChangeEvent> events = HomeSnapshot();
  const std::string pb = Delimited(events);
  auto read = [&] {
    return ::cohorte::testing::ReadContentAs(follower_.all->records, admin_,
                                             *version);
  };
  auto chunks = [&] { return FollowerKeys(storage::Table::kRecordChunks, ""); };

  // A tampered content, a missing one, one the manifest does not list:
  // refused, nothing visible, and the collector frees what was received.
  std::vector<v1::ImportCohortRequest> tampered = Stream(pb, events.size());
  AddContent(tampered, a, /*send=*/true, /*tamper=*/true);
  absl::Status s = Import(tampered).status();
  EXPECT_EQ(ErrorReason(s), kReasonBundleCorrupt) << s;
  EXPECT_THAT(s.message(), ::testing::HasSubstr("SHA-256"));
  std::vector<v1::ImportCohortRequest> missing = Stream(pb, events.size());
  AddContent(missing, a, /*send=*/false);
  EXPECT_EQ(ErrorReason(Import(missing).status()), kReasonBundleCorrupt);
  std::vector<v1::ImportCohortRequest> unlisted = Stream(pb, events.size());
  AddContent(unlisted, a);
  unlisted[0].mutable_manifest()->clear_content_count();
  unlisted[0].mutable_manifest()->mutable_files()->RemoveLast();
  EXPECT_EQ(ErrorReason(Import(unlisted).status()), kReasonBundleCorrupt);
  EXPECT_FALSE(read().ok());
  EXPECT_EQ(FollowerKeys(storage::Table::kEntities, ""), 0);
  EXPECT_EQ(
      FollowerKeys(storage::Table::kIndexes,
                   storage::IndexKey(storage::IndexKind::kPendingBlob, "")),
      0);
  ASSERT_THAT(follower_.all->records.CollectGarbage(absl::Now()), IsOk());
  EXPECT_EQ(chunks(), 0);

  // Whole and right: the version reads back the same bytes.
  std::vector<v1::ImportCohortRequest> whole = Stream(pb, events.size());
  AddContent(whole, a);
  absl::StatusOr<v1::ImportCohortResponse> done = Import(whole);
  ASSERT_THAT(done, IsOk());
  EXPECT_EQ(done->refused(), 0);
  EXPECT_EQ(read().value_or("missing"), a);
  // Again: the content held is skipped, nothing more is stored.
  const int64_t stored = chunks();
  ASSERT_THAT(Import(whole), IsOk());
  ASSERT_THAT(follower_.all->records.CollectGarbage(absl::Now()), IsOk());
  EXPECT_EQ(chunks(), stored);
  EXPECT_EQ(read().value_or("missing"), a);
}

TEST_F(CohortImportTest, AVersionWithoutItsContentIsRefused) {
  RecordService& home = services_.all->records;
  absl::StatusOr<v1::Record> record = ::cohorte::testing::MakeRecordAs(
      home, who("agent-petr"), kOccitanie, "cr", v1::COHORT);
  ASSERT_THAT(record, IsOk());
  ASSERT_THAT(::cohorte::testing::PushContentAs(home, who("agent-petr"),
                                                record->name(), "contenu"),
              IsOk());
  // An exporter that could not read the content left it out.
  absl::StatusOr<v1::ImportCohortResponse> done = Import(HomeSnapshot());
  ASSERT_THAT(done, IsOk());
  EXPECT_EQ(done->refused(), 1);
  EXPECT_THAT(Reader(*follower_.store, admin_).Get<v1::Record>(record->name()),
              IsOk());
  EXPECT_EQ(FollowerKeys(storage::Table::kEntities,
                         storage::EntityKeyOf<v1::RecordVersion>("")),
            0);
}

}  // namespace
}  // namespace cohorte::service
