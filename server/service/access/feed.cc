// The change feed at the read gate: Reader::ReadLog and Reader::PresentLog
// (see feed.h for how a change is shown).
#include "server/service/access/feed.h"

#include <algorithm>
#include <set>
#include <tuple>
#include <type_traits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/service/access/policy.h"
#include "server/service/access/reader.h"
#include "server/service/access/tokens.h"

namespace cohorte::service {

namespace {

template <typename T>
absl::string_view TypeNameOf() {
  if constexpr (std::is_same_v<T, storage::v1::TokenRecord>) {
    return v1::Token::descriptor()->full_name();
  } else if constexpr (std::is_same_v<T, storage::v1::WebhookRecord>) {
    return v1::Webhook::descriptor()->full_name();
  } else if constexpr (std::is_same_v<T, storage::v1::LinkRecord>) {
    return v1::Link::descriptor()->full_name();
  } else if constexpr (std::is_same_v<T, storage::v1::ReadMarkerRecord>) {
    return "";  // bookkeeping of the exchange service, not a resource
  } else if constexpr (std::is_same_v<T, storage::v1::UploadRecord>) {
    return "";  // an uploader's working state (a change per chunk), private
  } else {
    return T::descriptor()->full_name();
  }
}

template <typename... T>
absl::string_view TypeOfKind(uint32_t kind, std::tuple<T...>*) {
  absl::string_view type;
  auto match = [&](auto* entity) {
    using E = std::remove_pointer_t<decltype(entity)>;
    if (kind != static_cast<uint32_t>(storage::EntityTraits<E>::kKind)) {
      return false;
    }
    type = TypeNameOf<E>();
    return true;
  };
  (void)(match(static_cast<T*>(nullptr)) || ...);
  return type;
}

// The resource as the feed shows it: tokens and webhooks in their API
// form (never a hash or a secret).
template <typename T>
void PackShown(const T& entity, google::protobuf::Any* any) {
  if constexpr (std::is_same_v<T, storage::v1::TokenRecord>) {
    any->PackFrom(TokenToApi(entity));
  } else if constexpr (std::is_same_v<T, storage::v1::WebhookRecord>) {
    any->PackFrom(entity.webhook());
  } else if constexpr (std::is_same_v<T, storage::v1::LinkRecord>) {
    any->PackFrom(entity.link());
  } else {
    any->PackFrom(entity);
  }
}

void AddCohorts(const v1::Member& member, std::vector<std::string>* out) {
  for (const std::string& c : CohortsOfMember(member)) out->push_back(c);
}

}  // namespace

absl::string_view FeedTypeOfKind(uint32_t kind) {
  return TypeOfKind(kind, static_cast<storage::AllEntityTypes*>(nullptr));
}

bool FeedFilter::Selects(absl::string_view name, absl::string_view type,
                         const std::vector<std::string>& member_cohorts) const {
  if (!name_prefix.empty() && !absl::StartsWith(name, name_prefix)) {
    return false;
  }
  if (!types.empty() &&
      std::find(types.begin(), types.end(), type) == types.end()) {
    return false;
  }
  if (cohorts.empty()) return true;
  for (const std::string& c : cohorts) {
    if (name == c || (absl::StartsWith(name, c) && name.size() > c.size() &&
                      name[c.size()] == '/')) {
      return true;
    }
    if (std::find(member_cohorts.begin(), member_cohorts.end(), c) !=
        member_cohorts.end()) {
      return true;
    }
  }
  return false;
}

absl::StatusOr<std::shared_ptr<const LogSlice>> Reader::ReadLog(
    const storage::Store& store, int64_t from_revision, int max_records,
    int64_t upto) {
  upto = std::min(upto, store.revision());
  std::vector<storage::v1::ChangeRecord> records;
  if (upto >= from_revision) {
    const int limit = static_cast<int>(std::min<int64_t>(
        max_records, upto - std::max<int64_t>(from_revision, 1) + 1));
    COHORTE_ASSIGN_OR_RETURN(
        records,
        store.ReadChanges(storage::CommittedReadKey(), from_revision, limit));
  }
  std::shared_ptr<LogSlice> slice(new LogSlice());
  slice->first_ = records.empty() ? from_revision : records[0].revision();
  for (const storage::v1::ChangeRecord& r : records) {
    slice->bytes_ += r.ByteSizeLong() + sizeof(r);
    for (const storage::v1::Change& c : r.changes()) {
      if (c.entity_kind() ==
              static_cast<uint32_t>(storage::EntityKind::kMember) ||
          c.entity_kind() ==
              static_cast<uint32_t>(storage::EntityKind::kToken)) {
        slice->last_rights_change_ = r.revision();
      }
    }
  }
  slice->records_ = std::move(records);
  return std::shared_ptr<const LogSlice>(std::move(slice));
}

absl::Status Reader::PresentLog(const LogSlice& slice, const FeedFilter& filter,
                                int max_events, FeedPage* page) const {
  for (const storage::v1::ChangeRecord& record : slice.records_) {
    if (record.revision() <= page->reached) continue;
    if (max_events > 0 && static_cast<int>(page->events.size()) >= max_events) {
      break;
    }
    const size_t before = page->events.size();
    // A resource written several times by one mutation is one change: its
    // last write, created if its first write created it, replacing what
    // its first write replaced.
    absl::flat_hash_map<absl::string_view, std::pair<int, int>> span;
    for (int i = 0; i < record.changes_size(); ++i) {
      auto [it, fresh] =
          span.try_emplace(record.changes(i).resource_name(), i, i);
      if (!fresh) it->second.second = i;
    }
    for (int i = 0; i < record.changes_size(); ++i) {
      const auto [first, last] = span[record.changes(i).resource_name()];
      if (i != last) continue;
      const storage::v1::Change* change = &record.changes(i);
      storage::v1::Change merged;
      if (first != last) {
        const storage::v1::Change& earliest = record.changes(first);
        merged = *change;
        merged.set_created(earliest.created());
        if (earliest.has_previous()) {
          *merged.mutable_previous() = earliest.previous();
        } else {
          merged.clear_previous();
        }
        change = &merged;
      }
      COHORTE_RETURN_IF_ERROR(
          PresentFeedChangeOf(record, *change, filter, &page->events,
                              static_cast<storage::AllEntityTypes*>(nullptr)));
    }
    for (size_t i = before; i < page->events.size(); ++i) {
      // Resuming after an event inside a revision replays that revision's
      // earlier events: never skip one.
      page->events[i].mutable_cursor()->set_revision(
          i + 1 == page->events.size() ? record.revision()
                                       : record.revision() - 1);
    }
    page->reached = record.revision();
  }
  return absl::OkStatus();
}

template <typename... T>
absl::Status Reader::PresentFeedChangeOf(
    const storage::v1::ChangeRecord& record, const storage::v1::Change& change,
    const FeedFilter& filter, std::vector<v1::ChangeEvent>* out,
    std::tuple<T...>*) const {
  absl::Status status;
  auto match = [&](auto* entity) {
    using E = std::remove_pointer_t<decltype(entity)>;
    if (change.entity_kind() !=
        static_cast<uint32_t>(storage::EntityTraits<E>::kKind)) {
      return false;
    }
    status = PresentFeedChange<E>(record, change, filter, out);
    return true;
  };
  (void)(match(static_cast<T*>(nullptr)) || ...);
  return status;  // a kind without a type is never shown
}

template <typename T>
absl::Status Reader::PresentFeedChange(
    const storage::v1::ChangeRecord& record, const storage::v1::Change& change,
    const FeedFilter& filter, std::vector<v1::ChangeEvent>* out) const {
  const absl::string_view type = TypeNameOf<T>();
  if (type.empty()) return absl::OkStatus();
  const std::string& name = change.resource_name();
  const bool put = change.kind() == storage::v1::Change::PUT;
  if constexpr (!std::is_same_v<T, v1::Member>) {
    if (!filter.Selects(name, type, {})) return absl::OkStatus();
  }
  // Cheapest: scopes the name alone decides (the rules of these types
  // require as much): a group's exchanges and messages only to its
  // members, an inbox only to its owner.
  if (const size_t inbox = name.find("/inbox/");
      absl::StartsWith(name, "members/") && inbox != std::string::npos &&
      absl::string_view(name).substr(0, inbox) != caller_.member) {
    return absl::OkStatus();
  }
  if (const size_t exchanges = name.find("/exchanges/");
      exchanges != std::string::npos &&
      !InGroup(absl::string_view(name).substr(0, exchanges))) {
    return absl::OkStatus();
  }

  T previous;
  const bool has_previous =
      change.has_previous() && change.previous().UnpackTo(&previous);

  // Cheap first: a PUT whose logged and previous forms the caller may not
  // read (under their rights now) shows nothing: if the resource became
  // readable since, the change that made it so shows it. Only then is the
  // current form loaded. (Groups and members also tell of lost access.)
  if constexpr (!std::is_same_v<T, v1::PeerGroup> &&
                !std::is_same_v<T, v1::Member>) {
    if (put && !(has_previous && ReadRule<T>::MaySee(*this, name, previous))) {
      T logged;
      bool unpacked = false;
      if constexpr (std::is_same_v<T, storage::v1::WebhookRecord>) {
        // Logged in its API form: its rule reads that part only.
        unpacked = change.resource().UnpackTo(logged.mutable_webhook());
      } else if constexpr (std::is_same_v<T, storage::v1::LinkRecord>) {
        unpacked = change.resource().UnpackTo(logged.mutable_link());
      } else {
        unpacked = !std::is_same_v<T, storage::v1::TokenRecord> &&
                   change.resource().UnpackTo(&logged);
      }
      if (unpacked && !ReadRule<T>::MaySee(*this, name, logged)) {
        return absl::OkStatus();
      }
    }
  }

  T current;
  if (put) {
    absl::Status s = view_.GetEntity<T>(name, &current);
    // Deleted since: its DELETE comes later in the log.
    if (absl::IsNotFound(s)) return absl::OkStatus();
    COHORTE_RETURN_IF_ERROR(s);
  }
  std::vector<std::string> member_cohorts;
  if constexpr (std::is_same_v<T, v1::Member>) {
    if (put) AddCohorts(current, &member_cohorts);
    if (has_previous) AddCohorts(previous, &member_cohorts);
  }
  if (!filter.Selects(name, type, member_cohorts)) return absl::OkStatus();

  auto event = [&](v1::ChangeEvent::Type t,
                   v1::ChangeEvent::Reason reason) -> v1::ChangeEvent& {
    v1::ChangeEvent& e = out->emplace_back();
    e.set_revision(record.revision());
    *e.mutable_commit_time() = record.commit_time();
    e.set_type(t);
    e.set_reason(reason);
    e.set_resource_name(name);
    e.set_resource_type(std::string(type));
    return e;
  };

  if (!put) {
    // A tombstone only to whom could read what was deleted.
    if (has_previous && ReadRule<T>::MaySee(*this, name, previous)) {
      event(v1::ChangeEvent::DELETED, v1::ChangeEvent::RESOURCE_DELETED);
    }
    return absl::OkStatus();
  }

  if constexpr (std::is_same_v<T, v1::PeerGroup>) {
    // Removed from the group by this change: its content is gone for them.
    if (has_previous && IsGroupMember(caller_, previous) &&
        !IsGroupMember(caller_, current)) {
      event(v1::ChangeEvent::DELETED, v1::ChangeEvent::ACCESS_LOST);
    }
  }
  if constexpr (std::is_same_v<T, v1::Member>) {
    // The caller's own college or delegations changed: the college groups
    // they no longer read.
    if (has_previous && name == caller_.member && !caller_.service) {
      const Principal before = Principal::FromMember(previous, "");
      for (const std::string& cohort : CohortsOfMember(previous)) {
        absl::Status error;
        COHORTE_RETURN_IF_ERROR(view_.Scan(
            storage::Table::kEntities,
            storage::CollectionPrefixOf<v1::PeerGroup>(cohort, "groups"), "",
            [&](absl::string_view, absl::string_view value) {
              v1::PeerGroup group;
              error = storage::DecodeValue(value, &group);
              if (!error.ok()) return false;
              if (group.kind() == v1::PeerGroup::COLLEGE &&
                  IsGroupMember(before, group) &&
                  !IsGroupMember(caller_, group)) {
                v1::ChangeEvent& e = event(v1::ChangeEvent::DELETED,
                                           v1::ChangeEvent::ACCESS_LOST);
                e.set_resource_name(group.name());
                e.set_resource_type(v1::PeerGroup::descriptor()->full_name());
              }
              return true;
            }));
        COHORTE_RETURN_IF_ERROR(error);
      }
    }
  }

  if (ReadRule<T>::MaySee(*this, name, current)) {
    // New to the caller: created now, or readable from now on (a draft
    // published, a visibility raised, a group joined).
    const bool is_new =
        change.created() ||
        (has_previous && !ReadRule<T>::MaySee(*this, name, previous));
    v1::ChangeEvent& e =
        event(is_new ? v1::ChangeEvent::CREATED : v1::ChangeEvent::UPDATED,
              v1::ChangeEvent::REASON_UNSPECIFIED);
    PackShown(ReadRule<T>::Present(*this, std::move(current)),
              e.mutable_resource());
    return absl::OkStatus();
  }
  if (has_previous && ReadRule<T>::MaySee(*this, name, previous)) {
    event(v1::ChangeEvent::DELETED, v1::ChangeEvent::NO_LONGER_VISIBLE);
  }
  return absl::OkStatus();
}

}  // namespace cohorte::service
