// File: storage/entity_cache.cc

#include "storage/entity_cache.h"

#include <typeinfo>
#include <utility>

#include "absl/hash/hash.h"
#include "storage/codec.h"

namespace cohorte::storage {

namespace {

// What an entry costs, roughly: its key and bytes, a decoded form (about
// twice its encoding, with the strings' own allocations) and the list node,
// index slot and control blocks.
size_t Charge(absl::string_view key, const std::string* raw, bool decoded) {
  const size_t bytes = raw == nullptr ? 0 : raw->size();
  return key.size() + bytes + (decoded ? 2 * bytes + 64 : 0) + 160;
}

}  // namespace

EntityCache::EntityCache(size_t capacity_bytes)
    : shard_capacity_(capacity_bytes / kShards) {}

EntityCache::Shard& EntityCache::ShardOf(absl::string_view key) {
  return shards_[absl::Hash<absl::string_view>()(key) % kShards];
}

size_t EntityCache::SlotOf(absl::string_view key) {
  const size_t hash = absl::Hash<absl::string_view>()(key) / kShards;
  return hash % std::tuple_size<decltype(Shard::slot_update)>::value;
}

bool EntityCache::MayPredateAWrite(const Shard& shard, absl::string_view key,
                                   Ticket ticket) {
  return shard.last_update > ticket || shard.slot_update[SlotOf(key)] > ticket;
}

bool EntityCache::GetRaw(absl::string_view key, std::string* value,
                         bool* absent) {
  if (absent != nullptr) *absent = false;
  if (!enabled()) return false;
  Shard& shard = ShardOf(key);
  std::shared_ptr<const std::string> raw;
  bool found = false;
  {
    absl::MutexLock lock(&shard.mu);
    auto it = shard.index.find(key);
    if (it != shard.index.end()) {
      shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
      raw = it->second->raw;
      found = true;
    }
  }
  if (!found) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  if (raw == nullptr) {
    if (absent != nullptr) *absent = true;
    return false;
  }
  *value = *raw;
  return true;
}

absl::Status EntityCache::GetProto(absl::string_view key,
                                   google::protobuf::MessageLite* message,
                                   bool* absent) {
  if (absent != nullptr) *absent = false;
  if (!enabled()) return absl::NotFoundError("not cached");
  Shard& shard = ShardOf(key);
  std::shared_ptr<const std::string> raw;
  std::shared_ptr<const google::protobuf::MessageLite> decoded;
  bool found = false;
  {
    absl::MutexLock lock(&shard.mu);
    auto it = shard.index.find(key);
    if (it != shard.index.end()) {
      shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
      raw = it->second->raw;
      decoded = it->second->decoded;
      found = true;
    }
  }
  if (!found) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return absl::NotFoundError("not cached");
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  if (raw == nullptr) {
    if (absent != nullptr) *absent = true;
    return absl::NotFoundError("not in the store");
  }
  message->Clear();
  const google::protobuf::MessageLite& out = *message;
  const google::protobuf::MessageLite* kept = decoded.get();
  if (kept != nullptr && typeid(*kept) == typeid(out)) {
    message->CheckTypeAndMergeFrom(*decoded);
    return absl::OkStatus();
  }
  absl::Status s = DecodeValue(*raw, message);
  if (!s.ok()) return s;
  // Keep the decoded form, unless the entry changed meanwhile.
  std::shared_ptr<google::protobuf::MessageLite> copy(message->New());
  copy->CheckTypeAndMergeFrom(*message);
  absl::MutexLock lock(&shard.mu);
  auto it = shard.index.find(key);
  if (it != shard.index.end() && it->second->raw == raw &&
      Charge(key, raw.get(), true) <= shard_capacity_) {
    StoreLocked(shard, key, std::move(raw), std::move(copy));
  }
  return absl::OkStatus();
}

void EntityCache::Insert(Ticket ticket, absl::string_view key,
                         std::string value,
                         const google::protobuf::MessageLite* decoded) {
  if (!enabled()) return;
  auto raw = std::make_shared<const std::string>(std::move(value));
  std::shared_ptr<google::protobuf::MessageLite> copy;
  if (decoded != nullptr) {
    copy.reset(decoded->New());
    copy->CheckTypeAndMergeFrom(*decoded);
  }
  Shard& shard = ShardOf(key);
  absl::MutexLock lock(&shard.mu);
  if (MayPredateAWrite(shard, key, ticket)) return;
  if (shard.writing.contains(key)) return;  // being written
  StoreLocked(shard, key, std::move(raw), std::move(copy));
}

void EntityCache::InsertAbsent(Ticket ticket, absl::string_view key) {
  if (!enabled()) return;
  Shard& shard = ShardOf(key);
  absl::MutexLock lock(&shard.mu);
  if (MayPredateAWrite(shard, key, ticket)) return;
  if (shard.writing.contains(key)) return;  // being written
  StoreLocked(shard, key, nullptr, nullptr);
}

void EntityCache::BeginWrite(absl::string_view key) {
  if (!enabled()) return;
  Shard& shard = ShardOf(key);
  absl::MutexLock lock(&shard.mu);
  const bool cached = shard.index.contains(key);
  EraseLocked(shard, key);
  bool& was_cached = shard.writing[key];
  was_cached = was_cached || cached;
}

EntityCache::Ticket EntityCache::BeginUpdate() {
  return sequence_.fetch_add(1, std::memory_order_acq_rel) + 1;
}

void EntityCache::EndWrite(Ticket update, absl::string_view key,
                           const std::string* value) {
  if (!enabled()) return;
  Shard& shard = ShardOf(key);
  absl::MutexLock lock(&shard.mu);
  Ticket& slot = shard.slot_update[SlotOf(key)];
  if (update > slot) slot = update;
  auto it = shard.writing.find(key);
  const bool was_cached = it != shard.writing.end() && it->second;
  if (it != shard.writing.end()) shard.writing.erase(it);
  EraseLocked(shard, key);
  if (!was_cached || value == nullptr) return;
  StoreLocked(shard, key, std::make_shared<const std::string>(*value), nullptr);
}

void EntityCache::Clear() {
  const Ticket update = BeginUpdate();
  for (Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    shard.last_update = update;
    shard.writing.clear();
    shard.index.clear();
    shard.lru.clear();
    shard.charged = 0;
  }
}

EntityCache::Stats EntityCache::stats() const {
  Stats stats;
  stats.hits = hits_.load(std::memory_order_relaxed);
  stats.misses = misses_.load(std::memory_order_relaxed);
  for (const Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    stats.entries += static_cast<int64_t>(shard.index.size());
    stats.charged_bytes += static_cast<int64_t>(shard.charged);
  }
  return stats;
}

void EntityCache::StoreLocked(
    Shard& shard, absl::string_view key, std::shared_ptr<const std::string> raw,
    std::shared_ptr<const google::protobuf::MessageLite> decoded) {
  const size_t charge = Charge(key, raw.get(), decoded != nullptr);
  if (charge > shard_capacity_) {  // would evict everything else
    EraseLocked(shard, key);
    return;
  }
  auto it = shard.index.find(key);
  if (it != shard.index.end()) {
    Entry& entry = *it->second;
    shard.charged -= entry.charge;
    entry.raw = std::move(raw);
    entry.decoded = std::move(decoded);
    entry.charge = charge;
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
  } else {
    shard.lru.push_front(
        Entry{std::string(key), std::move(raw), std::move(decoded), charge});
    shard.index.emplace(shard.lru.front().key, shard.lru.begin());
  }
  shard.charged += charge;
  while (shard.charged > shard_capacity_) {
    Entry& oldest = shard.lru.back();
    shard.charged -= oldest.charge;
    shard.index.erase(oldest.key);
    shard.lru.pop_back();
  }
}

void EntityCache::EraseLocked(Shard& shard, absl::string_view key) {
  auto it = shard.index.find(key);
  if (it == shard.index.end()) return;
  shard.charged -= it->second->charge;
  std::list<Entry>::iterator entry = it->second;
  shard.index.erase(it);
  shard.lru.erase(entry);
}

}  // namespace cohorte::storage
