// RecordService on a real store: records and versions, resumable uploads
// in chunks, downloads by offset, content stored once, the garbage
// collector, quotas, and who reads what (a GROUP record, someone else's
// upload session).
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/service/records/content_check.h"
#include "server/service/records/record_service.h"
#include "storage/keys.h"
#include "tests/service/access_fixture.h"
#include "tests/testing/pseudo_random.h"
#include "tests/testing/raw_access.h"

namespace cohorte::service {
namespace {

using ::cohorte::testing::InvalidFieldIs;
using ::cohorte::testing::IsOk;
using ::cohorte::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr int64_t kMiB = 1 << 20;
constexpr char kElus[] = "cohorts/occitanie/groups/elus";

std::string Content(int64_t size, uint32_t seed) {
  return ::cohorte::testing::PseudoRandomBytes(size, seed);
}

class RecordTest : public AccessFixture {
 protected:
  RecordService& records() { return services_.all->records; }

  // A record of occitanie created by `who`.
  v1::Record MakeRecord(const std::string& who, const std::string& id,
                        v1::Visibility visibility = v1::COHORT) {
    v1::CreateRecordRequest req;
    req.set_parent(kOccitanie);
    req.set_record_id(id);
    req.mutable_record()->set_title("Compte-rendu " + id);
    req.mutable_record()->set_kind(v1::Record::COMPTE_RENDU);
    req.mutable_record()->set_visibility(visibility);
    if (visibility == v1::GROUP) req.mutable_record()->set_group(kElus);
    absl::StatusOr<v1::Record> r = records().CreateRecord(who_.at(who), req);
    EXPECT_THAT(r, IsOk());
    return r.ok() ? *r : v1::Record();
  }

  absl::StatusOr<v1::Upload> Start(const std::string& who,
                                   const std::string& record,
                                   const std::string& content) {
    v1::StartUploadRequest req;
    req.set_parent(record);
    req.set_size_bytes(static_cast<int64_t>(content.size()));
    req.set_sha256(Sha256Hex(content));
    req.set_file_name("cr.bin");
    return records().StartUpload(who_.at(who), req);
  }

  absl::StatusOr<v1::Upload> Write(const std::string& who,
                                   const std::string& upload, int64_t offset,
                                   absl::string_view data) {
    v1::WriteUploadRequest req;
    req.set_write_offset(offset);
    req.set_data(std::string(data));
    return records().WriteUpload(who_.at(who), upload, req);
  }

  // Uploads `content` to `record` as `who` in 1 MiB chunks; the version.
  std::string Push(const std::string& who, const std::string& record,
                   const std::string& content) {
    absl::StatusOr<v1::Upload> u = Start(who, record, content);
    EXPECT_THAT(u, IsOk());
    if (!u.ok()) return "";
    // The content is held in a version `who` may read: the proof chunks.
    for (int64_t at : u->proof_offsets()) {
      absl::StatusOr<v1::Upload> w = Write(
          who, u->name(), at, absl::string_view(content).substr(at, kMiB));
      EXPECT_THAT(w, IsOk());
      if (!w.ok()) return "";
      if (w->state() == v1::Upload::COMPLETED) return w->version();
    }
    int64_t offset = u->committed_size();
    while (offset < static_cast<int64_t>(content.size())) {
      const absl::string_view chunk =
          absl::string_view(content).substr(offset, kMiB);
      absl::StatusOr<v1::Upload> w = Write(who, u->name(), offset, chunk);
      EXPECT_THAT(w, IsOk());
      if (!w.ok()) return "";
      offset = w->committed_size();
      if (w->state() == v1::Upload::COMPLETED) return w->version();
    }
    return "";
  }

  // The whole content of `version` as `who`, read from `offset`.
  absl::StatusOr<std::string> Pull(const std::string& who,
                                   const std::string& version,
                                   int64_t offset = 0) {
    v1::ReadRecordVersionRequest req;
    req.set_name(version);
    req.set_read_offset(offset);
    COHORTE_ASSIGN_OR_RETURN(v1::RecordVersion v,
                             records().StartRead(who_.at(who), req));
    std::string out;
    while (offset < v.size_bytes()) {
      COHORTE_ASSIGN_OR_RETURN(
          std::string chunk, records().ReadChunk(who_.at(who), version, offset,
                                                 v.size_bytes() - offset));
      if (chunk.empty()) return absl::DataLossError("ended early");
      offset += static_cast<int64_t>(chunk.size());
      out += chunk;
    }
    return out;
  }

  // The number of chunk keys stored per blob.
  std::map<uint64_t, int> StoredChunks() {
    std::map<uint64_t, int> blobs;
    EXPECT_THAT(
        storage::testing::RawAccess::Committed(*store_).Scan(
            storage::Table::kRecordChunks, "", "",
            [&](absl::string_view key, absl::string_view) {
              uint64_t blob = 0;
              int64_t offset = 0;
              EXPECT_TRUE(storage::ParseRecordChunkKey(key, &blob, &offset));
              ++blobs[blob];
              return true;
            }),
        IsOk());
    return blobs;
  }

  std::vector<std::string> VersionNames(const std::string& who,
                                        const std::string& record) {
    v1::ListRecordVersionsRequest req;
    req.set_parent(record);
    absl::StatusOr<v1::ListRecordVersionsResponse> list =
        records().ListRecordVersions(who_.at(who), req);
    EXPECT_THAT(list, IsOk());
    std::vector<std::string> names;
    if (list.ok()) {
      for (const v1::RecordVersion& v : list->versions()) {
        names.push_back(v.name());
      }
    }
    return names;
  }
};

TEST_F(RecordTest, ChunkedUploadMakesAVersionOnlyOnceTheWholeContentIsThere) {
  const v1::Record r = MakeRecord("agent-petr", "journee-1");
  const std::string content = Content(3 * kMiB + 17, 1);
  absl::StatusOr<v1::Upload> u = Start("agent-petr", r.name(), content);
  ASSERT_THAT(u, IsOk());
  EXPECT_EQ(u->state(), v1::Upload::ACTIVE);
  ASSERT_THAT(Write("agent-petr", u->name(), 0,
                    absl::string_view(content).substr(0, kMiB)),
              IsOk());
  // Committed, queryable, and no version yet.
  v1::QueryUploadRequest query;
  query.set_name(u->name());
  absl::StatusOr<v1::Upload> q =
      records().QueryUpload(who("agent-petr"), query);
  ASSERT_THAT(q, IsOk());
  EXPECT_EQ(q->committed_size(), kMiB);
  EXPECT_THAT(VersionNames("elu-petr", r.name()), IsEmpty());

  const std::string version = Push("agent-petr", r.name(), content);
  EXPECT_EQ(version, r.name() + "/versions/v000001");
  EXPECT_THAT(VersionNames("elu-petr", r.name()), ElementsAre(version));
  absl::StatusOr<std::string> pulled = Pull("elu-petr", version);
  ASSERT_THAT(pulled, IsOk());
  EXPECT_TRUE(*pulled == content);
  // From an offset in the middle of a stored chunk.
  pulled = Pull("elu-petr", version, kMiB + 5);
  ASSERT_THAT(pulled, IsOk());
  EXPECT_TRUE(*pulled == content.substr(kMiB + 5));

  v1::GetRecordRequest get;
  get.set_name(r.name());
  absl::StatusOr<v1::Record> got = records().GetRecord(who("ally"), get);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->latest_version(), 1);
  EXPECT_EQ(got->latest().sha256(), Sha256Hex(content));
  EXPECT_EQ(got->latest().size_bytes(), static_cast<int64_t>(content.size()));
}

TEST_F(RecordTest, WritesOutOfPlaceOversizedOrWithTheWrongDigestKeepNothing) {
  const v1::Record r = MakeRecord("agent-petr", "journee-1");
  const std::string content = Content(kMiB + 10, 2);
  absl::StatusOr<v1::Upload> u = Start("agent-petr", r.name(), content);
  ASSERT_THAT(u, IsOk());
  EXPECT_THAT(Write("agent-petr", u->name(), 5, "abc"),
              StatusIs(absl::StatusCode::kOutOfRange, "WRONG_OFFSET"));
  EXPECT_THAT(Write("agent-petr", u->name(), 0, Content(kMiB + 1, 2)),
              InvalidFieldIs("data"));
  ASSERT_THAT(Write("agent-petr", u->name(), 0,
                    absl::string_view(content).substr(0, kMiB)),
              IsOk());
  // The last chunk with one byte changed: refused, not kept.
  std::string wrong = content.substr(kMiB);
  wrong[3] ^= 1;
  EXPECT_THAT(Write("agent-petr", u->name(), kMiB, wrong),
              StatusIs(absl::StatusCode::kInvalidArgument, "DIGEST_MISMATCH"));
  v1::QueryUploadRequest query;
  query.set_name(u->name());
  EXPECT_EQ(records().QueryUpload(who("agent-petr"), query)->committed_size(),
            kMiB);
  EXPECT_THAT(VersionNames("agent-petr", r.name()), IsEmpty());
  // The right bytes then complete it.
  EXPECT_EQ(Write("agent-petr", u->name(), kMiB, content.substr(kMiB))->state(),
            v1::Upload::COMPLETED);
}

TEST_F(RecordTest, SomeoneElsesUploadIsNeitherReadableNorWritable) {
  const v1::Record r = MakeRecord("agent-petr", "journee-1");
  const std::string content = Content(100, 3);
  absl::StatusOr<v1::Upload> u = Start("agent-petr", r.name(), content);
  ASSERT_THAT(u, IsOk());
  const std::string absent = r.name() + "/uploads/uabsent";
  for (const char* other : {"elu-petr", "coordinator", "ally"}) {
    v1::QueryUploadRequest query;
    query.set_name(u->name());
    absl::StatusOr<v1::Upload> q = records().QueryUpload(who(other), query);
    EXPECT_THAT(q, StatusIs(absl::StatusCode::kPermissionDenied)) << other;
    query.set_name(absent);
    absl::StatusOr<v1::Upload> a = records().QueryUpload(who(other), query);
    EXPECT_EQ(absl::StrReplaceAll(a.status().message(), {{absent, u->name()}}),
              q.status().message());
    EXPECT_THAT(Write(other, u->name(), 0, content),
                StatusIs(absl::StatusCode::kPermissionDenied))
        << other;
  }
  EXPECT_THAT(records().QueryUpload(admin_,
                                    [&] {
                                      v1::QueryUploadRequest q;
                                      q.set_name(u->name());
                                      return q;
                                    }()),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // Nothing was written by them.
  v1::QueryUploadRequest query;
  query.set_name(u->name());
  EXPECT_EQ(records().QueryUpload(who("agent-petr"), query)->committed_size(),
            0);
}

TEST_F(RecordTest, GroupRecordReachesNobodyOutsideTheGroup) {
  const v1::Record r = MakeRecord("elu-petr", "entre-elus", v1::GROUP);
  const std::string version = Push("elu-petr", r.name(), Content(2000, 4));
  ASSERT_FALSE(version.empty());
  EXPECT_THAT(Pull("elu-coteaux", version), IsOk());
  for (const char* outsider :
       {"agent-petr", "coordinator", "ally", "elu-ailleurs"}) {
    const Principal& p = who(outsider);
    v1::GetRecordRequest get;
    get.set_name(r.name());
    EXPECT_THAT(records().GetRecord(p, get),
                StatusIs(absl::StatusCode::kPermissionDenied));
    v1::ListRecordsRequest list;
    list.set_parent(kOccitanie);
    list.set_show_deleted(true);
    absl::StatusOr<v1::ListRecordsResponse> listed =
        records().ListRecords(p, list);
    ASSERT_THAT(listed, IsOk());
    EXPECT_THAT(listed->records(), IsEmpty()) << outsider;
    v1::ListRecordVersionsRequest versions;
    versions.set_parent(r.name());
    EXPECT_THAT(records().ListRecordVersions(p, versions),
                StatusIs(absl::StatusCode::kPermissionDenied));
    EXPECT_THAT(Pull(outsider, version),
                StatusIs(absl::StatusCode::kPermissionDenied));
    EXPECT_THAT(records().ReadChunk(p, version, 0, 100),
                StatusIs(absl::StatusCode::kPermissionDenied));
    EXPECT_THAT(Start(outsider, r.name(), "x"),
                StatusIs(absl::StatusCode::kPermissionDenied));
  }
  v1::GetRecordRequest get;
  get.set_name(r.name());
  EXPECT_THAT(records().GetRecord(admin_, get),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // Nor can an outsider make one in the group.
  v1::CreateRecordRequest create;
  create.set_parent(kOccitanie);
  create.mutable_record()->set_title("x");
  create.mutable_record()->set_kind(v1::Record::OTHER);
  create.mutable_record()->set_visibility(v1::GROUP);
  create.mutable_record()->set_group(kElus);
  EXPECT_THAT(records().CreateRecord(who("agent-petr"), create),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(RecordTest, StartingTheSameUploadAgainResumesIt) {
  const v1::Record r = MakeRecord("agent-petr", "journee-1");
  const std::string content = Content(2 * kMiB + 3, 5);
  absl::StatusOr<v1::Upload> first = Start("agent-petr", r.name(), content);
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(Write("agent-petr", first->name(), 0,
                    absl::string_view(content).substr(0, kMiB)),
              IsOk());
  absl::StatusOr<v1::Upload> again = Start("agent-petr", r.name(), content);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->name(), first->name());
  EXPECT_EQ(again->committed_size(), kMiB);
  // Another member starting the same content gets an upload of their own.
  absl::StatusOr<v1::Upload> theirs = Start("elu-petr", r.name(), content);
  ASSERT_THAT(theirs, IsOk());
  EXPECT_NE(theirs->name(), first->name());
  EXPECT_EQ(theirs->committed_size(), 0);
}

TEST_F(RecordTest, IdenticalContentIsStoredOnceAndOutlivesOneOfItsRecords) {
  const std::string content = Content(2 * kMiB + 1, 6);
  const v1::Record a = MakeRecord("agent-petr", "a");
  const v1::Record b = MakeRecord("elu-coteaux", "b");
  const std::string va = Push("agent-petr", a.name(), content);
  const std::map<uint64_t, int> once = StoredChunks();
  ASSERT_EQ(once.size(), 1u);
  const std::string vb = Push("elu-coteaux", b.name(), content);
  EXPECT_EQ(StoredChunks(), once);  // nothing new stored

  v1::DeleteRecordRequest del;
  del.set_name(a.name());
  ASSERT_THAT(records().DeleteRecord(who("agent-petr"), del), IsOk());
  // Before the purge, it can come back.
  absl::StatusOr<RecordGarbageStats> gc =
      records().CollectGarbage(absl::Now() + absl::Hours(1));
  ASSERT_THAT(gc, IsOk());
  EXPECT_EQ(gc->purged_records, 0);
  gc = records().CollectGarbage(absl::Now() + absl::Hours(24 * 31));
  ASSERT_THAT(gc, IsOk());
  EXPECT_EQ(gc->purged_records, 1);
  EXPECT_EQ(gc->freed_contents, 0);
  EXPECT_EQ(StoredChunks(), once);
  absl::StatusOr<std::string> pulled = Pull("agent-petr", vb);
  ASSERT_THAT(pulled, IsOk());
  EXPECT_TRUE(*pulled == content);
  v1::GetRecordRequest get;
  get.set_name(a.name());
  EXPECT_THAT(records().GetRecord(who("agent-petr"), get),
              StatusIs(absl::StatusCode::kPermissionDenied));

  del.set_name(b.name());
  ASSERT_THAT(records().DeleteRecord(who("elu-coteaux"), del), IsOk());
  gc = records().CollectGarbage(absl::Now() + absl::Hours(24 * 31));
  ASSERT_THAT(gc, IsOk());
  EXPECT_EQ(gc->freed_contents, 1);
  EXPECT_THAT(StoredChunks(), IsEmpty());
}

TEST_F(RecordTest, GarbageCollectorFreesWhatNothingRefersToAndNothingElse) {
  const v1::Record r = MakeRecord("agent-petr", "journee-1");
  // A version (kept), an upload abandoned half-way (freed once expired),
  // an upload still going (kept), and a deleted record's version (freed
  // once purged), a duplicate's copy (freed at once).
  const std::string kept = Content(kMiB + 1, 7);
  const std::string kept_version = Push("agent-petr", r.name(), kept);
  const std::string abandoned = Content(3 * kMiB, 8);
  absl::StatusOr<v1::Upload> half = Start("agent-petr", r.name(), abandoned);
  ASSERT_THAT(half, IsOk());
  ASSERT_THAT(Write("agent-petr", half->name(), 0,
                    absl::string_view(abandoned).substr(0, kMiB)),
              IsOk());
  const std::map<uint64_t, int> before_late = StoredChunks();
  ASSERT_EQ(before_late.size(), 2u);

  // An hour before the abandoned one expires, a new one starts.
  const std::string going = Content(2 * kMiB, 9);
  absl::StatusOr<v1::Upload> live = Start("elu-petr", r.name(), going);
  ASSERT_THAT(live, IsOk());
  ASSERT_THAT(Write("elu-petr", live->name(), 0,
                    absl::string_view(going).substr(0, kMiB)),
              IsOk());
  const std::map<uint64_t, int> all = StoredChunks();
  ASSERT_EQ(all.size(), 3u);

  // Nothing is due yet.
  absl::StatusOr<RecordGarbageStats> gc = records().CollectGarbage(absl::Now());
  ASSERT_THAT(gc, IsOk());
  EXPECT_EQ(gc->deleted_blobs, 0);
  EXPECT_EQ(StoredChunks(), all);

  // Past 24 hours, both uploads have expired; the version stays.
  gc = records().CollectGarbage(absl::Now() + absl::Hours(25));
  ASSERT_THAT(gc, IsOk());
  EXPECT_EQ(gc->expired_uploads, 3);  // the completed one's session too
  EXPECT_EQ(gc->deleted_blobs, 2);
  std::map<uint64_t, int> left = StoredChunks();
  ASSERT_EQ(left.size(), 1u);
  absl::StatusOr<std::string> pulled = Pull("elu-petr", kept_version);
  ASSERT_THAT(pulled, IsOk());
  EXPECT_TRUE(*pulled == kept);
  v1::QueryUploadRequest query;
  query.set_name(half->name());
  EXPECT_THAT(records().QueryUpload(who("agent-petr"), query),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // A second pass finds nothing more.
  gc = records().CollectGarbage(absl::Now() + absl::Hours(25));
  ASSERT_THAT(gc, IsOk());
  EXPECT_EQ(gc->deleted_blobs + gc->expired_uploads + gc->purged_records, 0);
  EXPECT_EQ(StoredChunks(), left);
}

// The collector's steps are commits that mark, then a deletion, then a
// commit that unmarks: whichever step a crash interrupts, the next pass
// finishes the work and touches nothing else.
TEST_F(RecordTest, GarbageCollectionFinishesWhereACrashLeftIt) {
  // Two uploads of one content, both storing chunks: the second to
  // complete finds the content stored and marks its own copy as garbage.
  // Returns the marked blob.
  auto duplicate = [&](const std::string& id, int seed) -> uint64_t {
    const std::string content = Content(2 * kMiB, seed);
    const v1::Record a = MakeRecord("agent-petr", id + "-a");
    const v1::Record b = MakeRecord("elu-petr", id + "-b");
    absl::StatusOr<v1::Upload> first = Start("agent-petr", a.name(), content);
    absl::StatusOr<v1::Upload> second = Start("elu-petr", b.name(), content);
    EXPECT_THAT(first, IsOk());
    EXPECT_THAT(second, IsOk());
    for (const auto& [who, u] : {std::make_pair("agent-petr", *first),
                                 std::make_pair("elu-petr", *second)}) {
      EXPECT_THAT(
          Write(who, u.name(), 0, absl::string_view(content).substr(0, kMiB)),
          IsOk());
      EXPECT_THAT(Write(who, u.name(), kMiB, content.substr(kMiB)), IsOk());
    }
    absl::StatusOr<std::vector<uint64_t>> marked =
        store_->RecordGarbageBlobs(10);
    EXPECT_THAT(marked, IsOk());
    EXPECT_EQ(marked->size(), 1u);
    return marked->empty() ? 0 : marked->back();
  };

  // A crash between the mark and the deletion: the copy's chunks are
  // there, marked; the next pass deletes them and nothing else.
  const uint64_t copy = duplicate("un", 10);
  std::map<uint64_t, int> chunks = StoredChunks();
  ASSERT_EQ(chunks.size(), 2u);
  absl::StatusOr<RecordGarbageStats> gc = records().CollectGarbage(absl::Now());
  ASSERT_THAT(gc, IsOk());
  EXPECT_EQ(gc->deleted_blobs, 1);
  chunks.erase(copy);
  EXPECT_EQ(StoredChunks(), chunks);
  EXPECT_THAT(*store_->RecordGarbageBlobs(10), IsEmpty());

  // A crash between the deletion and the unmark: the mark is left over
  // deleted chunks; the next pass deletes again (nothing) and unmarks.
  const uint64_t second_copy = duplicate("deux", 11);
  ASSERT_THAT(store_->DeleteRecordChunks(second_copy), IsOk());
  const std::map<uint64_t, int> left = StoredChunks();
  EXPECT_EQ(left.count(second_copy), 0u);
  EXPECT_EQ(left.size(), 2u);  // the two contents' own blobs
  gc = records().CollectGarbage(absl::Now());
  ASSERT_THAT(gc, IsOk());
  EXPECT_EQ(gc->deleted_blobs, 1);
  EXPECT_EQ(StoredChunks(), left);
  EXPECT_THAT(*store_->RecordGarbageBlobs(10), IsEmpty());
}

TEST_F(RecordTest, UploadsPastAQuotaAreRefusedNamingTheLimit) {
  RecordService small(store_.get(), RecordLimits{/*max_file_bytes=*/1000,
                                                 /*max_cohort_bytes=*/1500});
  const v1::Record r = MakeRecord("agent-petr", "journee-1");
  v1::StartUploadRequest req;
  req.set_parent(r.name());
  req.set_sha256(Sha256Hex("x"));
  req.set_size_bytes(1001);
  absl::StatusOr<v1::Upload> u = small.StartUpload(who("agent-petr"), req);
  EXPECT_THAT(u,
              StatusIs(absl::StatusCode::kResourceExhausted, "QUOTA_EXCEEDED"));
  EXPECT_THAT(std::string(u.status().message()),
              ::testing::HasSubstr("per-file limit of 1000 bytes"));
  req.set_size_bytes(1000);
  ASSERT_THAT(small.StartUpload(who("agent-petr"), req), IsOk());
  req.set_size_bytes(600);
  req.set_sha256(Sha256Hex("y"));
  u = small.StartUpload(who("agent-petr"), req);
  EXPECT_THAT(u,
              StatusIs(absl::StatusCode::kResourceExhausted, "QUOTA_EXCEEDED"));
  EXPECT_THAT(std::string(u.status().message()),
              ::testing::HasSubstr("quota of 1500 bytes"));
}

TEST_F(RecordTest, MediaTypeMustAgreeWithTheFirstBytes) {
  const v1::Record r = MakeRecord("agent-petr", "kit");
  const std::string pdf = "%PDF-1.7 la mallette";
  v1::StartUploadRequest req;
  req.set_parent(r.name());
  req.set_sha256(Sha256Hex("GIF89a pas un pdf"));
  req.set_size_bytes(17);
  req.set_media_type("application/pdf");
  absl::StatusOr<v1::Upload> u = records().StartUpload(who("agent-petr"), req);
  ASSERT_THAT(u, IsOk());
  EXPECT_THAT(Write("agent-petr", u->name(), 0, "GIF89a pas un pdf"),
              InvalidFieldIs("media_type"));
  // Undeclared: found from the content.
  const std::string version = Push("agent-petr", r.name(), pdf);
  v1::ListRecordVersionsRequest list;
  list.set_parent(r.name());
  EXPECT_EQ(records()
                .ListRecordVersions(who("agent-petr"), list)
                ->versions(0)
                .media_type(),
            "application/pdf");
}

TEST_F(RecordTest, OnlyTheCreatorOrACoordinatorDeletesAndUndeletes) {
  const v1::Record r = MakeRecord("agent-petr", "journee-1");
  v1::DeleteRecordRequest del;
  del.set_name(r.name());
  EXPECT_THAT(records().DeleteRecord(who("elu-petr"), del),
              StatusIs(absl::StatusCode::kPermissionDenied));
  absl::StatusOr<v1::Record> deleted =
      records().DeleteRecord(who("coordinator"), del);
  ASSERT_THAT(deleted, IsOk());
  EXPECT_TRUE(deleted->has_delete_time());
  v1::ListRecordsRequest list;
  list.set_parent(kOccitanie);
  EXPECT_THAT(records().ListRecords(who("elu-petr"), list)->records(),
              IsEmpty());
  EXPECT_THAT(Start("agent-petr", r.name(), "x"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  v1::UndeleteRecordRequest undel;
  undel.set_name(r.name());
  ASSERT_THAT(records().UndeleteRecord(who("agent-petr"), undel), IsOk());
  EXPECT_EQ(records().ListRecords(who("elu-petr"), list)->records_size(), 1);
  // Undeleted, it is not purged.
  ASSERT_THAT(records().CollectGarbage(absl::Now() + absl::Hours(24 * 31)),
              IsOk());
  EXPECT_EQ(records().ListRecords(who("elu-petr"), list)->records_size(), 1);
}

TEST_F(RecordTest, LinksMustNameReadableResourcesOfTheCohort) {
  v1::CreateRecordRequest req;
  req.set_parent(kOccitanie);
  req.mutable_record()->set_title("Plan");
  req.mutable_record()->set_kind(v1::Record::FEUILLE_DE_ROUTE);
  req.mutable_record()->set_visibility(v1::COHORT);
  req.mutable_record()->add_links(kPetr);
  EXPECT_THAT(records().CreateRecord(who("agent-petr"), req), IsOk());
  req.mutable_record()->set_links(0, kAilleurs);
  EXPECT_THAT(records().CreateRecord(who("agent-petr"), req),
              InvalidFieldIs("record.links"));
  req.mutable_record()->set_links(0, "cohorts/occitanie/reports/absent");
  EXPECT_THAT(records().CreateRecord(who("agent-petr"), req),
              InvalidFieldIs("record.links"));
}

TEST_F(RecordTest, LinksNameRecordsThatEveryReaderOfTheLinkMayOpen) {
  const v1::Record shared = MakeRecord("elu-petr", "partage");
  const v1::Record elus = MakeRecord("elu-petr", "entre-elus", v1::GROUP);
  // A message of the élus group: a COHORT record and one of the group.
  v1::CreateExchangeRequest x;
  x.set_parent(kElus);
  x.mutable_exchange()->set_title("Pièces");
  x.mutable_exchange()->set_kind(v1::Exchange::SHARING);
  absl::StatusOr<v1::Exchange> e =
      services_.exchanges->CreateExchange(who("elu-petr"), x);
  ASSERT_THAT(e, IsOk());
  v1::PostMessageRequest post;
  post.set_parent(e->name());
  post.mutable_message()->set_body("ci-joint");
  post.mutable_message()->add_attachments(shared.name());
  post.mutable_message()->add_attachments(elus.name());
  EXPECT_THAT(services_.exchanges->PostMessage(who("elu-coteaux"), post),
              IsOk());
  // An absent record and one the writer may not read: one answer.
  const v1::Record agents = [&] {
    v1::CreateRecordRequest req;
    req.set_parent(kOccitanie);
    req.set_record_id("entre-agents");
    req.mutable_record()->set_title("Entre agents");
    req.mutable_record()->set_kind(v1::Record::OTHER);
    req.mutable_record()->set_visibility(v1::GROUP);
    req.mutable_record()->set_group("cohorts/occitanie/groups/agents");
    return *records().CreateRecord(who("agent-petr"), req);
  }();
  post.mutable_message()->clear_attachments();
  post.mutable_message()->add_attachments(agents.name());
  absl::StatusOr<v1::Message> hidden =
      services_.exchanges->PostMessage(who("elu-petr"), post);
  EXPECT_THAT(hidden, InvalidFieldIs("message.attachments"));
  post.mutable_message()->set_attachments(0,
                                          "cohorts/occitanie/records/absent");
  absl::StatusOr<v1::Message> absent =
      services_.exchanges->PostMessage(who("elu-petr"), post);
  EXPECT_EQ(absl::StrReplaceAll(
                absent.status().message(),
                {{"cohorts/occitanie/records/absent", agents.name()}}),
            hidden.status().message());

  // A COHORT report may not link the élus' record; a NETWORK one, not a
  // COHORT record either.
  v1::CreateReportRequest report;
  report.set_parent(kOccitanie);
  report.set_report_id("rex");
  v1::ExperienceReport* r = report.mutable_report();
  r->set_title("REX");
  r->set_territory(kPetr);
  r->set_visibility(v1::COHORT);
  r->add_records(elus.name());
  EXPECT_THAT(services_.reports->CreateReport(who("elu-petr"), report),
              InvalidFieldIs("report.records"));
  r->set_visibility(v1::NETWORK);
  r->set_records(0, shared.name());
  EXPECT_THAT(services_.reports->CreateReport(who("elu-petr"), report),
              InvalidFieldIs("report.records"));
  r->set_visibility(v1::COHORT);
  ASSERT_THAT(services_.reports->CreateReport(who("elu-petr"), report), IsOk());
  v1::PublishReportRequest publish;
  publish.set_name("cohorts/occitanie/reports/rex");
  ASSERT_THAT(services_.reports->PublishReport(who("elu-petr"), publish),
              IsOk());

  // Made narrower later, the record leaves the report of those who may
  // no longer open it.
  v1::UpdateRecordRequest narrow;
  narrow.mutable_record()->set_name(shared.name());
  narrow.mutable_record()->set_visibility(v1::GROUP);
  narrow.mutable_record()->set_group(kElus);
  narrow.mutable_update_mask()->add_paths("visibility");
  narrow.mutable_update_mask()->add_paths("group");
  ASSERT_THAT(records().UpdateRecord(who("elu-petr"), narrow), IsOk());
  v1::GetReportRequest get;
  get.set_name("cohorts/occitanie/reports/rex");
  EXPECT_THAT(services_.reports->GetReport(who("elu-petr"), get)->records(),
              ElementsAre(shared.name()));
  EXPECT_THAT(services_.reports->GetReport(who("agent-petr"), get)->records(),
              IsEmpty());
}

// The blob an upload writes its chunks to (not shown to callers).
uint64_t BlobOf(const storage::Store& store, const std::string& upload) {
  storage::v1::UploadRecord u;
  EXPECT_THAT(storage::testing::RawAccess::Committed(store).GetProto(
                  storage::Table::kEntities,
                  storage::EntityKey(storage::EntityKind::kUpload, upload), &u),
              IsOk());
  return u.blob();
}

TEST_F(RecordTest,
       ChunksFlushedButNeverCommittedAreReplacedWhenTheUploadResumes) {
  const v1::Record r = MakeRecord("agent-petr", "coupure");
  const std::string content = Content(5 * kMiB + 3, 11);
  absl::StatusOr<v1::Upload> u = Start("agent-petr", r.name(), content);
  ASSERT_THAT(u, IsOk());
  std::vector<v1::WriteUploadRequest> batch(2);
  for (int i = 0; i < 2; ++i) {
    batch[i].set_write_offset(i * kMiB);
    batch[i].set_data(content.substr(i * kMiB, kMiB));
  }
  ASSERT_EQ(records()
                .WriteUpload(who("agent-petr"), u->name(), batch)
                ->committed_size(),
            2 * kMiB);
  // A batch whose chunks were flushed, then the server died before the
  // commit that would have counted them: bytes past the committed size.
  const std::string junk1 = Content(kMiB, 12);
  const std::string junk2 = Content(kMiB, 13);
  ASSERT_THAT(store_->WriteRecordChunks(BlobOf(*store_, u->name()), 2 * kMiB,
                                        {junk1, junk2}),
              IsOk());
  v1::QueryUploadRequest query;
  query.set_name(u->name());
  EXPECT_EQ(records().QueryUpload(who("agent-petr"), query)->committed_size(),
            2 * kMiB);
  // Resumed from the committed size with other chunk boundaries (700 KiB).
  absl::StatusOr<v1::Upload> resumed = Start("agent-petr", r.name(), content);
  ASSERT_THAT(resumed, IsOk());
  EXPECT_EQ(resumed->name(), u->name());
  EXPECT_EQ(resumed->committed_sha256(),
            Sha256Hex(content.substr(0, 2 * kMiB)));
  int64_t offset = resumed->committed_size();
  absl::StatusOr<v1::Upload> w;
  while (offset < static_cast<int64_t>(content.size())) {
    w = Write("agent-petr", u->name(), offset,
              content.substr(offset, 700 << 10));
    ASSERT_THAT(w, IsOk());
    offset = w->committed_size();
  }
  ASSERT_EQ(w->state(), v1::Upload::COMPLETED);
  absl::StatusOr<std::string> pulled = Pull("agent-petr", w->version());
  ASSERT_THAT(pulled, IsOk());
  EXPECT_TRUE(*pulled == content);
  // And from an offset inside the chunks written again.
  pulled = Pull("agent-petr", w->version(), 3 * kMiB + 5);
  ASSERT_THAT(pulled, IsOk());
  EXPECT_TRUE(*pulled == content.substr(3 * kMiB + 5));
}

TEST_F(RecordTest, ABatchCountsWhollyOrNotAtAll) {
  const v1::Record r = MakeRecord("agent-petr", "lot");
  const std::string content = Content(3 * kMiB, 14);
  absl::StatusOr<v1::Upload> u = Start("agent-petr", r.name(), content);
  ASSERT_THAT(u, IsOk());
  std::vector<v1::WriteUploadRequest> batch(3);
  for (int i = 0; i < 3; ++i) {
    batch[i].set_write_offset(i * kMiB);
    batch[i].set_data(content.substr(i * kMiB, kMiB));
  }
  // A hole between two chunks of one batch.
  batch[2].set_write_offset(2 * kMiB + 1);
  EXPECT_THAT(records().WriteUpload(who("agent-petr"), u->name(), batch),
              StatusIs(absl::StatusCode::kOutOfRange, "WRONG_OFFSET"));
  // The last chunk of the batch damaged: the digest fails, nothing counts.
  batch[2].set_write_offset(2 * kMiB);
  batch[2].mutable_data()->at(7) ^= 1;
  EXPECT_THAT(records().WriteUpload(who("agent-petr"), u->name(), batch),
              StatusIs(absl::StatusCode::kInvalidArgument, "DIGEST_MISMATCH"));
  v1::QueryUploadRequest query;
  query.set_name(u->name());
  EXPECT_EQ(records().QueryUpload(who("agent-petr"), query)->committed_size(),
            0);
  batch[2].set_data(content.substr(2 * kMiB));
  absl::StatusOr<v1::Upload> done =
      records().WriteUpload(who("agent-petr"), u->name(), batch);
  ASSERT_THAT(done, IsOk());
  EXPECT_EQ(done->state(), v1::Upload::COMPLETED);
  EXPECT_TRUE(*Pull("agent-petr", done->version()) == content);
}

// Chunks `from`..`to` (MiB) of `content` as one batch.
std::vector<v1::WriteUploadRequest> Batch(const std::string& content,
                                          int64_t from, int64_t to) {
  std::vector<v1::WriteUploadRequest> batch;
  for (int64_t i = from; i < to; ++i) {
    batch.emplace_back();
    batch.back().set_write_offset(i * kMiB);
    batch.back().set_data(content.substr(i * kMiB, kMiB));
  }
  return batch;
}

TEST_F(RecordTest, AStreamsBatchesCountOnlyOnceItCommitsThem) {
  const v1::Record r = MakeRecord("agent-petr", "flux");
  const std::string content = Content(4 * kMiB, 21);
  absl::StatusOr<v1::Upload> u = Start("agent-petr", r.name(), content);
  ASSERT_THAT(u, IsOk());
  RecordService::UploadStream stream;
  for (int64_t i = 0; i < 2; ++i) {
    absl::StatusOr<v1::Upload> w = records().WriteUpload(
        who("agent-petr"), u->name(), Batch(content, i, i + 1), &stream);
    ASSERT_THAT(w, IsOk());
    EXPECT_EQ(w->committed_size(), 0);
  }
  EXPECT_TRUE(stream.pending());
  v1::QueryUploadRequest query;
  query.set_name(u->name());
  EXPECT_EQ(records().QueryUpload(who("agent-petr"), query)->committed_size(),
            0);
  absl::StatusOr<v1::Upload> committed =
      records().CommitUploadStream(who("agent-petr"), u->name(), &stream);
  ASSERT_THAT(committed, IsOk());
  EXPECT_EQ(committed->committed_size(), 2 * kMiB);
  EXPECT_EQ(committed->committed_sha256(),
            Sha256Hex(content.substr(0, 2 * kMiB)));
  EXPECT_FALSE(stream.pending());
  // The last chunk commits with it, whatever the stream holds.
  absl::StatusOr<v1::Upload> done = records().WriteUpload(
      who("agent-petr"), u->name(), Batch(content, 2, 4), &stream);
  ASSERT_THAT(done, IsOk());
  EXPECT_EQ(done->state(), v1::Upload::COMPLETED);
  EXPECT_FALSE(stream.pending());
  EXPECT_TRUE(*Pull("agent-petr", done->version()) == content);
}

TEST_F(RecordTest, AStreamDroppedBeforeItsCommitLeavesTheUploadAsItWas) {
  const v1::Record r = MakeRecord("agent-petr", "coupe");
  const std::string content = Content(3 * kMiB, 22);
  absl::StatusOr<v1::Upload> u = Start("agent-petr", r.name(), content);
  ASSERT_THAT(u, IsOk());
  {
    RecordService::UploadStream cut;
    ASSERT_THAT(records().WriteUpload(who("agent-petr"), u->name(),
                                      Batch(content, 0, 2), &cut),
                IsOk());
  }
  v1::QueryUploadRequest query;
  query.set_name(u->name());
  EXPECT_EQ(records().QueryUpload(who("agent-petr"), query)->committed_size(),
            0);
  absl::StatusOr<v1::Upload> done =
      records().WriteUpload(who("agent-petr"), u->name(), Batch(content, 0, 3));
  ASSERT_THAT(done, IsOk());
  EXPECT_EQ(done->state(), v1::Upload::COMPLETED);
  EXPECT_TRUE(*Pull("agent-petr", done->version()) == content);
}

TEST_F(RecordTest, AStreamWhoseUploadMovedOnMeanwhileStoresNothingAtItsCommit) {
  const v1::Record r = MakeRecord("agent-petr", "deux-flux");
  const std::string content = Content(2 * kMiB, 23);
  absl::StatusOr<v1::Upload> u = Start("agent-petr", r.name(), content);
  ASSERT_THAT(u, IsOk());
  // A cut stream still holding other bytes for the first chunk...
  RecordService::UploadStream late;
  ASSERT_THAT(records().WriteUpload(who("agent-petr"), u->name(),
                                    Batch(Content(2 * kMiB, 24), 0, 1), &late),
              IsOk());
  // ...while the resumed one commits the right ones.
  ASSERT_EQ(records()
                .WriteUpload(who("agent-petr"), u->name(), Batch(content, 0, 1))
                ->committed_size(),
            kMiB);
  EXPECT_THAT(records().CommitUploadStream(who("agent-petr"), u->name(), &late),
              StatusIs(absl::StatusCode::kOutOfRange, "WRONG_OFFSET"));
  absl::StatusOr<v1::Upload> done =
      records().WriteUpload(who("agent-petr"), u->name(), Batch(content, 1, 2));
  ASSERT_THAT(done, IsOk());
  EXPECT_EQ(done->state(), v1::Upload::COMPLETED);
  EXPECT_TRUE(*Pull("agent-petr", done->version()) == content);
}

TEST_F(RecordTest, ADigestNotAnnouncedAtTheStartComesWithTheLastWrite) {
  const v1::Record r = MakeRecord("agent-petr", "sans-empreinte");
  const std::string content = Content(kMiB + 9, 15);
  v1::StartUploadRequest start;
  start.set_parent(r.name());
  start.set_size_bytes(static_cast<int64_t>(content.size()));
  start.set_file_name("cr.bin");
  absl::StatusOr<v1::Upload> u =
      records().StartUpload(who("agent-petr"), start);
  ASSERT_THAT(u, IsOk());
  EXPECT_EQ(u->sha256(), "");
  v1::WriteUploadRequest first;
  first.set_write_offset(0);
  first.set_data(content.substr(0, kMiB));
  first.set_sha256(Sha256Hex(content));
  EXPECT_THAT(records().WriteUpload(who("agent-petr"), u->name(), first),
              InvalidFieldIs("sha256"));  // only with the last write
  first.clear_sha256();
  absl::StatusOr<v1::Upload> w =
      records().WriteUpload(who("agent-petr"), u->name(), first);
  ASSERT_THAT(w, IsOk());
  EXPECT_EQ(w->committed_sha256(), Sha256Hex(content.substr(0, kMiB)));
  // Started again without a digest: the same file name and size resume it;
  // new_upload does not.
  EXPECT_EQ(records().StartUpload(who("agent-petr"), start)->name(), u->name());
  start.set_new_upload(true);
  EXPECT_NE(records().StartUpload(who("agent-petr"), start)->name(), u->name());

  v1::WriteUploadRequest last;
  last.set_write_offset(kMiB);
  last.set_data(content.substr(kMiB));
  EXPECT_THAT(records().WriteUpload(who("agent-petr"), u->name(), last),
              InvalidFieldIs("sha256"));  // required there
  last.set_sha256(Sha256Hex("something else"));
  EXPECT_THAT(records().WriteUpload(who("agent-petr"), u->name(), last),
              StatusIs(absl::StatusCode::kInvalidArgument, "DIGEST_MISMATCH"));
  last.set_sha256(Sha256Hex(content));
  absl::StatusOr<v1::Upload> done =
      records().WriteUpload(who("agent-petr"), u->name(), last);
  ASSERT_THAT(done, IsOk());
  EXPECT_EQ(done->state(), v1::Upload::COMPLETED);
  EXPECT_EQ(done->sha256(), Sha256Hex(content));
  EXPECT_TRUE(*Pull("agent-petr", done->version()) == content);
}

TEST_F(RecordTest, AReaderOfHeldContentProvesItWithTwoChunksAndStoresNothing) {
  const std::string content = Content(3 * kMiB + 5, 16);
  const v1::Record a = MakeRecord("agent-petr", "original");
  ASSERT_FALSE(Push("agent-petr", a.name(), content).empty());
  const std::map<uint64_t, int> stored = StoredChunks();
  // elu-coteaux reads `original` (a COHORT record of their cohort).
  const v1::Record b = MakeRecord("elu-coteaux", "reprise");
  absl::StatusOr<v1::Upload> u = Start("elu-coteaux", b.name(), content);
  ASSERT_THAT(u, IsOk());
  ASSERT_EQ(u->proof_offsets_size(), 2);
  EXPECT_EQ(u->proof_offsets(0), 0);
  const int64_t at = u->proof_offsets(1);
  EXPECT_GT(at, 0);
  EXPECT_LT(at, static_cast<int64_t>(content.size()));
  EXPECT_EQ(at % kMiB, 0);
  absl::StatusOr<v1::Upload> w =
      Write("elu-coteaux", u->name(), 0, content.substr(0, kMiB));
  ASSERT_THAT(w, IsOk());
  EXPECT_EQ(w->state(), v1::Upload::ACTIVE);
  w = Write("elu-coteaux", u->name(), at, content.substr(at, kMiB));
  ASSERT_THAT(w, IsOk());
  ASSERT_EQ(w->state(), v1::Upload::COMPLETED);
  EXPECT_EQ(w->committed_size(), static_cast<int64_t>(content.size()));
  EXPECT_EQ(StoredChunks(), stored);  // nothing new, not even for a while
  absl::StatusOr<std::string> pulled = Pull("elu-coteaux", w->version());
  ASSERT_THAT(pulled, IsOk());
  EXPECT_TRUE(*pulled == content);
}

TEST_F(RecordTest, ProofChunksThatAreNotTheContentAreRefused) {
  const std::string content = Content(2 * kMiB + 5, 17);
  const v1::Record a = MakeRecord("agent-petr", "original");
  ASSERT_FALSE(Push("agent-petr", a.name(), content).empty());
  const v1::Record b = MakeRecord("elu-coteaux", "reprise");
  absl::StatusOr<v1::Upload> u = Start("elu-coteaux", b.name(), content);
  ASSERT_THAT(u, IsOk());
  ASSERT_EQ(u->proof_offsets_size(), 2);
  const int64_t at = u->proof_offsets(1);
  std::string wrong = content.substr(0, kMiB);
  wrong[100] ^= 1;
  EXPECT_THAT(Write("elu-coteaux", u->name(), 0, wrong),
              StatusIs(absl::StatusCode::kInvalidArgument, "DIGEST_MISMATCH"));
  // Not the chunk asked for, or not all of it.
  EXPECT_THAT(Write("elu-coteaux", u->name(), at, content.substr(at, kMiB)),
              StatusIs(absl::StatusCode::kOutOfRange, "WRONG_OFFSET"));
  EXPECT_THAT(Write("elu-coteaux", u->name(), 0, content.substr(0, 1000)),
              InvalidFieldIs("data"));
  ASSERT_THAT(Write("elu-coteaux", u->name(), 0, content.substr(0, kMiB)),
              IsOk());
  // The first chunk again is not the second proof.
  EXPECT_THAT(Write("elu-coteaux", u->name(), 0, content.substr(0, kMiB)),
              StatusIs(absl::StatusCode::kOutOfRange, "WRONG_OFFSET"));
  std::string wrong_second = content.substr(at, kMiB);
  wrong_second.back() ^= 1;
  EXPECT_THAT(Write("elu-coteaux", u->name(), at, wrong_second),
              StatusIs(absl::StatusCode::kInvalidArgument, "DIGEST_MISMATCH"));
  EXPECT_THAT(VersionNames("elu-coteaux", b.name()), IsEmpty());
}

TEST_F(RecordTest,
       WhoCannotReadHeldContentGetsAnOrdinaryUploadAndLearnsNothing) {
  const std::string secret = Content(2 * kMiB + 5, 18);
  const v1::Record elus = MakeRecord("elu-petr", "entre-elus", v1::GROUP);
  ASSERT_FALSE(Push("elu-petr", elus.name(), secret).empty());
  const std::map<uint64_t, int> stored = StoredChunks();
  ASSERT_EQ(stored.size(), 1u);
  // agent-petr cannot read the élus' record. Announcing its digest gives
  // the very same upload as announcing one nobody holds.
  const v1::Record mine = MakeRecord("agent-petr", "mien");
  absl::StatusOr<v1::Upload> held = Start("agent-petr", mine.name(), secret);
  ASSERT_THAT(held, IsOk());
  absl::StatusOr<v1::Upload> fresh =
      Start("agent-petr", mine.name(), Content(secret.size(), 19));
  ASSERT_THAT(fresh, IsOk());
  for (v1::Upload* up : {&*held, &*fresh}) {
    up->clear_name();
    up->clear_sha256();
    up->clear_create_time();
    up->clear_expire_time();
  }
  EXPECT_EQ(held->DebugString(), fresh->DebugString());
  EXPECT_THAT(held->proof_offsets(), IsEmpty());
  // Every byte is sent and stored (then dropped as a copy): nothing in
  // what they see or how long it takes tells that it was held.
  const std::string version = Push("agent-petr", mine.name(), secret);
  ASSERT_FALSE(version.empty());
  EXPECT_EQ(StoredChunks().size(), 2u);
  ASSERT_THAT(records().CollectGarbage(absl::Now()), IsOk());
  EXPECT_EQ(StoredChunks(), stored);
  EXPECT_TRUE(*Pull("agent-petr", version) == secret);
}

}  // namespace
}  // namespace cohorte::service
