#include "storage/keys.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "storage/codec.h"

namespace cohorte::storage {

std::string EntityKey(EntityKind kind, absl::string_view name) {
  std::string key(1, static_cast<char>(kind));
  key.append(name.data(), name.size());
  return key;
}

absl::string_view EntityNameFromKey(absl::string_view key) {
  if (key.size() < 2) return absl::string_view();
  return key.substr(1);
}

std::string CollectionPrefix(EntityKind kind, absl::string_view parent,
                             absl::string_view collection) {
  std::string key(1, static_cast<char>(kind));
  if (!parent.empty()) absl::StrAppend(&key, parent, "/");
  absl::StrAppend(&key, collection, "/");
  return key;
}

std::string IndexKey(IndexKind kind, absl::string_view value) {
  std::string key(1, static_cast<char>(kind));
  key.append(value.data(), value.size());
  return key;
}

bool IsCachedCollectionKind(absl::string_view index_key) {
  return !index_key.empty() &&
         static_cast<uint8_t>(index_key[0]) ==
             static_cast<uint8_t>(IndexKind::kFollowerByTarget);
}

absl::string_view CollectionOfIndexKey(absl::string_view index_key) {
  const size_t nul = index_key.rfind('\0');
  if (nul == absl::string_view::npos) return absl::string_view();
  return index_key.substr(0, nul + 1);
}

std::string CollectionCacheKey(absl::string_view prefix) {
  std::string key(1, '\xff');
  key.append(prefix.data(), prefix.size());
  return key;
}

std::string AuditByCohortPrefix(absl::string_view cohort) {
  std::string key = IndexKey(IndexKind::kAuditByCohort, cohort);
  key.push_back('\0');
  return key;
}

std::string AuditByCohortKey(absl::string_view cohort, int64_t revision) {
  return AuditByCohortPrefix(cohort) +
         EncodeUint64BigEndian(static_cast<uint64_t>(revision));
}

std::string RecordChunkPrefix(uint64_t blob) {
  return EncodeUint64BigEndian(blob);
}

std::string RecordChunkKey(uint64_t blob, int64_t offset) {
  return EncodeUint64BigEndian(blob) +
         EncodeUint64BigEndian(static_cast<uint64_t>(offset));
}

bool ParseRecordChunkKey(absl::string_view key, uint64_t* blob,
                         int64_t* offset) {
  uint64_t at = 0;
  if (key.size() != 16 || !DecodeUint64BigEndian(key.substr(0, 8), blob) ||
      !DecodeUint64BigEndian(key.substr(8), &at)) {
    return false;
  }
  *offset = static_cast<int64_t>(at);
  return true;
}

std::string TimeQueuePrefix(IndexKind kind) { return IndexKey(kind, ""); }

std::string TimeQueueKey(IndexKind kind, int64_t unix_seconds,
                         absl::string_view name) {
  std::string key = TimeQueuePrefix(kind);
  key += EncodeUint64BigEndian(static_cast<uint64_t>(unix_seconds));
  key.append(name.data(), name.size());
  return key;
}

bool ParseTimeQueueKey(IndexKind kind, absl::string_view key,
                       int64_t* unix_seconds, std::string* name) {
  const std::string prefix = TimeQueuePrefix(kind);
  if (key.size() < prefix.size() + 8 ||
      key.substr(0, prefix.size()) != prefix) {
    return false;
  }
  uint64_t seconds = 0;
  if (!DecodeUint64BigEndian(key.substr(prefix.size(), 8), &seconds)) {
    return false;
  }
  *unix_seconds = static_cast<int64_t>(seconds);
  *name = std::string(key.substr(prefix.size() + 8));
  return true;
}

std::string ChangelogKey(int64_t revision) {
  return EncodeUint64BigEndian(static_cast<uint64_t>(revision));
}

bool ParseChangelogKey(absl::string_view key, int64_t* revision) {
  uint64_t value;
  if (!DecodeUint64BigEndian(key, &value)) return false;
  *revision = static_cast<int64_t>(value);
  return true;
}

std::string RequestKey(absl::string_view actor, absl::string_view method,
                       absl::string_view request_id) {
  std::string key;
  key.reserve(actor.size() + method.size() + request_id.size() + 2);
  key.append(actor.data(), actor.size());
  key.push_back('\0');
  key.append(method.data(), method.size());
  key.push_back('\0');
  key.append(request_id.data(), request_id.size());
  return key;
}

std::string SequenceId(absl::string_view prefix, int64_t n) {
  if (n < 1000000) return absl::StrFormat("%s%06d", prefix, n);
  if (n < 1000000000000) return absl::StrFormat("%sz%012d", prefix, n);
  return absl::StrFormat("%szz%019d", prefix, n);
}

std::string WideSequenceId(absl::string_view prefix, int width, int64_t n) {
  int64_t bound = 1;
  for (int i = 0; i < width && bound < 1000000000000000000; ++i) bound *= 10;
  if (n < bound) return absl::StrFormat("%s%0*d", prefix, width, n);
  return absl::StrFormat("%sz%019d", prefix, n);
}

bool ParseSequenceId(absl::string_view prefix, absl::string_view id,
                     int64_t* n) {
  if (id.substr(0, prefix.size()) != prefix) return false;
  absl::string_view digits = id.substr(prefix.size());
  while (!digits.empty() && digits.front() == 'z') digits.remove_prefix(1);
  if (digits.empty() || digits.size() > 20) return false;
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return absl::SimpleAtoi(digits, n);
}

std::string PrefixSuccessor(absl::string_view prefix) {
  std::string limit(prefix);
  while (!limit.empty()) {
    unsigned char last = static_cast<unsigned char>(limit.back());
    if (last != 0xff) {
      limit.back() = static_cast<char>(last + 1);
      return limit;
    }
    limit.pop_back();
  }
  return limit;
}

}  // namespace cohorte::storage
