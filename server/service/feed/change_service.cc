#include "server/service/feed/change_service.h"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/service/access/reader.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
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

}  // namespace

ChangeService::ChangeService(storage::Store* store, FeedOptions options)
    : store_(store), options_(options) {}

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

  const Reader reader(*store_, caller);
  FeedPage page;
  page.reached = since;
  bool caught_up = false;
  int scanned = 0;
  while (static_cast<int>(page.events.size()) < page_size &&
         scanned < kMaxChangesScannedPerCall) {
    absl::StatusOr<std::shared_ptr<const LogSlice>> slice =
        Reader::ReadLog(*store_, page.reached + 1, kSliceRecords);
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
      Compact(absl::Now()).IgnoreError();  // retried at the next run
      mu_.Lock();
    }
  });
}

}  // namespace cohorte::service
