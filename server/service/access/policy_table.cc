#include "server/service/access/policy_table.h"

#include "absl/strings/str_cat.h"

namespace cohorte::service {

const std::vector<PolicyRow>& PolicyTable() {
  using R = Relation;
  static const auto* table = new std::vector<PolicyRow>{
      {"cohort", "read", "every authenticated caller", {R::kAuthenticated}},
      {"cohort", "create, update, delete, archive", "admin", {R::kAdmin}},
      {"member", "create, update", "admin", {R::kAdmin}},
      {"member",
       "read",
       "self; admin; participants and service tokens of a shared cohort "
       "(e-mail: self, admin, that cohort's coordinators)",
       {R::kSelf, R::kAdmin, R::kParticipant, R::kServiceToken}},
      {"token", "create (personal, service)", "admin", {R::kAdmin}},
      {"token",
       "read, revoke, rotate",
       "admin; a member for their own personal tokens; any caller reads the "
       "token it calls with (`tokens/me`)",
       {R::kAdmin, R::kSelf}},
      {"invitation",
       "create, read, revoke",
       "admin; the cohort's coordinators (a coordinator's invitation: admin "
       "only)",
       {R::kAdmin, R::kCoordinator}},
      {"invitation", "accept", "whoever holds its secret", {R::kAnyone}},
      {"audit log",
       "read",
       "admin (all); a cohort's coordinators (what touches it, redacted by "
       "the read rules)",
       {R::kAdmin, R::kCoordinator}},
      {"backup",
       "create, list, verify, delete",
       "admin (a backup holds everything, closed groups included: the API "
       "shows what describes it, never its content)",
       {R::kAdmin}},
      {"link (following another instance's cohorts)",
       "create, read, pause, resume, delete",
       "admin (a link holds a token of another instance)",
       {R::kAdmin}},
      {"cohort bundle",
       "import (export is a client of ListSnapshot and ReadRecordVersion)",
       "admin (an import makes a read-only replica of another instance's "
       "cohort)",
       {R::kAdmin}},
      {"référentiel",
       "read",
       "every authenticated caller",
       {R::kAuthenticated}},
      {"territory, group",
       "create, update",
       "admin; the cohort's coordinators",
       {R::kAdmin, R::kCoordinator}},
      {"territory, group metadata, chantier",
       "read",
       "admin; the cohort's participants; service tokens of the cohort",
       {R::kAdmin, R::kParticipant, R::kServiceToken}},
      {"territory phase, chantier",
       "create, update",
       "admin; the cohort's coordinators; the territory's delegation; "
       "READ_WRITE service tokens of the cohort",
       {R::kAdmin, R::kCoordinator, R::kDelegation, R::kReadWriteServiceToken}},
      {"a group's members and content (exchanges, messages)",
       "read, write",
       "**the group's members only** — not the admin, not a coordinator or "
       "ally by role, never a service token",
       {R::kGroupMember}},
      {"experience report",
       "create",
       "an author, as a chantier (not a service token, not the admin); it "
       "starts as a draft",
       {R::kCoordinator, R::kDelegation}},
      {"GROUP report",
       "create",
       "an author who is a member of the group",
       {R::kGroupMember}},
      {"draft report", "read", "its authors only", {R::kAuthor}},
      {"published GROUP report",
       "read",
       "the group's members",
       {R::kGroupMember}},
      {"published COHORT report",
       "read",
       "admin; the cohort's participants; its service tokens",
       {R::kAdmin, R::kParticipant, R::kServiceToken}},
      {"published NETWORK, PUBLIC report",
       "read",
       "every authenticated caller",
       {R::kAuthenticated}},
      {"experience report", "update, publish", "its authors", {R::kAuthor}},
      {"experience report",
       "archive",
       "its authors; the cohort's coordinators who may read it",
       {R::kAuthor, R::kCoordinatorReader}},
      {"session",
       "create, update; registrations, attendance",
       "admin; the cohort's coordinators",
       {R::kAdmin, R::kCoordinator}},
      {"session",
       "read",
       "admin; the cohort's participants; its service tokens",
       {R::kAdmin, R::kParticipant, R::kServiceToken}},
      {"session",
       "register, cancel",
       "the cohort's participants in its audience",
       {R::kParticipant}},
      {"inbox, follows, one's upcoming sessions",
       "read, mark read, unfollow",
       "the member themself; an item shows only while its content is "
       "readable",
       {R::kSelf}},
      {"follows", "follow", "a member, what they may read", {R::kSelfReader}},
      {"moderation", "flag", "whoever may read the content", {R::kReader}},
      {"change feed",
       "read",
       "every authenticated caller: a change only if the caller may read its "
       "resource now (the rows above), as they may read it",
       {R::kAuthenticated}},
      {"moderation",
       "queue, hide, unhide, dismiss",
       "the group's facilitators; the cohort's coordinators who may read the "
       "content",
       {R::kFacilitator, R::kCoordinatorReader}},
      {"webhook",
       "create",
       "admin; a coordinator of every cohort its service token reaches",
       {R::kAdmin, R::kCoordinator}},
      {"webhook",
       "read, pause, resume, delete; its delivery log",
       "admin; the coordinators of every cohort of its token (never the "
       "token itself); the secret is shown once, at creation",
       {R::kAdmin, R::kCoordinator}},
      {"COHORT, NETWORK, PUBLIC shared record",
       "create, upload a version",
       "the cohort's participants, as members (not the admin, not a service "
       "token)",
       {R::kParticipant}},
      {"GROUP shared record",
       "create, upload a version",
       "a member of the group",
       {R::kGroupMember}},
      {"GROUP shared record, its versions and content",
       "read",
       "the group's members",
       {R::kGroupMember}},
      {"COHORT shared record, its versions and content",
       "read",
       "admin; the cohort's participants; its service tokens",
       {R::kAdmin, R::kParticipant, R::kServiceToken}},
      {"NETWORK, PUBLIC shared record, its versions and content",
       "read",
       "every authenticated caller",
       {R::kAuthenticated}},
      {"shared record",
       "update, delete, undelete",
       "its creator; the cohort's coordinators who may read it",
       {R::kAuthor, R::kCoordinatorReader}},
      {"upload session",
       "read, write, resume",
       "its uploader only, while they may read the record",
       {R::kSelf}},
  };
  return *table;
}

const PolicyRow* FindPolicyRow(absl::string_view resource,
                               absl::string_view action) {
  for (const PolicyRow& row : PolicyTable()) {
    if (row.resource == resource && row.action == action) return &row;
  }
  return nullptr;
}

std::string PolicyTableMarkdown() {
  std::string out = "| resource | action | who |\n|---|---|---|\n";
  for (const PolicyRow& row : PolicyTable()) {
    absl::StrAppend(&out, "| ", row.resource, " | ", row.action, " | ", row.who,
                    " |\n");
  }
  return out;
}

}  // namespace cohorte::service
