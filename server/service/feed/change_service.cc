#include "server/service/feed/change_service.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/service/access/reader.h"
#include "server/service/core/entities.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "server/service/core/pagination.h"
#include "server/service/core/validation.h"
#include "storage/status_macros.h"

namespace cohorte::service {

namespace {

// Records read from the log per slice.
constexpr int kSliceRecords = 1000;

bool IsLowerHex(absl::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

// The full names of the types the feed shows, for the filter.
const std::vector<std::string>& FeedTypes() {
  static const auto* types = [] {
    auto* out = new std::vector<std::string>();
    for (uint32_t kind = 1; kind <= storage::kMaxEntityKind; ++kind) {
      absl::string_view t = FeedTypeOfKind(kind);
      if (!t.empty()) out->emplace_back(t);
    }
    return out;
  }();
  return *types;
}

// The types a snapshot lists under a cohort's name, in this order (after
// the cohort itself). Upload sessions (an uploader's working state) and
// read markers are not resources of the feed.
using SnapshotTypes =
    std::tuple<v1::Territory, v1::Chantier, v1::PeerGroup, v1::Session,
               v1::ExperienceReport, v1::Record, v1::RecordVersion,
               v1::Invitation, v1::Registration, v1::ContentFlag, v1::Exchange,
               v1::Message>;
constexpr int kSnapshotKinds = std::tuple_size_v<SnapshotTypes>;

// Where a snapshot page continues.
struct SnapshotPosition {
  int cohort = 0;
  // 0: the cohort itself; i > 0: SnapshotTypes' (i - 1)th type.
  int kind = 0;
  std::string last_key;
};

// Appends to `out` the entities of type T under `cohort` the reader may
// read, after `pos->last_key`, until `out` holds `page_size`; moves `pos`
// on. Returns whether the type's scan under the cohort is complete.
template <typename T>
absl::StatusOr<bool> SnapshotScan(
    const Reader& reader, absl::string_view cohort, int page_size,
    const v1::Cursor& cursor, SnapshotPosition* pos,
    google::protobuf::RepeatedPtrField<v1::ChangeEvent>* out) {
  google::protobuf::RepeatedPtrField<T> found;
  PageStart start;
  start.size = page_size - out->size();
  start.after = pos->last_key;
  COHORTE_ASSIGN_OR_RETURN(
      std::string more, reader.List<T>(
                            storage::EntityKeyOf<T>(absl::StrCat(cohort, "/")),
                            start, [](T&) { return true; }, &found));
  for (T& entity : found) {
    v1::ChangeEvent* e = out->Add();
    e->set_revision(cursor.revision());
    e->set_type(v1::ChangeEvent::CREATED);
    e->set_resource_name(entity.name());
    e->set_resource_type(T::descriptor()->full_name());
    *e->mutable_cursor() = cursor;
    e->mutable_resource()->PackFrom(entity);
  }
  if (!found.empty()) {
    pos->last_key = storage::EntityKeyOf<T>(found.rbegin()->name());
  }
  return more.empty();
}

template <typename... T>
absl::StatusOr<bool> SnapshotScanKind(
    int kind, const Reader& reader, absl::string_view cohort, int page_size,
    const v1::Cursor& cursor, SnapshotPosition* pos,
    google::protobuf::RepeatedPtrField<v1::ChangeEvent>* out,
    std::tuple<T...>*) {
  absl::StatusOr<bool> done = true;
  int i = 0;
  (void)((i++ == kind ? (done = SnapshotScan<T>(reader, cohort, page_size,
                                                cursor, pos, out),
                         true)
                      : false) ||
         ...);
  return done;
}

template <typename... T>
absl::string_view SnapshotTypeName(int kind, std::tuple<T...>*) {
  absl::string_view name;
  int i = 0;
  (void)((i++ == kind ? (name = T::descriptor()->full_name(), true) : false) ||
         ...);
  return name;
}

bool TypeSelected(const FeedFilter& filter, absl::string_view type) {
  return filter.types.empty() ||
         std::find(filter.types.begin(), filter.types.end(), type) !=
             filter.types.end();
}

}  // namespace

ChangeService::ChangeService(storage::Store* store, FeedOptions options,
                             std::string instance_name)
    : store_(store),
      options_(options),
      instance_name_(std::move(instance_name)) {}

ChangeService::~ChangeService() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (compactor_.joinable()) compactor_.join();
}

v1::Cursor ChangeService::CursorAt(int64_t revision) const {
  v1::Cursor cursor;
  cursor.set_instance_id(store_->instance_id());
  cursor.set_epoch(store_->epoch());
  cursor.set_revision(revision);
  cursor.set_token(
      absl::StrCat(store_->instance_id(), ".", store_->epoch(), ".", revision));
  return cursor;
}

void ChangeService::CompleteCursors(
    google::protobuf::RepeatedPtrField<v1::ChangeEvent>* events) const {
  for (v1::ChangeEvent& e : *events) {
    *e.mutable_cursor() = CursorAt(e.cursor().revision());
  }
}

absl::StatusOr<int64_t> ChangeService::ParseSince(
    absl::string_view field, absl::string_view since,
    int64_t empty_revision) const {
  if (since.empty()) return empty_revision;
  if (since.size() > static_cast<size_t>(kMaxCursorLength)) {
    return InvalidField(field, absl::StrCat("a cursor has at most ",
                                            kMaxCursorLength, " characters"));
  }
  const std::vector<absl::string_view> parts = absl::StrSplit(since, '.');
  int64_t epoch = 0;
  int64_t revision = 0;
  if (parts.size() != 3 || parts[0].size() != 32 || !IsLowerHex(parts[0]) ||
      !absl::SimpleAtoi(parts[1], &epoch) || epoch < 1 ||
      !absl::SimpleAtoi(parts[2], &revision) || revision < 0) {
    return InvalidField(
        field,
        "not a cursor: expected {instance_id}.{epoch}.{revision} as a "
        "response's cursor.token gives it");
  }
  if (parts[0] != store_->instance_id()) {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition, kReasonCursorInstance,
        absl::StrCat(field, ": the cursor is of instance ", parts[0],
                     ", not this one (", store_->instance_id(),
                     "): list again to get a cursor of this instance"));
  }
  if (epoch != store_->epoch()) {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition, kReasonCursorEpoch,
        absl::StrCat(field, ": the cursor is of epoch ", epoch,
                     " and the instance is now at epoch ", store_->epoch(),
                     " (it was restored or recovered, and its revisions may "
                     "have gone back): list again"));
  }
  const int64_t head = store_->revision();
  if (revision > head) {
    return InvalidField(field, absl::StrCat("the cursor's revision ", revision,
                                            " is past the instance's current "
                                            "revision ",
                                            head));
  }
  const int64_t start = store_->first_change_revision();
  if (revision + 1 < start) {
    return ErrorWithReason(
        absl::StatusCode::kOutOfRange, kReasonChangesCompacted,
        absl::StrCat(field, ": the change log was compacted through revision ",
                     start - 1, " and the cursor is at ", revision,
                     ": list again, then follow from the list's cursor"),
        {{"compacted_through", absl::StrCat(start - 1)}});
  }
  return revision;
}

absl::StatusOr<FeedFilter> ChangeService::ParseFilter(
    absl::string_view field, const v1::ChangeFilter& filter) {
  FeedFilter out;
  if (filter.cohorts_size() > kMaxFeedFilterCohorts) {
    return InvalidField(absl::StrCat(field, ".cohorts"),
                        absl::StrCat("at most ", kMaxFeedFilterCohorts));
  }
  for (int i = 0; i < filter.cohorts_size(); ++i) {
    const std::string f = absl::StrCat(field, ".cohorts[", i, "]");
    COHORTE_RETURN_IF_ERROR(
        ParseTopLevelName(f, filter.cohorts(i), "cohorts").status());
    out.cohorts.push_back(filter.cohorts(i));
  }
  if (filter.resource_types_size() > kMaxFeedFilterTypes) {
    return InvalidField(absl::StrCat(field, ".resource_types"),
                        absl::StrCat("at most ", kMaxFeedFilterTypes));
  }
  for (int i = 0; i < filter.resource_types_size(); ++i) {
    const std::string& t = filter.resource_types(i);
    const std::string full =
        t.find('.') == std::string::npos ? absl::StrCat("cohorte.v1.", t) : t;
    const std::vector<std::string>& known = FeedTypes();
    if (std::find(known.begin(), known.end(), full) == known.end()) {
      std::string names;
      for (const std::string& k : known) {
        absl::StrAppend(&names, names.empty() ? "" : ", ",
                        k.substr(k.rfind('.') + 1));
      }
      return InvalidField(absl::StrCat(field, ".resource_types[", i, "]"),
                          absl::StrCat("not a resource type of the feed; one "
                                       "of ",
                                       names));
    }
    out.types.push_back(full);
  }
  COHORTE_RETURN_IF_ERROR(
      CheckText(absl::StrCat(field, ".name_prefix"), filter.name_prefix(), 0,
                kMaxFeedNamePrefixChars, TextKind::kSingleLine));
  out.name_prefix = filter.name_prefix();
  return out;
}

absl::StatusOr<v1::ListChangesResponse> ChangeService::ListChanges(
    const Principal& caller, const v1::ListChangesRequest& request) const {
  int page_size = request.page_size();
  if (page_size < 0) {
    return InvalidField("page_size", "must not be negative");
  }
  if (page_size == 0) page_size = kDefaultChangesPageSize;
  page_size = std::min(page_size, kMaxChangesPageSize);
  COHORTE_ASSIGN_OR_RETURN(int64_t since,
                           ParseSince("since", request.since(),
                                      store_->first_change_revision() - 1));
  COHORTE_ASSIGN_OR_RETURN(FeedFilter filter,
                           ParseFilter("filter", request.filter()));

  // The page goes no further than the revision committed now, and is
  // presented with the caller's rights and groups read after it (see
  // Reader::ReadLog): never with rights older than a change they judge.
  const int64_t upto = store_->revision();
  COHORTE_ASSIGN_OR_RETURN(
      Principal now,
      Reader::CurrentCaller(*store_, caller,
                            /*authenticated_at=*/absl::InfiniteFuture(),
                            absl::Now()));
  const Reader reader(*store_, std::move(now));
  FeedPage page;
  page.reached = since;
  bool caught_up = false;
  int scanned = 0;
  while (static_cast<int>(page.events.size()) < page_size &&
         scanned < kMaxChangesScannedPerCall) {
    absl::StatusOr<std::shared_ptr<const LogSlice>> slice =
        Reader::ReadLog(*store_, page.reached + 1, kSliceRecords, upto);
    if (absl::IsOutOfRange(slice.status())) {
      // Compacted while reading: the same answer as for an old cursor.
      return ParseSince("since", CursorAt(page.reached).token(), 0).status();
    }
    COHORTE_RETURN_IF_ERROR(slice.status());
    const int64_t before = page.reached;
    COHORTE_RETURN_IF_ERROR(
        reader.PresentLog(**slice, filter, page_size, &page));
    scanned += static_cast<int>(page.reached - before);
    if ((*slice)->size() < static_cast<size_t>(kSliceRecords) &&
        page.reached == (*slice)->last()) {
      caught_up = true;
      break;
    }
  }
  if (page.reached >= store_->revision()) caught_up = true;

  v1::ListChangesResponse response;
  for (v1::ChangeEvent& e : page.events) *response.add_events() = std::move(e);
  CompleteCursors(response.mutable_events());
  *response.mutable_cursor() = CursorAt(page.reached);
  response.set_caught_up(caught_up);
  return response;
}

absl::StatusOr<v1::ListSnapshotResponse> ChangeService::ListSnapshot(
    const Principal& caller, const v1::ListSnapshotRequest& request) const {
  int page_size = request.page_size();
  if (page_size < 0) return InvalidField("page_size", "must not be negative");
  if (page_size == 0) page_size = kDefaultSnapshotPageSize;
  page_size = std::min(page_size, kMaxSnapshotPageSize);
  COHORTE_ASSIGN_OR_RETURN(FeedFilter filter,
                           ParseFilter("filter", request.filter()));
  if (filter.cohorts.empty()) {
    return InvalidField("filter.cohorts",
                        "a snapshot lists the cohorts it names: at least one");
  }
  const uint64_t query =
      RequestFingerprint(request, {"page_size", "page_token"});

  SnapshotPosition pos;
  int64_t revision = 0;
  if (request.page_token().empty()) {
    revision = store_->revision();
  } else {
    storage::v1::SnapshotPageToken token;
    std::string bytes;
    if (request.page_token().size() > 4096 ||
        !absl::WebSafeBase64Unescape(request.page_token(), &bytes) ||
        !token.ParseFromString(bytes) || token.revision() < 0 ||
        token.cohort_index() < 0 ||
        token.cohort_index() >= static_cast<int>(filter.cohorts.size()) ||
        token.kind_index() < 0 || token.kind_index() > kSnapshotKinds) {
      return InvalidField("page_token", "not a page token of ListSnapshot");
    }
    if (token.query_fingerprint() != query) {
      return InvalidField("page_token",
                          "made for another filter: start again without it");
    }
    revision = token.revision();
    // The snapshot is good only while the feed can resume from it.
    COHORTE_RETURN_IF_ERROR(
        ParseSince("page_token", CursorAt(revision).token(), 0).status());
    pos.cohort = token.cohort_index();
    pos.kind = token.kind_index();
    pos.last_key = token.last_key();
  }

  v1::ListSnapshotResponse response;
  const v1::Cursor cursor = CursorAt(revision);
  const Reader reader(*store_, caller);
  auto* events = response.mutable_events();
  while (pos.cohort < static_cast<int>(filter.cohorts.size()) &&
         events->size() < page_size) {
    const std::string& cohort = filter.cohorts[pos.cohort];
    bool done = true;
    if (pos.kind == 0) {
      if (TypeSelected(filter, v1::Cohort::descriptor()->full_name())) {
        absl::StatusOr<v1::Cohort> c = reader.Get<v1::Cohort>(cohort);
        if (c.ok()) {
          v1::ChangeEvent* e = events->Add();
          e->set_revision(revision);
          e->set_type(v1::ChangeEvent::CREATED);
          e->set_resource_name(cohort);
          e->set_resource_type(v1::Cohort::descriptor()->full_name());
          *e->mutable_cursor() = cursor;
          e->mutable_resource()->PackFrom(*c);
        } else if (!absl::IsNotFound(c.status()) &&
                   !absl::IsPermissionDenied(c.status())) {
          return c.status();
        }
      }
    } else {
      auto* types = static_cast<SnapshotTypes*>(nullptr);
      if (TypeSelected(filter, SnapshotTypeName(pos.kind - 1, types))) {
        COHORTE_ASSIGN_OR_RETURN(
            done, SnapshotScanKind(pos.kind - 1, reader, cohort, page_size,
                                   cursor, &pos, events, types));
      }
    }
    if (!done) break;
    pos.last_key.clear();
    if (++pos.kind > kSnapshotKinds) {
      pos.kind = 0;
      ++pos.cohort;
    }
  }
  if (pos.cohort < static_cast<int>(filter.cohorts.size())) {
    storage::v1::SnapshotPageToken token;
    token.set_query_fingerprint(query);
    token.set_revision(revision);
    token.set_cohort_index(pos.cohort);
    token.set_kind_index(pos.kind);
    token.set_last_key(pos.last_key);
    response.set_next_page_token(
        absl::WebSafeBase64Escape(token.SerializeAsString()));
  }
  *response.mutable_cursor() = cursor;
  response.set_instance_name(instance_name_);
  return response;
}

absl::Status ChangeService::Compact(absl::Time now) {
  const int64_t head = store_->revision();
  int64_t before = 0;
  if (options_.retention_count > 0) {
    before = std::max(before, head - options_.retention_count + 1);
  }
  if (options_.retention_age > absl::ZeroDuration()) {
    COHORTE_ASSIGN_OR_RETURN(
        int64_t first_young,
        store_->FirstChangeAtOrAfter(now - options_.retention_age));
    before = std::max(before, first_young);
  }
  if (before <= store_->first_change_revision()) return absl::OkStatus();
  return store_->CompactChanges(before);
}

void ChangeService::StartCompaction() {
  compactor_ = std::thread([this] {
    absl::MutexLock lock(&mu_);
    while (!stopping_) {
      mu_.AwaitWithTimeout(absl::Condition(&stopping_),
                           options_.compaction_interval);
      if (stopping_) break;
      mu_.Unlock();
      // Retried at the next run; said once per failing run.
      if (absl::Status s = Compact(absl::Now()); !s.ok()) {
        const std::string line =
            absl::StrCat("ts=",
                         absl::FormatTime(absl::RFC3339_sec, absl::Now(),
                                          absl::UTCTimeZone()),
                         " level=warn msg=changes_compaction_failed code=",
                         absl::StatusCodeToString(s.code()), "\n");
        std::fwrite(line.data(), 1, line.size(), stderr);
      }
      mu_.Lock();
    }
  });
}

}  // namespace cohorte::service
