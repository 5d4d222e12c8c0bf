// File: storage/keys.h
//
// The key schema of every column family, as pairs of symmetric build/parse
// functions. The grammar is in storage/FORMAT.md; change both together.
#ifndef COHORTE_STORAGE_KEYS_H_
#define COHORTE_STORAGE_KEYS_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace cohorte::storage {

// The tag byte before a resource name in the `entities` column family.
// Persisted: never renumber, never reuse a retired value.
enum class EntityKind : uint8_t {
  kCohort = 0x01,
  kMember = 0x02,
  kToken = 0x03,
  kTerritory = 0x04,
  kGroup = 0x05,
  kChantier = 0x06,
  kInvitation = 0x07,
  kAuditEvent = 0x08,
  kExchange = 0x09,
  kMessage = 0x0A,
  kReadMarker = 0x0B,  // name: member name, NUL, exchange name
  kInboxItem = 0x0C,   // name: members/{m}/inbox/{item}
  kReport = 0x0D,
  kSession = 0x0E,
  kRegistration = 0x0F,
  kFlag = 0x10,
  kRecord = 0x11,
  kRecordVersion = 0x12,
  kUpload = 0x13,           // 0x14 is reserved for records too
  kWebhook = 0x15,          // name: webhooks/{w}
  kWebhookDelivery = 0x16,  // name: webhooks/{w}/deliveries/{d}
  kLink = 0x17,             // name: links/{link}
};
// The number of entity kinds (tags 0x01 to 0x13 and 0x15 to 0x17; 0x14 is
// reserved).
inline constexpr int kEntityKindCount = 22;
// The largest tag in use.
inline constexpr int kMaxEntityKind = 0x17;

// The tag byte of a key in the `indexes` column family. Persisted: never
// renumber, never reuse a retired value.
enum class IndexKind : uint8_t {
  kTokenBySecretHash = 0x81,         // value: token resource name
  kMemberByEmail = 0x82,             // value: member resource name
  kInvitationBySecretHash = 0x83,    // value: invitation resource name
  kAuditByCohort = 0x84,             // value: audit event resource name
  kPendingInvitationByEmail = 0x85,  // value: invitation resource name
  kFollowerByTarget = 0x86,          // target NUL member; value: empty
  kFollowByMember = 0x87,            // member NUL target; value: empty
  kCounter = 0x88,                   // a named counter; value: uint64-be
  kRecordContent = 0x89,             // sha256 hex; value: RecordContentRecord
  kRecordGarbage = 0x8A,      // blob uint64-be; value: empty (chunks to delete)
  kUploadByExpiry = 0x8B,     // expiry seconds uint64-be, upload name; empty
  kRecordByPurgeTime = 0x8C,  // purge seconds uint64-be, record name; empty
  kPendingFanOut = 0x8D,      // revision uint64-be, resource; FanOutJob
  kVersionByContent = 0x8F,   // sha256 hex NUL version name; value: empty
  kPendingBlob = 0x93,        // blob uint64-be; value: empty (being received)
};

// Keys of the `meta` column family.
inline constexpr absl::string_view kMetaInstanceKey = "instance";
inline constexpr absl::string_view kMetaRevisionKey = "revision";
// uint64-be: the schema version of the data (absent: 1). Store::Open
// migrates older data and refuses newer.
inline constexpr absl::string_view kMetaSchemaKey = "schema";
// uint64-be: the first revision the change log still holds (absent: 1).
// Written by Store::CompactChanges with the records' deletion.
inline constexpr absl::string_view kMetaChangelogStartKey = "changelog_start";
inline constexpr uint64_t kSchemaVersion = 2;

// entities: tag byte, then the resource name (`cohorts/occitanie`).
std::string EntityKey(EntityKind kind, absl::string_view name);
// The resource name of an entities key; empty if `key` is too short.
absl::string_view EntityNameFromKey(absl::string_view key);

// The prefix shared by the keys of a collection's direct members:
// tag + (parent + "/" if parent is not empty) + collection + "/".
std::string CollectionPrefix(EntityKind kind, absl::string_view parent,
                             absl::string_view collection);

// indexes: tag byte, then the indexed value.
std::string IndexKey(IndexKind kind, absl::string_view value);

// indexes, audit events of a cohort: tag, the cohort name, NUL, the
// revision big-endian (so a cohort's events are one range, in order).
std::string AuditByCohortKey(absl::string_view cohort, int64_t revision);
// The prefix of every AuditByCohortKey of `cohort`.
std::string AuditByCohortPrefix(absl::string_view cohort);

// Index collections a mutation may read whole through the entity cache
// (Txn::ScanCollection). A collection is every key of one index kind that
// shares the bytes up to and including its last NUL, e.g. the followers
// of one target (kFollowerByTarget: target NUL member). Only
// kFollowerByTarget is one today: every post reads two such collections.
bool IsCachedCollectionKind(absl::string_view index_key);
// The collection prefix of `index_key` (a cached collection kind's key):
// its bytes up to and including the last NUL; empty if it has none.
absl::string_view CollectionOfIndexKey(absl::string_view index_key);
// The entity-cache key under which the collection `prefix` is kept: the
// tag 0xFF, which no entity kind uses, then the prefix. Never stored.
std::string CollectionCacheKey(absl::string_view prefix);

// record_chunks: the blob id then the chunk's offset, both uint64-be, so
// that a blob's chunks are one range in offset order.
std::string RecordChunkKey(uint64_t blob, int64_t offset);
// The prefix of every RecordChunkKey of `blob`.
std::string RecordChunkPrefix(uint64_t blob);
// False unless `key` is a RecordChunkKey.
bool ParseRecordChunkKey(absl::string_view key, uint64_t* blob,
                         int64_t* offset);

// indexes, a time-ordered queue (kUploadByExpiry, kRecordByPurgeTime): tag,
// the time in Unix seconds uint64-be, the resource name.
std::string TimeQueueKey(IndexKind kind, int64_t unix_seconds,
                         absl::string_view name);
// The prefix of every TimeQueueKey of `kind`.
std::string TimeQueuePrefix(IndexKind kind);
// False unless `key` is a TimeQueueKey of `kind`.
bool ParseTimeQueueKey(IndexKind kind, absl::string_view key,
                       int64_t* unix_seconds, std::string* name);

// changelog: the revision, 8 bytes big-endian.
std::string ChangelogKey(int64_t revision);
// False unless `key` is a changelog key.
bool ParseChangelogKey(absl::string_view key, int64_t* revision);

// requests: actor NUL method NUL request_id. None of the three contains NUL
// (names and methods are ASCII identifiers; request ids are validated).
std::string RequestKey(absl::string_view actor, absl::string_view method,
                       absl::string_view request_id);

// A sequence-numbered resource id that sorts by number at any count:
// `prefix` then 6 digits below 10^6 ("m000042"), then "z" and 12 digits
// below 10^12 ("mz000001000000"), then "zz" and 18 digits. Since 'z' sorts
// after every digit, key order is numeric order across the widths, and ids
// written before 10^6 keep their form. REQUIRES: n >= 0.
std::string SequenceId(absl::string_view prefix, int64_t n);
// The number of an id made by SequenceId with `prefix`; false if `id` is
// not one.
bool ParseSequenceId(absl::string_view prefix, absl::string_view id,
                     int64_t* n);
// Like SequenceId, for the older fixed-width forms that must keep sorting
// with new ids: `width` digits below 10^width, then "z" and 18 digits.
std::string WideSequenceId(absl::string_view prefix, int width, int64_t n);

// The smallest string greater than every string starting with `prefix`, for
// iterate_upper_bound; empty when there is none (all bytes 0xff).
std::string PrefixSuccessor(absl::string_view prefix);

}  // namespace cohorte::storage

#endif  // COHORTE_STORAGE_KEYS_H_
