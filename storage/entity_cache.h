// File: storage/entity_cache.h
//
// EntityCache: the most recently read entities of the committed state
// (Table::kEntities), kept in memory as their stored bytes and, once a
// reader has asked for it, their decoded form. A write's checks read the
// same few entities over and over (the caller's member and token, the
// cohort, the group, the exchange): from here, a read is a hash lookup and
// a copy instead of a RocksDB lookup and a parse.
//
// It is below the read gate and knows nothing of callers: it returns what
// the store holds, to whoever reads the store (service::Reader decides what
// a caller sees, as for any read).
//
// Coherence. Only the commit leader changes the entities. Before a write
// it tells the cache every entity key the write changes (BeginWrite): from
// then on they are misses for everyone and no read of them is kept, so a
// reader goes to RocksDB, whose batch is atomic (a reader that saw one
// part of a write there, e.g. its change-log record, never gets an entity
// the same write changed in its older form from here). After the write
// succeeds, before anyone is answered, it gives each key's final bytes
// (EndWrite), cached again if the key was cached before; a failed write or
// a reopen clears everything (Clear). A reader that misses takes a Ticket
// before it reads RocksDB and offers what it read with it (Insert): the
// offer is refused while a write of the key is in progress, or if one
// ended since the ticket was taken, since the bytes may predate it. The
// same holds for a key found missing (InsertAbsent): a known absence is
// kept and dropped like bytes.
//
// Bounded: at most `capacity_bytes` (an estimate of the stored bytes, the
// decoded forms and the bookkeeping), split over 16 shards, each evicting
// its least recently used entries. Capacity 0 disables it: every lookup
// misses and nothing is kept.
//
// Thread-safe: every method may be called from any thread.
#ifndef COHORTE_STORAGE_ENTITY_CACHE_H_
#define COHORTE_STORAGE_ENTITY_CACHE_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/message_lite.h"

namespace cohorte::storage {

class EntityCache {
 public:
  // What a reader that missed holds while it reads the store.
  using Ticket = uint64_t;

  struct Stats {
    int64_t hits = 0;
    int64_t misses = 0;
    int64_t entries = 0;
    int64_t charged_bytes = 0;
  };

  explicit EntityCache(size_t capacity_bytes);
  EntityCache(const EntityCache&) = delete;
  EntityCache& operator=(const EntityCache&) = delete;

  bool enabled() const { return shard_capacity_ > 0; }

  // Take one before reading `key` from the store after a miss.
  Ticket Take() const { return sequence_.load(std::memory_order_acquire); }

  // The stored bytes of `key`, if cached. False on a miss, and when the
  // cache knows the key is not in the store (InsertAbsent), which it tells
  // through `*absent` if given (set to false otherwise).
  bool GetRaw(absl::string_view key, std::string* value,
              bool* absent = nullptr);

  // `key` decoded into `*message` (cleared first), if cached: from the
  // cached decoded form when one of the same type is there, else by
  // decoding the cached bytes (DecodeValue; DATA_LOSS if they do not
  // parse), whose result is then kept too. NOT_FOUND on a miss (the key may
  // still exist in the store) and on a known absence, told through
  // `*absent` as by GetRaw.
  absl::Status GetProto(absl::string_view key,
                        google::protobuf::MessageLite* message,
                        bool* absent = nullptr);

  // Offers `value`, the stored bytes of `key` read after `ticket` was
  // taken, and optionally its decoded form. Kept unless a write of the key
  // (or of another key of its slot, one in 1,024) was reported since
  // `ticket`, or the cache was cleared since.
  void Insert(Ticket ticket, absl::string_view key, std::string value,
              const google::protobuf::MessageLite* decoded = nullptr);

  // Offers the absence of `key`, found missing from the store after
  // `ticket` was taken: kept under the same conditions as Insert, and
  // dropped the same way when a write changes the key (a read that misses,
  // such as a member's read marker of an exchange not yet read, then costs
  // a hash lookup instead of a RocksDB lookup through every table).
  void InsertAbsent(Ticket ticket, absl::string_view key);

  // The leader, before a write: `key` is being written (see the file
  // comment). Until EndWrite or Clear, it is a miss and Insert refuses it.
  void BeginWrite(absl::string_view key);
  // The leader, after a successful write and before answering anyone:
  // starts the report of what the write changed, then gives each key
  // BeginWrite named its final bytes (`value`; null if deleted). A key
  // cached at BeginWrite is cached with its new bytes; no new one is
  // brought in (what is written and never read by key, such as a message
  // once posted, stays out). Every ticket taken before BeginUpdate is
  // refused for the keys EndWrite then names (and the few sharing a slot
  // with one of them).
  Ticket BeginUpdate();
  void EndWrite(Ticket update, absl::string_view key, const std::string* value);

  // Forgets everything and refuses every ticket taken before.
  void Clear();

  Stats stats() const;

 private:
  struct Entry {
    std::string key;
    // Null: the key is known to be absent from the store.
    std::shared_ptr<const std::string> raw;
    std::shared_ptr<const google::protobuf::MessageLite> decoded;
    size_t charge = 0;
  };
  struct Shard {
    mutable absl::Mutex mu;
    // Most recently used first.
    std::list<Entry> lru ABSL_GUARDED_BY(mu);
    absl::flat_hash_map<absl::string_view, std::list<Entry>::iterator> index
        ABSL_GUARDED_BY(mu);
    size_t charged ABSL_GUARDED_BY(mu) = 0;
    // The last Clear: tickets older than it are refused.
    Ticket last_update ABSL_GUARDED_BY(mu) = 0;
    // The update that last changed a key of each slot (keys hashed over
    // kWriteSlots): a ticket older than its key's slot is refused. A slot
    // rather than the whole shard, so that the writes of other keys (every
    // commit group writes some) do not keep a read key out of the cache.
    std::array<Ticket, 64> slot_update ABSL_GUARDED_BY(mu) = {};
    // The keys being written (BeginWrite), each with whether it was cached.
    absl::flat_hash_map<std::string, bool> writing ABSL_GUARDED_BY(mu);
  };
  static constexpr int kShards = 16;

  Shard& ShardOf(absl::string_view key);
  // The slot of `key` in its shard's slot_update.
  static size_t SlotOf(absl::string_view key);
  // Whether what was read under `ticket` may predate a write of `key`.
  static bool MayPredateAWrite(const Shard& shard, absl::string_view key,
                               Ticket ticket)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  // Replaces or adds `key`'s entry (`raw` null: known absent), then evicts
  // down to the capacity.
  void StoreLocked(Shard& shard, absl::string_view key,
                   std::shared_ptr<const std::string> raw,
                   std::shared_ptr<const google::protobuf::MessageLite> decoded)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  void EraseLocked(Shard& shard, absl::string_view key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);

  const size_t shard_capacity_;
  std::atomic<Ticket> sequence_{1};
  std::array<Shard, kShards> shards_;
  std::atomic<int64_t> hits_{0};
  std::atomic<int64_t> misses_{0};
};

}  // namespace cohorte::storage

#endif  // COHORTE_STORAGE_ENTITY_CACHE_H_
