// File: server/service/access/policy_table.h
//
// The policy table as data: who may do what, one row per resource and
// action, in the words the README shows and as the relations of a caller
// to the resource that the row allows. The README's table is this table
// rendered (PolicyTableTest checks that it is the same text), and the
// confidentiality matrix checks that every outcome it observes agrees with
// the row of its RPC: an OK only for a caller the row allows, a
// PERMISSION_DENIED or UNAUTHENTICATED only for one it does not. The code
// that decides is policy.cc and the read rules (rules.cc); this table is
// what they are held to.
//
// Thread-safe (immutable data).
#ifndef COHORTE_SERVER_SERVICE_ACCESS_POLICY_TABLE_H_
#define COHORTE_SERVER_SERVICE_ACCESS_POLICY_TABLE_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace cohorte::service {

// A relation of a caller to the resource a row is about. Relations of a
// cohort (coordinator, participant, service token) are to the resource's
// cohort; those of a group to its group; "reader" is whoever may read the
// content concerned under its own row.
enum class Relation {
  kAnyone,                 // no token needed (a secret is the credential)
  kAuthenticated,          // every authenticated caller
  kAdmin,                  // the instance administrator
  kCoordinator,            // a coordinator of the cohort
  kParticipant,            // a delegation member, ally or coordinator of it
  kServiceToken,           // a service token scoped to the cohort
  kReadWriteServiceToken,  // a READ_WRITE service token scoped to it
  kDelegation,             // a member of the territory's delegation
  kSelf,                   // the member themself (their tokens, inbox...)
  kGroupMember,            // a member of the group, facilitators included
  kFacilitator,            // a facilitator of the group
  kAuthor,                 // an author of the report
  kReader,                 // whoever may read the content concerned
  kCoordinatorReader,      // a coordinator of the cohort who may read it
  kSelfReader,             // a member, for content they may read
};

struct PolicyRow {
  absl::string_view resource;
  absl::string_view action;
  // Who, in words (Markdown), as the README shows it.
  absl::string_view who;
  // The relations that let a caller act; any one suffices.
  std::vector<Relation> allowed;
};

// Every row, in the README's order.
const std::vector<PolicyRow>& PolicyTable();

// The row of `resource` and `action`, or nullptr.
const PolicyRow* FindPolicyRow(absl::string_view resource,
                               absl::string_view action);

// The table as Markdown: a header line, a separator and one line per row,
// each ending in '\n'.
std::string PolicyTableMarkdown();

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_ACCESS_POLICY_TABLE_H_
