// The limits of links, snapshots, cohort bundles and backups
// (server/service/core/limits.h), each at its bound (accepted) and past it
// (refused with its code, naming the field or the limit, writing nothing).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/service/admin/admin_service.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "server/service/replication/link_service.h"
#include "server/service/replication/replicator.h"
#include "storage/backup.h"
#include "tests/service/access_fixture.h"
#include "tests/testing/bundles.h"

namespace cohorte::service {
namespace {

using ::cohorte::testing::DelimitedEvents;
using ::cohorte::testing::InvalidFieldIs;
using ::cohorte::testing::IsOk;
using ::cohorte::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kPeerToken[] =
    "coh_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

class LinkBoundsTest : public AccessFixture {
 protected:
  LinkService& links() { return services_.all->links; }

  // A valid request for link `id` following `cohorts` (none made here).
  static v1::CreateLinkRequest Link(const std::string& id,
                                    const std::vector<std::string>& cohorts) {
    v1::CreateLinkRequest req;
    req.set_link_id(id);
    req.mutable_link()->set_display_name("Lien " + id);
    req.mutable_link()->set_endpoint("127.0.0.1:9");
    for (const std::string& c : cohorts) req.mutable_link()->add_cohorts(c);
    req.set_token(kPeerToken);
    return req;
  }

  // `bytes` of a PEM certificate (header, filler, footer).
  static std::string Pem(size_t bytes) {
    const std::string head = "-----BEGIN CERTIFICATE-----\n";
    const std::string tail = "\n-----END CERTIFICATE-----\n";
    return head + std::string(bytes - head.size() - tail.size(), 'A') + tail;
  }

  // Expects `status` to be `code`, naming `field` (or the limit in its
  // message when `field` is empty), with nothing written since `revision`.
  void ExpectRefused(const absl::Status& status, absl::StatusCode code,
                     const std::string& field, const std::string& limit,
                     int64_t revision) {
    EXPECT_EQ(status.code(), code) << status;
    if (!field.empty()) {
      EXPECT_EQ(ErrorField(status), field) << status;
    }
    EXPECT_THAT(std::string(status.message()), HasSubstr(limit));
    EXPECT_EQ(store_->revision(), revision) << "a refused call wrote";
  }
};

TEST_F(LinkBoundsTest, AnInstanceHasAtMostThirtyTwoLinks) {
  for (int i = 0; i < kMaxLinks; ++i) {
    ASSERT_THAT(
        links().CreateLink(
            admin_, Link(absl::StrCat("l", i), {absl::StrCat("cohorts/c", i)})),
        IsOk())
        << "link " << i;
  }
  absl::StatusOr<v1::ListLinksResponse> all =
      links().ListLinks(admin_, v1::ListLinksRequest());
  ASSERT_THAT(all, IsOk());
  EXPECT_EQ(all->links_size(), kMaxLinks);
  const int64_t revision = store_->revision();
  ExpectRefused(
      links().CreateLink(admin_, Link("one-more", {"cohorts/encore"})).status(),
      absl::StatusCode::kFailedPrecondition, "",
      absl::StrCat(kMaxLinks, " links, the most"), revision);
  // A deleted link makes room again.
  v1::DeleteLinkRequest remove;
  remove.set_name("links/l0");
  ASSERT_THAT(links().DeleteLink(admin_, remove), IsOk());
  EXPECT_THAT(links().CreateLink(admin_, Link("one-more", {"cohorts/encore"})),
              IsOk());
}

TEST_F(LinkBoundsTest, ALinkFollowsAtMostTwentyCohorts) {
  std::vector<std::string> cohorts;
  for (int i = 0; i <= kMaxLinkCohorts; ++i) {
    cohorts.push_back(absl::StrCat("cohorts/c", i));
  }
  const int64_t revision = store_->revision();
  ExpectRefused(links().CreateLink(admin_, Link("trop", cohorts)).status(),
                absl::StatusCode::kInvalidArgument, "link.cohorts",
                absl::StrCat("at most ", kMaxLinkCohorts), revision);
  cohorts.pop_back();
  absl::StatusOr<v1::Link> made =
      links().CreateLink(admin_, Link("assez", cohorts));
  ASSERT_THAT(made, IsOk());
  EXPECT_EQ(made->cohorts_size(), kMaxLinkCohorts);
}

TEST_F(LinkBoundsTest, ALinksTextsAtAndPastTheirBounds) {
  struct Case {
    std::string field;
    int limit;
    std::function<void(v1::CreateLinkRequest&, bool past)> set;
  };
  const std::vector<Case> cases = {
      {"link.display_name", kMaxLinkDisplayNameChars,
       [](v1::CreateLinkRequest& r, bool past) {
         r.mutable_link()->set_display_name(
             std::string(kMaxLinkDisplayNameChars + past, 'n'));
       }},
      {"link.endpoint", kMaxLinkEndpointLength,
       [](v1::CreateLinkRequest& r, bool past) {
         const std::string port = ":443";
         r.mutable_link()->set_endpoint(
             std::string(kMaxLinkEndpointLength + past - port.size(), 'h') +
             port);
       }},
      {"link.tls_ca_pem", kMaxLinkPemBytes,
       [](v1::CreateLinkRequest& r, bool past) {
         r.mutable_link()->set_tls_ca_pem(Pem(kMaxLinkPemBytes + past));
       }},
  };
  int made = 0;
  for (const Case& c : cases) {
    v1::CreateLinkRequest req =
        Link(absl::StrCat("l", made), {absl::StrCat("cohorts/c", made)});
    c.set(req, /*past=*/true);
    const int64_t revision = store_->revision();
    ExpectRefused(links().CreateLink(admin_, req).status(),
                  absl::StatusCode::kInvalidArgument, c.field,
                  absl::StrCat(c.limit), revision);
    c.set(req, /*past=*/false);
    EXPECT_THAT(links().CreateLink(admin_, req), IsOk()) << c.field;
    ++made;
  }
}

// ListSnapshot pages hold at most kMaxSnapshotPageSize resources: a larger
// page_size is brought down to it (AIP-158), a negative one refused.
TEST_F(LinkBoundsTest, ASnapshotPageHoldsAtMostAThousand) {
  // 1,100 territories more in occitanie, in one mutation.
  storage::Mutation m;
  m.actor = "members/admin";
  m.method = "Seed";
  m.apply = [](storage::Txn& txn) -> absl::StatusOr<std::string> {
    for (int i = 0; i < 1100; ++i) {
      v1::Territory t;
      t.set_name(absl::StrCat(kOccitanie, "/territories/t", 10000 + i));
      t.set_display_name(absl::StrCat("Territoire ", i));
      t.set_kind(v1::Territory::COMMUNE);
      txn.PutEntity(t);
    }
    return std::string();
  };
  ASSERT_THAT(store_->Commit(std::move(m)).status(), IsOk());
  auto page = [&](int page_size) {
    v1::ListSnapshotRequest req;
    req.mutable_filter()->add_cohorts(kOccitanie);
    req.set_page_size(page_size);
    return services_.all->changes.ListSnapshot(admin_, req);
  };
  for (int size : {kMaxSnapshotPageSize, kMaxSnapshotPageSize + 1, 1 << 30}) {
    absl::StatusOr<v1::ListSnapshotResponse> p = page(size);
    ASSERT_THAT(p, IsOk()) << size;
    EXPECT_EQ(p->events_size(), kMaxSnapshotPageSize) << size;
    EXPECT_FALSE(p->next_page_token().empty()) << size;
  }
  absl::StatusOr<v1::ListSnapshotResponse> by_default = page(0);
  ASSERT_THAT(by_default, IsOk());
  EXPECT_EQ(by_default->events_size(), kDefaultSnapshotPageSize);
  EXPECT_THAT(page(-1), InvalidFieldIs("page_size"));
}

// A cohort bundle's events.pb: at most kMaxImportEventsBytes, streamed in
// messages of at most kMaxImportChunkBytes. At the bound, a bundle of
// exactly 64 MiB is imported (the cohort, and one event of a type no link
// follows that fills it, refused and counted); one byte more is refused as
// soon as its manifest arrives.
class ImportBoundsTest : public LinkBoundsTest {
 protected:
  // The manifest of `events_pb` (declaring `size` bytes) as the stream's
  // first message.
  v1::ImportCohortRequest Manifest(const std::string& events_pb, int64_t size,
                                   int64_t count) {
    return ::cohorte::testing::ManifestOf(events_pb, store_->instance_id(),
                                          kOccitanie, count, size);
  }

  // The home's cohort as the bundle's first event, then one event of a
  // type links do not follow, padded so that events.pb is `size` bytes.
  std::string EventsOf(int64_t size) {
    v1::ListSnapshotRequest req;
    req.mutable_filter()->add_cohorts(kOccitanie);
    req.mutable_filter()->add_resource_types("Cohort");
    absl::StatusOr<v1::ListSnapshotResponse> page =
        services_.all->changes.ListSnapshot(admin_, req);
    EXPECT_THAT(page, IsOk());
    if (!page.ok() || page->events_size() != 1) return "";
    std::vector<v1::ChangeEvent> events = {page->events(0)};
    v1::ChangeEvent& pad = events.emplace_back();
    pad.set_type(v1::ChangeEvent::CREATED);
    pad.set_resource_name(absl::StrCat(kOccitanie, "/padding/p"));
    pad.set_resource_type("cohorte.v1.Padding");
    pad.mutable_resource()->set_type_url(
        "type.googleapis.com/cohorte.v1.Padding");
    // Length prefixes grow with the padding: converge on `size`, then
    // take up a byte of slack in the name if a prefix boundary is hit.
    int64_t fill = size;
    for (int i = 0; i < 8; ++i) {
      pad.mutable_resource()->set_value(std::string(fill, 'p'));
      const int64_t got = static_cast<int64_t>(DelimitedEvents(events).size());
      if (got == size) return DelimitedEvents(events);
      fill -= got - size;
      if (fill < 0) return "";
      if (i >= 4) pad.set_resource_name(pad.resource_name() + "x");
    }
    return "";
  }

  // Streams `events_pb` after its manifest in chunks of `chunk` bytes.
  absl::StatusOr<v1::ImportCohortResponse> Import(const std::string& events_pb,
                                                  size_t chunk) {
    std::unique_ptr<CohortImport> import =
        follower_.all->links.StartImport(admin_);
    COHORTE_RETURN_IF_ERROR(import->Add(
        Manifest(events_pb, static_cast<int64_t>(events_pb.size()), 2)));
    for (size_t at = 0; at < events_pb.size(); at += chunk) {
      v1::ImportCohortRequest next;
      next.set_events_data(events_pb.substr(at, chunk));
      COHORTE_RETURN_IF_ERROR(import->Add(next));
    }
    return import->Finish();
  }

  ::cohorte::testing::TempDir follower_dir_;
  ::cohorte::testing::Services follower_{follower_dir_.path()};
};

TEST_F(ImportBoundsTest, ABundleOfSixtyFourMebibytesIsImportedNotOneByteMore) {
  const std::string at_bound = EventsOf(kMaxImportEventsBytes);
  ASSERT_EQ(static_cast<int64_t>(at_bound.size()), kMaxImportEventsBytes);

  // One byte more: refused at the manifest, before any byte is read.
  const int64_t revision = follower_.store->revision();
  std::unique_ptr<CohortImport> past = follower_.all->links.StartImport(admin_);
  absl::Status s = past->Add(Manifest(at_bound, kMaxImportEventsBytes + 1, 2));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_EQ(ErrorField(s), "manifest.files[0].size_bytes");
  EXPECT_THAT(std::string(s.message()),
              HasSubstr(absl::StrCat(kMaxImportEventsBytes)));
  EXPECT_EQ(follower_.store->revision(), revision);

  // A message of one byte more than a chunk may hold.
  std::unique_ptr<CohortImport> big_chunk =
      follower_.all->links.StartImport(admin_);
  ASSERT_THAT(big_chunk->Add(Manifest(at_bound, kMaxImportEventsBytes, 2)),
              IsOk());
  v1::ImportCohortRequest chunk;
  chunk.set_events_data(at_bound.substr(0, kMaxImportChunkBytes + 1));
  EXPECT_THAT(big_chunk->Add(chunk), InvalidFieldIs("events_data"));
  EXPECT_EQ(follower_.store->revision(), revision);

  // At both bounds: imported, the filler refused and counted.
  absl::StatusOr<v1::ImportCohortResponse> imported =
      Import(at_bound, kMaxImportChunkBytes);
  ASSERT_THAT(imported, IsOk());
  EXPECT_EQ(imported->applied(), 1);
  EXPECT_EQ(imported->refused(), 1);
  EXPECT_EQ(imported->cohort().name(), kOccitanie);
}

// Backups: cohorted keeps at most kMaxBackupsKept (--backup-keep; the flag
// past it is refused at start, backup_e2e_test). At the bound, the 101st
// backup drops the first, and ListBackups shows the hundred in one answer.
TEST_F(LinkBoundsTest, AHundredBackupsAreKeptAndListedInOneAnswer) {
  ::cohorte::testing::TempDir backup_dir;
  absl::StatusOr<std::unique_ptr<storage::Backups>> backups =
      storage::Backups::Open(
          {.dir = backup_dir.path() + "/b", .keep = kMaxBackupsKept});
  ASSERT_THAT(backups, IsOk());
  AdminService admin(store_.get(), backups->get(), "");
  for (int i = 0; i <= kMaxBackupsKept; ++i) {
    ASSERT_THAT(admin.CreateBackup(admin_, v1::CreateBackupRequest()), IsOk())
        << "backup " << i + 1;
  }
  absl::StatusOr<v1::ListBackupsResponse> list =
      admin.ListBackups(admin_, v1::ListBackupsRequest());
  ASSERT_THAT(list, IsOk());
  ASSERT_EQ(list->backups_size(), kMaxBackupsKept);
  EXPECT_EQ(list->backups(0).name(), "backups/2");
  EXPECT_EQ(list->backups(kMaxBackupsKept - 1).name(),
            absl::StrCat("backups/", kMaxBackupsKept + 1));
  v1::VerifyBackupRequest first;
  first.set_name("backups/1");
  EXPECT_THAT(admin.VerifyBackup(admin_, first),
              StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace cohorte::service
