#include "server/service/structure/group_service.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cohorte/v1/cohorts.pb.h"
#include "cohorte/v1/territories.pb.h"
#include "server/service/access/commit.h"
#include "server/service/access/policy.h"
#include "server/service/access/reader.h"
#include "server/service/audit/audit.h"
#include "server/service/core/entities.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "server/service/core/pagination.h"
#include "server/service/core/validation.h"
#include "server/service/inbox/inbox.h"
#include "server/service/structure/member_service.h"
#include "storage/codec.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace cohorte::service {
namespace {

using storage::EntityKind;
using storage::Table;
using storage::Txn;
using v1::PeerGroup;

struct CollegeGroup {
  v1::College college;
  const char* id;
  const char* display_name;
};
constexpr CollegeGroup kCollegeGroups[] = {
    {v1::ELU, "elus", "Entre élus"},
    {v1::AGENT, "agents", "Entre agents"},
    {v1::ETAT_TERRITORIAL, "etat-territorial", "Entre État territorial"},
    {v1::ACTEUR_SOCIO_ECONOMIQUE, "acteurs-socio-economiques",
     "Entre acteurs socio-économiques"},
};

// Checks that every name in `names` is a member who takes part in `cohort`
// and is not an administrator (nobody joins a closed group by role).
absl::Status CheckJoinable(
    const Txn& txn, absl::string_view field,
    const google::protobuf::RepeatedPtrField<std::string>& names,
    absl::string_view cohort) {
  std::set<std::string> seen;
  for (const std::string& name : names) {
    if (!seen.insert(name).second) {
      return InvalidField(field, absl::StrCat(name, " is listed twice"));
    }
    COHORTE_RETURN_IF_ERROR(ParseTopLevelName(field, name, "members").status());
    absl::StatusOr<v1::Member> member = LoadEntity<v1::Member>(txn, name);
    // An absent member and one of another cohort get the same answer: who
    // is a member elsewhere is not the caller's to learn.
    if (!member.ok() && !absl::IsNotFound(member.status())) {
      return member.status();
    }
    const Principal p =
        member.ok() ? Principal::FromMember(*member, "") : Principal();
    if (!member.ok() || p.is_admin() || !ParticipatesIn(p, cohort)) {
      return InvalidField(
          field, absl::StrCat(name, " does not take part in ", cohort));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckGroupFields(const PeerGroup& g) {
  COHORTE_RETURN_IF_ERROR(CheckText("group.display_name", g.display_name(), 1,
                                    kMaxGroupDisplayNameChars,
                                    TextKind::kSingleLine));
  COHORTE_RETURN_IF_ERROR(CheckText("group.description", g.description(), 0,
                                    kMaxGroupDescriptionChars,
                                    TextKind::kMultiLine));
  if (g.members_size() > kMaxGroupMembers) {
    return InvalidField("group.members",
                        absl::StrCat("has more than ", kMaxGroupMembers));
  }
  if (g.facilitators_size() > kMaxGroupFacilitators) {
    return InvalidField("group.facilitators",
                        absl::StrCat("has more than ", kMaxGroupFacilitators));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status AnnounceNewReaders(Txn& txn, const PeerGroup& group,
                                const std::set<std::string>& readers,
                                absl::string_view how,
                                absl::string_view actor) {
  if (readers.empty()) return absl::OkStatus();
  std::set<std::string> audience(group.members().begin(),
                                 group.members().end());
  audience.insert(group.facilitators().begin(), group.facilitators().end());
  if (group.kind() == PeerGroup::COLLEGE) {
    COHORTE_ASSIGN_OR_RETURN(std::vector<v1::Member> college,
                             ScanMembers(txn, [&](const v1::Member& m) {
                               return IsGroupMember(
                                   Principal::FromMember(m, ""), group);
                             }));
    for (const v1::Member& m : college) audience.insert(m.name());
  }
  for (const std::string& reader : readers) {
    std::map<std::string, v1::InboxItem::Kind> recipients;
    for (const std::string& m : audience) {
      if (m != reader) recipients[m] = v1::InboxItem::GROUP_READER_ADDED;
    }
    v1::InboxItem item;
    item.set_resource(group.name());
    item.set_context(std::string(how));
    item.set_title(group.display_name());
    item.set_actor(std::string(actor));
    item.set_subject(reader);
    COHORTE_RETURN_IF_ERROR(NotifyMembers(txn, recipients, item));
  }
  return absl::OkStatus();
}

absl::Status AnnounceCollegeReader(Txn& txn, const v1::Member* before,
                                   const v1::Member& after,
                                   absl::string_view actor) {
  const Principal was =
      before == nullptr ? Principal() : Principal::FromMember(*before, "");
  const Principal is = Principal::FromMember(after, "");
  for (const std::string& cohort : CohortsOfMember(after)) {
    for (const CollegeGroup& c : kCollegeGroups) {
      absl::StatusOr<PeerGroup> group =
          LoadEntity<PeerGroup>(txn, absl::StrCat(cohort, "/groups/", c.id));
      if (absl::IsNotFound(group.status())) continue;
      COHORTE_RETURN_IF_ERROR(group.status());
      if (IsGroupMember(is, *group) &&
          (before == nullptr || !IsGroupMember(was, *group))) {
        v1::InboxItem item;
        item.set_kind(v1::InboxItem::GROUP_READER_ADDED);
        item.set_resource(group->name());
        item.set_context("college and delegation: joins the college group");
        item.set_title(group->display_name());
        item.set_actor(std::string(actor));
        item.set_subject(after.name());
        NotificationFanOut::Schedule(txn, item);
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<NotificationFanOut::MemberFilter> GroupReaderAudience(
    const Txn& txn, const v1::InboxItem& item) {
  COHORTE_ASSIGN_OR_RETURN(PeerGroup group,
                           LoadEntity<PeerGroup>(txn, item.resource()));
  return [group = std::move(group),
          subject = item.subject()](const v1::Member& m) {
    return m.name() != subject &&
           IsGroupMember(Principal::FromMember(m, ""), group);
  };
}

void PutCollegeGroups(Txn& txn, absl::string_view cohort, AuditLog* audit) {
  for (const CollegeGroup& c : kCollegeGroups) {
    PeerGroup group;
    group.set_name(absl::StrCat(cohort, "/groups/", c.id));
    group.set_display_name(c.display_name);
    group.set_kind(PeerGroup::COLLEGE);
    group.set_college(c.college);
    CreateEntity(txn, group);
    if (audit != nullptr) audit->Change(group.name(), nullptr, &group);
  }
}

absl::StatusOr<PeerGroup> GroupService::CreateGroup(
    const Principal& caller, const v1::CreateGroupRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("parent", req.parent(), "cohorts").status());
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kGroup, Action::kCreate,
                                    CohortScope(req.parent())));
  const PeerGroup& g = req.group();
  if (!req.group_id().empty()) {
    COHORTE_RETURN_IF_ERROR(CheckResourceId("group_id", req.group_id()));
  }
  if (g.kind() != PeerGroup::GEOGRAPHIC && g.kind() != PeerGroup::THEMATIC &&
      g.kind() != PeerGroup::DELEGATION) {
    return InvalidField("group.kind",
                        "must be GEOGRAPHIC, THEMATIC or DELEGATION (college "
                        "groups come with the cohort)");
  }
  if (g.kind() == PeerGroup::DELEGATION) {
    absl::StatusOr<std::string> cohort =
        ParseCohortChildName("group.territory", g.territory(), "territories");
    COHORTE_RETURN_IF_ERROR(cohort.status());
    if (*cohort != req.parent()) {
      return InvalidField("group.territory", "is not in the group's cohort");
    }
  } else if (!g.territory().empty()) {
    return InvalidField("group.territory", "is only for DELEGATION groups");
  }
  COHORTE_RETURN_IF_ERROR(CheckGroupFields(g));
  COHORTE_RETURN_IF_ERROR(CheckRequestId("request_id", req.request_id()));
  const std::string name = absl::StrCat(
      req.parent(), "/groups/",
      req.group_id().empty() ? GenerateId("group-") : req.group_id());

  return CommitForResponse<PeerGroup>(
      store_, caller, "CreateGroup", req, req.request_id(),
      [&](Txn& txn,
          [[maybe_unused]] const Reader& reader) -> absl::StatusOr<PeerGroup> {
        // Checked again against the caller as this mutation sees them.
        COHORTE_RETURN_IF_ERROR(Authorize(reader.caller(), Resource::kGroup,
                                          Action::kCreate,
                                          CohortScope(req.parent())));
        COHORTE_RETURN_IF_ERROR(
            LoadEntity<v1::Cohort>(txn, req.parent()).status());
        COHORTE_ASSIGN_OR_RETURN(bool exists,
                                 txn.EntityExists<v1::PeerGroup>((name)));
        if (exists) return AlreadyExists(name);
        if (g.kind() == PeerGroup::DELEGATION) {
          // One delegation group per territory.
          std::string existing;
          absl::Status decode_error;
          COHORTE_RETURN_IF_ERROR(
              txn.Scan(Table::kEntities,
                       storage::CollectionPrefixOf<v1::PeerGroup>(req.parent(),
                                                                  "groups"),
                       [&](absl::string_view, absl::string_view value) {
                         PeerGroup other;
                         decode_error = storage::DecodeValue(value, &other);
                         if (!decode_error.ok()) return false;
                         if (other.kind() == PeerGroup::DELEGATION &&
                             other.territory() == g.territory()) {
                           existing = other.name();
                           return false;
                         }
                         return true;
                       }));
          COHORTE_RETURN_IF_ERROR(decode_error);
          if (!existing.empty()) {
            return ErrorWithReason(
                absl::StatusCode::kAlreadyExists, kReasonAlreadyExists,
                absl::StrCat("group.territory: ", existing,
                             " is already its delegation group"));
          }
          absl::Status t =
              LoadEntity<v1::Territory>(txn, g.territory()).status();
          if (absl::IsNotFound(t)) {
            return InvalidField("group.territory", "does not exist");
          }
          COHORTE_RETURN_IF_ERROR(t);
        }
        COHORTE_RETURN_IF_ERROR(
            CheckJoinable(txn, "group.members", g.members(), req.parent()));
        COHORTE_RETURN_IF_ERROR(CheckJoinable(txn, "group.facilitators",
                                              g.facilitators(), req.parent()));
        PeerGroup group;
        group.set_name(name);
        group.set_display_name(g.display_name());
        group.set_description(g.description());
        group.set_kind(g.kind());
        group.set_territory(g.territory());
        *group.mutable_members() = g.members();
        *group.mutable_facilitators() = g.facilitators();
        std::sort(group.mutable_members()->begin(),
                  group.mutable_members()->end());
        CreateEntity(txn, group);
        AuditLog audit(caller.actor(), "CreateGroup");
        audit.Change(name, nullptr, &group);
        audit.Touch(req.parent());
        COHORTE_RETURN_IF_ERROR(audit.Write(txn));
        return group;
      });
}

absl::StatusOr<PeerGroup> GroupService::GetGroup(
    const Principal& caller, const v1::GetGroupRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseCohortChildName("name", req.name(), "groups").status());
  return Reader(store_, caller).Get<PeerGroup>(req.name());
}

absl::StatusOr<v1::ListGroupsResponse> GroupService::ListGroups(
    const Principal& caller, const v1::ListGroupsRequest& req) {
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("parent", req.parent(), "cohorts").status());
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kGroup, Action::kRead,
                                    CohortScope(req.parent())));
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  v1::ListGroupsResponse response;
  COHORTE_ASSIGN_OR_RETURN(*response.mutable_next_page_token(),
                           Reader(store_, caller)
                               .List<PeerGroup>(
                                   storage::CollectionPrefixOf<v1::PeerGroup>(
                                       req.parent(), "groups"),
                                   page, [](PeerGroup&) { return true; },
                                   response.mutable_groups()));
  return response;
}

absl::StatusOr<PeerGroup> GroupService::SetGroupMembers(
    const Principal& caller, const v1::SetGroupMembersRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(std::string cohort,
                           ParseCohortChildName("name", req.name(), "groups"));
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kGroup, Action::kUpdate,
                                    CohortScope(cohort)));
  for (const auto* list : {&req.add_members(), &req.remove_members()}) {
    if (list->size() > kMaxGroupMembers) {
      return InvalidField(
          list == &req.add_members() ? "add_members" : "remove_members",
          absl::StrCat("has more than ", kMaxGroupMembers));
    }
  }
  COHORTE_RETURN_IF_ERROR(CheckRequestId("request_id", req.request_id()));
  return CommitForResponse<PeerGroup>(
      store_, caller, "SetGroupMembers", req, req.request_id(),
      [&](Txn& txn,
          [[maybe_unused]] const Reader& reader) -> absl::StatusOr<PeerGroup> {
        // Checked again against the caller as this mutation sees them.
        COHORTE_RETURN_IF_ERROR(Authorize(reader.caller(), Resource::kGroup,
                                          Action::kUpdate,
                                          CohortScope(cohort)));
        COHORTE_ASSIGN_OR_RETURN(PeerGroup group,
                                 LoadEntity<PeerGroup>(txn, req.name()));
        COHORTE_RETURN_IF_ERROR(
            CheckEtag(group.name(), group.etag(), req.etag()));
        const PeerGroup before = group;
        if (group.kind() == PeerGroup::COLLEGE &&
            (!req.add_members().empty() || !req.remove_members().empty())) {
          return InvalidField("add_members",
                              "a college group's members follow the members' "
                              "college and delegations");
        }
        COHORTE_RETURN_IF_ERROR(
            CheckJoinable(txn, "add_members", req.add_members(), cohort));
        COHORTE_RETURN_IF_ERROR(CheckJoinable(txn, "add_facilitators",
                                              req.add_facilitators(), cohort));
        if (group.kind() == PeerGroup::COLLEGE) {
          // A college group is read by that college only: its facilitators
          // too.
          for (const std::string& f : req.add_facilitators()) {
            COHORTE_ASSIGN_OR_RETURN(v1::Member m,
                                     LoadEntity<v1::Member>(txn, f));
            PeerGroup as_member = group;
            as_member.clear_facilitators();
            if (!IsGroupMember(Principal::FromMember(m, ""), as_member)) {
              return InvalidField(
                  "add_facilitators",
                  absl::StrCat(f, " is not of the college of ", group.name(),
                               ": a college group's facilitators belong to "
                               "it"));
            }
          }
        }
        std::set<std::string> readers_before;
        {
          PeerGroup g = group;
          readers_before.insert(g.members().begin(), g.members().end());
          readers_before.insert(g.facilitators().begin(),
                                g.facilitators().end());
        }
        auto apply =
            [](google::protobuf::RepeatedPtrField<std::string>* list,
               const google::protobuf::RepeatedPtrField<std::string>& add,
               const google::protobuf::RepeatedPtrField<std::string>& remove) {
              std::set<std::string> set(list->begin(), list->end());
              for (const std::string& m : add) set.insert(m);
              for (const std::string& m : remove) set.erase(m);
              list->Clear();
              for (const std::string& m : set) *list->Add() = m;
            };
        apply(group.mutable_members(), req.add_members(), req.remove_members());
        apply(group.mutable_facilitators(), req.add_facilitators(),
              req.remove_facilitators());
        COHORTE_RETURN_IF_ERROR(CheckGroupFields(group));
        SaveEntity(txn, group);
        // Whoever now reads the group is announced to its members.
        std::set<std::string> new_readers;
        for (const auto* list : {&group.members(), &group.facilitators()}) {
          for (const std::string& m : *list) {
            if (!readers_before.count(m)) new_readers.insert(m);
          }
        }
        if (group.kind() == PeerGroup::COLLEGE) {
          // A facilitator of a college group already read it as a member.
          new_readers.clear();
        }
        COHORTE_RETURN_IF_ERROR(AnnounceNewReaders(
            txn, group, new_readers, absl::StrCat("added by ", caller.actor()),
            caller.actor()));
        AuditLog audit(caller.actor(), "SetGroupMembers");
        audit.Change(group.name(), &before, &group);
        audit.Touch(cohort);
        COHORTE_RETURN_IF_ERROR(audit.Write(txn));
        return group;
      });
}

absl::StatusOr<v1::ListGroupMembersResponse> GroupService::ListGroupMembers(
    const Principal& caller, const v1::ListGroupMembersRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(std::string cohort,
                           ParseCohortChildName("name", req.name(), "groups"));
  COHORTE_RETURN_IF_ERROR(
      Authorize(caller, Resource::kGroup, Action::kRead, CohortScope(cohort)));
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  const Reader reader(store_, caller);
  COHORTE_ASSIGN_OR_RETURN(PeerGroup group, reader.GroupForContent(req.name()));
  // Who reads the group now: of those it names, the ones IsGroupMember
  // keeps (a name left from before a member left the cohort or the
  // college is not a reader).
  std::set<std::string> members;
  for (const auto* list : {&group.members(), &group.facilitators()}) {
    for (const std::string& name : *list) {
      // A reader of the group may see every member who reads it (both
      // take part in its cohort): one the caller may not see reads nothing.
      absl::StatusOr<v1::Member> m = reader.Load<v1::Member>(name);
      if (absl::IsNotFound(m.status()) ||
          absl::IsPermissionDenied(m.status())) {
        continue;
      }
      COHORTE_RETURN_IF_ERROR(m.status());
      if (IsGroupMember(Principal::FromMember(*m, ""), group)) {
        members.insert(name);
      }
    }
  }
  if (group.kind() == PeerGroup::COLLEGE) {
    COHORTE_RETURN_IF_ERROR(reader.ForEach<v1::Member>(
        storage::CollectionPrefixOf<v1::Member>("", "members"),
        [&](const v1::Member& m) {
          if (IsGroupMember(Principal::FromMember(m, ""), group)) {
            members.insert(m.name());
          }
          return true;
        }));
  }
  v1::ListGroupMembersResponse response;
  for (auto it = members.upper_bound(page.after); it != members.end(); ++it) {
    if (response.members_size() == page.size) {
      response.set_next_page_token(
          EncodePageToken(page.query, response.members(page.size - 1)));
      break;
    }
    response.add_members(*it);
  }
  return response;
}

}  // namespace cohorte::service
