#include "storage/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bitset>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "google/protobuf/util/time_util.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/listener.h"
#include "rocksdb/options.h"
#include "rocksdb/sst_file_writer.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/write_batch_with_index.h"
#include "storage/codec.h"
#include "storage/info_log.h"
#include "storage/keys.h"
#include "storage/random.h"
#include "storage/rocksdb_status.h"
#include "storage/status_macros.h"

namespace cohorte::storage {
namespace {

// Column family names, indexed by Table. Persisted: never rename.
constexpr const char* kTableNames[kTableCount] = {
    "meta", "entities", "indexes", "changelog", "requests", "record_chunks"};
// Column families that a store written before shared records lacks; a
// read-write Open adds them.
constexpr Table kAddedTables[] = {Table::kRecordChunks};

google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      absl::ToUnixNanos(t));
}

rocksdb::Slice ToSlice(absl::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

absl::string_view ToView(const rocksdb::Slice& s) {
  return absl::string_view(s.data(), s.size());
}

// Visits the keys of `it` that start with `prefix`, from where `it` stands,
// forward (or `backward`), until `visit` returns false; then `it`'s status.
absl::Status VisitPrefix(
    rocksdb::Iterator& it, absl::string_view prefix, bool backward,
    const std::function<bool(absl::string_view key, absl::string_view value)>&
        visit,
    absl::string_view what) {
  for (; it.Valid(); backward ? it.Prev() : it.Next()) {
    absl::string_view key = ToView(it.key());
    if (key.substr(0, prefix.size()) != prefix) break;
    if (!visit(key, ToView(it.value()))) break;
  }
  return FromRocksDb(it.status(), what);
}

// A cached collection's packed form (Txn::ScanCollection): each key's
// suffix after the collection's prefix, then its value, each as a 32-bit
// length (host order: never stored) and its bytes.
void PutLengthPrefixed(std::string* out, absl::string_view bytes) {
  const uint32_t size = static_cast<uint32_t>(bytes.size());
  out->append(reinterpret_cast<const char*>(&size), sizeof(size));
  out->append(bytes.data(), bytes.size());
}
bool GetLengthPrefixed(absl::string_view* in, absl::string_view* bytes) {
  uint32_t size;
  if (in->size() < sizeof(size)) return false;
  std::memcpy(&size, in->data(), sizeof(size));
  if (in->size() - sizeof(size) < size) return false;
  *bytes = in->substr(sizeof(size), size);
  in->remove_prefix(sizeof(size) + size);
  return true;
}

// Every caller gets this while writes are stopped after a failure.
absl::Status Suspended(const absl::Status& cause) {
  return PrefixMessage(
      cause,
      "writes are suspended after a storage failure (reads go on; the store "
      "retries by itself; nothing of this request was acknowledged): ");
}

// Reads between a failed recovery and the next one, if even a read-only
// open failed.
absl::Status Closed() {
  return absl::UnavailableError(
      "the store is closed while it recovers from a storage failure");
}

}  // namespace

// One caller waiting in Commit. Lives on the caller's stack.
struct Store::Writer {
  Mutation* mutation = nullptr;
  absl::StatusOr<CommitResult> result;
  // Set for a CommitAsync writer (heap-allocated, owning its mutation):
  // called with `result`, then the writer is deleted.
  CommitCallback on_done;
  Mutation owned_mutation;
  bool done = false;  // guarded by Store::mu_
  // Signalled (under Store::mu_) when `done` is set, or when this writer is
  // at the queue's front and the leadership is free: each wake-up is for a
  // writer that has something to do, never a herd.
  absl::CondVar cv;
};

struct PendingGroup {
  rocksdb::WriteBatchWithIndex batch{rocksdb::BytewiseComparator(),
                                     /*reserved_bytes=*/0,
                                     /*overwrite_key=*/true};
  // The entity keys `batch` writes (Txn::entity_writes_).
  absl::flat_hash_set<std::string> entity_keys;
  // The entity kinds it writes (LastWriteRevision).
  std::bitset<kMaxEntityKind + 1> kinds_written;
  // Its last revision.
  int64_t revision = 0;
  // The outcome of its write, set before `written` is notified. Until
  // then, `batch` and `entity_keys` are only read.
  absl::Status status;
  absl::Notification written;
};

// ---- Txn -------------------------------------------------------------------

namespace {

// Where a key stands in one batch.
enum class InBatch { kAbsent, kPut, kDeleted };

// `key` of column family `cf` in `batch` (one entry per key: the batches
// overwrite keys). Reads only.
InBatch FindInBatch(const rocksdb::WriteBatchWithIndex& batch,
                    rocksdb::ColumnFamilyHandle* cf, absl::string_view key,
                    std::string* value) {
  std::unique_ptr<rocksdb::WBWIIterator> it(
      const_cast<rocksdb::WriteBatchWithIndex&>(batch).NewIterator(cf));
  it->Seek(ToSlice(key));
  if (!it->Valid()) return InBatch::kAbsent;
  const rocksdb::WriteEntry entry = it->Entry();
  if (ToView(entry.key) != key) return InBatch::kAbsent;
  switch (entry.type) {
    case rocksdb::kPutRecord:
      value->assign(entry.value.data(), entry.value.size());
      return InBatch::kPut;
    case rocksdb::kDeleteRecord:
    case rocksdb::kSingleDeleteRecord:
      return InBatch::kDeleted;
    default:  // the store writes no merge operand
      return InBatch::kAbsent;
  }
}

// The read options of a read of `table`: a shared record's chunks (1 MiB
// blocks, read once per download) do not go through the block cache, where
// each would evict the small blocks every other read needs.
rocksdb::ReadOptions ReadOptionsFor(Table table) {
  rocksdb::ReadOptions read;
  if (table == Table::kRecordChunks) read.fill_cache = false;
  return read;
}

}  // namespace

bool Txn::MayBeInBatch(Table table, absl::string_view key) const {
  return table != Table::kEntities || !store_->entity_cache_.enabled() ||
         entity_writes_->contains(key);
}

bool Txn::MayBeInPrior(Table table, absl::string_view key) const {
  return prior_ != nullptr &&
         (table != Table::kEntities || !store_->entity_cache_.enabled() ||
          prior_->entity_keys.contains(key));
}

absl::Status Txn::Get(Table table, absl::string_view key,
                      std::string* value) const {
  const bool in_batch = MayBeInBatch(table, key);
  const bool in_prior = MayBeInPrior(table, key);
  if (!in_batch && !in_prior) return store_->GetCommittedEntity(key, value);
  if (prior_ == nullptr) {
    rocksdb::Status s =
        batch_->GetFromBatchAndDB(store_->db_.get(), ReadOptionsFor(table),
                                  store_->handle(table), ToSlice(key), value);
    if (s.IsNotFound()) return absl::NotFoundError("key not found");
    return FromRocksDb(s, "read in mutation");
  }
  // This group's batch, then the one before, then the committed state.
  const rocksdb::WriteBatchWithIndex* const batches[] = {
      in_batch ? batch_ : nullptr, in_prior ? &prior_->batch : nullptr};
  for (const rocksdb::WriteBatchWithIndex* batch : batches) {
    if (batch == nullptr) continue;
    switch (FindInBatch(*batch, store_->handle(table), key, value)) {
      case InBatch::kPut:
        return absl::OkStatus();
      case InBatch::kDeleted:
        return absl::NotFoundError("key not found");
      case InBatch::kAbsent:
        break;
    }
  }
  if (table == Table::kEntities) return store_->GetCommittedEntity(key, value);
  rocksdb::Status s = store_->db_->Get(
      ReadOptionsFor(table), store_->handle(table), ToSlice(key), value);
  if (s.IsNotFound()) return absl::NotFoundError("key not found");
  return FromRocksDb(s, "read in mutation");
}

absl::Status Txn::GetProto(Table table, absl::string_view key,
                           google::protobuf::MessageLite* message) const {
  if (!MayBeInBatch(table, key) && !MayBeInPrior(table, key)) {
    return store_->GetCommittedEntity(key, message);
  }
  return View::GetProto(table, key, message);
}

// The committed state of `table` under the batch of the group before, if
// its write is in flight, under this group's batch; or, without
// `with_batches`, the committed state alone.
std::unique_ptr<rocksdb::Iterator> Txn::NewIterator(
    Table table, const rocksdb::ReadOptions& read_options,
    bool with_batches) const {
  rocksdb::ColumnFamilyHandle* cf = store_->handle(table);
  rocksdb::Iterator* base = store_->db_->NewIterator(read_options, cf);
  if (!with_batches) return std::unique_ptr<rocksdb::Iterator>(base);
  if (prior_ != nullptr) {
    base = const_cast<rocksdb::WriteBatchWithIndex&>(prior_->batch)
               .NewIteratorWithBase(cf, base);
  }
  return std::unique_ptr<rocksdb::Iterator>(
      batch_->NewIteratorWithBase(cf, base));
}

absl::Status Txn::Scan(Table table, absl::string_view prefix,
                       absl::string_view start_after,
                       const ScanVisitor& visit) const {
  return ScanLayers(table, prefix, start_after, visit, /*with_batches=*/true);
}

absl::Status Txn::ScanLayers(Table table, absl::string_view prefix,
                             absl::string_view start_after,
                             const ScanVisitor& visit,
                             bool with_batches) const {
  const std::string upper = PrefixSuccessor(prefix);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions read_options = ReadOptionsFor(table);
  if (!upper.empty()) read_options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it =
      NewIterator(table, read_options, with_batches);
  if (start_after.empty()) {
    it->Seek(ToSlice(prefix));
  } else {
    it->Seek(ToSlice(start_after));
    if (it->Valid() && ToView(it->key()) == start_after) it->Next();
  }
  return VisitPrefix(*it, prefix, /*backward=*/false, visit,
                     "scan in mutation");
}

absl::Status Txn::ScanCollection(absl::string_view prefix,
                                 const ScanVisitor& visit) const {
  const std::string cache_key = CollectionCacheKey(prefix);
  if (!store_->entity_cache_.enabled() || !IsCachedCollectionKind(prefix) ||
      CollectionOfIndexKey(prefix) != prefix ||
      entity_writes_->contains(cache_key) ||
      (prior_ != nullptr && prior_->entity_keys.contains(cache_key))) {
    return Scan(Table::kIndexes, prefix, visit);
  }
  // The collection as committed: neither batch wrote in it, so the
  // committed state is all there is to read, and the group before cannot
  // change it by finishing its write meanwhile.
  std::string packed;
  if (!store_->entity_cache_.GetRaw(cache_key, &packed)) {
    const EntityCache::Ticket ticket = store_->entity_cache_.Take();
    COHORTE_RETURN_IF_ERROR(ScanLayers(
        Table::kIndexes, prefix, "",
        [&](absl::string_view key, absl::string_view value) {
          PutLengthPrefixed(&packed, key.substr(prefix.size()));
          PutLengthPrefixed(&packed, value);
          return true;
        },
        /*with_batches=*/false));
    if (packed.size() <= kMaxCachedCollectionBytes) {
      store_->entity_cache_.Insert(ticket, cache_key, packed);
    }
  }
  std::string key(prefix);
  absl::string_view rest(packed);
  absl::string_view suffix, value;
  while (GetLengthPrefixed(&rest, &suffix) &&
         GetLengthPrefixed(&rest, &value)) {
    key.resize(prefix.size());
    key.append(suffix.data(), suffix.size());
    if (!visit(key, value)) break;
  }
  return absl::OkStatus();
}

absl::Status Txn::ScanReverse(Table table, absl::string_view prefix,
                              absl::string_view start_before,
                              const ScanVisitor& visit) const {
  const std::string target = start_before.empty() ? PrefixSuccessor(prefix)
                                                  : std::string(start_before);
  std::unique_ptr<rocksdb::Iterator> it =
      NewIterator(table, ReadOptionsFor(table), /*with_batches=*/true);
  if (target.empty()) {
    it->SeekToLast();
  } else {
    it->SeekForPrev(ToSlice(target));
    if (it->Valid() && ToView(it->key()) >= target) it->Prev();
  }
  return VisitPrefix(*it, prefix, /*backward=*/true, visit,
                     "reverse scan in mutation");
}

void Txn::Guard(EntityKind kind, absl::string_view name,
                const google::protobuf::Message* entity) {
  if (guard_ == nullptr || !guard_status_.ok()) return;
  guard_status_ = (*guard_)(*this, kind, name, entity);
}

void Store::SetWriteGuard(WriteGuard guard) {
  std::shared_ptr<const WriteGuard> shared;
  if (guard) shared = std::make_shared<const WriteGuard>(std::move(guard));
  absl::MutexLock lock(&guard_mu_);
  guard_ = std::move(shared);
}

// The keys a write of `key` in `table` makes stale in the entity cache:
// the entity's own, or the cached collection an index key belongs to.
void Txn::MarkWritten(Table table, absl::string_view key) {
  if (table == Table::kEntities) {
    entity_writes_->emplace(key);
  } else if (table == Table::kIndexes && IsCachedCollectionKind(key)) {
    entity_writes_->emplace(CollectionCacheKey(CollectionOfIndexKey(key)));
  }
}

void Txn::PutRaw(Table table, absl::string_view key, absl::string_view value) {
  MarkWritten(table, key);
  batch_->Put(store_->handle(table), ToSlice(key), ToSlice(value));
}

void Txn::PutRecordChunk(uint64_t blob, int64_t offset,
                         absl::string_view data) {
  PutRaw(Table::kRecordChunks, RecordChunkKey(blob, offset), data);
}

void Txn::DeleteRaw(Table table, absl::string_view key) {
  MarkWritten(table, key);
  batch_->Delete(store_->handle(table), ToSlice(key));
}

v1::Change& Txn::RecordPut(EntityKind kind, absl::string_view resource_name,
                           const google::protobuf::Message& resource) {
  v1::Change& change = changes_.emplace_back();
  change.set_kind(v1::Change::PUT);
  change.set_entity_kind(static_cast<uint32_t>(kind));
  change.set_resource_name(std::string(resource_name));
  change.mutable_resource()->PackFrom(resource);
  return change;
}

v1::Change& Txn::RecordPutEncoded(EntityKind kind,
                                  absl::string_view resource_name,
                                  const google::protobuf::Message& resource,
                                  absl::string_view encoded) {
  v1::Change& change = changes_.emplace_back();
  change.set_kind(v1::Change::PUT);
  change.set_entity_kind(static_cast<uint32_t>(kind));
  change.set_resource_name(std::string(resource_name));
  // What Any::PackFrom writes: the default prefix and the serialized
  // message, which EncodeValue's bytes are after their format byte.
  google::protobuf::Any* any = change.mutable_resource();
  any->set_type_url(absl::StrCat("type.googleapis.com/",
                                 resource.GetDescriptor()->full_name()));
  encoded.remove_prefix(1);
  any->set_value(std::string(encoded));
  return change;
}

v1::Change& Txn::RecordDelete(EntityKind kind,
                              absl::string_view resource_name) {
  v1::Change& change = changes_.emplace_back();
  change.set_kind(v1::Change::DELETE);
  change.set_entity_kind(static_cast<uint32_t>(kind));
  change.set_resource_name(std::string(resource_name));
  return change;
}

// ---- Store -----------------------------------------------------------------

namespace {

// RocksDB's own recovery after a failed write reuses the failed WAL (and
// Debian's build asserts on that path); the store reopens cleanly instead.
class NoAutoRecovery : public rocksdb::EventListener {
 public:
  const char* Name() const override { return "NoAutoRecovery"; }
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason /*reason*/,
                            rocksdb::Status /*bg_error*/,
                            bool* auto_recovery) override {
    *auto_recovery = false;
  }
};

// The record_chunks column family: values of up to 1 MiB, written once in
// key order, read in order, deleted by blob (a range). With integrated
// BlobDB (StoreOptions::record_blob_files, off by default) the values go to
// blob files at flush and compactions move only the keys; measured, it
// gained nothing here, since keys arrive in order and compactions move
// whole files without rewriting them (README).
rocksdb::ColumnFamilyOptions RecordChunkOptions(
    rocksdb::ColumnFamilyOptions options, bool blob_files) {
  // Documents (PDF, office files, images, video) are compressed already:
  // trying again costs CPU on every flush and read for nothing. Blocks
  // written compressed before stay readable (each says how it is).
  options.compression = rocksdb::kNoCompression;
  options.bottommost_compression = rocksdb::kNoCompression;
  if (blob_files) {
    options.enable_blob_files = true;
    options.min_blob_size = 4096;
    options.blob_file_size = 256 << 20;
    options.enable_blob_garbage_collection = true;
    options.blob_garbage_collection_age_cutoff = 0.5;
  }
  return options;
}

// What a directory holds, as far as Open cares.
struct DirectoryState {
  bool exists = false;
  bool empty = true;
  bool has_current = false;
  std::vector<std::string> wals;  // *.log file names, sorted
};

absl::StatusOr<DirectoryState> InspectDirectory(const std::string& path) {
  DirectoryState state;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("cannot read ", path, ": ", ec.message()));
    }
    return state;
  }
  state.exists = true;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
    state.empty = false;
    const std::string name = entry.path().filename().string();
    if (name == "CURRENT") state.has_current = true;
    if (absl::EndsWith(name, ".log")) state.wals.push_back(name);
  }
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot read ", path, ": ", ec.message()));
  }
  std::sort(state.wals.begin(), state.wals.end());
  return state;
}

// Copies `names` from `from` into the new directory `to`, fsynced.
absl::Status CopyFiles(const std::string& from,
                       const std::vector<std::string>& names,
                       const std::string& to) {
  std::error_code ec;
  if (!std::filesystem::create_directory(to, ec)) {
    return absl::UnavailableError(absl::StrCat(
        "cannot make ", to, ": ", ec ? ec.message() : "it exists already"));
  }
  for (const std::string& name : names) {
    const std::string target = to + "/" + name;
    if (!std::filesystem::copy_file(from + "/" + name, target, ec)) {
      return absl::UnavailableError(
          absl::StrCat("cannot copy ", name, " to ", to, ": ", ec.message()));
    }
    const int fd = ::open(target.c_str(), O_RDONLY | O_CLOEXEC);
    const bool synced = fd >= 0 && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!synced) {
      return absl::UnavailableError(absl::StrCat("cannot sync ", target));
    }
  }
  return absl::OkStatus();
}

// The suffix of the table files WriteRecordChunks builds in the store's
// directory before RocksDB ingests them (RocksDB ignores such names).
constexpr char kIngestSuffix[] = ".chunks-ingest";

// Removes the table files a WriteRecordChunks cut by a crash left behind:
// never ingested, nothing refers to them.
void RemoveIngestLeftovers(const std::string& path) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
    if (absl::EndsWith(entry.path().filename().string(), kIngestSuffix)) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> Store::Open(
    const StoreOptions& options) {
  auto store = std::unique_ptr<Store>(new Store(options));
  if (options.file_system != nullptr) {
    store->env_ = rocksdb::NewCompositeEnv(options.file_system);
  }
  COHORTE_ASSIGN_OR_RETURN(DirectoryState dir, InspectDirectory(options.path));
  const bool is_new = !dir.exists || dir.empty;
  if (is_new && !options.create_if_missing) {
    return absl::NotFoundError(
        absl::StrCat(options.path, " holds no store (it is ",
                     dir.exists ? "empty" : "missing", ")"));
  }
  if (!is_new) {
    // RocksDB would make a new, empty database beside whatever is there.
    if (!dir.has_current) {
      return absl::NotFoundError(absl::StrCat(
          options.path,
          " is not a complete store: it holds files but no CURRENT file; "
          "refusing to create a new store over it"));
    }
    // RocksDB keeps its live WAL even when empty; with none, the last
    // writes are gone and opening would silently go back in time.
    if (dir.wals.empty() && !options.restored) {
      return absl::NotFoundError(absl::StrCat(
          options.path,
          " is not a complete store: its write-ahead log (*.log) is missing, "
          "so its latest writes are lost; refusing to open it"));
    }
  }

  absl::Status opened = store->OpenDb(/*create=*/is_new, /*read_only=*/false);
  if (absl::IsDataLoss(opened) && !dir.wals.empty()) {
    // If the WAL alone is at fault, a point-in-time replay opens: say how
    // far the log is good.
    std::string last_good;
    if (store->OpenDb(/*create=*/false, /*read_only=*/true).ok()) {
      v1::InstanceRecord unused;
      int64_t revision = 0;
      if (store->LoadInstance(/*create=*/false, &unused, &revision).ok()) {
        last_good = absl::StrCat(revision);
      }
      store->CloseDb();
    }
    if (last_good.empty()) {
      return PrefixMessage(opened, absl::StrCat("the store at ", options.path,
                                                " is corrupt; refusing to "
                                                "open it. "));
    }
    if (options.wal_copy_dir.empty()) {
      return PrefixMessage(
          opened,
          absl::StrCat("the store at ", options.path,
                       " is corrupt before the end of its write-ahead log (",
                       absl::StrJoin(dir.wals, ", "), "): revisions after ",
                       last_good, " would be lost; refusing to open it. "));
    }
    // The operator accepts the loss: keep the logs as they are, then
    // recover to the last record before the corruption.
    COHORTE_RETURN_IF_ERROR(
        CopyFiles(options.path, dir.wals, options.wal_copy_dir));
    COHORTE_RETURN_IF_ERROR(store->OpenDb(/*create=*/false,
                                          /*read_only=*/false,
                                          /*point_in_time=*/true));
    store->dropped_wal_tail_ = true;
    opened = absl::OkStatus();
  }
  COHORTE_RETURN_IF_ERROR(opened);
  // The store's own lock is held: no other process writes such files.
  RemoveIngestLeftovers(options.path);
  int64_t revision = 0;
  COHORTE_RETURN_IF_ERROR(
      store->LoadInstance(/*create=*/is_new, &store->instance_, &revision));
  store->last_revision_ = revision;
  store->committed_revision_.store(revision, std::memory_order_release);
  COHORTE_RETURN_IF_ERROR(store->LoadChangelogStart());
  store->max_group_size_ =
      options.max_group_size > 0 ? options.max_group_size : 1;
  if (store->dropped_wal_tail_ || options.restored) {
    COHORTE_RETURN_IF_ERROR(store->BumpEpoch(options.restored_min_epoch));
  }
  COHORTE_RETURN_IF_ERROR(store->Migrate());
  return store;
}

absl::Status Store::OpenDb(bool create, bool read_only, bool point_in_time) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = create;
  db_options.create_missing_column_families = create;
  db_options.paranoid_checks = true;
  if (env_ != nullptr) db_options.env = env_.get();
  // A torn last record (a crash in the middle of a write, never
  // acknowledged) is dropped; a corrupt record before the end stops Open
  // instead of silently dropping every revision after it.
  db_options.wal_recovery_mode =
      read_only || point_in_time
          ? rocksdb::WALRecoveryMode::kPointInTimeRecovery
          : rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  // A closed WAL that goes missing is reported as corruption at Open.
  db_options.track_and_verify_wals_in_manifest = true;
  db_options.max_total_wal_size = options_.max_total_wal_bytes;
  db_options.max_bgerror_resume_count = 0;
  db_options.listeners.push_back(std::make_shared<NoAutoRecovery>());
  // RocksDB's own LOG writer aborts after one failed write (see
  // info_log.h). The directory is made first so the log has a place.
  if (create) ::mkdir(options_.path.c_str(), 0700);
  db_options.info_log = NewInfoLog(options_.path);

  rocksdb::ColumnFamilyOptions cf_options;
  // Every write reads the entities it checks (its group, exchange, cohort,
  // followers) inside its transaction: a point read that misses the
  // memtables probes each level-0 table and each level. A Bloom filter per
  // table (10 bits a key, about 1 % false positives) answers "not here"
  // without reading an index or data block, and a shared block cache keeps
  // the hot blocks parsed.
  rocksdb::BlockBasedTableOptions table_options;
  table_options.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table_options.block_cache = rocksdb::NewLRUCache(options_.block_cache_bytes);
  cf_options.table_factory.reset(
      rocksdb::NewBlockBasedTableFactory(table_options));
  if (options_.write_buffer_size > 0) {
    cf_options.write_buffer_size = options_.write_buffer_size;
    cf_options.target_file_size_base = options_.write_buffer_size;
    cf_options.max_bytes_for_level_base = options_.write_buffer_size * 4;
  }
  // An existing store made before a column family was added gets it on a
  // read-write open; a read-only open goes without it.
  std::vector<std::string> existing;
  if (!create) {
    rocksdb::DB::ListColumnFamilies(db_options, options_.path, &existing)
        .PermitUncheckedError();
  }
  auto is_missing = [&](Table table) {
    if (create || existing.empty()) return false;
    return std::find(existing.begin(), existing.end(),
                     kTableNames[static_cast<int>(table)]) == existing.end();
  };
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options);
  std::vector<int> opened;  // the Table of each descriptor after the default
  for (int t = 0; t < kTableCount; ++t) {
    const Table table = static_cast<Table>(t);
    const bool added =
        std::find(std::begin(kAddedTables), std::end(kAddedTables), table) !=
        std::end(kAddedTables);
    // A missing column family of the first schema is left for Open to
    // report (the store is incomplete).
    if (is_missing(table) && added) {
      if (read_only) continue;
      db_options.create_missing_column_families = true;
    }
    opened.push_back(t);
    descriptors.emplace_back(
        kTableNames[t],
        table == Table::kRecordChunks
            ? RecordChunkOptions(cf_options, options_.record_blob_files)
            : cf_options);
  }
  for (int t = 0; t < kTableCount; ++t) {
    const Table table = static_cast<Table>(t);
    if (is_missing(table) &&
        std::find(std::begin(kAddedTables), std::end(kAddedTables), table) ==
            std::end(kAddedTables)) {
      db_options.create_missing_column_families = false;
    }
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status s =
      read_only ? rocksdb::DB::OpenForReadOnly(db_options, options_.path,
                                               descriptors, &handles, &raw_db)
                : rocksdb::DB::Open(db_options, options_.path, descriptors,
                                    &handles, &raw_db);
  if (s.IsInvalidArgument() && !create) {
    // A column family or CURRENT is missing: not one of our stores.
    return absl::NotFoundError(absl::StrCat(
        options_.path, " is not a complete store: ", s.ToString()));
  }
  COHORTE_RETURN_IF_ERROR(
      FromRocksDb(s, absl::StrCat("opening the store at ", options_.path)));
  db_.reset(raw_db);
  default_handle_ = handles[0];
  handles_.assign(kTableCount, nullptr);
  for (size_t i = 0; i < opened.size(); ++i) {
    handles_[opened[i]] = handles[i + 1];
  }
  return absl::OkStatus();
}

void Store::CloseDb() {
  // Whatever opens next may hold other bytes (a recovery, a reopen).
  entity_cache_.Clear();
  if (db_ == nullptr) return;
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    if (h != nullptr) db_->DestroyColumnFamilyHandle(h);
  }
  handles_.clear();
  if (default_handle_ != nullptr) {
    db_->DestroyColumnFamilyHandle(default_handle_);
    default_handle_ = nullptr;
  }
  // After a failed write Close reports that error again; nothing to do.
  db_->Close().PermitUncheckedError();
  db_.reset();
}

Store::Store(const StoreOptions& options)
    : options_(options),
      committed_(this),
      entity_cache_(options.entity_cache_bytes) {}

Store::~Store() { CloseDb(); }

rocksdb::ColumnFamilyHandle* Store::handle(Table table) const {
  return handles_[static_cast<int>(table)];
}

absl::Status Store::LoadInstance(bool create, v1::InstanceRecord* instance,
                                 int64_t* revision_out) {
  absl::Status s = [&] {
    std::string value;
    absl::Status got =
        FromRocksDb(db_->Get(rocksdb::ReadOptions(), handle(Table::kMeta),
                             ToSlice(kMetaInstanceKey), &value),
                    "reading the instance record");
    if (!got.ok()) return got;
    return DecodeValue(value, instance);
  }();
  if (absl::IsNotFound(s)) {
    if (!create) {
      return absl::NotFoundError(absl::StrCat(
          options_.path,
          " is not a complete store: it has no instance record; refusing to "
          "create one over it"));
    }
    instance->set_instance_id(HexEncode(SecureRandomBytes(16)));
    instance->set_epoch(1);
    *instance->mutable_create_time() = ToProtoTime(absl::Now());
    rocksdb::WriteOptions sync;
    sync.sync = true;
    std::string value = EncodeValue(*instance);
    *revision_out = 0;
    return FromRocksDb(db_->Put(sync, handle(Table::kMeta),
                                ToSlice(kMetaInstanceKey), ToSlice(value)),
                       "writing the instance record");
  }
  COHORTE_RETURN_IF_ERROR(s);

  // The counter and the last change-log key are written in the same batch:
  // if they disagree, the store was tampered with or is corrupt.
  uint64_t revision = 0;
  std::string value;
  s = FromRocksDb(db_->Get(rocksdb::ReadOptions(), handle(Table::kMeta),
                           ToSlice(kMetaRevisionKey), &value),
                  "reading the revision counter");
  if (s.ok() && !DecodeUint64BigEndian(value, &revision)) {
    return absl::DataLossError("the revision counter is malformed");
  }
  if (!s.ok() && !absl::IsNotFound(s)) return s;

  int64_t last_logged = 0;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), handle(Table::kChangelog)));
  it->SeekToLast();
  if (it->Valid() && !ParseChangelogKey(ToView(it->key()), &last_logged)) {
    return absl::DataLossError("a change-log key is malformed");
  }
  COHORTE_RETURN_IF_ERROR(FromRocksDb(it->status(), "reading the change log"));
  if (last_logged != static_cast<int64_t>(revision)) {
    return absl::DataLossError(absl::StrCat("the revision counter (", revision,
                                            ") disagrees with the change log (",
                                            last_logged, ")"));
  }
  *revision_out = static_cast<int64_t>(revision);
  return absl::OkStatus();
}

absl::Status Store::BumpEpoch(int64_t at_least) {
  // Another history from here on: say so to whoever follows the log.
  instance_.set_epoch(std::max(instance_.epoch(), at_least) + 1);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  const std::string value = EncodeValue(instance_);
  return FromRocksDb(db_->Put(sync, handle(Table::kMeta),
                              ToSlice(kMetaInstanceKey), ToSlice(value)),
                     "bumping the epoch");
}

absl::Status Store::DeleteRecordChunks(uint64_t blob) {
  // Blob ids come from a counter: never all 0xff, so the range is bounded.
  const std::string begin = RecordChunkPrefix(blob);
  const std::string end = PrefixSuccessor(begin);
  return WriteAsLeader("deleting a record's chunks",
                       [&](rocksdb::WriteBatch& batch) {
                         return batch.DeleteRange(handle(Table::kRecordChunks),
                                                  ToSlice(begin), ToSlice(end));
                       });
}

RecordChunkFile::RecordChunkFile(std::string path, uint64_t blob,
                                 int64_t offset,
                                 std::unique_ptr<rocksdb::SstFileWriter> writer)
    : path_(std::move(path)),
      blob_(blob),
      offset_(offset),
      end_(offset),
      writer_(std::move(writer)) {}

RecordChunkFile::~RecordChunkFile() {
  writer_.reset();  // abandons a file not finished
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

absl::Status RecordChunkFile::Add(absl::string_view chunk) {
  if (status_.ok()) {
    status_ = FromRocksDb(
        writer_->Put(ToSlice(RecordChunkKey(blob_, end_)), ToSlice(chunk)),
        "writing a record's chunks");
  }
  if (status_.ok()) end_ += static_cast<int64_t>(chunk.size());
  return status_;
}

absl::StatusOr<std::unique_ptr<RecordChunkFile>> Store::NewRecordChunkFile(
    uint64_t blob, int64_t offset) {
  // Two files of one blob may be open at once (a cut stream's and the one
  // that resumes it): a number makes each name unique.
  static std::atomic<uint64_t> files{0};
  COHORTE_RETURN_IF_ERROR(write_status());
  ReopenLock::Reader lock(&db_lock_);
  rocksdb::ColumnFamilyHandle* const cf = handle(Table::kRecordChunks);
  const rocksdb::Options table_options(db_->GetDBOptions(),
                                       db_->GetOptions(cf));
  // Written back a megabyte at a time as it goes, so that its fsync does
  // not put the whole file in the disk's queue at once, ahead of the WAL
  // fsyncs of small commits; strictly (each range's writeback waits for
  // the one before), so that no more than about a megabyte of it is ever
  // in flight when a small commit's fsync makes ext4 commit its journal.
  rocksdb::EnvOptions file_options(table_options);
  file_options.bytes_per_sync = 1 << 20;
  file_options.strict_bytes_per_sync = true;
  // No column family: the file names none, so it may be ingested after a
  // reopen of the store (new handles).
  auto writer = std::make_unique<rocksdb::SstFileWriter>(
      file_options, table_options, /*column_family=*/nullptr,
      /*invalidate_page_cache=*/false);
  std::string path = absl::StrCat(options_.path, "/", blob, "-", offset, "-",
                                  files.fetch_add(1), kIngestSuffix);
  COHORTE_RETURN_IF_ERROR(
      FromRocksDb(writer->Open(path), "writing a record's chunks"));
  return std::unique_ptr<RecordChunkFile>(
      new RecordChunkFile(std::move(path), blob, offset, std::move(writer)));
}

absl::Status Store::DeleteUncommittedRecordChunks(uint64_t blob,
                                                  int64_t offset) {
  rocksdb::ColumnFamilyHandle* const cf = handle(Table::kRecordChunks);
  rocksdb::WriteBatch stale;
  {
    const std::string end = PrefixSuccessor(RecordChunkPrefix(blob));
    const rocksdb::Slice upper = ToSlice(end);
    rocksdb::ReadOptions read;
    read.iterate_upper_bound = &upper;
    read.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, cf));
    for (it->Seek(ToSlice(RecordChunkKey(blob, offset))); it->Valid();
         it->Next()) {
      stale.Delete(cf, it->key());
    }
    COHORTE_RETURN_IF_ERROR(
        FromRocksDb(it->status(), "reading a record's chunks"));
  }
  if (stale.Count() == 0) return absl::OkStatus();
  // Made durable by the flush or the ingestion that follows (an ingested
  // file overlapping the memtable flushes it first).
  rocksdb::WriteOptions no_wal;
  no_wal.disableWAL = true;
  return FromRocksDb(db_->Write(no_wal, &stale), "writing a record's chunks");
}

absl::Status Store::IngestRecordChunks(RecordChunkFile& file) {
  COHORTE_RETURN_IF_ERROR(write_status());
  COHORTE_RETURN_IF_ERROR(file.status_);
  if (file.end() == file.offset()) return absl::OkStatus();
  // Finish fsyncs the file.
  COHORTE_RETURN_IF_ERROR(
      FromRocksDb(file.writer_->Finish(), "writing a record's chunks"));
  ReopenLock::Reader lock(&db_lock_);
  absl::ReaderMutexLock no_backup(&record_flush_mu_);
  COHORTE_RETURN_IF_ERROR(
      DeleteUncommittedRecordChunks(file.blob(), file.offset()));
  // Linked into the store: no memtable copy, no WAL switch, and (keys
  // rising) a level where no compaction rewrites it. Ingesting fsyncs the
  // file and the directory, then records it in the MANIFEST (fsynced).
  rocksdb::IngestExternalFileOptions ingest;
  ingest.move_files = true;
  ingest.write_global_seqno = false;
  return FromRocksDb(db_->IngestExternalFile(handle(Table::kRecordChunks),
                                             {file.path_}, ingest),
                     "storing a record's chunks");
}

absl::Status Store::WriteRecordChunks(
    uint64_t blob, int64_t offset,
    const std::vector<absl::string_view>& chunks) {
  if (options_.record_chunks_ingested) {
    COHORTE_ASSIGN_OR_RETURN(std::unique_ptr<RecordChunkFile> file,
                             NewRecordChunkFile(blob, offset));
    for (absl::string_view chunk : chunks) {
      COHORTE_RETURN_IF_ERROR(file->Add(chunk));
    }
    return IngestRecordChunks(*file);
  }
  COHORTE_RETURN_IF_ERROR(write_status());
  ReopenLock::Reader lock(&db_lock_);
  absl::ReaderMutexLock no_backup(&record_flush_mu_);
  COHORTE_RETURN_IF_ERROR(DeleteUncommittedRecordChunks(blob, offset));
  rocksdb::ColumnFamilyHandle* const cf = handle(Table::kRecordChunks);
  rocksdb::WriteOptions no_wal;
  no_wal.disableWAL = true;
  // One write per chunk: a writer queued behind one waits for a 1 MiB
  // memtable insert at most.
  int64_t at = offset;
  for (absl::string_view chunk : chunks) {
    COHORTE_RETURN_IF_ERROR(FromRocksDb(
        db_->Put(no_wal, cf, ToSlice(RecordChunkKey(blob, at)), ToSlice(chunk)),
        "writing a record's chunks"));
    at += static_cast<int64_t>(chunk.size());
  }
  rocksdb::FlushOptions flush;
  flush.wait = true;
  flush.allow_write_stall = false;
  return FromRocksDb(db_->Flush(flush, cf), "flushing a record's chunks");
}

absl::StatusOr<std::vector<std::string>> Store::DueInTimeQueue(
    IndexKind kind, int64_t until_seconds, int limit) const {
  std::vector<std::string> names;
  absl::Status bad;
  COHORTE_RETURN_IF_ERROR(committed_.Scan(
      Table::kIndexes, TimeQueuePrefix(kind), "",
      [&](absl::string_view key, absl::string_view) {
        int64_t seconds = 0;
        std::string name;
        if (!ParseTimeQueueKey(kind, key, &seconds, &name)) {
          bad = absl::DataLossError("a malformed time queue key");
          return false;
        }
        if (seconds > until_seconds) return false;
        names.push_back(std::move(name));
        return static_cast<int>(names.size()) < limit;
      }));
  COHORTE_RETURN_IF_ERROR(bad);
  return names;
}

absl::StatusOr<std::vector<uint64_t>> Store::RecordGarbageBlobs(
    int limit) const {
  std::vector<uint64_t> blobs;
  const std::string prefix = IndexKey(IndexKind::kRecordGarbage, "");
  COHORTE_RETURN_IF_ERROR(committed_.Scan(
      Table::kIndexes, prefix, "",
      [&](absl::string_view key, absl::string_view) {
        uint64_t blob = 0;
        if (DecodeUint64BigEndian(key.substr(prefix.size()), &blob)) {
          blobs.push_back(blob);
        }
        return static_cast<int>(blobs.size()) < limit;
      }));
  return blobs;
}

absl::Status Store::write_status() const {
  absl::MutexLock lock(&fault_mu_);
  return write_fault_;
}

absl::Status Store::ResumeWrites() {
  if (write_status().ok()) return absl::OkStatus();
  Mutation probe;
  probe.actor = "cohorted";
  probe.method = "ResumeWrites";
  // Runs after the group's recovery attempt; refusing writes nothing and
  // uses no revision.
  probe.apply = [](Txn&) -> absl::StatusOr<std::string> {
    return absl::CancelledError("a probe writes nothing");
  };
  Commit(std::move(probe)).IgnoreError();
  return write_status();
}

absl::Status Store::Recover() {
  // A synced write of a probe file first: while the disk refuses it, the
  // database stays open (for reads) as it is.
  rocksdb::Env* env = env_ != nullptr ? env_.get() : rocksdb::Env::Default();
  const std::shared_ptr<rocksdb::FileSystem>& fs = env->GetFileSystem();
  const std::string probe = options_.path + "/WRITE_PROBE";
  {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus io =
        fs->NewWritableFile(probe, rocksdb::FileOptions(), &file, nullptr);
    const std::string block(1 << 20, '\0');
    if (io.ok()) io = file->Append(block, rocksdb::IOOptions(), nullptr);
    if (io.ok()) io = file->Fsync(rocksdb::IOOptions(), nullptr);
    if (file != nullptr) {
      file->Close(rocksdb::IOOptions(), nullptr).PermitUncheckedError();
    }
    fs->DeleteFile(probe, rocksdb::IOOptions(), nullptr).PermitUncheckedError();
    COHORTE_RETURN_IF_ERROR(FromRocksDb(io, "probing the disk"));
  }

  // Only tried (see ReopenLock): new readers wait meanwhile, and the reads
  // in flight finish.
  db_lock_.BeginDrain();
  const absl::Time give_up = absl::Now() + absl::Seconds(1);
  while (!db_lock_.TryLockExclusive()) {
    if (absl::Now() > give_up) {
      db_lock_.EndDrain();
      return absl::UnavailableError(
          "reads kept the store busy for a second; reopening it is "
          "postponed");
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  absl::Status s = ReopenLocked();
  db_lock_.UnlockExclusive();
  db_lock_.EndDrain();
  return s;
}

absl::Status Store::ReopenLocked() {
  CloseDb();
  v1::InstanceRecord instance;
  int64_t revision = 0;
  absl::Status s = OpenDb(/*create=*/false, /*read_only=*/false);
  if (s.ok()) s = LoadInstance(/*create=*/false, &instance, &revision);
  if (s.ok() && instance.instance_id() != instance_.instance_id()) {
    s = absl::DataLossError("the reopened store is another instance");
  }
  if (!s.ok()) {
    // Serve reads from what is on disk until the next attempt.
    CloseDb();
    OpenDb(/*create=*/false, /*read_only=*/true).IgnoreError();
    return s;
  }
  last_revision_ = revision;
  committed_revision_.store(revision, std::memory_order_release);
  return LoadChangelogStart();
}

absl::Status Store::LoadChangelogStart() {
  std::string value;
  absl::Status s =
      FromRocksDb(db_->Get(rocksdb::ReadOptions(), handle(Table::kMeta),
                           ToSlice(kMetaChangelogStartKey), &value),
                  "reading the change log's start");
  uint64_t start = 1;
  if (s.ok() && !DecodeUint64BigEndian(value, &start)) {
    return absl::DataLossError("the change log's start is malformed");
  }
  if (!s.ok() && !absl::IsNotFound(s)) return s;
  first_change_revision_.store(static_cast<int64_t>(start),
                               std::memory_order_release);
  return absl::OkStatus();
}

absl::Status Store::Migrate() {
  // Schema 2: change-log entries carry their entity kind. Older records get
  // it from their resource's type (older versions logged no deletion).
  std::string value;
  uint64_t schema = 1;
  absl::Status s = committed_.Get(Table::kMeta, kMetaSchemaKey, &value);
  if (s.ok() && !DecodeUint64BigEndian(value, &schema)) {
    return absl::DataLossError("the schema version is malformed");
  }
  if (!s.ok() && !absl::IsNotFound(s)) return s;
  if (schema > kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the store has schema ", schema, ", newer than this cohorted's (",
        kSchemaVersion, "): run a newer cohorted"));
  }
  if (schema == kSchemaVersion) return absl::OkStatus();
  rocksdb::WriteBatch batch;
  int migrated = 0;
  absl::Status decode_error;
  COHORTE_RETURN_IF_ERROR(committed_.Scan(
      Table::kChangelog, "", "",
      [&](absl::string_view key, absl::string_view raw) {
        v1::ChangeRecord record;
        decode_error = DecodeValue(raw, &record);
        if (!decode_error.ok()) return false;
        bool changed = false;
        for (v1::Change& c : *record.mutable_changes()) {
          if (c.entity_kind() != 0) continue;
          std::string type = std::string(c.resource().type_url());
          type = type.substr(type.rfind('/') + 1);
          uint8_t kind = EntityKindOfTypeName(type);
          if (type == "cohorte.v1.Token") {
            kind = static_cast<uint8_t>(EntityKind::kToken);
          }
          c.set_entity_kind(kind);
          changed = true;
        }
        if (changed) {
          batch.Put(handle(Table::kChangelog), ToSlice(key),
                    EncodeValue(record));
          ++migrated;
        }
        return true;
      }));
  COHORTE_RETURN_IF_ERROR(decode_error);
  batch.Put(handle(Table::kMeta), ToSlice(kMetaSchemaKey),
            EncodeUint64BigEndian(kSchemaVersion));
  rocksdb::WriteOptions sync;
  sync.sync = true;
  return FromRocksDb(
      db_->Write(sync, &batch),
      absl::StrCat("migrating ", migrated, " change-log records to schema ",
                   kSchemaVersion));
}

namespace {
// Set while this thread runs CommitAsync callbacks. Such a callback must not
// wait for the commit leadership (Commit, WriteAsLeader): the task that
// holds it may be queued behind this very thread (with a pool of async
// leaders all answering groups, nothing would ever commit again).
thread_local bool t_in_commit_callback = false;

absl::Status RefusedInCommitCallback(absl::string_view what) {
  return absl::InternalError(absl::StrCat(
      what,
      " called from a CommitAsync callback: it would wait for the "
      "commit leadership, which may be queued behind this thread"));
}
}  // namespace

absl::StatusOr<CommitResult> Store::Commit(Mutation mutation) {
  if (t_in_commit_callback) return RefusedInCommitCallback("Store::Commit");
  Writer self;
  self.mutation = &mutation;

  mu_.Lock();
  queue_.push_back(&self);
  while (!self.done && (leader_active_ || exclusive_waiting_ > 0 ||
                        queue_.front() != &self)) {
    self.cv.Wait(&mu_);
  }
  if (self.done) {
    mu_.Unlock();
    return std::move(self.result);
  }

  // This caller leads the next group: everyone queued so far, in order.
  leader_active_ = true;
  LeadOneGroupLocked(&self);
  // CommitAsync writers queued behind have no thread of their own to lead.
  LeadQueuedAsyncLocked();
  mu_.Unlock();
  return std::move(self.result);
}

void Store::CommitAsync(Mutation mutation, CommitCallback done) {
  auto* w = new Writer;
  w->owned_mutation = std::move(mutation);
  w->mutation = &w->owned_mutation;
  w->on_done = std::move(done);
  mu_.Lock();
  queue_.push_back(w);
  if (!ScheduleAsyncLeaderLocked()) LeadQueuedAsyncLocked();
  mu_.Unlock();
}

namespace {
// Set while this thread hands a task to StoreOptions::async_leader: if the
// async leader runs it at once on this thread (cohorted's does while its
// pool stops), the task leads the queued groups one after the other in
// LeadQueuedAsyncLocked's loop, instead of nesting a hand-off per group.
thread_local bool t_handing_off = false;
// Set while this thread has a group to write that it has not written yet:
// it must not lead the next group, which waits for that write.
thread_local bool t_group_unwritten = false;
}  // namespace

bool Store::ScheduleAsyncLeaderLocked() {
  if (!options_.async_leader || t_handing_off || leader_active_ ||
      exclusive_waiting_ > 0 || queue_.empty() || !queue_.front()->on_done) {
    return false;
  }
  // Taken now for the task: no other thread leads until it has run.
  leader_active_ = true;
  mu_.Unlock();
  t_handing_off = true;
  options_.async_leader([this] {
    mu_.Lock();
    if (t_group_unwritten) {
      // Run at once on the thread that is about to write the group before:
      // that thread leads the queue once its write is over.
      ReleaseLeadershipLocked();
      mu_.Unlock();
      return;
    }
    LeadOneGroupLocked(nullptr);
    LeadQueuedAsyncLocked();
    mu_.Unlock();
  });
  t_handing_off = false;
  mu_.Lock();
  return true;
}

void Store::LeadQueuedAsyncLocked() {
  while (!leader_active_ && exclusive_waiting_ == 0 && !queue_.empty() &&
         queue_.front()->on_done) {
    leader_active_ = true;
    LeadOneGroupLocked(nullptr);
  }
}

void Store::LeadOneGroupLocked(Writer* self) {
  std::vector<Writer*> group;
  while (!queue_.empty() && static_cast<int>(group.size()) < max_group_size_) {
    group.push_back(queue_.front());
    queue_.pop_front();
  }
  std::shared_ptr<PendingGroup> prior = writing_;
  // A group whose write is over is in the database (or failed, and the
  // fault says so): nothing to read through, nor to wait for. A failed one
  // may still be there after a recovery, its thread not yet back.
  if (prior != nullptr && prior->written.HasBeenNotified()) prior.reset();
  mu_.Unlock();

  std::vector<Writer*> committing;
  std::shared_ptr<PendingGroup> pending = ApplyGroup(group, prior, &committing);
  prior.reset();

  mu_.Lock();
  if (pending != nullptr) {
    // The next group is applied while this one is written.
    writing_ = pending;
    ReleaseLeadershipLocked();
    t_group_unwritten = true;
    ScheduleAsyncLeaderLocked();
    t_group_unwritten = false;
    mu_.Unlock();
    WriteGroup(*pending, group, committing.size());
    mu_.Lock();
    if (writing_ == pending) writing_.reset();
  } else {
    ReleaseLeadershipLocked();
  }
  std::vector<Writer*> finished_async;
  for (Writer* w : group) {
    if (w->on_done) {
      finished_async.push_back(w);
      continue;
    }
    w->done = true;
    if (w != self) w->cv.Signal();
  }
  if (finished_async.empty()) return;
  // Answered with no lock held, while the next group already commits: with
  // an async leader, the writers queued meanwhile are handed to it now
  // rather than after these answers.
  ScheduleAsyncLeaderLocked();
  mu_.Unlock();
  for (Writer* w : finished_async) {
    CommitCallback done = std::move(w->on_done);
    absl::StatusOr<CommitResult> result = std::move(w->result);
    delete w;
    // Saved and restored: a callback's CommitAsync may lead (and answer)
    // groups on this thread before it returns.
    const bool in_callback = t_in_commit_callback;
    t_in_commit_callback = true;
    done(std::move(result));
    t_in_commit_callback = in_callback;
  }
  mu_.Lock();
}

void Store::ReleaseLeadershipLocked() {
  leader_active_ = false;
  if (!queue_.empty()) queue_.front()->cv.Signal();  // the next leader
  leader_cv_.SignalAll();                            // WriteAsLeader
}

std::shared_ptr<PendingGroup> Store::ApplyGroup(
    const std::vector<Writer*>& group,
    const std::shared_ptr<PendingGroup>& prior,
    std::vector<Writer*>* committing) {
  const PendingGroup* through = prior.get();
  absl::Status fault = write_status();
  if (!fault.ok()) {
    // The write that failed is over (the fault is set before its end is
    // notified), and so is any before it: nothing is in flight.
    if (prior != nullptr) prior->written.WaitForNotification();
    through = nullptr;
    if (absl::Now() >= next_recovery_) {
      next_recovery_ = absl::Now() + options_.recovery_interval;
      absl::Status recovered = Recover();
      if (absl::IsDataLoss(recovered)) {
        // Another instance or a corrupt store: no retry will mend that.
        next_recovery_ = absl::InfiniteFuture();
      }
      absl::MutexLock lock(&fault_mu_);
      write_fault_ = recovered.ok() ? recovered : Suspended(recovered);
      fault = write_fault_;
    }
    if (!fault.ok()) {
      for (Writer* w : group) w->result = fault;
      return nullptr;
    }
  }

  auto pending = std::make_shared<PendingGroup>();
  rocksdb::WriteBatchWithIndex& batch = pending->batch;
  std::shared_ptr<const WriteGuard> guard;
  {
    absl::MutexLock lock(&guard_mu_);
    guard = guard_;
  }
  const absl::Time commit_time = absl::Now();
  int64_t revision = last_revision_;

  for (Writer* w : group) {
    Mutation& m = *w->mutation;
    Txn txn(this, &batch, &pending->entity_keys, through, revision + 1,
            commit_time, m.replicated ? nullptr : guard.get());

    std::string request_key;
    if (!m.request_id.empty()) {
      request_key = RequestKey(m.actor, m.method, m.request_id);
      v1::IdempotencyRecord record;
      absl::Status s = txn.GetProto(Table::kRequests, request_key, &record);
      if (s.ok()) {
        CommitResult replay;
        replay.revision = record.revision();
        replay.response = record.response();
        replay.replayed = true;
        replay.recorded_fingerprint = record.request_fingerprint();
        w->result = std::move(replay);
        continue;
      }
      if (!absl::IsNotFound(s)) {
        w->result = s;
        continue;
      }
    }

    batch.SetSavePoint();
    absl::StatusOr<std::string> response = m.apply(txn);
    if (response.ok() && !txn.guard_status_.ok()) {
      response = txn.guard_status_;
    }
    if (!response.ok()) {
      rocksdb::Status rollback = batch.RollbackToSavePoint();
      w->result = rollback.ok() ? response.status()
                                : FromRocksDb(rollback, "rolling back");
      continue;
    }
    batch.PopSavePoint().PermitUncheckedError();
    ++revision;

    v1::ChangeRecord change;
    change.set_revision(revision);
    *change.mutable_commit_time() = ToProtoTime(commit_time);
    change.set_actor(m.actor);
    change.set_method(m.method);
    for (v1::Change& c : txn.changes_) {
      if (c.entity_kind() <= static_cast<uint32_t>(kMaxEntityKind)) {
        pending->kinds_written.set(c.entity_kind());
      }
      *change.add_changes() = std::move(c);
    }
    txn.PutRaw(Table::kChangelog, ChangelogKey(revision), EncodeValue(change));

    if (!request_key.empty()) {
      v1::IdempotencyRecord record;
      record.set_request_fingerprint(m.request_fingerprint);
      record.set_response(*response);
      record.set_revision(revision);
      *record.mutable_create_time() = ToProtoTime(commit_time);
      txn.PutRaw(Table::kRequests, request_key, EncodeValue(record));
    }

    CommitResult result;
    result.revision = revision;
    result.response = *std::move(response);
    w->result = std::move(result);
    committing->push_back(w);
  }

  // What this group read of the one before counts only once that is
  // durable: refusals and replays included.
  if (through != nullptr) {
    through->written.WaitForNotification();
    if (!through->status.ok()) {
      for (Writer* w : group) w->result = through->status;
      committing->clear();
      last_revision_ = committed_revision_.load(std::memory_order_acquire);
      return nullptr;
    }
  }
  if (committing->empty()) return nullptr;
  batch.Put(handle(Table::kMeta), ToSlice(kMetaRevisionKey),
            EncodeUint64BigEndian(static_cast<uint64_t>(revision)));
  pending->revision = revision;
  last_revision_ = revision;
  return pending;
}

void Store::WriteGroup(PendingGroup& pending, const std::vector<Writer*>& group,
                       size_t committing) {
  // From here until UpdateEntityCache, readers of these entities go to
  // RocksDB, which shows the whole batch or none of it.
  for (const std::string& key : pending.entity_keys) {
    entity_cache_.BeginWrite(key);
  }
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  absl::Status written = FromRocksDb(
      db_->Write(write_options, pending.batch.GetWriteBatch()), "committing");
  if (!written.ok()) {
    // Never write to this database again: RocksDB would append to the WAL
    // that just failed. Writes wait for Recover; reads go on.
    const absl::Status fault = Suspended(written);
    next_recovery_ = absl::Now() + options_.recovery_interval;
    {
      absl::MutexLock lock(&fault_mu_);
      write_fault_ = fault;
    }
    // Whether any of it reached the database is unknown.
    entity_cache_.Clear();
    // Every writer of the group: replays and refusals may rest on the
    // group's own writes (a retry in the same group as its first attempt).
    for (Writer* w : group) w->result = fault;
    pending.status = fault;
    pending.written.Notify();
    return;
  }
  UpdateEntityCache(pending.batch, pending.entity_keys);
  const int64_t revision = pending.revision;
  for (size_t kind = 0; kind < pending.kinds_written.size(); ++kind) {
    if (pending.kinds_written[kind]) {
      last_write_revision_[kind].store(revision, std::memory_order_release);
    }
  }
  {
    absl::MutexLock lock(&commit_mu_);
    committed_revision_.store(revision, std::memory_order_release);
    commit_cv_.SignalAll();
  }
  committed_mutations_.fetch_add(static_cast<int64_t>(committing),
                                 std::memory_order_relaxed);
  wal_syncs_.fetch_add(1, std::memory_order_relaxed);
  pending.written.Notify();
}

void Store::UpdateEntityCache(rocksdb::WriteBatchWithIndex& batch,
                              const absl::flat_hash_set<std::string>& keys) {
  if (keys.empty() || !entity_cache_.enabled()) return;
  const EntityCache::Ticket update = entity_cache_.BeginUpdate();
  const rocksdb::DBOptions db_options;
  for (const std::string& key : keys) {
    std::string value;
    rocksdb::Status s = batch.GetFromBatch(handle(Table::kEntities), db_options,
                                           ToSlice(key), &value);
    if (s.ok()) {
      entity_cache_.EndWrite(update, key, &value);
    } else if (s.IsNotFound()) {  // deleted (or written, then rolled back)
      entity_cache_.EndWrite(update, key, nullptr);
    } else {
      entity_cache_.Clear();  // never guess
      return;
    }
  }
}

absl::Status Store::GetCommittedEntity(absl::string_view key,
                                       std::string* value) const {
  bool absent = false;
  if (entity_cache_.GetRaw(key, value, &absent)) return absl::OkStatus();
  if (absent) return absl::NotFoundError("key not found");
  const EntityCache::Ticket ticket = entity_cache_.Take();
  rocksdb::Status s = db_->Get(ReadOptionsFor(Table::kEntities),
                               handle(Table::kEntities), ToSlice(key), value);
  if (s.IsNotFound()) {
    entity_cache_.InsertAbsent(ticket, key);
    return absl::NotFoundError("key not found");
  }
  if (!s.ok()) return FromRocksDb(s, "read");
  entity_cache_.Insert(ticket, key, *value);
  return absl::OkStatus();
}

absl::Status Store::GetCommittedEntity(
    absl::string_view key, google::protobuf::MessageLite* message) const {
  bool absent = false;
  absl::Status cached = entity_cache_.GetProto(key, message, &absent);
  if (!absl::IsNotFound(cached)) return cached;
  if (absent) return absl::NotFoundError("key not found");
  const EntityCache::Ticket ticket = entity_cache_.Take();
  std::string value;
  rocksdb::Status s = db_->Get(ReadOptionsFor(Table::kEntities),
                               handle(Table::kEntities), ToSlice(key), &value);
  if (s.IsNotFound()) {
    entity_cache_.InsertAbsent(ticket, key);
    return absl::NotFoundError("key not found");
  }
  if (!s.ok()) return FromRocksDb(s, "read");
  COHORTE_RETURN_IF_ERROR(DecodeValue(value, message));
  entity_cache_.Insert(ticket, key, std::move(value), message);
  return absl::OkStatus();
}

absl::Status Store::CommittedView::GetProto(
    Table table, absl::string_view key,
    google::protobuf::MessageLite* message) const {
  if (table != Table::kEntities || !store_.entity_cache_.enabled()) {
    return View::GetProto(table, key, message);
  }
  ReopenLock::Reader lock(&store_.db_lock_);
  if (store_.db_ == nullptr) return Closed();
  return store_.GetCommittedEntity(key, message);
}

absl::Status Store::CommittedView::Get(Table table, absl::string_view key,
                                       std::string* value) const {
  ReopenLock::Reader lock(&store_.db_lock_);
  if (store_.db_ == nullptr) return Closed();
  if (table == Table::kEntities && store_.entity_cache_.enabled()) {
    return store_.GetCommittedEntity(key, value);
  }
  rocksdb::Status s = store_.db_->Get(
      ReadOptionsFor(table), store_.handle(table), ToSlice(key), value);
  if (s.IsNotFound()) return absl::NotFoundError("key not found");
  return FromRocksDb(s, "read");
}

absl::Status Store::CommittedView::Scan(Table table, absl::string_view prefix,
                                        absl::string_view start_after,
                                        const ScanVisitor& visit) const {
  ReopenLock::Reader lock(&store_.db_lock_);
  if (store_.db_ == nullptr) return Closed();
  const std::string upper = PrefixSuccessor(prefix);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions read_options = ReadOptionsFor(table);
  if (!upper.empty()) read_options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(
      store_.db_->NewIterator(read_options, store_.handle(table)));
  if (start_after.empty()) {
    it->Seek(ToSlice(prefix));
  } else {
    it->Seek(ToSlice(start_after));
    if (it->Valid() && ToView(it->key()) == start_after) it->Next();
  }
  return VisitPrefix(*it, prefix, /*backward=*/false, visit, "scan");
}

absl::Status Store::CommittedView::ScanReverse(Table table,
                                               absl::string_view prefix,
                                               absl::string_view start_before,
                                               const ScanVisitor& visit) const {
  // Start just before `start_before`, or before the first key past the
  // prefix (the last key of all when the prefix has no successor).
  ReopenLock::Reader lock(&store_.db_lock_);
  if (store_.db_ == nullptr) return Closed();
  const std::string target = start_before.empty() ? PrefixSuccessor(prefix)
                                                  : std::string(start_before);
  std::unique_ptr<rocksdb::Iterator> it(
      store_.db_->NewIterator(ReadOptionsFor(table), store_.handle(table)));
  if (target.empty()) {
    it->SeekToLast();
  } else {
    it->SeekForPrev(ToSlice(target));
    if (it->Valid() && ToView(it->key()) == target) it->Prev();
  }
  return VisitPrefix(*it, prefix, /*backward=*/true, visit, "reverse scan");
}

namespace {

absl::Status Compacted(int64_t from_revision, int64_t start) {
  absl::Status status = absl::OutOfRangeError(
      absl::StrCat("the change log no longer holds revision ", from_revision,
                   ": it was compacted up to revision ", start - 1));
  return status;
}

}  // namespace

absl::StatusOr<std::vector<v1::ChangeRecord>> Store::ReadChanges(
    const CommittedReadKey&, int64_t from_revision, int limit) const {
  ReopenLock::Reader lock(&db_lock_);
  if (db_ == nullptr) return Closed();
  if (from_revision < 1) from_revision = 1;
  const int64_t start = first_change_revision();
  if (from_revision < start) return Compacted(from_revision, start);
  std::vector<v1::ChangeRecord> out;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), handle(Table::kChangelog)));
  int64_t expected = from_revision;
  for (it->Seek(ChangelogKey(from_revision));
       it->Valid() && static_cast<int>(out.size()) < limit; it->Next()) {
    v1::ChangeRecord record;
    COHORTE_RETURN_IF_ERROR(DecodeValue(ToView(it->value()), &record));
    if (record.revision() != expected) {
      // Compacted meanwhile (the log is gap-free otherwise).
      if (record.revision() > expected && expected == from_revision) {
        return Compacted(from_revision, first_change_revision());
      }
      return absl::DataLossError(
          absl::StrCat("the change log has a gap: revision ", record.revision(),
                       " follows ", expected - 1));
    }
    ++expected;
    out.push_back(std::move(record));
  }
  COHORTE_RETURN_IF_ERROR(FromRocksDb(it->status(), "reading the change log"));
  return out;
}

absl::StatusOr<v1::ChangeRecord> Store::ReadChange(const CommittedReadKey&,
                                                   int64_t revision) const {
  std::string value;
  COHORTE_RETURN_IF_ERROR(
      committed_.Get(Table::kChangelog, ChangelogKey(revision), &value));
  v1::ChangeRecord record;
  COHORTE_RETURN_IF_ERROR(DecodeValue(value, &record));
  return record;
}

absl::Status Store::CompactChanges(int64_t before) {
  // Keep the last record: Open checks it against the revision counter.
  before = std::min(before, revision());
  if (before <= first_change_revision()) return absl::OkStatus();
  absl::Status result = WriteAsLeader(
      "compacting the change log", [&](rocksdb::WriteBatch& batch) {
        rocksdb::Status s = batch.DeleteRange(handle(Table::kChangelog),
                                              ToSlice(ChangelogKey(0)),
                                              ToSlice(ChangelogKey(before)));
        if (!s.ok()) return s;
        return batch.Put(handle(Table::kMeta), ToSlice(kMetaChangelogStartKey),
                         EncodeUint64BigEndian(static_cast<uint64_t>(before)));
      });
  if (result.ok()) {
    first_change_revision_.store(before, std::memory_order_release);
  }
  return result;
}

absl::Status Store::WriteAsLeader(
    absl::string_view what,
    const std::function<rocksdb::Status(rocksdb::WriteBatch&)>& build) {
  if (t_in_commit_callback) {
    return RefusedInCommitCallback(
        absl::StrCat("Store::WriteAsLeader (", what, ")"));
  }
  // Take the commit leadership: no group writes while this batch does.
  // Waiting, it keeps groups from taking the leadership in turn (they
  // would, as fast as it frees, under a steady stream of posts).
  mu_.Lock();
  ++exclusive_waiting_;
  while (leader_active_) leader_cv_.Wait(&mu_);
  --exclusive_waiting_;
  leader_active_ = true;
  std::shared_ptr<PendingGroup> prior = writing_;
  mu_.Unlock();
  // ...and none is still being written.
  if (prior != nullptr) prior->written.WaitForNotification();

  absl::Status result = write_status();
  if (result.ok()) {
    ReopenLock::Reader lock(&db_lock_);
    rocksdb::WriteBatch batch;
    rocksdb::Status s = build(batch);
    rocksdb::WriteOptions sync;
    sync.sync = true;
    if (s.ok()) s = db_->Write(sync, &batch);
    result = FromRocksDb(s, what);
    if (!result.ok()) {
      // As after a failed commit: never append to that WAL again.
      absl::MutexLock fault_lock(&fault_mu_);
      write_fault_ = Suspended(result);
      next_recovery_ = absl::Now() + options_.recovery_interval;
    }
  }

  mu_.Lock();
  ReleaseLeadershipLocked();
  if (!ScheduleAsyncLeaderLocked()) LeadQueuedAsyncLocked();
  mu_.Unlock();
  return result;
}

absl::StatusOr<int64_t> Store::FirstChangeAtOrAfter(absl::Time t) const {
  int64_t lo = first_change_revision();
  int64_t hi = revision() + 1;  // the answer is in [lo, hi]
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    std::string value;
    absl::Status s =
        committed_.Get(Table::kChangelog, ChangelogKey(mid), &value);
    if (absl::IsNotFound(s)) {  // compacted meanwhile
      lo = mid + 1;
      continue;
    }
    COHORTE_RETURN_IF_ERROR(s);
    v1::ChangeRecord record;
    COHORTE_RETURN_IF_ERROR(DecodeValue(value, &record));
    if (absl::FromUnixNanos(
            google::protobuf::util::TimeUtil::TimestampToNanoseconds(
                record.commit_time())) >= t) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

int64_t Store::WaitForRevision(int64_t after, absl::Time deadline) const {
  absl::MutexLock lock(&commit_mu_);
  while (committed_revision_.load(std::memory_order_acquire) <= after) {
    if (commit_cv_.WaitWithDeadline(&commit_mu_, deadline)) break;
  }
  return committed_revision_.load(std::memory_order_acquire);
}

Store::Stats Store::stats() const {
  Stats stats;
  stats.committed_mutations =
      committed_mutations_.load(std::memory_order_relaxed);
  stats.wal_syncs = wal_syncs_.load(std::memory_order_relaxed);
  stats.entity_cache = entity_cache_.stats();
  {
    absl::MutexLock lock(&mu_);
    stats.exclusive_waiting = exclusive_waiting_;
  }
  return stats;
}

}  // namespace cohorte::storage
