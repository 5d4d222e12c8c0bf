// CohortService against a real store in a temp dir: rules, validation
// limits at and past their bounds, pagination, masks, etags, soft delete,
// idempotent replay. No gRPC.

#include "server/service/structure/cohort_service.h"

#include <memory>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "storage/store.h"
#include "tests/testing/principals.h"
#include "tests/testing/raw_access.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace cohorte::service {
namespace {

using ::cohorte::testing::InvalidFieldIs;
using ::cohorte::testing::IsOk;
using ::cohorte::testing::StatusIs;
using ::testing::SizeIs;
using v1::Cohort;

using ::cohorte::testing::MakePrincipal;

Principal Admin() { return MakePrincipal("members/admin", v1::Member::ADMIN); }
Principal Member() {
  return MakePrincipal("members/elu", v1::Member::MEMBER, v1::ELU);
}
Principal Coordinator() {
  return MakePrincipal("members/coord", v1::Member::COORDINATOR);
}

template <typename T>
T ParseText(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message))
      << text;
  return message;
}

class CohortServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::StoreOptions options;
    options.path = dir_.path() + "/db";
    store_ = *storage::Store::Open(options);
    service_ = std::make_unique<CohortService>(store_.get());
  }

  absl::StatusOr<Cohort> Create(const std::string& id,
                                const std::string& display_name = "Cohorte") {
    v1::CreateCohortRequest req;
    req.set_cohort_id(id);
    req.mutable_cohort()->set_display_name(display_name);
    return service_->CreateCohort(Admin(), req);
  }

  // Asserts that `req` is refused as INVALID_ARGUMENT naming `field` and
  // that nothing was written.
  void ExpectCreateRefused(const v1::CreateCohortRequest& req,
                           const std::string& field) {
    const int64_t before = store_->revision();
    EXPECT_THAT(service_->CreateCohort(Admin(), req), InvalidFieldIs(field));
    EXPECT_EQ(store_->revision(), before);
  }

  ::cohorte::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<CohortService> service_;
};

TEST_F(CohortServiceTest, AdminCreatesCohortThatEveryoneCanRead) {
  auto req = ParseText<v1::CreateCohortRequest>(R"pb(
    cohort_id: "occitanie"
    cohort {
      display_name: "Cohorte des territoires d'Occitanie"
      region: "Occitanie"
      start_date { year: 2025 month: 1 day: 15 }
      end_date { year: 2025 month: 12 day: 31 }
      state: ARCHIVED  # output only: ignored
    }
  )pb");
  absl::StatusOr<Cohort> created = service_->CreateCohort(Admin(), req);
  ASSERT_THAT(created, IsOk());
  EXPECT_EQ(created->name(), "cohorts/occitanie");
  EXPECT_EQ(created->state(), Cohort::ACTIVE);
  EXPECT_EQ(created->etag(), "1");
  EXPECT_TRUE(created->has_create_time());

  v1::GetCohortRequest get;
  get.set_name("cohorts/occitanie");
  absl::StatusOr<Cohort> read = service_->GetCohort(Member(), get);
  ASSERT_THAT(read, IsOk());
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(*read, *created));
}

TEST_F(CohortServiceTest, CreateWritesCohortAndCollegeGroupsInOneRevision) {
  ASSERT_THAT(Create("occitanie"), IsOk());
  auto changes = storage::testing::RawAccess::ReadChanges(*store_, 1, 10);
  ASSERT_THAT(changes, IsOk());
  ASSERT_THAT(*changes, SizeIs(1));
  const storage::v1::ChangeRecord& record = (*changes)[0];
  EXPECT_EQ(record.actor(), "members/admin");
  EXPECT_EQ(record.method(), "CreateCohort");
  std::vector<std::string> names;
  for (const auto& change : record.changes()) {
    names.push_back(change.resource_name());
  }
  EXPECT_THAT(names, ::testing::ElementsAre(
                         "cohorts/occitanie", "cohorts/occitanie/groups/elus",
                         "cohorts/occitanie/groups/agents",
                         "cohorts/occitanie/groups/etat-territorial",
                         "cohorts/occitanie/groups/acteurs-socio-economiques",
                         "auditEvents/00000000000000000001"));
  // Each change says which kind of entity it touches.
  EXPECT_EQ(record.changes(0).entity_kind(),
            static_cast<uint32_t>(storage::EntityKind::kCohort));
  EXPECT_EQ(record.changes(1).entity_kind(),
            static_cast<uint32_t>(storage::EntityKind::kGroup));
  EXPECT_EQ(record.changes(5).entity_kind(),
            static_cast<uint32_t>(storage::EntityKind::kAuditEvent));
  Cohort logged;
  ASSERT_TRUE(record.changes(0).resource().UnpackTo(&logged));
  EXPECT_EQ(logged.name(), "cohorts/occitanie");
}

TEST_F(CohortServiceTest, CreateWithoutIdPicksAValidId) {
  absl::StatusOr<Cohort> created = Create("");
  ASSERT_THAT(created, IsOk());
  EXPECT_THAT(created->name(), ::testing::StartsWith("cohorts/cohort-"));
}

TEST_F(CohortServiceTest, MemberAndCoordinatorCannotCreateUpdateOrDelete) {
  ASSERT_THAT(Create("occitanie"), IsOk());
  for (const Principal& caller : {Member(), Coordinator(), Principal{}}) {
    v1::CreateCohortRequest create;
    create.set_cohort_id("other");
    create.mutable_cohort()->set_display_name("x");
    EXPECT_THAT(service_->CreateCohort(caller, create),
                StatusIs(absl::StatusCode::kPermissionDenied));
    v1::DeleteCohortRequest del;
    del.set_name("cohorts/occitanie");
    EXPECT_THAT(service_->DeleteCohort(caller, del),
                StatusIs(absl::StatusCode::kPermissionDenied));
  }
  EXPECT_EQ(store_->revision(), 1);
}

TEST_F(CohortServiceTest, PermissionIsCheckedBeforeExistence) {
  ASSERT_THAT(Create("exists"), IsOk());
  for (const char* name : {"cohorts/exists", "cohorts/absent"}) {
    v1::UpdateCohortRequest req;
    req.mutable_cohort()->set_name(name);
    req.mutable_cohort()->set_region("x");
    absl::Status status = service_->UpdateCohort(Member(), req).status();
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kPermissionDenied,
                                 kReasonPermissionDenied));
    EXPECT_EQ(std::string(status.message()),
              "the caller may not update cohorts");
  }
}

TEST_F(CohortServiceTest, GetOfAbsentCohortIsNotFound) {
  v1::GetCohortRequest req;
  req.set_name("cohorts/absent");
  EXPECT_THAT(service_->GetCohort(Member(), req),
              StatusIs(absl::StatusCode::kNotFound, kReasonNotFound));
}

TEST_F(CohortServiceTest, DuplicateIdIsAlreadyExistsAndWritesNothing) {
  ASSERT_THAT(Create("occitanie"), IsOk());
  EXPECT_THAT(Create("occitanie", "Autre"),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(store_->revision(), 1);
}

TEST_F(CohortServiceTest, TextLimitsHoldAtTheirBoundAndRefuseBeyond) {
  struct Case {
    std::string field;
    int max;
    void (*set)(Cohort*, const std::string&);
  };
  const Case cases[] = {
      {"display_name", kMaxCohortDisplayNameChars,
       [](Cohort* c, const std::string& v) { c->set_display_name(v); }},
      {"region", kMaxCohortRegionChars,
       [](Cohort* c, const std::string& v) { c->set_region(v); }},
      {"programme", kMaxCohortProgrammeChars,
       [](Cohort* c, const std::string& v) { c->set_programme(v); }},
      {"description", kMaxCohortDescriptionChars,
       [](Cohort* c, const std::string& v) { c->set_description(v); }},
  };
  int n = 0;
  for (const Case& c : cases) {
    // "é" is two bytes but one character: limits count characters.
    std::string at_bound;
    for (int i = 0; i < c.max; ++i) at_bound += "é";
    v1::CreateCohortRequest req;
    req.set_cohort_id(absl::StrCat("c", n++));
    req.mutable_cohort()->set_display_name("ok");
    c.set(req.mutable_cohort(), at_bound);
    EXPECT_THAT(service_->CreateCohort(Admin(), req), IsOk()) << c.field;

    req.set_cohort_id(absl::StrCat("c", n++));
    c.set(req.mutable_cohort(), at_bound + "e");
    ExpectCreateRefused(req, "cohort." + c.field);
  }
}

TEST_F(CohortServiceTest, BadTextIsRefusedNamingTheField) {
  v1::CreateCohortRequest req;
  req.set_cohort_id("c");
  req.mutable_cohort()->set_display_name("");
  ExpectCreateRefused(req, "cohort.display_name");
  req.mutable_cohort()->set_display_name("bad\xff utf8");
  ExpectCreateRefused(req, "cohort.display_name");
  req.mutable_cohort()->set_display_name("overlong \xc0\xaf");
  ExpectCreateRefused(req, "cohort.display_name");
  req.mutable_cohort()->set_display_name("truncated \xe2\x82");
  ExpectCreateRefused(req, "cohort.display_name");
  req.mutable_cohort()->set_display_name("line\nbreak");
  ExpectCreateRefused(req, "cohort.display_name");
  req.mutable_cohort()->set_display_name("ok");
  req.mutable_cohort()->set_region(std::string("nul\0byte", 8));
  ExpectCreateRefused(req, "cohort.region");
  req.mutable_cohort()->set_region("");
  // Descriptions are multi-line.
  req.mutable_cohort()->set_description("line one\nline two\ttab");
  EXPECT_THAT(service_->CreateCohort(Admin(), req), IsOk());
}

TEST_F(CohortServiceTest, CohortIdMustBeAnRfc1034Label) {
  for (const std::string& bad :
       {std::string("Occitanie"), std::string("1abc"), std::string("abc-"),
        std::string("a_b"), std::string("a/b"), std::string("é"),
        std::string(kMaxResourceIdLength + 1, 'a')}) {
    v1::CreateCohortRequest req;
    req.set_cohort_id(bad);
    req.mutable_cohort()->set_display_name("x");
    ExpectCreateRefused(req, "cohort_id");
  }
  EXPECT_THAT(Create(std::string(kMaxResourceIdLength, 'a')), IsOk());
  EXPECT_THAT(Create("a"), IsOk());
  EXPECT_THAT(Create("a-1"), IsOk());
}

TEST_F(CohortServiceTest, DatesMustExistAndEndNotBeforeStart) {
  auto req = ParseText<v1::CreateCohortRequest>(R"pb(
    cohort_id: "c"
    cohort {
      display_name: "x"
      start_date { year: 2025 month: 2 day: 29 }
    }
  )pb");
  ExpectCreateRefused(req, "cohort.start_date");
  req.mutable_cohort()->mutable_start_date()->set_year(2024);  // leap year
  req.mutable_cohort()->mutable_end_date()->set_year(2024);
  req.mutable_cohort()->mutable_end_date()->set_month(13);
  req.mutable_cohort()->mutable_end_date()->set_day(1);
  ExpectCreateRefused(req, "cohort.end_date");
  req.mutable_cohort()->mutable_end_date()->set_month(2);
  req.mutable_cohort()->mutable_end_date()->set_day(28);
  ExpectCreateRefused(req, "cohort.end_date");  // before start
  req.mutable_cohort()->mutable_end_date()->set_day(29);
  EXPECT_THAT(service_->CreateCohort(Admin(), req), IsOk());
}

TEST_F(CohortServiceTest, RequestIdLimits) {
  v1::CreateCohortRequest req;
  req.set_cohort_id("c");
  req.mutable_cohort()->set_display_name("x");
  req.set_request_id(std::string(kMaxRequestIdLength + 1, 'r'));
  ExpectCreateRefused(req, "request_id");
  req.set_request_id("with space");
  ExpectCreateRefused(req, "request_id");
  req.set_request_id(std::string(kMaxRequestIdLength, 'r'));
  EXPECT_THAT(service_->CreateCohort(Admin(), req), IsOk());
}

TEST_F(CohortServiceTest, RetryWithRequestIdReturnsFirstResponse) {
  v1::CreateCohortRequest req;
  req.mutable_cohort()->set_display_name("Sans identifiant");
  req.set_request_id("6f1c-retry");
  absl::StatusOr<Cohort> first = service_->CreateCohort(Admin(), req);
  ASSERT_THAT(first, IsOk());
  absl::StatusOr<Cohort> retry = service_->CreateCohort(Admin(), req);
  ASSERT_THAT(retry, IsOk());
  // Same generated id: the retry did not create a second cohort.
  EXPECT_EQ(retry->name(), first->name());
  EXPECT_EQ(store_->revision(), 1);

  req.mutable_cohort()->set_display_name("Autre chose");
  EXPECT_THAT(
      service_->CreateCohort(Admin(), req),
      StatusIs(absl::StatusCode::kInvalidArgument, kReasonRequestIdReused));
  EXPECT_EQ(store_->revision(), 1);
}

TEST_F(CohortServiceTest, ListPagesThroughEveryCohortOnce) {
  for (int i = 0; i < 7; ++i) ASSERT_THAT(Create(absl::StrCat("c", i)), IsOk());
  std::set<std::string> seen;
  v1::ListCohortsRequest req;
  req.set_page_size(3);
  int pages = 0;
  while (true) {
    absl::StatusOr<v1::ListCohortsResponse> page =
        service_->ListCohorts(Member(), req);
    ASSERT_THAT(page, IsOk());
    ++pages;
    for (const Cohort& c : page->cohorts()) {
      EXPECT_TRUE(seen.insert(c.name()).second) << c.name();
    }
    if (page->next_page_token().empty()) break;
    EXPECT_THAT(page->cohorts(), SizeIs(3));
    req.set_page_token(page->next_page_token());
  }
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(seen, SizeIs(7));
}

TEST_F(CohortServiceTest, ExactlyFullLastPageEndsWithEmptyToken) {
  for (int i = 0; i < 3; ++i) ASSERT_THAT(Create(absl::StrCat("c", i)), IsOk());
  v1::ListCohortsRequest req;
  req.set_page_size(3);
  absl::StatusOr<v1::ListCohortsResponse> page =
      service_->ListCohorts(Member(), req);
  ASSERT_THAT(page, IsOk());
  EXPECT_THAT(page->cohorts(), SizeIs(3));
  EXPECT_EQ(page->next_page_token(), "");
}

TEST_F(CohortServiceTest, PageSizeZeroIsDefaultAndLargeIsCoerced) {
  for (int i = 0; i < kDefaultPageSize + 1; ++i) {
    ASSERT_THAT(Create(absl::StrCat("c", i)), IsOk());
  }
  v1::ListCohortsRequest req;
  EXPECT_THAT(service_->ListCohorts(Member(), req)->cohorts(),
              SizeIs(kDefaultPageSize));
  req.set_page_size(kMaxPageSize + 5000);
  EXPECT_THAT(service_->ListCohorts(Member(), req)->cohorts(),
              SizeIs(kDefaultPageSize + 1));
  req.set_page_size(-1);
  EXPECT_THAT(service_->ListCohorts(Member(), req),
              InvalidFieldIs("page_size"));
}

TEST_F(CohortServiceTest, MalformedOrForeignPageTokenIsRefused) {
  for (int i = 0; i < 3; ++i) ASSERT_THAT(Create(absl::StrCat("c", i)), IsOk());
  v1::ListCohortsRequest req;
  req.set_page_token("not a token!");
  EXPECT_THAT(service_->ListCohorts(Member(), req),
              InvalidFieldIs("page_token"));
  req.set_page_token(std::string(kMaxPageTokenLength + 1, 'A'));
  EXPECT_THAT(service_->ListCohorts(Member(), req),
              InvalidFieldIs("page_token"));

  req.clear_page_token();
  req.set_page_size(1);
  std::string token = service_->ListCohorts(Member(), req)->next_page_token();
  ASSERT_FALSE(token.empty());
  req.set_page_token(token);
  req.set_show_deleted(true);  // other parameters than the token's
  EXPECT_THAT(service_->ListCohorts(Member(), req),
              InvalidFieldIs("page_token"));
}

TEST_F(CohortServiceTest, UpdateChangesOnlyMaskedFieldsAndNewEtag) {
  auto req = ParseText<v1::CreateCohortRequest>(R"pb(
    cohort_id: "occitanie"
    cohort { display_name: "Avant" region: "Occitanie" programme: "P" }
  )pb");
  ASSERT_THAT(service_->CreateCohort(Admin(), req), IsOk());

  auto update = ParseText<v1::UpdateCohortRequest>(R"pb(
    cohort {
      name: "cohorts/occitanie"
      display_name: "Après"
      region: "ignored: not in mask"
      etag: "1"
    }
    update_mask { paths: "display_name" paths: "programme" }
  )pb");
  absl::StatusOr<Cohort> updated = service_->UpdateCohort(Admin(), update);
  ASSERT_THAT(updated, IsOk());
  EXPECT_EQ(updated->display_name(), "Après");
  EXPECT_EQ(updated->region(), "Occitanie");
  EXPECT_EQ(updated->programme(), "");  // masked and empty: cleared
  EXPECT_EQ(updated->etag(), "2");

  // The old etag is now stale.
  EXPECT_THAT(service_->UpdateCohort(Admin(), update),
              StatusIs(absl::StatusCode::kAborted, kReasonEtagMismatch));
  EXPECT_EQ(store_->revision(), 2);
}

TEST_F(CohortServiceTest, UpdateMaskMustNameMutableFields) {
  ASSERT_THAT(Create("occitanie"), IsOk());
  for (const char* path : {"state", "name", "etag", "create_time", "bogus",
                           "cohort.display_name"}) {
    v1::UpdateCohortRequest req;
    req.mutable_cohort()->set_name("cohorts/occitanie");
    req.mutable_update_mask()->add_paths(path);
    EXPECT_THAT(service_->UpdateCohort(Admin(), req),
                InvalidFieldIs("update_mask"))
        << path;
  }
  v1::UpdateCohortRequest empty;
  empty.mutable_cohort()->set_name("cohorts/occitanie");
  EXPECT_THAT(service_->UpdateCohort(Admin(), empty),
              InvalidFieldIs("update_mask"));
  EXPECT_EQ(store_->revision(), 1);
}

TEST_F(CohortServiceTest, UpdateWithoutMaskChangesSetFields) {
  ASSERT_THAT(Create("occitanie", "Nom"), IsOk());
  v1::UpdateCohortRequest req;
  req.mutable_cohort()->set_name("cohorts/occitanie");
  req.mutable_cohort()->set_region("Occitanie");
  absl::StatusOr<Cohort> updated = service_->UpdateCohort(Admin(), req);
  ASSERT_THAT(updated, IsOk());
  EXPECT_EQ(updated->display_name(), "Nom");
  EXPECT_EQ(updated->region(), "Occitanie");
}

TEST_F(CohortServiceTest, SoftDeleteHidesFromListAndUndeleteRestores) {
  ASSERT_THAT(Create("a"), IsOk());
  ASSERT_THAT(Create("b"), IsOk());
  v1::DeleteCohortRequest del;
  del.set_name("cohorts/a");
  del.set_etag("999");
  EXPECT_THAT(service_->DeleteCohort(Admin(), del),
              StatusIs(absl::StatusCode::kAborted, kReasonEtagMismatch));
  del.clear_etag();
  absl::StatusOr<Cohort> deleted = service_->DeleteCohort(Admin(), del);
  ASSERT_THAT(deleted, IsOk());
  EXPECT_TRUE(deleted->has_delete_time());

  v1::ListCohortsRequest list;
  EXPECT_THAT(service_->ListCohorts(Member(), list)->cohorts(), SizeIs(1));
  list.set_show_deleted(true);
  EXPECT_THAT(service_->ListCohorts(Member(), list)->cohorts(), SizeIs(2));
  v1::GetCohortRequest get;
  get.set_name("cohorts/a");
  EXPECT_TRUE(service_->GetCohort(Member(), get)->has_delete_time());

  EXPECT_THAT(service_->DeleteCohort(Admin(), del),
              StatusIs(absl::StatusCode::kNotFound));
  v1::UpdateCohortRequest update;
  update.mutable_cohort()->set_name("cohorts/a");
  update.mutable_cohort()->set_region("x");
  EXPECT_THAT(service_->UpdateCohort(Admin(), update),
              StatusIs(absl::StatusCode::kFailedPrecondition, kReasonDeleted));
  EXPECT_THAT(Create("a"), StatusIs(absl::StatusCode::kAlreadyExists));

  v1::UndeleteCohortRequest undelete;
  undelete.set_name("cohorts/a");
  absl::StatusOr<Cohort> restored = service_->UndeleteCohort(Admin(), undelete);
  ASSERT_THAT(restored, IsOk());
  EXPECT_FALSE(restored->has_delete_time());
  EXPECT_THAT(service_->UndeleteCohort(Admin(), undelete),
              StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_F(CohortServiceTest, ArchiveAndUnarchiveChangeStateOnce) {
  ASSERT_THAT(Create("a"), IsOk());
  v1::ArchiveCohortRequest archive;
  archive.set_name("cohorts/a");
  EXPECT_EQ(service_->ArchiveCohort(Admin(), archive)->state(),
            Cohort::ARCHIVED);
  EXPECT_THAT(
      service_->ArchiveCohort(Admin(), archive),
      StatusIs(absl::StatusCode::kFailedPrecondition, kReasonWrongState));
  v1::UnarchiveCohortRequest unarchive;
  unarchive.set_name("cohorts/a");
  EXPECT_EQ(service_->UnarchiveCohort(Admin(), unarchive)->state(),
            Cohort::ACTIVE);
  EXPECT_THAT(service_->UnarchiveCohort(Admin(), unarchive),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(CohortServiceTest, MalformedNamesAreInvalidArgument) {
  for (const char* name :
       {"", "occitanie", "cohorts/", "cohorts/A", "cohorts/a/b", "members/a"}) {
    v1::GetCohortRequest get;
    get.set_name(name);
    EXPECT_THAT(service_->GetCohort(Member(), get), InvalidFieldIs("name"))
        << name;
  }
}

}  // namespace
}  // namespace cohorte::service
