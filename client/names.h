// File: client/names.h
//
// One naming rule for every command: a full resource name is always
// accepted, and a short id is resolved against the flags that name its
// parents (`petr-vallees --cohort occitanie` →
// `cohorts/occitanie/territories/petr-vallees`; `--reply-to m000001`
// relative to `--exchange`). A short id without the flags it needs is a
// usage error that names them. Pure functions, thread-compatible.
#ifndef COHORTE_CLIENT_NAMES_H_
#define COHORTE_CLIENT_NAMES_H_

#include <string>

#include "absl/status/statusor.h"

namespace cohorte::client {

// The flags that may name a parent, as the user gave them (ids or full
// names; empty when not given).
struct NameContext {
  std::string cohort;
  std::string group;
  std::string territory;
  std::string exchange;
};

enum class NameKind {
  kCohort,      // cohorts/{c}
  kMember,      // members/{m} (`me` too)
  kToken,       // tokens/{t}
  kTerritory,   // cohorts/{c}/territories/{t}
  kGroup,       // cohorts/{c}/groups/{g}
  kChantier,    // cohorts/{c}/territories/{t}/chantiers/{x}
  kExchange,    // cohorts/{c}/groups/{g}/exchanges/{e}
  kMessage,     // …/exchanges/{e}/messages/{m}
  kReport,      // cohorts/{c}/reports/{r}
  kSession,     // cohorts/{c}/sessions/{s}
  kInvitation,  // cohorts/{c}/invitations/{i}
  kFlag,        // cohorts/{c}/flags/{f}
  kRecord,      // cohorts/{c}/records/{r}
};

// The full name of `value` of `kind`, given on `flag` (e.g. "--reply-to"
// or "<name>"), resolved in `context`. INVALID_ARGUMENT naming `flag` and
// the missing parent flags if `value` is a short id that cannot be
// resolved, or a full name of another kind.
absl::StatusOr<std::string> ResolveName(NameKind kind, const std::string& value,
                                        const std::string& flag,
                                        const NameContext& context);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_NAMES_H_
