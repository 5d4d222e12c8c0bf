// File: server/service/access/rules.h
//
// The read rule of every stored type, declared once: ReadRule<T>::MaySee
// says whether the Reader's caller may see an entity of type T stored as
// `name`; ReadRule<T>::Present returns it as that caller may see it;
// ReadRule<T>::MayKnowAbsent says whether the caller may learn that `name`
// does not exist (NOT_FOUND) — only where they could see any entity of
// that name, so that absence reveals nothing (AIP-211); otherwise an absent
// entity is PERMISSION_DENIED like a hidden one. The
// primary template is declared and never defined, so reading a type without
// a rule through the Reader does not compile; rules.cc static_asserts that
// every type of storage::AllEntityTypes has one. The rules, in words, are
// the table in access/policy.h and the README; policy_table_test checks the
// README against this code.
//
// Thread-compatible (pure functions of a Reader).
#ifndef COHORTE_SERVER_SERVICE_ACCESS_RULES_H_
#define COHORTE_SERVER_SERVICE_ACCESS_RULES_H_

#include "absl/strings/string_view.h"
#include "storage/entity_types.h"

namespace cohorte::service {

class Reader;

template <typename T>
struct ReadRule;

#define COHORTE_DECLARE_READ_RULE(Type)                                      \
  template <>                                                                \
  struct ReadRule<Type> {                                                    \
    static bool MaySee(const Reader& reader, absl::string_view name,         \
                       const Type& entity);                                  \
    static Type Present(const Reader& reader, Type entity);                  \
    static bool MayKnowAbsent(const Reader& reader, absl::string_view name); \
  }

COHORTE_DECLARE_READ_RULE(::cohorte::v1::Cohort);
COHORTE_DECLARE_READ_RULE(::cohorte::v1::Member);
COHORTE_DECLARE_READ_RULE(::cohorte::storage::v1::TokenRecord);
COHORTE_DECLARE_READ_RULE(::cohorte::v1::Territory);
COHORTE_DECLARE_READ_RULE(::cohorte::v1::PeerGroup);
COHORTE_DECLARE_READ_RULE(::cohorte::v1::Chantier);
COHORTE_DECLARE_READ_RULE(::cohorte::v1::Invitation);
COHORTE_DECLARE_READ_RULE(::cohorte::v1::AuditEvent);
COHORTE_DECLARE_READ_RULE(::cohorte::v1::Exchange);
COHORTE_DECLARE_READ_RULE(::cohorte::v1::Message);
COHORTE_DECLARE_READ_RULE(::cohorte::storage::v1::ReadMarkerRecord);
COHORTE_DECLARE_READ_RULE(::cohorte::v1::InboxItem);
COHORTE_DECLARE_READ_RULE(::cohorte::v1::ExperienceReport);
COHORTE_DECLARE_READ_RULE(::cohorte::v1::Session);
COHORTE_DECLARE_READ_RULE(::cohorte::v1::Registration);
COHORTE_DECLARE_READ_RULE(::cohorte::v1::ContentFlag);
COHORTE_DECLARE_READ_RULE(::cohorte::storage::v1::WebhookRecord);
COHORTE_DECLARE_READ_RULE(::cohorte::v1::WebhookDelivery);
COHORTE_DECLARE_READ_RULE(::cohorte::v1::Record);
COHORTE_DECLARE_READ_RULE(::cohorte::v1::RecordVersion);
COHORTE_DECLARE_READ_RULE(::cohorte::storage::v1::UploadRecord);
COHORTE_DECLARE_READ_RULE(::cohorte::storage::v1::LinkRecord);

#undef COHORTE_DECLARE_READ_RULE

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_ACCESS_RULES_H_
