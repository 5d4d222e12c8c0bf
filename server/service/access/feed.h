// File: server/service/access/feed.h
//
// The change feed's types at the read gate. The change log is unredacted
// (closed-group content as is), so it is read only into a LogSlice, whose
// records no code but the Reader can see; a Reader presents a slice as its
// caller may see it (Reader::PresentLog, feed.cc). One slice read once can
// be presented to many callers: that is how Watch fans one log reader out to
// every watcher.
//
// How a change is shown (proto/cohorte/v1/changes.proto says it for the
// API): each change of a record goes through the read rule of its entity
// kind, applied to the resource as it is *now* (the log's older forms are
// never shown: an edited-out phone number stays out); a PUT whose resource
// no longer exists is skipped (its DELETE follows); a DELETE, or a PUT that
// leaves the caller unable to read a resource they could read in its
// previous form (Change.previous), is a tombstone; a group change that
// removes the caller is an ACCESS_LOST tombstone of the group.
#ifndef COHORTE_SERVER_SERVICE_ACCESS_FEED_H_
#define COHORTE_SERVER_SERVICE_ACCESS_FEED_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "cohorte/storage/v1/records.pb.h"
#include "cohorte/v1/changes.pb.h"

namespace cohorte::service {

class Reader;

// Consecutive change-log records, as read. Immutable once read, so one
// slice may be presented from many threads at once. Opaque outside the
// Reader (it holds the unredacted log).
class LogSlice {
 public:
  LogSlice(const LogSlice&) = delete;
  LogSlice& operator=(const LogSlice&) = delete;

  // The first and last revision held; last() < first() when empty.
  int64_t first() const { return first_; }
  int64_t last() const { return first_ + static_cast<int64_t>(size()) - 1; }
  size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  // Approximate memory held, for the fan-out's bound.
  size_t bytes() const { return bytes_; }
  // The last revision held that wrote a member or a token (what a
  // caller's rights are made of), or 0 if none does.
  int64_t last_rights_change() const { return last_rights_change_; }

 private:
  friend class Reader;
  LogSlice() = default;

  int64_t first_ = 0;
  size_t bytes_ = 0;
  int64_t last_rights_change_ = 0;
  std::vector<storage::v1::ChangeRecord> records_;
};

// What a consumer asked for (ChangeFilter, validated). Empty fields select
// everything.
struct FeedFilter {
  // `cohorts/{c}` names.
  std::vector<std::string> cohorts;
  // Full message names, e.g. "cohorte.v1.Session".
  std::vector<std::string> types;
  std::string name_prefix;

  // Whether a resource named `name` of type `type` is selected. A member
  // (`members/{m}`) is in a cohort it takes part in (`member_cohorts`).
  bool Selects(absl::string_view name, absl::string_view type,
               const std::vector<std::string>& member_cohorts) const;
};

// The events presented for one caller from a slice (or several).
struct FeedPage {
  std::vector<v1::ChangeEvent> events;
  // The last revision presented (every record up to it was looked at).
  int64_t reached = 0;
};

// The full message name a change of entity kind `kind` shows its resource
// as ("cohorte.v1.Token" for tokens); "" for kinds the feed never shows.
absl::string_view FeedTypeOfKind(uint32_t kind);

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_ACCESS_FEED_H_
