#include "storage/keys.h"

#include "absl/strings/str_cat.h"
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

std::string AuditByCohortPrefix(absl::string_view cohort) {
  std::string key = IndexKey(IndexKind::kAuditByCohort, cohort);
  key.push_back('\0');
  return key;
}

std::string AuditByCohortKey(absl::string_view cohort, int64_t revision) {
  return AuditByCohortPrefix(cohort) +
         EncodeUint64BigEndian(static_cast<uint64_t>(revision));
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
