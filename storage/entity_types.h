// File: storage/entity_types.h
//
// Typed entities: the one place that binds each stored resource type to its
// kind tag (the key's first byte, storage/keys.h), its name pattern and how
// its key is built. Code outside storage/ names an entity by its type
// (`txn.PutEntity(report)`, `view.GetEntity<v1::Session>(name, &s)`), never by
// a tag and a hand-built key, so a type stored under another type's tag
// cannot compile.
//
// EntityTraits<T> is defined only for the types listed here; AllEntityTypes
// lists them all, and a static_assert checks that it covers every
// EntityKind (kEntityKindCount), so that rules written per type (the read
// gate's) can be checked for completeness at compile time.
//
// Thread-safe (constants and pure functions).
#ifndef COHORTE_STORAGE_ENTITY_TYPES_H_
#define COHORTE_STORAGE_ENTITY_TYPES_H_

#include <string>
#include <tuple>
#include <type_traits>

#include "absl/strings/string_view.h"
#include "cohorte/storage/v1/records.pb.h"
#include "cohorte/v1/audit.pb.h"
#include "cohorte/v1/cohorts.pb.h"
#include "cohorte/v1/exchanges.pb.h"
#include "cohorte/v1/groups.pb.h"
#include "cohorte/v1/inbox.pb.h"
#include "cohorte/v1/invitations.pb.h"
#include "cohorte/v1/links.pb.h"
#include "cohorte/v1/members.pb.h"
#include "cohorte/v1/moderation.pb.h"
#include "cohorte/v1/records.pb.h"
#include "cohorte/v1/reports.pb.h"
#include "cohorte/v1/sessions.pb.h"
#include "cohorte/v1/territories.pb.h"
#include "cohorte/v1/webhooks.pb.h"
#include "storage/keys.h"

namespace cohorte::storage {

// Defined below for each stored type: kKind (its tag), kPattern (its
// resource name, AIP-122 style) and kLogged (whether the change log may
// hold the stored form as is; false for records holding secrets' hashes,
// whose writers give the form to log).
template <typename T>
struct EntityTraits;

#define COHORTE_ENTITY_TYPE(Type, Kind, Pattern, Logged)   \
  template <>                                              \
  struct EntityTraits<Type> {                              \
    static constexpr EntityKind kKind = EntityKind::Kind;  \
    static constexpr absl::string_view kPattern = Pattern; \
    static constexpr bool kLogged = Logged;                \
  }

COHORTE_ENTITY_TYPE(::cohorte::v1::Cohort, kCohort, "cohorts/{cohort}", true);
COHORTE_ENTITY_TYPE(::cohorte::v1::Member, kMember, "members/{member}", true);
COHORTE_ENTITY_TYPE(::cohorte::storage::v1::TokenRecord, kToken,
                    "tokens/{token}", false);
COHORTE_ENTITY_TYPE(::cohorte::v1::Territory, kTerritory,
                    "cohorts/{cohort}/territories/{territory}", true);
COHORTE_ENTITY_TYPE(::cohorte::v1::PeerGroup, kGroup,
                    "cohorts/{cohort}/groups/{group}", true);
COHORTE_ENTITY_TYPE(::cohorte::v1::Chantier, kChantier,
                    "cohorts/{cohort}/territories/{territory}/chantiers/"
                    "{chantier}",
                    true);
COHORTE_ENTITY_TYPE(::cohorte::v1::Invitation, kInvitation,
                    "cohorts/{cohort}/invitations/{invitation}", true);
COHORTE_ENTITY_TYPE(::cohorte::v1::AuditEvent, kAuditEvent,
                    "auditEvents/{event}", true);
COHORTE_ENTITY_TYPE(::cohorte::v1::Exchange, kExchange,
                    "cohorts/{cohort}/groups/{group}/exchanges/{exchange}",
                    true);
COHORTE_ENTITY_TYPE(::cohorte::v1::Message, kMessage,
                    "cohorts/{cohort}/groups/{group}/exchanges/{exchange}/"
                    "messages/{message}",
                    true);
COHORTE_ENTITY_TYPE(::cohorte::storage::v1::ReadMarkerRecord, kReadMarker,
                    "{member} NUL {exchange}", true);
COHORTE_ENTITY_TYPE(::cohorte::v1::InboxItem, kInboxItem,
                    "members/{member}/inbox/{item}", true);
COHORTE_ENTITY_TYPE(::cohorte::v1::ExperienceReport, kReport,
                    "cohorts/{cohort}/reports/{report}", true);
COHORTE_ENTITY_TYPE(::cohorte::v1::Session, kSession,
                    "cohorts/{cohort}/sessions/{session}", true);
COHORTE_ENTITY_TYPE(::cohorte::v1::Registration, kRegistration,
                    "cohorts/{cohort}/sessions/{session}/registrations/"
                    "{member}",
                    true);
COHORTE_ENTITY_TYPE(::cohorte::v1::ContentFlag, kFlag,
                    "cohorts/{cohort}/flags/{flag}", true);
// Holds the signing secret: logged as its cohorte.v1.Webhook.
COHORTE_ENTITY_TYPE(::cohorte::storage::v1::WebhookRecord, kWebhook,
                    "webhooks/{webhook}", false);
COHORTE_ENTITY_TYPE(::cohorte::v1::WebhookDelivery, kWebhookDelivery,
                    "webhooks/{webhook}/deliveries/{delivery}", true);
COHORTE_ENTITY_TYPE(::cohorte::v1::Record, kRecord,
                    "cohorts/{cohort}/records/{record}", true);
COHORTE_ENTITY_TYPE(::cohorte::v1::RecordVersion, kRecordVersion,
                    "cohorts/{cohort}/records/{record}/versions/{version}",
                    true);
// Logged as its cohorte.v1.Upload (without the blob and hash state).
COHORTE_ENTITY_TYPE(::cohorte::storage::v1::UploadRecord, kUpload,
                    "cohorts/{cohort}/records/{record}/uploads/{upload}",
                    false);

// Holds the peer's token secret: logged as its cohorte.v1.Link.
COHORTE_ENTITY_TYPE(::cohorte::storage::v1::LinkRecord, kLink, "links/{link}",
                    false);
#undef COHORTE_ENTITY_TYPE

// Every stored type, in tag order.
using AllEntityTypes = std::tuple<
    ::cohorte::v1::Cohort, ::cohorte::v1::Member,
    ::cohorte::storage::v1::TokenRecord, ::cohorte::v1::Territory,
    ::cohorte::v1::PeerGroup, ::cohorte::v1::Chantier,
    ::cohorte::v1::Invitation, ::cohorte::v1::AuditEvent,
    ::cohorte::v1::Exchange, ::cohorte::v1::Message,
    ::cohorte::storage::v1::ReadMarkerRecord, ::cohorte::v1::InboxItem,
    ::cohorte::v1::ExperienceReport, ::cohorte::v1::Session,
    ::cohorte::v1::Registration, ::cohorte::v1::ContentFlag,
    ::cohorte::v1::Record, ::cohorte::v1::RecordVersion,
    ::cohorte::storage::v1::UploadRecord, ::cohorte::storage::v1::WebhookRecord,
    ::cohorte::v1::WebhookDelivery, ::cohorte::storage::v1::LinkRecord>;
static_assert(std::tuple_size_v<AllEntityTypes> == kEntityKindCount,
              "every EntityKind needs an entry in AllEntityTypes");

// Types whose read rule depends on their own fields (a group's members, a
// report's visibility and state, a member's college and delegations): a
// write of one logs the entity it replaces (Change.previous), so that the
// change feed can tell who loses access.
template <typename T>
struct LogsPreviousVersion : std::false_type {};
template <>
struct LogsPreviousVersion<::cohorte::v1::PeerGroup> : std::true_type {};
template <>
struct LogsPreviousVersion<::cohorte::v1::ExperienceReport> : std::true_type {};
template <>
struct LogsPreviousVersion<::cohorte::v1::Member> : std::true_type {};

// The key of entity `name` of type T.
template <typename T>
std::string EntityKeyOf(absl::string_view name) {
  return EntityKey(EntityTraits<T>::kKind, name);
}

// The prefix of a collection of T under `parent` (see CollectionPrefix).
template <typename T>
std::string CollectionPrefixOf(absl::string_view parent,
                               absl::string_view collection) {
  return CollectionPrefix(EntityTraits<T>::kKind, parent, collection);
}

// The kind of a stored type given its protobuf full name
// ("cohorte.v1.Cohort"); 0 if it is not one. For reading change-log
// records written before they carried their kind.
uint8_t EntityKindOfTypeName(absl::string_view full_name);

}  // namespace cohorte::storage

#endif  // COHORTE_STORAGE_ENTITY_TYPES_H_
