#include "server/service/replication/replicator.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/service/access/principal.h"
#include "server/service/access/reader.h"
#include "server/service/core/entities.h"
#include "server/service/core/errors.h"
#include "server/service/records/record_store.h"
#include "server/service/replication/home_guard.h"
#include "storage/status_macros.h"

namespace cohorte::service {

namespace {

using storage::v1::LinkRecord;

// The types a link stores, the cohort first.
using Replicated = std::tuple<v1::Cohort, v1::Territory, v1::Chantier,
                              v1::PeerGroup, v1::Session, v1::ExperienceReport,
                              v1::Record, v1::RecordVersion>;

constexpr absl::string_view kReasonPeerProtocol = "PEER_PROTOCOL";
constexpr absl::string_view kReasonLinkStopped = "LINK_STOPPED";
// Contents a link's worker keeps partly received between attempts.
constexpr size_t kMaxPartialContents = 8;

absl::Status PeerProtocol(absl::string_view message) {
  return ErrorWithReason(absl::StatusCode::kInvalidArgument,
                         kReasonPeerProtocol, message);
}

// The followed cohort `name` is (or is under), or "".
absl::string_view FollowedCohortOf(const LinkRecord& link,
                                   absl::string_view name) {
  const absl::string_view cohort = CohortOf(name);
  for (const std::string& c : link.link().cohorts()) {
    if (c == cohort) return cohort;
  }
  return absl::string_view();
}

// Why `entity` may not be stored here, or "".
template <typename T>
std::string Refusal(const T&) {
  return "";
}
template <>
std::string Refusal(const v1::ExperienceReport& r) {
  if (r.visibility() == v1::GROUP) return "a report of GROUP visibility";
  if (r.state() == v1::ExperienceReport::DRAFT) return "a draft report";
  return "";
}
template <>
std::string Refusal(const v1::Record& r) {
  if (r.visibility() == v1::GROUP) return "a record of GROUP visibility";
  return "";
}

// Deletes stored resource `name` of type T, if stored: a version releases
// its content, a record takes its versions along. Adds to `*deleted`.
template <typename T>
absl::Status DeleteStored(storage::Txn& txn, absl::string_view name,
                          int64_t* deleted) {
  if constexpr (std::is_same_v<T, v1::RecordVersion>) {
    v1::RecordVersion v;
    absl::Status s = txn.GetEntity<v1::RecordVersion>(name, &v);
    if (absl::IsNotFound(s)) return absl::OkStatus();
    COHORTE_RETURN_IF_ERROR(s);
    COHORTE_RETURN_IF_ERROR(ReleaseVersionContent(txn, v));
  } else {
    COHORTE_ASSIGN_OR_RETURN(
        bool exists,
        txn.Exists(storage::Table::kEntities, storage::EntityKeyOf<T>(name)));
    if (!exists) return absl::OkStatus();
  }
  if constexpr (std::is_same_v<T, v1::Record>) {
    std::vector<std::string> versions;
    COHORTE_RETURN_IF_ERROR(txn.Scan(
        storage::Table::kEntities,
        storage::CollectionPrefixOf<v1::RecordVersion>(name, "versions"),
        [&](absl::string_view key, absl::string_view) {
          versions.emplace_back(storage::EntityNameFromKey(key));
          return true;
        }));
    for (const std::string& v : versions) {
      COHORTE_RETURN_IF_ERROR(DeleteStored<v1::RecordVersion>(txn, v, deleted));
    }
  }
  txn.DeleteEntity<T>(name);
  ++*deleted;
  return absl::OkStatus();
}

// Deletes every stored resource under `cohort` of the replicated types
// (not the cohort itself) that `keep` does not keep.
template <typename... T>
absl::Status DeleteUnder(storage::Txn& txn, absl::string_view cohort,
                         const std::function<bool(absl::string_view)>& keep,
                         int64_t* deleted, std::tuple<T...>*) {
  absl::Status status;
  auto one = [&](auto* type) {
    using E = std::remove_pointer_t<decltype(type)>;
    if constexpr (!std::is_same_v<E, v1::Cohort>) {
      std::vector<std::string> names;
      status = txn.Scan(storage::Table::kEntities,
                        storage::EntityKeyOf<E>(absl::StrCat(cohort, "/")),
                        [&](absl::string_view key, absl::string_view) {
                          std::string name(storage::EntityNameFromKey(key));
                          if (!keep(name)) names.push_back(std::move(name));
                          return true;
                        });
      for (size_t i = 0; status.ok() && i < names.size(); ++i) {
        status = DeleteStored<E>(txn, names[i], deleted);
      }
    }
    return status.ok();
  };
  (void)(one(static_cast<T*>(nullptr)) && ...);
  return status;
}

template <typename T>
absl::Status ApplyAs(storage::Txn& txn, const LinkRecord& link,
                     const v1::ChangeEvent& event, ApplyCounts* counts,
                     std::set<std::string>* seen,
                     const std::function<void(absl::string_view)>& refuse,
                     const IncomingContents& incoming, bool* matched) {
  if (*matched || event.resource_type() != T::descriptor()->full_name()) {
    return absl::OkStatus();
  }
  *matched = true;
  const std::string& name = event.resource_name();
  if (event.type() == v1::ChangeEvent::DELETED) {
    int64_t deleted = 0;
    if constexpr (std::is_same_v<T, v1::Cohort>) {
      COHORTE_RETURN_IF_ERROR(DeleteUnder(
          txn, name, [](absl::string_view) { return false; }, &deleted,
          static_cast<Replicated*>(nullptr)));
    }
    COHORTE_RETURN_IF_ERROR(DeleteStored<T>(txn, name, &deleted));
    counts->applied += deleted;
    return absl::OkStatus();
  }
  T entity;
  if (!event.resource().UnpackTo(&entity)) {
    return PeerProtocol(absl::StrCat("a change of ", CohortOf(name),
                                     " does not hold a ",
                                     event.resource_type().substr(0, 100)));
  }
  if (entity.name() != name) {
    return PeerProtocol(absl::StrCat("a change of ", CohortOf(name),
                                     " holds another resource than it names"));
  }
  std::string why = Refusal(entity);
  if constexpr (std::is_same_v<T, v1::RecordVersion>) {
    if (why.empty()) {
      COHORTE_ASSIGN_OR_RETURN(
          bool record,
          txn.Exists(storage::Table::kEntities,
                     storage::EntityKeyOf<v1::Record>(RecordNameOf(name))));
      if (!record) why = "a version of a record not here";
    }
  }
  if (!why.empty()) {
    refuse(
        absl::StrCat(event.resource_type(), " of ", CohortOf(name), ": ", why));
    ++counts->refused;
    // What may not be stored must not stay either.
    int64_t deleted = 0;
    return DeleteStored<T>(txn, name, &deleted);
  }
  if constexpr (std::is_same_v<T, v1::Cohort>) {
    v1::Home* home = entity.mutable_home();
    home->set_instance_id(link.link().peer_instance_id());
    home->set_instance_name(link.link().peer_instance_name());
    home->set_link(link.link().name());
  }
  if constexpr (std::is_same_v<T, v1::PeerGroup>) {
    // Who reads a group is for its members: never stored elsewhere.
    entity.clear_members();
    entity.clear_facilitators();
  }
  if constexpr (std::is_same_v<T, v1::RecordVersion>) {
    // A version is immutable: stored already, its content is referenced
    // already (a content that changed would be another version's).
    v1::RecordVersion before;
    absl::Status got = txn.GetEntity<v1::RecordVersion>(name, &before);
    if (!got.ok() && !absl::IsNotFound(got)) return got;
    if (!got.ok() || before.sha256() != entity.sha256()) {
      if (got.ok()) {
        int64_t deleted = 0;  // releases the content it named
        COHORTE_RETURN_IF_ERROR(DeleteStored<T>(txn, name, &deleted));
      }
      absl::Status referenced =
          ReferenceContent(txn, entity, incoming,
                           link.link().record_contents() == v1::Link::LAZY);
      if (absl::IsNotFound(referenced)) {
        refuse(absl::StrCat(event.resource_type(), " of ", CohortOf(name),
                            ": its content could not be copied"));
        ++counts->refused;
        return absl::OkStatus();
      }
      COHORTE_RETURN_IF_ERROR(referenced);
    }
  }
  if (seen != nullptr) seen->insert(name);
  txn.PutEntity(entity);
  ++counts->applied;
  return absl::OkStatus();
}

template <typename... T>
absl::Status ApplyAny(storage::Txn& txn, const LinkRecord& link,
                      const v1::ChangeEvent& event, ApplyCounts* counts,
                      std::set<std::string>* seen,
                      const std::function<void(absl::string_view)>& refuse,
                      const IncomingContents& incoming, bool* matched,
                      std::tuple<T...>*) {
  absl::Status status;
  (void)((status = ApplyAs<T>(txn, link, event, counts, seen, refuse, incoming,
                              matched),
          status.ok() && !*matched) &&
         ...);
  return status;
}

template <typename... T>
std::vector<std::string> TypeNames(std::tuple<T...>*) {
  return {std::string(T::descriptor()->full_name())...};
}

void StderrLog(absl::string_view level, absl::string_view fields) {
  const std::string line = absl::StrCat(
      "ts=",
      absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone()),
      " level=", level, " ", fields, "\n");
  std::fwrite(line.data(), 1, line.size(), stderr);
}

// A message for a log line: quoted, at most 300 bytes.
std::string Quoted(absl::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 300)) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c == '\n' ? ' ' : c);
  }
  out.push_back('"');
  return out;
}

int64_t RevisionOfToken(absl::string_view token) {
  const std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  int64_t revision = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[2], &revision)) return 0;
  return revision;
}

// The reader of the replication's own bookkeeping (links as stored).
Principal System() {
  Principal p;
  p.member = "links/-";
  p.role = v1::Member::ADMIN;
  return p;
}

// The stable reason and message of a failed attempt.
std::pair<std::string, std::string> Classify(const absl::Status& s) {
  const std::string reason = ErrorReason(s);
  std::string r;
  if (reason == kReasonNameConflict || reason == kReasonPeerProtocol ||
      reason == "PEER_INSTANCE_MISMATCH" ||
      reason == "PEER_PERMISSION_DENIED") {
    r = reason;
  } else if (absl::IsUnauthenticated(s)) {
    r = "PEER_UNAUTHENTICATED";
  } else if (absl::IsPermissionDenied(s)) {
    r = "PEER_PERMISSION_DENIED";
  } else if (absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) ||
             absl::IsCancelled(s)) {
    r = "PEER_UNAVAILABLE";
  } else if (absl::IsInvalidArgument(s) || absl::IsUnimplemented(s) ||
             absl::IsInternal(s) || absl::IsDataLoss(s) ||
             absl::IsOutOfRange(s) || absl::IsFailedPrecondition(s)) {
    r = std::string(kReasonPeerProtocol);
  } else {
    r = "STORE";
  }
  return {r, std::string(s.message().substr(0, 1000))};
}

}  // namespace

absl::Status DeleteReplica(storage::Txn& txn, absl::string_view cohort,
                           int64_t* deleted) {
  COHORTE_RETURN_IF_ERROR(DeleteUnder(
      txn, cohort, [](absl::string_view) { return false; }, deleted,
      static_cast<Replicated*>(nullptr)));
  txn.DeleteEntity<v1::Cohort>(cohort);
  ++*deleted;
  return absl::OkStatus();
}

absl::Status DeleteUnseen(storage::Txn& txn, absl::string_view cohort,
                          const std::set<std::string>& seen, int64_t* deleted) {
  return DeleteUnder(
      txn, cohort,
      [&](absl::string_view n) { return seen.count(std::string(n)) > 0; },
      deleted, static_cast<Replicated*>(nullptr));
}

absl::StatusOr<bool> Adoptable(const storage::View& view, const v1::Home& home,
                               const v1::Link& link) {
  if (home.link().empty() || home.link() == link.name()) return false;
  if (!link.peer_instance_id().empty() &&
      home.instance_id() != link.peer_instance_id()) {
    return false;
  }
  COHORTE_ASSIGN_OR_RETURN(
      bool exists, view.Exists(storage::Table::kEntities,
                               storage::EntityKeyOf<LinkRecord>(home.link())));
  return !exists;
}

const std::vector<std::string>& ReplicatedTypes() {
  static const auto* types = new std::vector<std::string>(
      TypeNames(static_cast<Replicated*>(nullptr)));
  return *types;
}

const IncomingContents& NoIncomingContents() {
  static const auto* none = new IncomingContents();
  return *none;
}

absl::Status ApplyChange(storage::Txn& txn, const LinkRecord& link,
                         const v1::ChangeEvent& event, ApplyCounts* counts,
                         std::set<std::string>* seen,
                         const std::function<void(absl::string_view)>& refuse,
                         const IncomingContents& incoming) {
  const std::string& name = event.resource_name();
  if (event.reason() == v1::ChangeEvent::ACCESS_LOST) {
    refuse(absl::StrCat("an ACCESS_LOST event of ", CohortOf(name),
                        " (a link reads no group's content)"));
    ++counts->refused;
    return absl::OkStatus();
  }
  const std::vector<std::string>& types = ReplicatedTypes();
  if (std::find(types.begin(), types.end(), event.resource_type()) ==
      types.end()) {
    refuse(absl::StrCat("a ", event.resource_type().substr(0, 100), " of ",
                        CohortOf(name), " (a type links do not follow)"));
    ++counts->refused;
    return absl::OkStatus();
  }
  const absl::string_view cohort = FollowedCohortOf(link, name);
  if (cohort.empty()) {
    refuse(absl::StrCat("a ", event.resource_type(), " of ",
                        CohortOf(name).substr(0, 100),
                        ", a cohort the link does not follow"));
    ++counts->refused;
    return absl::OkStatus();
  }
  absl::StatusOr<v1::Home> home = HomeOfCohort(txn, cohort);
  if (absl::IsNotFound(home.status())) {
    if (name != cohort) {
      refuse(absl::StrCat("a ", event.resource_type(), " of ", cohort,
                          ", a cohort not here (yet)"));
      ++counts->refused;
      return absl::OkStatus();
    }
  } else if (!home.ok()) {
    return home.status();
  } else if (home->link() != link.link().name()) {
    COHORTE_ASSIGN_OR_RETURN(bool adoptable,
                             Adoptable(txn, *home, link.link()));
    if (adoptable) {
      // Kept by a deleted link to the same instance: this link takes
      // them over.
      v1::Cohort c;
      COHORTE_RETURN_IF_ERROR(txn.GetEntity<v1::Cohort>(cohort, &c));
      c.mutable_home()->set_link(link.link().name());
      txn.PutEntity(c);
    } else {
      return ErrorWithReason(
          absl::StatusCode::kFailedPrecondition, kReasonNameConflict,
          absl::StrCat(cohort, " exists here already (",
                       home->link().empty()
                           ? std::string("made on this instance")
                           : absl::StrCat("followed by ", home->link()),
                       "): delete it here, or follow the peer's cohort with "
                       "another link"));
    }
  }
  bool matched = false;
  return ApplyAny(txn, link, event, counts, seen, refuse, incoming, &matched,
                  static_cast<Replicated*>(nullptr));
}

// ---- Workers ---------------------------------------------------------------

struct Replicator::Worker {
  std::string name;
  std::thread thread;
  absl::Mutex mu;
  bool stop ABSL_GUARDED_BY(mu) = false;
  // Set by Reconcile: reload the link now.
  bool wake ABSL_GUARDED_BY(mu) = false;
  PeerFeed* peer ABSL_GUARDED_BY(mu) = nullptr;
  // Contents a cut attempt left partly received, by SHA-256 (the worker's
  // thread only): resumed by the next attempt, settled when it ends.
  std::map<std::string, std::unique_ptr<IncomingContent>> partial;

  bool Stopping() {
    absl::MutexLock lock(&mu);
    return stop;
  }
  // Waits until `deadline`, a wake-up or a stop; clears the wake-up.
  void WaitUntil(absl::Time deadline) {
    absl::MutexLock lock(&mu);
    auto woken = [this]()
                     ABSL_SHARED_LOCKS_REQUIRED(mu) { return stop || wake; };
    mu.AwaitWithDeadline(absl::Condition(&woken), deadline);
    wake = false;
  }
  void Interrupt(bool stopping) {
    absl::MutexLock lock(&mu);
    if (stopping) stop = true;
    wake = true;
    if (peer != nullptr) peer->Cancel();
  }
};

Replicator::Replicator(storage::Store* store, PeerConnector connect,
                       ReplicationOptions options)
    : store_(store),
      connect_(std::move(connect)),
      options_(std::move(options)),
      intake_(*store) {}

Replicator::~Replicator() { Stop(); }

void Replicator::Log(absl::string_view level, absl::string_view fields) const {
  if (options_.log) {
    options_.log(level, fields);
  } else {
    StderrLog(level, fields);
  }
}

absl::StatusOr<LinkRecord> Replicator::Load(absl::string_view name) const {
  const Reader reader(*store_, System());
  return reader.Load<LinkRecord>(name);
}

absl::Status Replicator::Start() {
  const Reader reader(*store_, System());
  std::vector<std::string> names;
  COHORTE_RETURN_IF_ERROR(reader.ForEach<LinkRecord>(
      storage::EntityKeyOf<LinkRecord>("links/"), [&](const LinkRecord& l) {
        names.push_back(l.link().name());
        return true;
      }));
  absl::MutexLock lock(&mu_);
  if (started_ || stopping_) return absl::OkStatus();
  started_ = true;
  for (const std::string& n : names) StartWorker(n);
  return absl::OkStatus();
}

void Replicator::StartWorker(const std::string& name) {
  auto w = std::make_unique<Worker>();
  w->name = name;
  Worker* raw = w.get();
  workers_[name] = std::move(w);
  raw->thread = std::thread([this, raw] { Run(raw); });
}

void Replicator::Stop() {
  std::map<std::string, std::unique_ptr<Worker>> workers;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    workers.swap(workers_);
  }
  for (auto& [name, w] : workers) w->Interrupt(/*stopping=*/true);
  for (auto& [name, w] : workers) {
    if (w->thread.joinable()) w->thread.join();
  }
}

void Replicator::Reconcile(absl::string_view link) {
  std::unique_ptr<Worker> ended;
  {
    absl::MutexLock lock(&mu_);
    if (!started_ || stopping_) return;
    auto it = workers_.find(std::string(link));
    const bool exists = Load(link).ok();
    if (it == workers_.end()) {
      if (exists) StartWorker(std::string(link));
      return;
    }
    if (exists) {
      it->second->Interrupt(/*stopping=*/false);
      return;
    }
    ended = std::move(it->second);
    workers_.erase(it);
  }
  ended->Interrupt(/*stopping=*/true);
  if (ended->thread.joinable()) ended->thread.join();
}

void Replicator::Run(Worker* w) {
  struct Settle {
    Replicator* r;
    Worker* w;
    ~Settle() { r->SettlePartial(w); }
  } settle{this, w};
  absl::Duration backoff = options_.min_backoff;
  while (!w->Stopping()) {
    absl::StatusOr<LinkRecord> link = Load(w->name);
    if (!link.ok()) {
      if (absl::IsPermissionDenied(link.status()) ||
          absl::IsNotFound(link.status())) {
        return;  // deleted
      }
      w->WaitUntil(absl::Now() + backoff);
      continue;
    }
    const v1::Link& l = link->link();
    if (l.state() == v1::Link::PAUSED) {
      w->WaitUntil(absl::InfiniteFuture());
      continue;
    }
    if (l.state() == v1::Link::ERROR && l.has_next_retry_time()) {
      const absl::Time due =
          absl::FromUnixSeconds(l.next_retry_time().seconds());
      if (absl::Now() < due) {
        w->WaitUntil(due);
        continue;
      }
    }
    absl::Status s = Attempt(w, *link);
    if (w->Stopping()) return;
    if (s.ok() || ErrorReason(s) == kReasonLinkStopped) {
      backoff = options_.min_backoff;
      continue;
    }
    const std::string reason = ErrorReason(s);
    if (reason == kReasonCursorEpoch || reason == kReasonChangesCompacted) {
      Log("info", absl::StrCat("msg=link_resnapshot link=", w->name,
                               " cause=", reason));
      absl::Status cleared =
          CommitOnLink(w->name, [&](storage::Txn&, LinkRecord& rec) {
            rec.clear_cursor_token();
            rec.mutable_link()->set_state(v1::Link::SNAPSHOTTING);
            return absl::OkStatus();
          });
      if (cleared.ok()) continue;
      s = cleared;
    }
    auto [why, message] = Classify(s);
    const absl::Time retry_at = absl::Now() + backoff;
    Log("warn",
        absl::StrCat("msg=link_error link=", w->name, " reason=", why,
                     " code=", absl::StatusCodeToString(s.code()),
                     " retry_in_ms=", absl::ToInt64Milliseconds(backoff),
                     " error=", Quoted(message)));
    if (absl::Status recorded = RecordError(w->name, why, message, retry_at);
        !recorded.ok() && ErrorReason(recorded) != kReasonLinkStopped) {
      // The link's state on disk is stale until the next attempt.
      Log("warn",
          absl::StrCat("msg=link_error_not_recorded link=", w->name,
                       " code=", absl::StatusCodeToString(recorded.code())));
    }
    backoff = std::min(backoff * 2, options_.max_backoff);
    w->WaitUntil(retry_at);
  }
}

absl::Status Replicator::Attempt(Worker* w, const LinkRecord& link) {
  PeerConfig config;
  config.endpoint = link.link().endpoint();
  config.tls_ca_pem = link.link().tls_ca_pem();
  config.tls_client_cert_pem = link.link().tls_client_cert_pem();
  config.tls_client_key_pem = link.client_key_pem();
  config.token = link.token();
  if (!connect_) {
    return absl::UnavailableError("this server cannot reach other instances");
  }
  std::unique_ptr<PeerFeed> peer = connect_(config);
  {
    absl::MutexLock lock(&w->mu);
    if (w->stop) return absl::CancelledError("stopping");
    w->peer = peer.get();
    w->wake = false;
  }
  absl::Status s = CheckPeer(*peer, link);
  if (s.ok()) {
    s = link.cursor_token().empty() ? Snapshot(w, *peer, link)
                                    : Follow(w, *peer, link);
  }
  absl::MutexLock lock(&w->mu);
  w->peer = nullptr;
  return s;
}

absl::Status Replicator::CheckPeer(PeerFeed& peer, const LinkRecord& link) {
  COHORTE_ASSIGN_OR_RETURN(v1::Token token, peer.WhoAmI());
  if (token.kind() != v1::Token::SERVICE) {
    return ErrorWithReason(absl::StatusCode::kPermissionDenied,
                           "PEER_PERMISSION_DENIED",
                           "the link's token is not a SERVICE token of the "
                           "peer: a link acts as no member");
  }
  for (const std::string& c : link.link().cohorts()) {
    if (std::find(token.cohorts().begin(), token.cohorts().end(), c) ==
        token.cohorts().end()) {
      return ErrorWithReason(
          absl::StatusCode::kPermissionDenied, "PEER_PERMISSION_DENIED",
          absl::StrCat("the link's token does not reach ", c,
                       " on the peer: ask its administrator for a token "
                       "scoped to it"));
    }
  }
  return absl::OkStatus();
}

namespace {

// An error if `cursor` is not of the instance `link` registered; pins the
// id on first contact (`*pin`).
absl::Status CheckInstance(const LinkRecord& link, const v1::Cursor& cursor,
                           std::string* pin) {
  const std::string& expected = link.link().peer_instance_id();
  if (expected.empty()) {
    *pin = cursor.instance_id();
    return absl::OkStatus();
  }
  if (cursor.instance_id() == expected) return absl::OkStatus();
  return ErrorWithReason(
      absl::StatusCode::kFailedPrecondition, "PEER_INSTANCE_MISMATCH",
      absl::StrCat("the peer answers as instance ",
                   cursor.instance_id().substr(0, 64), ", not ", expected,
                   " as the link registered: another instance is at ",
                   link.link().endpoint()));
}

}  // namespace

absl::StatusOr<IncomingContents> Replicator::Receive(
    Worker* w, PeerFeed& peer, const LinkRecord& link,
    const google::protobuf::RepeatedPtrField<v1::ChangeEvent>& events) {
  std::vector<WantedContent> wanted;
  std::map<std::string, std::string> version_of;  // sha256 -> a version
  if (link.link().record_contents() == v1::Link::LAZY) {
    return IncomingContents();  // copied on a first download
  }
  for (const v1::ChangeEvent& e : events) {
    if (e.type() == v1::ChangeEvent::DELETED ||
        e.resource_type() != v1::RecordVersion::descriptor()->full_name() ||
        FollowedCohortOf(link, e.resource_name()).empty()) {
      continue;
    }
    v1::RecordVersion v;
    if (!e.resource().UnpackTo(&v) || v.name() != e.resource_name()) {
      continue;  // ApplyChange refuses the batch
    }
    if (v.size_bytes() < 1 || v.sha256().size() != 64) {
      return PeerProtocol(absl::StrCat("a record version of ",
                                       CohortOf(v.name()),
                                       " has no content's SHA-256 and size"));
    }
    if (version_of.emplace(v.sha256(), v.name()).second) {
      wanted.push_back({v.sha256(), v.size_bytes()});
    }
  }
  if (wanted.empty()) return IncomingContents();
  const std::string& name = link.link().name();
  // What a cut attempt left partly received is resumed, not begun again.
  IncomingContents incoming;
  std::vector<WantedContent> fresh;
  for (const WantedContent& c : wanted) {
    auto it = w->partial.find(c.sha256);
    if (it == w->partial.end()) {
      fresh.push_back(c);
    } else {
      incoming.push_back(std::move(it->second));
      w->partial.erase(it);
    }
  }
  absl::StatusOr<IncomingContents> begun = intake_.Begin(name, fresh);
  if (!begun.ok()) {
    for (auto& c : incoming) w->partial[c->sha256()] = std::move(c);
    return begun.status();
  }
  for (auto& c : *begun) incoming.push_back(std::move(c));
  absl::Status failed;
  for (auto it = incoming.begin(); it != incoming.end();) {
    IncomingContent& c = **it;
    const std::string& version = version_of[c.sha256()];
    const int64_t from = c.received();
    absl::Status read = peer.ReadRecordVersion(
        version, from, [&](absl::string_view data) { return c.Append(data); });
    if (read.ok()) read = c.Finish();
    if (ErrorReason(read) == kReasonContentMismatch) {
      failed =
          PeerProtocol(absl::StrCat("the peer's content of a version of ",
                                    CohortOf(version), ": ", read.message()));
      break;
    }
    if (absl::IsNotFound(read) || absl::IsPermissionDenied(read)) {
      ++it;  // not finished: the version is refused
      continue;
    }
    if (!read.ok()) {
      // Kept for the next attempt, from what the blob durably holds.
      failed = read;
      c.Rewind();
      Log("info", absl::StrCat("msg=link_content_cut link=", name, " received=",
                               c.received(), " bytes=", c.size()));
      if (w->partial.size() >= kMaxPartialContents) {
        IncomingContents dropped;
        for (auto& [sha, p] : w->partial) dropped.push_back(std::move(p));
        w->partial.clear();
        intake_.Settle(name, dropped).IgnoreError();  // or at the next start
      }
      w->partial[c.sha256()] = std::move(*it);
      it = incoming.erase(it);
      break;
    }
    Log("info", absl::StrCat("msg=link_content_copied link=", name,
                             " bytes=", c.size(), " resumed_from=", from));
    ++it;
  }
  if (!failed.ok()) {
    intake_.Settle(name, incoming).IgnoreError();  // or at the next start
    return failed;
  }
  return incoming;
}

void Replicator::SettlePartial(Worker* w) {
  if (w->partial.empty()) return;
  IncomingContents dropped;
  for (auto& [sha, p] : w->partial) dropped.push_back(std::move(p));
  w->partial.clear();
  intake_.Settle(w->name, dropped).IgnoreError();  // or at the next start
}

absl::Status Replicator::FetchContent(const v1::RecordVersion& version) {
  auto at_home = [&](absl::string_view why) {
    return ErrorWithReason(
        absl::StatusCode::kUnavailable, kReasonContentAtHome,
        absl::StrCat("the content of ", version.name(),
                     " is still at its home instance and cannot be copied "
                     "now (",
                     why, "); try again later"));
  };
  const Reader reader(*store_, System());
  absl::StatusOr<v1::Cohort> cohort =
      reader.Load<v1::Cohort>(CohortOf(version.name()));
  if (!cohort.ok()) return at_home("its cohort is not here");
  absl::StatusOr<LinkRecord> link = Load(cohort->home().link());
  if (!link.ok()) return at_home("no link follows its cohort now");
  if (link->link().state() == v1::Link::PAUSED) {
    return at_home("the link is paused");
  }
  if (!connect_) return at_home("this server cannot reach other instances");
  PeerConfig config;
  config.endpoint = link->link().endpoint();
  config.tls_ca_pem = link->link().tls_ca_pem();
  config.tls_client_cert_pem = link->link().tls_client_cert_pem();
  config.tls_client_key_pem = link->client_key_pem();
  config.token = link->token();
  std::unique_ptr<PeerFeed> peer = connect_(config);
  const std::string& name = link->link().name();
  COHORTE_ASSIGN_OR_RETURN(
      IncomingContents incoming,
      intake_.Begin(name, {{version.sha256(), version.size_bytes()}}));
  if (incoming.empty()) return absl::OkStatus();  // copied meanwhile
  IncomingContent& c = *incoming[0];
  absl::Status read = peer->ReadRecordVersion(
      version.name(), 0,
      [&](absl::string_view data) { return c.Append(data); });
  if (read.ok()) read = c.Finish();
  absl::Status done;
  if (ErrorReason(read) == kReasonContentMismatch) {
    done = at_home("the home instance sent other bytes than its SHA-256");
  } else if (!read.ok()) {
    done = at_home(absl::StrCat("the peer answers ",
                                absl::StatusCodeToString(read.code()), ": ",
                                read.message().substr(0, 300)));
  } else {
    storage::Mutation m;
    m.actor = name;
    m.method = "ReceiveRecordContents";
    m.replicated = true;
    m.apply = [&](storage::Txn& txn) -> absl::StatusOr<std::string> {
      COHORTE_RETURN_IF_ERROR(FillContent(txn, version, incoming).status());
      return std::string();
    };
    done = store_->Commit(std::move(m)).status();
  }
  const absl::Status settled = intake_.Settle(name, incoming);
  Log(done.ok() ? "info" : "warn",
      absl::StrCat("msg=link_content_fetched link=", name,
                   " bytes=", c.received(),
                   " code=", absl::StatusCodeToString(done.code())));
  COHORTE_RETURN_IF_ERROR(done);
  return settled;
}

absl::Status Replicator::Snapshot(Worker* w, PeerFeed& peer,
                                  const LinkRecord& link) {
  const std::string& name = link.link().name();
  v1::ListSnapshotRequest request;
  for (const std::string& c : link.link().cohorts()) {
    request.mutable_filter()->add_cohorts(c);
  }
  for (const std::string& t : ReplicatedTypes()) {
    request.mutable_filter()->add_resource_types(t);
  }
  request.set_page_size(options_.snapshot_page_size);
  std::set<std::string> seen;
  std::string cursor;
  int64_t pages = 0;
  const absl::Time started = absl::Now();
  Log("info", absl::StrCat("msg=link_snapshot_start link=", name));
  while (true) {
    if (w->Stopping()) return absl::CancelledError("stopping");
    COHORTE_ASSIGN_OR_RETURN(v1::ListSnapshotResponse page,
                             peer.ListSnapshot(request));
    std::string pin;
    COHORTE_RETURN_IF_ERROR(CheckInstance(link, page.cursor(), &pin));
    if (cursor.empty()) {
      cursor = page.cursor().token();
    } else if (page.cursor().token() != cursor) {
      return PeerProtocol("the peer's snapshot pages do not agree on cursor");
    }
    COHORTE_ASSIGN_OR_RETURN(IncomingContents incoming,
                             Receive(w, peer, link, page.events()));
    absl::Status committed = CommitOnLink(name, [&](storage::Txn& txn,
                                                    LinkRecord& rec) {
      v1::Link& l = *rec.mutable_link();
      if (!pin.empty()) l.set_peer_instance_id(pin);
      l.set_peer_instance_name(page.instance_name());
      l.set_state(v1::Link::SNAPSHOTTING);
      ApplyCounts counts;
      for (const v1::ChangeEvent& e : page.events()) {
        COHORTE_RETURN_IF_ERROR(ApplyChange(
            txn, rec, e, &counts, &seen,
            [&](absl::string_view why) {
              Log("warn", absl::StrCat("msg=replication_refused link=", name,
                                       " what=", Quoted(why)));
            },
            incoming));
      }
      l.set_applied_changes(l.applied_changes() + counts.applied);
      l.set_refused_changes(l.refused_changes() + counts.refused);
      if (counts.applied > 0) {
        *l.mutable_last_applied_time() = ToTimestamp(txn.commit_time());
      }
      return absl::OkStatus();
    });
    const absl::Status settled = intake_.Settle(name, incoming);
    COHORTE_RETURN_IF_ERROR(committed);
    COHORTE_RETURN_IF_ERROR(settled);
    ++pages;
    if (page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  // What the home no longer has, or no longer shows this link, goes.
  int64_t swept = 0;
  COHORTE_RETURN_IF_ERROR(CommitOnLink(name, [&](storage::Txn& txn,
                                                 LinkRecord& rec) {
    auto keep = [&](absl::string_view n) {
      return seen.count(std::string(n)) > 0;
    };
    for (const std::string& c : rec.link().cohorts()) {
      absl::StatusOr<v1::Home> home = HomeOfCohort(txn, c);
      if (absl::IsNotFound(home.status())) continue;
      COHORTE_RETURN_IF_ERROR(home.status());
      if (home->link() != rec.link().name()) continue;
      const bool cohort_seen = keep(c);
      COHORTE_RETURN_IF_ERROR(DeleteUnder(
          txn, c, [&](absl::string_view n) { return cohort_seen && keep(n); },
          &swept, static_cast<Replicated*>(nullptr)));
      if (!cohort_seen) {
        txn.DeleteEntity<v1::Cohort>(c);
        ++swept;
      }
    }
    v1::Link& l = *rec.mutable_link();
    rec.set_cursor_token(cursor);
    l.mutable_cursor()->set_token(cursor);
    l.mutable_cursor()->set_instance_id(l.peer_instance_id());
    l.mutable_cursor()->set_revision(RevisionOfToken(cursor));
    l.set_applied_changes(l.applied_changes() + swept);
    l.set_state(v1::Link::FOLLOWING);
    l.clear_error_reason();
    l.clear_error_message();
    l.clear_next_retry_time();
    return absl::OkStatus();
  }));
  Log("info",
      absl::StrCat("msg=link_snapshot_done link=", name, " resources=",
                   seen.size(), " pages=", pages, " swept=", swept,
                   " ms=", absl::ToInt64Milliseconds(absl::Now() - started)));
  return absl::OkStatus();
}

absl::Status Replicator::Follow(Worker* w, PeerFeed& peer,
                                const LinkRecord& link) {
  const std::string& name = link.link().name();
  v1::WatchRequest request;
  request.set_since(link.cursor_token());
  for (const std::string& c : link.link().cohorts()) {
    request.mutable_filter()->add_cohorts(c);
  }
  for (const std::string& t : ReplicatedTypes()) {
    request.mutable_filter()->add_resource_types(t);
  }
  absl::Status failed;
  std::string stored = link.cursor_token();
  absl::Time last_persist = absl::Now();
  bool first = true;
  absl::Status ended = peer.Watch(request, [&](const v1::WatchResponse& r) {
    if (w->Stopping()) return false;
    std::string pin;
    failed = CheckInstance(link, r.cursor(), &pin);
    if (!failed.ok()) return false;
    const bool idle = r.events().empty();
    if (idle && r.cursor().token() == stored) {
      if (first) {
        first = false;
        // Connected and caught up: say so once.
        failed = CommitOnLink(name, [&](storage::Txn&, LinkRecord& rec) {
          v1::Link& l = *rec.mutable_link();
          if (l.state() == v1::Link::FOLLOWING && l.error_reason().empty()) {
            return absl::OkStatus();
          }
          l.set_state(v1::Link::FOLLOWING);
          l.clear_error_reason();
          l.clear_error_message();
          l.clear_next_retry_time();
          return absl::OkStatus();
        });
        return failed.ok();
      }
      return true;
    }
    first = false;
    if (idle && absl::Now() - last_persist < options_.idle_persist_interval) {
      return true;
    }
    absl::StatusOr<IncomingContents> incoming =
        Receive(w, peer, link, r.events());
    if (!incoming.ok()) {
      failed = incoming.status();
      return false;
    }
    failed = CommitOnLink(name, [&](storage::Txn& txn, LinkRecord& rec) {
      v1::Link& l = *rec.mutable_link();
      ApplyCounts counts;
      absl::Time newest = absl::InfinitePast();
      for (const v1::ChangeEvent& e : r.events()) {
        COHORTE_RETURN_IF_ERROR(ApplyChange(
            txn, rec, e, &counts, nullptr,
            [&](absl::string_view why) {
              Log("warn", absl::StrCat("msg=replication_refused link=", name,
                                       " what=", Quoted(why)));
            },
            *incoming));
        newest = std::max(
            newest, absl::FromUnixNanos(e.commit_time().seconds() * 1000000000 +
                                        e.commit_time().nanos()));
      }
      rec.set_cursor_token(r.cursor().token());
      *l.mutable_cursor() = r.cursor();
      l.set_state(v1::Link::FOLLOWING);
      l.clear_error_reason();
      l.clear_error_message();
      l.clear_next_retry_time();
      l.set_lag_revisions(0);
      l.set_lag_seconds(newest == absl::InfinitePast()
                            ? 0
                            : std::max(0.0, absl::ToDoubleSeconds(
                                                txn.commit_time() - newest)));
      l.set_applied_changes(l.applied_changes() + counts.applied);
      l.set_refused_changes(l.refused_changes() + counts.refused);
      if (counts.applied > 0) {
        *l.mutable_last_applied_time() = ToTimestamp(txn.commit_time());
      }
      return absl::OkStatus();
    });
    const absl::Status settled = intake_.Settle(name, *incoming);
    if (failed.ok()) failed = settled;
    if (!failed.ok()) return false;
    stored = r.cursor().token();
    last_persist = absl::Now();
    return true;
  });
  if (!failed.ok()) return failed;
  if (w->Stopping()) return absl::CancelledError("stopping");
  return ended;
}

absl::Status Replicator::CommitOnLink(
    absl::string_view name,
    const std::function<absl::Status(storage::Txn&, LinkRecord&)>& apply) {
  storage::Mutation m;
  m.actor = std::string(name);
  m.method = "ReplicateChanges";
  m.replicated = true;
  m.apply = [&](storage::Txn& txn) -> absl::StatusOr<std::string> {
    LinkRecord rec;
    absl::Status s = txn.GetEntity<LinkRecord>(name, &rec);
    if (absl::IsNotFound(s) ||
        (s.ok() && rec.link().state() == v1::Link::PAUSED)) {
      return ErrorWithReason(absl::StatusCode::kAborted, kReasonLinkStopped,
                             absl::StrCat(name, " was deleted or paused"));
    }
    COHORTE_RETURN_IF_ERROR(s);
    COHORTE_RETURN_IF_ERROR(apply(txn, rec));
    v1::Link& l = *rec.mutable_link();
    *l.mutable_update_time() = ToTimestamp(txn.commit_time());
    l.set_etag(NextEtag(l.etag()));
    txn.PutEntity(l.name(), rec, l);
    return std::string();
  };
  return store_->Commit(std::move(m)).status();
}

absl::Status Replicator::RecordError(absl::string_view name,
                                     absl::string_view reason,
                                     absl::string_view message,
                                     absl::Time retry_at) {
  return CommitOnLink(name, [&](storage::Txn&, LinkRecord& rec) {
    v1::Link& l = *rec.mutable_link();
    l.set_state(v1::Link::ERROR);
    l.set_error_reason(std::string(reason));
    l.set_error_message(std::string(message));
    *l.mutable_next_retry_time() = ToTimestamp(retry_at);
    return absl::OkStatus();
  });
}

}  // namespace cohorte::service
