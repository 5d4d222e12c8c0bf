// File: storage/store.h
//
// Store is Cohorte's durable state: one RocksDB database with a small, fixed
// set of column families (grammar in storage/FORMAT.md). Every mutation is
// committed as one atomic WriteBatch holding its entities, their index
// entries, a change-log entry under the instance's next revision, the
// revision counter and, when the request carried a request_id, the
// idempotency record. Commit returns only after the WAL is fsynced.
//
// Concurrent Commit calls form groups (LevelDB-style group commit): the
// first waiting caller becomes the group's leader, applies every queued
// mutation in order against a view that includes the earlier ones of the
// group, and writes the whole group with one WAL write and one fsync. So
// revisions are gap-free and in commit order, checks made inside a mutation
// (etags, uniqueness) are atomic with its write, and 64 concurrent writers
// share fsyncs instead of queueing one fsync each.
//
// Groups are pipelined, one deep: once a group's mutations have run, the
// leadership passes on and the next group's mutations run while the first
// one's WAL write and fsync are in flight, reading through its batch. The
// next group is written only after the first one is durable, and if that
// write failed, every writer of the next group gets the same error: nothing
// is acknowledged, or shown to a reader, before the writes it read are
// durable.
//
// The change log is unredacted: it holds every entity write as it is,
// closed-group content included. Its only reader on a caller's behalf is the
// read gate (server/service/access/reader.h), which holds the key to the
// committed state (storage/view.h) and applies each change's read rule by
// its entity kind.
//
// Thread-safety: every method is safe to call from many threads.
//
//   COHORTE_ASSIGN_OR_RETURN(std::unique_ptr<Store> store,
//                            Store::Open({.path = "/var/lib/cohorte"}));
//   Mutation m;
//   m.apply = [&](Txn& txn) -> absl::StatusOr<std::string> { ... };
//   COHORTE_ASSIGN_OR_RETURN(CommitResult r, store->Commit(std::move(m)));
#ifndef COHORTE_STORAGE_STORE_H_
#define COHORTE_STORAGE_STORE_H_

#include <atomic>
#include <cassert>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cohorte/storage/v1/records.pb.h"
#include "google/protobuf/message.h"
#include "storage/entity_cache.h"
#include "storage/entity_types.h"
#include "storage/reopen_lock.h"
#include "storage/view.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Env;
class Iterator;
struct ReadOptions;
class FileSystem;
class Status;
class WriteBatch;
class SstFileWriter;
class WriteBatchWithIndex;
}  // namespace rocksdb

namespace cohorte::storage {

struct StoreOptions {
  // Directory of the database.
  std::string path;
  // True: a missing or empty `path` becomes a new store. False: Open
  // refuses anything but a complete existing store (see Store::Open).
  bool create_if_missing = true;
  // Tests make memtables tiny so that flushes and compactions happen.
  // 0 keeps RocksDB's default.
  size_t write_buffer_size = 0;
  // The most mutations committed with one WAL write and fsync.
  int max_group_size = 256;
  // When the WALs together pass this size, the column families holding
  // their oldest data are flushed so the oldest WAL can be deleted: this
  // bounds the disk the WAL takes and the time a restart replays it.
  uint64_t max_total_wal_bytes = 64 << 20;
  // The block cache shared by every table (uncompressed blocks, index and
  // filter blocks stay with their table readers).
  size_t block_cache_bytes = 64 << 20;
  // The decoded entities kept in memory (EntityCache; 0: none). A write's
  // checks read the same few entities again and again.
  size_t entity_cache_bytes = 32 << 20;
  // After a failed write, how long the store waits before each attempt to
  // recover (a write probe, then a clean reopen of the database).
  absl::Duration recovery_interval = absl::Seconds(1);
  // Empty: a WAL corrupt before its end makes Open fail (DATA_LOSS). Set
  // (by `cohorted recover` only): the operator accepts losing what follows
  // the corruption; Open copies the WAL files as they are into this new
  // directory, recovers to the last good record (point in time) and bumps
  // the epoch.
  std::string wal_copy_dir;
  // Set by RestoreBackup only: the store at `path` was just made from a
  // backup. Open accepts it without a WAL file (BackupEngine leaves an
  // empty live WAL out of a backup) and bumps the epoch to one more than the
  // larger of the store's and restored_min_epoch (the newest epoch the backups
  // know of).
  bool restored = false;
  int64_t restored_min_epoch = 0;
  // Shared records' chunks in RocksDB's integrated blob files (true) or in
  // the column family's tables (false, chosen by measuring: see the
  // README's "Where the bytes of shared records live").
  bool record_blob_files = false;
  // How WriteRecordChunks makes a batch of chunks durable: as one table
  // file written by itself and ingested (true), or through the memtable
  // and a flush of the column family (false, for the comparison in
  // tests/bench/record_bench.cc; see the README).
  bool record_chunks_ingested = true;
  // Where the leadership of CommitAsync writers runs when no thread leads:
  // `schedule` is given a task that leads the queued groups (and must run
  // it, once, soon). Unset: the thread calling CommitAsync leads, as
  // Commit's callers do. cohorted sets it to a pool of its own, so that a
  // call served on one of gRPC's event threads never waits on a fsync.
  // The leadership is the task's from the moment it is given: it must not
  // wait behind threads blocked in Commit (which wait for the leadership),
  // so never a pool whose threads call Commit.
  std::function<void(std::function<void()>)> async_leader;
  // The file system RocksDB uses; null for the operating system's. Tests
  // pass one that injects faults.
  std::shared_ptr<rocksdb::FileSystem> file_system;
};

class Backups;
class Store;
// A group whose batch is being written (store.cc): the next group's
// mutations read through it while its WAL write and fsync are in flight.
struct PendingGroup;

// Decides whether a mutation may write entity `name` of kind `kind`:
// `entity` is its new form, null for a deletion; `txn` sees the state the
// write would change. OK to allow; otherwise the status is what Commit
// returns, and the whole mutation is discarded. The service layer installs
// one (Store::SetWriteGuard) so that a rule on writes (a replica's content
// is written only by its link) holds for every mutation, whatever service
// runs it. Called inside the group commit: keep it to point reads.
using WriteGuard = std::function<absl::Status(
    const View& txn, EntityKind kind, absl::string_view name,
    const google::protobuf::Message* entity)>;

// Txn is the view a mutation runs against inside Commit: reads see the
// committed state plus the writes of the group before (whose fsync may still
// be in flight: this group is then answered only after it, and fails if it
// did), of earlier mutations of the same group and of this one. Writes are
// buffered and become visible to others only when the group commits. Not
// thread-safe; valid only during Mutation::apply.
//
// Entities are written only through PutEntity/DeleteEntity, which also
// record the change (with its entity kind) in the mutation's change-log
// record, so that no entity write can be left out of the log. Index entries
// are not resources and are not logged (FORMAT.md says which are local).
class Txn final : public View {
 public:
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  absl::Status Get(Table table, absl::string_view key,
                   std::string* value) const override;
  absl::Status GetProto(Table table, absl::string_view key,
                        google::protobuf::MessageLite* message) const override;
  absl::Status Scan(Table table, absl::string_view prefix,
                    absl::string_view start_after,
                    const ScanVisitor& visit) const override;
  absl::Status ScanReverse(Table table, absl::string_view prefix,
                           absl::string_view start_before,
                           const ScanVisitor& visit) const override;
  // Scan from the first key of `prefix`.
  absl::Status Scan(Table table, absl::string_view prefix,
                    const ScanVisitor& visit) const {
    return Scan(table, prefix, "", visit);
  }

  // Like Scan(Table::kIndexes, prefix, visit) for a whole collection of
  // a cached kind (IsCachedCollectionKind; `prefix` ends with the NUL
  // that closes the collection, CollectionOfIndexKey), visited in key
  // order. While neither this group's batch nor the one before wrote a key
  // of it, its committed keys and values come from the entity cache
  // (CollectionCacheKey), kept coherent by the leader as entities are:
  // every write of one of its keys marks the collection, which is then a
  // miss until the write is reported. A collection above
  // kMaxCachedCollectionBytes (its packed keys and values) is read from
  // RocksDB each time.
  absl::Status ScanCollection(absl::string_view prefix,
                              const ScanVisitor& visit) const;
  // The largest collection (its keys' suffixes and values) kept cached.
  static constexpr size_t kMaxCachedCollectionBytes = 64 << 10;

  // Writes `entity` under `name` and records it in the change log.
  template <typename T>
  void PutEntity(absl::string_view name, const T& entity) {
    static_assert(EntityTraits<T>::kLogged,
                  "this type's stored form may not be logged: use the "
                  "overload that takes the form to log");
    PutEntity(name, entity, entity);
  }
  template <typename T>
  void PutEntity(const T& entity) {
    PutEntity(entity.name(), entity);
  }
  // Writes `entity` under `name` and records `logged` (the form the change
  // log may hold, e.g. a token without its hash) in the change log.
  //
  // The change records whether the entity is new (Change.created) and, for
  // the types LogsPreviousVersion lists, the entity it replaces
  // (Change.previous), so that the change feed can tell a reader who could
  // read the old form and cannot read the new one.
  template <typename T>
  void PutEntity(absl::string_view name, const T& entity,
                 const google::protobuf::Message& logged) {
    Guard(EntityTraits<T>::kKind, name, &entity);
    const std::string key = EntityKeyOf<T>(name);
    std::string before;
    // An error other than NOT_FOUND counts as "existed": never claim a
    // creation that may not be one.
    const bool existed = !absl::IsNotFound(Get(Table::kEntities, key, &before));
    const std::string encoded = EncodeValue(entity);
    PutRaw(Table::kEntities, key, encoded);
    v1::Change& change =
        static_cast<const google::protobuf::Message*>(&entity) == &logged
            ? RecordPutEncoded(EntityTraits<T>::kKind, name, entity, encoded)
            : RecordPut(EntityTraits<T>::kKind, name, logged);
    change.set_created(!existed);
    if constexpr (LogsPreviousVersion<T>::value && EntityTraits<T>::kLogged) {
      T old;
      if (existed && !before.empty() && DecodeValue(before, &old).ok()) {
        change.mutable_previous()->PackFrom(old);
      }
    }
  }
  // Like PutEntity(entity) for an entity that cannot exist yet: its name
  // was just allocated by this mutation, from a sequence stored in the
  // mutation's own reads (a message's number after its exchange's count),
  // so the read PutEntity makes to tell a creation from a replacement is
  // skipped (a miss that probes the memtables and every level's filter: a
  // twentieth of a post's CPU). The change is recorded as a creation.
  // REQUIRES: no entity is stored under the name; debug builds check it.
  template <typename T>
  void PutNewEntity(const T& entity) {
    static_assert(EntityTraits<T>::kLogged,
                  "this type's stored form may not be logged");
    Guard(EntityTraits<T>::kKind, entity.name(), &entity);
    const std::string key = EntityKeyOf<T>(entity.name());
#ifndef NDEBUG
    std::string before;
    assert(absl::IsNotFound(Get(Table::kEntities, key, &before)) &&
           "PutNewEntity over an existing entity");
#endif
    const std::string encoded = EncodeValue(entity);
    PutRaw(Table::kEntities, key, encoded);
    RecordPutEncoded(EntityTraits<T>::kKind, entity.name(), entity, encoded)
        .set_created(true);
  }
  // Deletes entity `name` of type T and records the deletion with the
  // deleted entity (Change.previous; not for types whose stored form may
  // not be logged).
  template <typename T>
  void DeleteEntity(absl::string_view name) {
    Guard(EntityTraits<T>::kKind, name, nullptr);
    const std::string key = EntityKeyOf<T>(name);
    std::string before;
    const bool existed = Get(Table::kEntities, key, &before).ok();
    DeleteRaw(Table::kEntities, key);
    v1::Change& change = RecordDelete(EntityTraits<T>::kKind, name);
    if constexpr (EntityTraits<T>::kLogged) {
      T old;
      if (existed && DecodeValue(before, &old).ok()) {
        change.mutable_previous()->PackFrom(old);
      }
    }
  }

  // Writes `data` as the chunk of blob `blob` at `offset` (record_chunks):
  // the bytes of an upload, durable when the mutation commits. Not logged
  // (the change log records the upload's committed size).
  void PutRecordChunk(uint64_t blob, int64_t offset, absl::string_view data);

  // Index entries (Table::kIndexes): claims and secondary indexes.
  void PutIndex(absl::string_view key, absl::string_view value) {
    PutRaw(Table::kIndexes, key, value);
  }
  void DeleteIndex(absl::string_view key) { DeleteRaw(Table::kIndexes, key); }

  // Whether the entity `name` of type T may have been written in this
  // mutation's group so far: true for each entity this mutation wrote, and
  // maybe for others (the group's earlier mutations', rolled-back writes
  // included). False means that the entity is as it was when this
  // mutation began.
  template <typename T>
  bool MayHaveWrittenEntity(absl::string_view name) const {
    return entity_writes_->contains(EntityKeyOf<T>(name));
  }

  // The revision this mutation gets if it commits.
  int64_t revision() const { return revision_; }
  // The commit time shared by the whole group.
  absl::Time commit_time() const { return commit_time_; }

 private:
  friend class Store;
  Txn(const Store* store, rocksdb::WriteBatchWithIndex* batch,
      absl::flat_hash_set<std::string>* entity_writes,
      const PendingGroup* prior, int64_t revision, absl::Time commit_time,
      const WriteGuard* guard)
      : store_(store),
        batch_(batch),
        entity_writes_(entity_writes),
        prior_(prior),
        revision_(revision),
        commit_time_(commit_time),
        guard_(guard) {}

  // Runs the write guard (if any) on an entity write; its first refusal
  // is kept in guard_status_, which fails the mutation.
  void Guard(EntityKind kind, absl::string_view name,
             const google::protobuf::Message* entity);

  void MarkWritten(Table table, absl::string_view key);
  void PutRaw(Table table, absl::string_view key, absl::string_view value);
  void DeleteRaw(Table table, absl::string_view key);
  v1::Change& RecordPut(EntityKind kind, absl::string_view resource_name,
                        const google::protobuf::Message& resource);
  // The same from `encoded`, EncodeValue(resource) just written: the change
  // holds its bytes, so the resource is serialized once, not twice.
  v1::Change& RecordPutEncoded(EntityKind kind, absl::string_view resource_name,
                               const google::protobuf::Message& resource,
                               absl::string_view encoded);
  v1::Change& RecordDelete(EntityKind kind, absl::string_view resource_name);

  // Whether `key` of `table` may be in the group's batch: if not, the
  // committed state (and so the EntityCache) answers for it.
  bool MayBeInBatch(Table table, absl::string_view key) const;
  // The same for the batch of the group before, if its write is in flight.
  bool MayBeInPrior(Table table, absl::string_view key) const;
  // An iterator over `table` as this mutation sees it, or, without
  // `with_batches`, over its committed state alone.
  std::unique_ptr<rocksdb::Iterator> NewIterator(
      Table table, const rocksdb::ReadOptions& read_options,
      bool with_batches) const;
  // Scan, through NewIterator(with_batches).
  absl::Status ScanLayers(Table table, absl::string_view prefix,
                          absl::string_view start_after,
                          const ScanVisitor& visit, bool with_batches) const;

  const Store* const store_;
  rocksdb::WriteBatchWithIndex* const batch_;
  // The entity keys the group's batch has written (kept after a rollback:
  // a key in it is only read from the batch first), and the cache keys of
  // the cached index collections it wrote in (CollectionCacheKey).
  absl::flat_hash_set<std::string>* const entity_writes_;
  // The group before, while its write may be in flight; else null.
  const PendingGroup* const prior_;
  const int64_t revision_;
  const absl::Time commit_time_;
  const WriteGuard* const guard_;
  absl::Status guard_status_;
  std::vector<v1::Change> changes_;
};

// A unit of work for Store::Commit.
struct Mutation {
  // Resource name of the member on whose behalf it runs (change log,
  // idempotency scope).
  std::string actor;
  // The operation, e.g. "CreateCohort" (change log, idempotency scope).
  std::string method;
  // The request_id, or empty. When set and a record for (actor, method,
  // request_id) exists, `apply` is not called: Commit returns the recorded
  // response with `replayed` set and writes nothing.
  std::string request_id;
  // Fingerprint of the request without its request_id, stored with the
  // idempotency record so that callers can refuse a reused id.
  uint64_t request_fingerprint = 0;
  // Validates against `txn` and writes through it. Returns the response to
  // remember for replays. A non-OK status discards every write it made and
  // is returned by Commit; no revision is used.
  std::function<absl::StatusOr<std::string>(Txn& txn)> apply;
  // A link applying its peer's changes (a replica's home is elsewhere):
  // the write guard does not apply. Only the replication code sets it.
  bool replicated = false;
};

struct CommitResult {
  // The mutation's revision (on replay, the original one).
  int64_t revision = 0;
  // What `apply` returned (on replay, what it returned the first time).
  std::string response;
  // True if answered from the idempotency record.
  bool replayed = false;
  // On replay, the fingerprint stored the first time.
  uint64_t recorded_fingerprint = 0;
};

// A table file of chunks of one blob (record_chunks keys), the first at
// `offset` and each after the one before, written beside the store until
// Store::IngestRecordChunks makes it part of it. It lets an upload write
// many batches as one file and make them durable at once. Deleted with the
// object unless ingested. Not thread-safe; made by Store::NewRecordChunkFile,
// must not outlive the Store.
class RecordChunkFile {
 public:
  RecordChunkFile(const RecordChunkFile&) = delete;
  RecordChunkFile& operator=(const RecordChunkFile&) = delete;
  ~RecordChunkFile();

  uint64_t blob() const { return blob_; }
  int64_t offset() const { return offset_; }
  // Where the next chunk goes: offset() plus the bytes added.
  int64_t end() const { return end_; }

  // Appends `chunk` (written to the file, not yet durable). UNAVAILABLE or
  // RESOURCE_EXHAUSTED if the file cannot be written; the file is then of
  // no use.
  absl::Status Add(absl::string_view chunk);

 private:
  friend class Store;
  RecordChunkFile(std::string path, uint64_t blob, int64_t offset,
                  std::unique_ptr<rocksdb::SstFileWriter> writer);

  const std::string path_;
  const uint64_t blob_;
  const int64_t offset_;
  int64_t end_;
  std::unique_ptr<rocksdb::SstFileWriter> writer_;
  absl::Status status_;  // the first error
};

class Store {
 public:
  // Opens the database under options.path, or creates it there when
  // options.create_if_missing is set and the path is missing or empty. On
  // creation, makes the instance id (128 random bits) and epoch 1.
  // FAILED_PRECONDITION: the directory is locked by another process.
  // NOT_FOUND: the path holds no complete store (no CURRENT file, no WAL,
  // or no instance record) and may not be created. DATA_LOSS: a WAL is
  // corrupt before its last record (the message names it and the last
  // revision before it), a WAL the MANIFEST lists is missing, the revision
  // counter and change log disagree, or a record does not decode.
  // RESOURCE_EXHAUSTED: the disk is full. UNAVAILABLE: the path cannot be
  // created, read or written.
  static absl::StatusOr<std::unique_ptr<Store>> Open(
      const StoreOptions& options);

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  // Closes the database. REQUIRES: no call on this Store is in progress.
  ~Store();

  const std::string& instance_id() const { return instance_.instance_id(); }

  // Installs the guard every later mutation's entity writes go through
  // (except Mutation::replicated ones); replaces the previous one. The
  // service layer calls it once, when it is built (service::Services).
  void SetWriteGuard(WriteGuard guard);
  int64_t epoch() const { return instance_.epoch(); }
  // True if Open dropped a corrupt end of the WAL (see
  // StoreOptions::wal_copy_dir).
  bool dropped_wal_tail() const { return dropped_wal_tail_; }
  // The last committed revision (0 for a new store).
  int64_t revision() const {
    return committed_revision_.load(std::memory_order_acquire);
  }
  // The last committed revision whose mutation wrote (put or deleted) an
  // entity of `kind`; 0 if none did since Open. It is set before the
  // mutation's writer is answered and before revision() moves past it, and
  // never goes back: a cache of what entities of `kind` say (e.g. the
  // authenticated principals) stays exact while it is unchanged.
  int64_t LastWriteRevision(EntityKind kind) const {
    return last_write_revision_[static_cast<uint8_t>(kind)].load(
        std::memory_order_acquire);
  }

  // Runs `mutation` atomically and durably (see the file comment). Returns
  // the CommitResult once the group's WAL write is fsynced, the status from
  // `apply` if it failed, or, if the write itself failed, RESOURCE_EXHAUSTED
  // (disk full, reason STORAGE_FULL), UNAVAILABLE (I/O error, reason
  // STORAGE_UNAVAILABLE), DATA_LOSS or INTERNAL: then nothing of the group
  // is acknowledged (its outcome is unknown: a retry with the same
  // request_id is safe).
  //
  // After a failed write the store never writes to that database again:
  // every Commit returns the same error without running `apply`, reads go
  // on, and every options.recovery_interval the next Commit probes the disk
  // and, if it takes a write, reopens the database cleanly (replaying its
  // WAL) and carries on.
  absl::StatusOr<CommitResult> Commit(Mutation mutation);

  // What CommitAsync calls with the result Commit would have returned.
  using CommitCallback = std::function<void(absl::StatusOr<CommitResult>)>;
  // Commit without waiting: `mutation` joins the same queue and groups as
  // Commit's (same order, revisions and durability), and `done` is called
  // exactly once with what Commit would return, once the group's WAL write
  // is fsynced (or failed). So a call that only waits for its commit needs
  // no thread meanwhile, and no thread is woken to learn it is done.
  //
  // If no group is being committed, this thread leads the groups queued
  // until none is left (so CommitAsync may run `done`, and others', before
  // it returns), or, with StoreOptions::async_leader set, that leadership
  // is handed to it and CommitAsync returns at once; otherwise the thread
  // committing the current group leads the next. `done` runs on the leading
  // thread with no lock of the store held, after leadership passed on: it
  // should be short (answering a call). `done` must not call Commit or
  // WriteAsLeader, which would wait for a leadership that may be queued
  // behind its own thread: from `done` they return INTERNAL at once, writing
  // nothing. It may call CommitAsync. REQUIRES: every `done` has run before
  // the Store is destroyed.
  void CommitAsync(Mutation mutation, CommitCallback done);

  // The committed state, for the read gate and authentication only (see
  // storage/view.h): each read sees one consistent snapshot per call.
  const View& committed(const CommittedReadKey&) const { return committed_; }

  // OK while writes are accepted; otherwise the error that stopped them
  // (see Commit). For health checks and logs.
  absl::Status write_status() const;

  // While writes are stopped, tries to resume them now (if a retry is due)
  // without waiting for a client's write; writes nothing. Returns
  // write_status() after.
  absl::Status ResumeWrites();

  // Change-log records with revision >= from_revision, at most `limit`, in
  // revision order. The log is unredacted (closed-group content as is): it
  // is read only through the gate, which applies each change's read rule.
  // OUT_OF_RANGE (reason CHANGES_COMPACTED) if from_revision is below
  // first_change_revision(), or if the log was compacted past it while
  // reading.
  absl::StatusOr<std::vector<v1::ChangeRecord>> ReadChanges(
      const CommittedReadKey&, int64_t from_revision, int limit) const;

  // The change-log record of `revision`; NOT_FOUND if it was compacted away
  // or is not committed.
  absl::StatusOr<v1::ChangeRecord> ReadChange(const CommittedReadKey&,
                                              int64_t revision) const;

  // The oldest revision the change log still holds (1 until compacted; the
  // revision after the last one when everything was compacted).
  int64_t first_change_revision() const {
    return first_change_revision_.load(std::memory_order_acquire);
  }

  // Drops the change-log records below `before` (at most up to the last
  // committed revision + 1), durably, serialized with commits (it takes the
  // commit leadership for one synced write, so no WAL is written by two
  // threads). A no-op if `before` <= first_change_revision(). Fails like a
  // Commit while writes are stopped. Idempotency records and entities are
  // untouched.
  absl::Status CompactChanges(int64_t before);

  // The first retained revision committed at or after `t` (commit times
  // grow with revisions: a binary search), or revision() + 1 if none. For
  // the change log's retention: reads no content.
  absl::StatusOr<int64_t> FirstChangeAtOrAfter(absl::Time t) const;

  // Waits until the committed revision exceeds `after` or `deadline`
  // passes; returns revision(). For the change feed's single log reader.
  int64_t WaitForRevision(int64_t after, absl::Time deadline) const;

  // Deletes every chunk of `blob` (a range deletion, fsynced, under the
  // commit leadership like CompactChanges). For the
  // garbage collector, after a committed mutation marked the blob as
  // garbage (nothing refers to it any more), and before another removes
  // the mark: so a crash in between only repeats this. Errors as Commit's.
  absl::Status DeleteRecordChunks(uint64_t blob);

  // Writes `chunks` as blob `blob`'s chunks (record_chunks keys), the first
  // at `offset` and each after the one before, and makes them durable
  // before it returns, outside the group commit: they are written without
  // the WAL and the column family is flushed (an SST file, fsynced, and the
  // MANIFEST). So an upload's megabytes never enter the WAL that small
  // commits fsync, nor a group commit, and are written to disk once; the
  // upload's state (how much is committed) is then committed as an
  // ordinary small mutation, which makes them part of the upload (see
  // FORMAT.md, "record_chunks"). Deletes first every chunk of `blob` at or
  // past `offset`, which an earlier attempt may have written without
  // committing it, so a resumed upload with other chunk boundaries reads
  // back only its own bytes. The flush waits while it would stall writers
  // (RocksDB's level-0 limits): the uploads slow down, not the posts; so
  // does a backup in progress (it waits for it to end).
  // REQUIRES: the caller serializes writes to one blob. Errors: refused
  // like Commit while writes are stopped; RESOURCE_EXHAUSTED (disk full),
  // UNAVAILABLE (I/O error).
  absl::Status WriteRecordChunks(uint64_t blob, int64_t offset,
                                 const std::vector<absl::string_view>& chunks);

  // A new, empty table file for chunks of `blob` from `offset` (see
  // RecordChunkFile). Errors: refused like Commit while writes are
  // stopped; UNAVAILABLE if the file cannot be made.
  absl::StatusOr<std::unique_ptr<RecordChunkFile>> NewRecordChunkFile(
      uint64_t blob, int64_t offset);
  // Makes `file`'s chunks durable and part of the store, as
  // WriteRecordChunks does with its batch (it deletes first every chunk of
  // the blob at or past the file's offset, waits while a backup runs);
  // nothing to do if the file holds no chunk. The file is spent either way.
  // REQUIRES: the caller serializes writes to one blob. Errors as
  // WriteRecordChunks.
  absl::Status IngestRecordChunks(RecordChunkFile& file);

  // For the garbage collector of shared records, never on a caller's
  // behalf (it returns names and numbers, no content): up to `limit` names
  // queued under `kind` (TimeQueueKey entries) at or before
  // `until_seconds`, in time order.
  absl::StatusOr<std::vector<std::string>> DueInTimeQueue(IndexKind kind,
                                                          int64_t until_seconds,
                                                          int limit) const;
  // Up to `limit` blobs marked as garbage (kRecordGarbage entries).
  absl::StatusOr<std::vector<uint64_t>> RecordGarbageBlobs(int limit) const;

  // Counters since Open, for benchmarks and logs.
  struct Stats {
    int64_t committed_mutations = 0;
    int64_t wal_syncs = 0;  // one per committed group
    // Writes outside a mutation (CompactChanges, DeleteRecordChunks) now
    // waiting for the commit leadership.
    int exclusive_waiting = 0;
    EntityCache::Stats entity_cache;
  };
  Stats stats() const;

 private:
  friend class Txn;
  // Backs up the database while holding db_lock_ shared.
  friend class Backups;
  struct Writer;

  // The committed state as a View.
  class CommittedView final : public View {
   public:
    explicit CommittedView(const Store* store) : store_(*store) {}
    absl::Status Get(Table table, absl::string_view key,
                     std::string* value) const override;
    absl::Status GetProto(
        Table table, absl::string_view key,
        google::protobuf::MessageLite* message) const override;
    absl::Status Scan(Table table, absl::string_view prefix,
                      absl::string_view start_after,
                      const ScanVisitor& visit) const override;
    absl::Status ScanReverse(Table table, absl::string_view prefix,
                             absl::string_view start_before,
                             const ScanVisitor& visit) const override;

   private:
    const Store& store_;
  };

  explicit Store(const StoreOptions& options);
  // Migrates what older versions wrote (FORMAT.md, "Evolving it").
  absl::Status Migrate();
  rocksdb::ColumnFamilyHandle* handle(Table table) const;
  // Opens the RocksDB database into db_ and the handles, read-write (never
  // creating it unless `create`) or read-only.
  // `point_in_time`: replay the WAL up to its first corrupt record only.
  absl::Status OpenDb(bool create, bool read_only, bool point_in_time = false);
  // Closes db_ and its handles, if open.
  void CloseDb();
  // Loads first_change_revision_ from the meta table.
  absl::Status LoadChangelogStart();
  // Reads the instance record (creating it if `create`) and the revision.
  absl::Status LoadInstance(bool create, v1::InstanceRecord* instance,
                            int64_t* revision);
  // Sets the epoch to one more than max(epoch, at_least) and writes it,
  // synced: another history starts here (a recovery that dropped the WAL's
  // tail, a restore).
  absl::Status BumpEpoch(int64_t at_least);
  // Leader only: applies `group` to a new batch, reading through `prior`'s
  // (the group before, maybe still being written; or null), then waits for
  // `prior`'s write. Sets the result of every writer that is not to be
  // written (refused, replayed, or failed with `prior`); returns the group
  // to write with those in `committing`, or null if nothing is to be
  // written.
  std::shared_ptr<PendingGroup> ApplyGroup(
      const std::vector<Writer*>& group,
      const std::shared_ptr<PendingGroup>& prior,
      std::vector<Writer*>* committing);
  // Writes `pending` with one synced write (no longer the leader: the next
  // group may be applied meanwhile), then notifies pending.written. If the
  // write fails, every writer of `group` gets the failure; `committing`
  // counts the mutations it commits otherwise.
  void WriteGroup(PendingGroup& pending, const std::vector<Writer*>& group,
                  size_t committing);
  // An entity of the committed state (Table::kEntities), from the
  // EntityCache or else from RocksDB (then offered to the cache). The
  // caller holds db_lock_ or leads.
  absl::Status GetCommittedEntity(absl::string_view key,
                                  std::string* value) const;
  absl::Status GetCommittedEntity(absl::string_view key,
                                  google::protobuf::MessageLite* message) const;
  // The leader, after a successful write of `batch`: the cache learns the
  // final bytes of each entity key in `keys`.
  void UpdateEntityCache(rocksdb::WriteBatchWithIndex& batch,
                         const absl::flat_hash_set<std::string>& keys);
  // Ends the current leadership and wakes who may take it next: the
  // writer at the queue's front and any WriteAsLeader.
  void ReleaseLeadershipLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // REQUIRES: this thread took the leadership. Commits the next group
  // (`self`, a Commit caller's writer, or null), marks its Commit writers
  // done, releases the leadership, then runs the group's CommitAsync
  // callbacks with mu_ released. Returns with mu_ held.
  void LeadOneGroupLocked(Writer* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // With an async leader, no one leading and a CommitAsync writer at the
  // queue's front: takes the leadership for a task given to the async
  // leader (called with mu_ released), and returns true.
  bool ScheduleAsyncLeaderLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // While no one leads and the queue's front is a CommitAsync writer (which
  // has no thread waiting to lead), leads the next group.
  void LeadQueuedAsyncLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Leader only, after a failed write: OK once the disk takes a synced
  // write again and the database is reopened read-write.
  absl::Status Recover();
  // Deletes (without the WAL) every chunk of `blob` at or past `offset`:
  // what an earlier attempt wrote there and never committed. REQUIRES:
  // db_lock_ held shared, and a flush or an ingestion of the column family
  // to follow.
  absl::Status DeleteUncommittedRecordChunks(uint64_t blob, int64_t offset);
  // Recover's reopen. REQUIRES: db_lock_ held exclusively.
  absl::Status ReopenLocked();
  // One synced write of the batch `build` fills, under the commit
  // leadership (no group writes meanwhile), with a commit's fault rules:
  // refused while writes are stopped, and a failure stops them. For writes
  // outside a mutation (range deletions); `what` names it in errors.
  absl::Status WriteAsLeader(
      absl::string_view what,
      const std::function<rocksdb::Status(rocksdb::WriteBatch&)>& build);

  const StoreOptions options_;
  // Owned when options_.file_system is set; outlives db_.
  std::unique_ptr<rocksdb::Env> env_;

  // db_ and the handles change only in Recover, which holds db_lock_
  // exclusively; readers of committed state hold it shared. The leader (the
  // only one to run Txn reads) and the thread writing the group before it
  // need no lock: Recover runs on the leader, only once no write is in
  // flight (a write fault is seen only after the write that failed).
  mutable ReopenLock db_lock_;

  CommittedView committed_;
  // Entities recently read or written (see entity_cache.h for why it stays
  // coherent): updated by the leader after each write, cleared after a
  // failed one and at every (re)open.
  mutable EntityCache entity_cache_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;      // owned; kTableCount
  rocksdb::ColumnFamilyHandle* default_handle_ = nullptr;  // owned
  v1::InstanceRecord instance_;                            // fixed after Open
  bool dropped_wal_tail_ = false;                          // fixed after Open
  int max_group_size_ = 256;

  std::atomic<int64_t> committed_revision_{0};
  // LastWriteRevision, by entity kind tag.
  std::atomic<int64_t> last_write_revision_[kMaxEntityKind + 1] = {};
  std::atomic<int64_t> first_change_revision_{1};
  // Signalled (under commit_mu_) after each committed group.
  mutable absl::Mutex commit_mu_;
  mutable absl::CondVar commit_cv_;
  std::atomic<int64_t> committed_mutations_{0};
  std::atomic<int64_t> wal_syncs_{0};

  // Held shared by WriteRecordChunks while it writes and flushes, and
  // exclusively by a backup while it lists and copies the files: a batch
  // flushed between the backup's listing of the SST files and its copy of
  // the WAL would leave the backup with the commit that counts the chunks
  // (in the WAL) but not the chunks (in no listed file). Taken after
  // db_lock_.
  mutable absl::Mutex record_flush_mu_;

  // State below is protected by mu_.
  mutable absl::Mutex mu_;
  // WriteAsLeader waits on it for the leadership (commit writers wait on
  // their own Writer::cv).
  absl::CondVar leader_cv_;
  std::deque<Writer*> queue_ ABSL_GUARDED_BY(mu_);
  bool leader_active_ ABSL_GUARDED_BY(mu_) = false;
  // The last group handed to WriteGroup, until its write is over: the next
  // leader applies its group through it.
  std::shared_ptr<PendingGroup> writing_ ABSL_GUARDED_BY(mu_);
  // WriteAsLeader calls waiting for the leadership: meanwhile no group
  // takes it (they would, one after the other, under a steady load).
  int exclusive_waiting_ ABSL_GUARDED_BY(mu_) = 0;

  // Touched only by the current leader (one at a time, handed over under
  // mu_): the last revision of the last group applied and not failed (its
  // write may be in flight).
  int64_t last_revision_ = 0;
  // When the next recovery is due after a failed write.
  absl::Time next_recovery_ = absl::InfinitePast();

  // Not OK after a failed write, until Recover succeeds. Written by the
  // leader; read by write_status() from any thread.
  mutable absl::Mutex fault_mu_;
  absl::Status write_fault_ ABSL_GUARDED_BY(fault_mu_);

  // The write guard (SetWriteGuard); the leader takes a reference per
  // group.
  mutable absl::Mutex guard_mu_;
  std::shared_ptr<const WriteGuard> guard_ ABSL_GUARDED_BY(guard_mu_);
};

}  // namespace cohorte::storage

#endif  // COHORTE_STORAGE_STORE_H_
