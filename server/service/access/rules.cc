// The read rules of every stored type (rules.h), and the Reader's dispatch
// by resource name.
#include "server/service/access/rules.h"

#include <algorithm>
#include <tuple>
#include <type_traits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/service/access/policy.h"
#include "server/service/access/reader.h"

namespace cohorte::service {
namespace {

// Every stored type has a rule: a type added to storage::AllEntityTypes
// without one fails here (ReadRule<T> would be incomplete).
template <typename... T>
constexpr bool AllHaveRules(std::tuple<T...>*) {
  return ((sizeof(ReadRule<T>) > 0) && ...);
}
static_assert(AllHaveRules(static_cast<storage::AllEntityTypes*>(nullptr)),
              "every stored type needs a ReadRule");

bool Contains(const google::protobuf::RepeatedPtrField<std::string>& list,
              absl::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// `cohorts/{c}/groups/{g}` of a name under a group.
absl::string_view GroupOf(absl::string_view name) {
  const size_t at = name.find("/exchanges/");
  return at == absl::string_view::npos ? name : name.substr(0, at);
}

bool AdminOrParticipant(const Principal& p, absl::string_view name) {
  return p.is_admin() || ParticipatesIn(p, CohortOf(name));
}

// Whether `p` (authenticated) sees what is stored as `name` with
// `visibility` (a published report, a record): GROUP to its group's
// members (`in_group`), COHORT to the administrator and the cohort's
// participants, NETWORK and PUBLIC to everyone.
bool SeenByVisibility(const Principal& p, absl::string_view name,
                      v1::Visibility visibility, bool in_group) {
  switch (visibility) {
    case v1::GROUP:
      return in_group;
    case v1::COHORT:
      return AdminOrParticipant(p, name);
    case v1::NETWORK:
    case v1::PUBLIC:
      return true;
    default:
      return false;
  }
}

// Drops from `records` the links to records the reader may not read (made
// narrower or purged since they were linked): a link shows only what its
// reader may open.
void KeepReadableRecords(
    const Reader& r, google::protobuf::RepeatedPtrField<std::string>* records) {
  records->erase(std::remove_if(records->begin(), records->end(),
                                [&](const std::string& name) {
                                  return !r.Load<v1::Record>(name).ok();
                                }),
                 records->end());
}

}  // namespace

// ---- Structure -------------------------------------------------------------

bool ReadRule<v1::Cohort>::MaySee(const Reader& r, absl::string_view,
                                  const v1::Cohort&) {
  return r.caller().authenticated();
}
v1::Cohort ReadRule<v1::Cohort>::Present(const Reader&, v1::Cohort c) {
  return c;
}

bool ReadRule<v1::Member>::MaySee(const Reader& r, absl::string_view,
                                  const v1::Member& m) {
  const Principal& p = r.caller();
  if (!p.authenticated()) return false;
  if (p.is_admin() || (!p.service && p.member == m.name())) return true;
  for (const std::string& c : CohortsOfMember(m)) {
    if (ParticipatesIn(p, c)) return true;
  }
  return false;
}
v1::Member ReadRule<v1::Member>::Present(const Reader& r, v1::Member m) {
  return RedactMember(r.caller(), std::move(m));
}

bool ReadRule<storage::v1::TokenRecord>::MaySee(
    const Reader& r, absl::string_view name,
    const storage::v1::TokenRecord& t) {
  const Principal& p = r.caller();
  if (p.is_admin()) return true;
  // A service token reads itself (its scope: `whoami` for an integration).
  if (p.service) return p.token == name;
  // A member's own personal tokens (kind 0 or 1 is PERSONAL).
  return !p.service && !p.member.empty() && t.member() == p.member &&
         t.kind() <= 1;
}
storage::v1::TokenRecord ReadRule<storage::v1::TokenRecord>::Present(
    const Reader&, storage::v1::TokenRecord t) {
  t.clear_secret_hash();
  return t;
}

bool ReadRule<v1::Territory>::MaySee(const Reader& r, absl::string_view name,
                                     const v1::Territory&) {
  return AdminOrParticipant(r.caller(), name);
}
v1::Territory ReadRule<v1::Territory>::Present(const Reader&, v1::Territory t) {
  return t;
}

bool ReadRule<v1::Chantier>::MaySee(const Reader& r, absl::string_view name,
                                    const v1::Chantier&) {
  return AdminOrParticipant(r.caller(), name);
}
v1::Chantier ReadRule<v1::Chantier>::Present(const Reader&, v1::Chantier c) {
  return c;
}

// A group's metadata: admin and the cohort's participants; its member list
// only to its members.
bool ReadRule<v1::PeerGroup>::MaySee(const Reader& r, absl::string_view name,
                                     const v1::PeerGroup&) {
  return AdminOrParticipant(r.caller(), name);
}
v1::PeerGroup ReadRule<v1::PeerGroup>::Present(const Reader& r,
                                               v1::PeerGroup g) {
  return RedactGroup(r.caller(), std::move(g));
}

// ---- Identity --------------------------------------------------------------

bool ReadRule<v1::Invitation>::MaySee(const Reader& r, absl::string_view name,
                                      const v1::Invitation& i) {
  const Principal& p = r.caller();
  if (p.is_admin()) return true;
  return i.role() != v1::Member::COORDINATOR && Coordinates(p, CohortOf(name));
}
v1::Invitation ReadRule<v1::Invitation>::Present(const Reader&,
                                                 v1::Invitation i) {
  return i;
}

// An audit event: the administrator, and the coordinators of a cohort it
// touches; each resource in it only if the reader may read it (by its own
// rule, now), and an event left with nothing the reader may read is not
// shown at all: a closed group's moderation shows nothing outside it.
bool ReadRule<v1::AuditEvent>::MaySee(const Reader& r, absl::string_view,
                                      const v1::AuditEvent& e) {
  const Principal& p = r.caller();
  bool reader = p.is_admin();
  for (const std::string& c : e.cohorts()) reader = reader || Coordinates(p, c);
  if (!reader) return false;
  if (e.changes().empty()) return true;
  return Present(r, e).changes_size() > 0;
}

namespace {

// Whether the reader may see `any` (a resource named `name`) by the rule
// of its type, and presents it in place.
template <typename T>
bool PresentAnyAs(const Reader& r, absl::string_view name,
                  google::protobuf::Any* any, bool* matched) {
  if (*matched || !any->Is<T>()) return true;
  *matched = true;
  T entity;
  if (!any->UnpackTo(&entity)) return false;
  absl::StatusOr<T> shown = r.Present(name, std::move(entity));
  if (!shown.ok()) return false;
  any->PackFrom(*shown);
  return true;
}

template <typename... T>
bool PresentAny(const Reader& r, absl::string_view name,
                google::protobuf::Any* any, std::tuple<T...>*) {
  bool matched = false;
  bool ok = (PresentAnyAs<T>(r, name, any, &matched) && ...);
  if (matched) return ok;
  // The logged form of a token (cohorte.v1.Token, without any secret or
  // hash): shown to whoever reads the event, so that a cohort's
  // coordinators see a token minted for one of its members.
  if (any->Is<v1::Token>()) return true;
  // The logged form of a link (cohorte.v1.Link, without its token), by
  // the link's rule.
  if (any->Is<v1::Link>()) {
    storage::v1::LinkRecord record;
    if (!any->UnpackTo(record.mutable_link())) return false;
    return r.MaySee(name, record);
  }
  // The logged form of a webhook (cohorte.v1.Webhook, without its secret),
  // by the webhook's rule.
  if (any->Is<v1::Webhook>()) {
    storage::v1::WebhookRecord record;
    if (!any->UnpackTo(record.mutable_webhook())) return false;
    return r.MaySee(name, record);
  }
  return false;  // a type without a rule is never shown
}

}  // namespace

v1::AuditEvent ReadRule<v1::AuditEvent>::Present(const Reader& r,
                                                 v1::AuditEvent e) {
  v1::AuditEvent out = e;
  out.clear_changes();
  for (v1::AuditEvent::ResourceChange& c : *e.mutable_changes()) {
    // Each side through the rule of its type: a member who moved out of the
    // reader's cohort shows as they were, not as they are.
    bool visible = false;
    if (c.has_before()) {
      if (PresentAny(r, c.resource(), c.mutable_before(),
                     static_cast<storage::AllEntityTypes*>(nullptr))) {
        visible = true;
      } else {
        c.clear_before();
      }
    }
    if (c.has_after()) {
      if (PresentAny(r, c.resource(), c.mutable_after(),
                     static_cast<storage::AllEntityTypes*>(nullptr))) {
        visible = true;
      } else {
        c.clear_after();
      }
    }
    if (!c.has_before() && !c.has_after() && !visible) {
      visible = r.MayRead(c.resource()).ok();
    }
    if (visible) *out.add_changes() = std::move(c);
  }
  // The global revision says how many writes happened in between, seen or
  // not: only the administrator gets it.
  if (!r.caller().is_admin()) out.clear_revision();
  return out;
}

// ---- Content ---------------------------------------------------------------

bool ReadRule<v1::Exchange>::MaySee(const Reader& r, absl::string_view name,
                                    const v1::Exchange&) {
  return r.InGroup(GroupOf(name));
}
v1::Exchange ReadRule<v1::Exchange>::Present(const Reader&, v1::Exchange e) {
  return e;
}

bool ReadRule<v1::Message>::MaySee(const Reader& r, absl::string_view name,
                                   const v1::Message&) {
  return r.InGroup(GroupOf(name));
}
// A deleted or hidden message keeps its place in the thread, without its
// text. An edit replaces the text: the previous bodies are shown only to
// the message's author and the group's facilitators (who moderate it);
// other members see that it was edited, by whom and when.
v1::Message ReadRule<v1::Message>::Present(const Reader& r, v1::Message m) {
  if (m.has_delete_time() || m.hidden()) {
    m.clear_body();
    m.clear_edits();
    m.clear_attachments();
    return m;
  }
  KeepReadableRecords(r, m.mutable_attachments());
  const std::string& me = r.caller().member;
  if (m.edits().empty() || (!me.empty() && m.author() == me)) return m;
  const v1::PeerGroup* group = r.Group(GroupOf(m.name()));
  if (group != nullptr && !me.empty() && Contains(group->facilitators(), me)) {
    return m;
  }
  for (v1::Message::Edit& edit : *m.mutable_edits()) edit.clear_previous_body();
  return m;
}

bool ReadRule<storage::v1::ReadMarkerRecord>::MaySee(
    const Reader& r, absl::string_view name,
    const storage::v1::ReadMarkerRecord&) {
  const Principal& p = r.caller();
  return !p.service && !p.member.empty() &&
         absl::StartsWith(name, absl::StrCat(p.member, std::string(1, '\0')));
}
storage::v1::ReadMarkerRecord ReadRule<storage::v1::ReadMarkerRecord>::Present(
    const Reader&, storage::v1::ReadMarkerRecord m) {
  return m;
}

// A draft: its authors only. Published or archived: by visibility.
bool ReadRule<v1::ExperienceReport>::MaySee(const Reader& r,
                                            absl::string_view name,
                                            const v1::ExperienceReport& rep) {
  const Principal& p = r.caller();
  if (!p.authenticated()) return false;
  if (rep.state() == v1::ExperienceReport::DRAFT) {
    return !p.service && !p.member.empty() && Contains(rep.authors(), p.member);
  }
  return SeenByVisibility(
      p, name, rep.visibility(),
      rep.visibility() == v1::GROUP && r.InGroup(rep.group()));
}
v1::ExperienceReport ReadRule<v1::ExperienceReport>::Present(
    const Reader& r, v1::ExperienceReport rep) {
  KeepReadableRecords(r, rep.mutable_records());
  if (rep.hidden()) {
    rep.clear_context();
    rep.clear_actions();
    rep.clear_results();
    rep.clear_what_worked();
    rep.clear_what_failed();
    rep.clear_lessons();
  }
  return rep;
}

// A flag: its reporter, and who moderates its target (who may read the
// target and facilitates its group, or coordinates the cohort).
bool ReadRule<v1::ContentFlag>::MaySee(const Reader& r, absl::string_view,
                                       const v1::ContentFlag& f) {
  const Principal& p = r.caller();
  if (p.service || p.member.empty()) return false;
  if (!r.MayRead(f.target()).ok()) return false;
  if (f.reporter() == p.member) return true;
  if (Coordinates(p, CohortOf(f.target()))) return true;
  absl::string_view group;
  if (absl::StrContains(f.target(), "/exchanges/")) {
    group = GroupOf(f.target());
  } else {
    absl::StatusOr<v1::ExperienceReport> rep =
        r.Load<v1::ExperienceReport>(f.target());
    if (!rep.ok() || rep->visibility() != v1::GROUP) return false;
    const v1::PeerGroup* g = r.Group(rep->group());
    return g != nullptr && Contains(g->facilitators(), p.member);
  }
  const v1::PeerGroup* g = r.Group(group);
  return g != nullptr && Contains(g->facilitators(), p.member);
}
v1::ContentFlag ReadRule<v1::ContentFlag>::Present(const Reader&,
                                                   v1::ContentFlag f) {
  return f;
}

// ---- Shared records --------------------------------------------------------

namespace {

// `cohorts/{c}/records/{r}` of a name under a record.
absl::string_view RecordOf(absl::string_view name) {
  for (absl::string_view sep : {"/versions/", "/uploads/"}) {
    const size_t at = name.find(sep);
    if (at != absl::string_view::npos) return name.substr(0, at);
  }
  return name;
}

}  // namespace

// A record: by its visibility, as a published report (a GROUP record, the
// group's members only); deleted ones alike, until purged.
bool ReadRule<v1::Record>::MaySee(const Reader& r, absl::string_view name,
                                  const v1::Record& rec) {
  const Principal& p = r.caller();
  if (!p.authenticated()) return false;
  return SeenByVisibility(
      p, name, rec.visibility(),
      rec.visibility() == v1::GROUP && r.InGroup(rec.group()));
}
v1::Record ReadRule<v1::Record>::Present(const Reader& r, v1::Record rec) {
  if (rec.has_latest()) {
    rec.set_allocated_latest(
        new v1::RecordVersion(ReadRule<v1::RecordVersion>::Present(
            r, std::move(*rec.mutable_latest()))));
  }
  return rec;
}

// A version: whoever may read its record.
bool ReadRule<v1::RecordVersion>::MaySee(const Reader& r,
                                         absl::string_view name,
                                         const v1::RecordVersion&) {
  return r.Load<v1::Record>(RecordOf(name)).ok();
}
v1::RecordVersion ReadRule<v1::RecordVersion>::Present(const Reader&,
                                                       v1::RecordVersion v) {
  return v;
}

// An upload session: its uploader, while they may read the record.
bool ReadRule<storage::v1::UploadRecord>::MaySee(
    const Reader& r, absl::string_view name,
    const storage::v1::UploadRecord& u) {
  const Principal& p = r.caller();
  return !p.service && !p.member.empty() && u.upload().uploader() == p.member &&
         r.Load<v1::Record>(RecordOf(name)).ok();
}
storage::v1::UploadRecord ReadRule<storage::v1::UploadRecord>::Present(
    const Reader&, storage::v1::UploadRecord u) {
  u.clear_blob();
  u.clear_sha256_state();
  return u;
}

// ---- Sessions and inbox ----------------------------------------------------

bool ReadRule<v1::Session>::MaySee(const Reader& r, absl::string_view name,
                                   const v1::Session&) {
  return AdminOrParticipant(r.caller(), name);
}
v1::Session ReadRule<v1::Session>::Present(const Reader& r, v1::Session s) {
  KeepReadableRecords(r, s.mutable_records());
  return s;
}

// A registration: the registered member, the administrator and the
// cohort's coordinators.
bool ReadRule<v1::Registration>::MaySee(const Reader& r, absl::string_view name,
                                        const v1::Registration& reg) {
  const Principal& p = r.caller();
  if (p.is_admin() || Coordinates(p, CohortOf(name))) return true;
  return !p.service && !p.member.empty() && reg.member() == p.member;
}
v1::Registration ReadRule<v1::Registration>::Present(const Reader&,
                                                     v1::Registration reg) {
  return reg;
}

// An inbox item: its owner, and only while they may read what it points
// to.
bool ReadRule<v1::InboxItem>::MaySee(const Reader& r, absl::string_view name,
                                     const v1::InboxItem& item) {
  const Principal& p = r.caller();
  if (p.service || p.member.empty() ||
      !absl::StartsWith(name, absl::StrCat(p.member, "/inbox/"))) {
    return false;
  }
  // Who reads a group is for its members: the announcement of an arrival
  // shows only while its owner is one.
  if (item.kind() == v1::InboxItem::GROUP_READER_ADDED) {
    return r.InGroup(item.resource());
  }
  return item.resource().empty() || r.MayRead(item.resource()).ok();
}
v1::InboxItem ReadRule<v1::InboxItem>::Present(const Reader&,
                                               v1::InboxItem item) {
  return item;
}

// ---- Webhooks --------------------------------------------------------------

// A webhook and its delivery log: the administrator and the coordinators
// of every cohort its token reached when it was made. Never its secret
// (shown once, at creation); never a service token (its own deliveries
// would feed its own feed).
bool ReadRule<storage::v1::WebhookRecord>::MaySee(
    const Reader& r, absl::string_view, const storage::v1::WebhookRecord& w) {
  const Principal& p = r.caller();
  if (p.is_admin()) return true;
  if (w.webhook().cohorts().empty()) return false;
  for (const std::string& c : w.webhook().cohorts()) {
    if (!Coordinates(p, c)) return false;
  }
  return true;
}
storage::v1::WebhookRecord ReadRule<storage::v1::WebhookRecord>::Present(
    const Reader&, storage::v1::WebhookRecord w) {
  w.clear_secret();
  return w;
}

namespace {

// `webhooks/{w}` of a name under a webhook.
absl::string_view WebhookOf(absl::string_view name) {
  const size_t at = name.find("/deliveries/");
  return at == absl::string_view::npos ? name : name.substr(0, at);
}

}  // namespace

bool ReadRule<v1::WebhookDelivery>::MaySee(const Reader& r,
                                           absl::string_view name,
                                           const v1::WebhookDelivery&) {
  return r.Load<storage::v1::WebhookRecord>(WebhookOf(name)).ok();
}
v1::WebhookDelivery ReadRule<v1::WebhookDelivery>::Present(
    const Reader&, v1::WebhookDelivery d) {
  return d;
}

// ---- Links -----------------------------------------------------------------

// A link (links.proto): the administrator only. Never its token or key.
bool ReadRule<storage::v1::LinkRecord>::MaySee(const Reader& r,
                                               absl::string_view,
                                               const storage::v1::LinkRecord&) {
  return r.caller().is_admin();
}
storage::v1::LinkRecord ReadRule<storage::v1::LinkRecord>::Present(
    const Reader&, storage::v1::LinkRecord l) {
  l.clear_token();
  l.clear_client_key_pem();
  return l;
}

// ---- Absence: who may learn that a name does not exist ----------------------

bool ReadRule<v1::Cohort>::MayKnowAbsent(const Reader& r, absl::string_view) {
  return r.caller().authenticated();
}
bool ReadRule<v1::Member>::MayKnowAbsent(const Reader& r, absl::string_view) {
  return r.caller().is_admin();
}
bool ReadRule<storage::v1::TokenRecord>::MayKnowAbsent(const Reader& r,
                                                       absl::string_view) {
  return r.caller().is_admin();
}
bool ReadRule<v1::Territory>::MayKnowAbsent(const Reader& r,
                                            absl::string_view name) {
  return AdminOrParticipant(r.caller(), name);
}
bool ReadRule<v1::PeerGroup>::MayKnowAbsent(const Reader& r,
                                            absl::string_view name) {
  return AdminOrParticipant(r.caller(), name);
}
bool ReadRule<v1::Chantier>::MayKnowAbsent(const Reader& r,
                                           absl::string_view name) {
  return AdminOrParticipant(r.caller(), name);
}
bool ReadRule<v1::Invitation>::MayKnowAbsent(const Reader& r,
                                             absl::string_view) {
  return r.caller().is_admin();
}
bool ReadRule<v1::AuditEvent>::MayKnowAbsent(const Reader&, absl::string_view) {
  return false;
}
bool ReadRule<v1::Exchange>::MayKnowAbsent(const Reader& r,
                                           absl::string_view name) {
  return r.InGroup(GroupOf(name));
}
bool ReadRule<v1::Message>::MayKnowAbsent(const Reader& r,
                                          absl::string_view name) {
  return r.InGroup(GroupOf(name));
}
bool ReadRule<storage::v1::ReadMarkerRecord>::MayKnowAbsent(const Reader&,
                                                            absl::string_view) {
  return false;
}
bool ReadRule<v1::InboxItem>::MayKnowAbsent(const Reader&, absl::string_view) {
  return false;
}
bool ReadRule<v1::ExperienceReport>::MayKnowAbsent(const Reader&,
                                                   absl::string_view) {
  return false;
}
bool ReadRule<v1::Session>::MayKnowAbsent(const Reader& r,
                                          absl::string_view name) {
  return AdminOrParticipant(r.caller(), name);
}
bool ReadRule<v1::Registration>::MayKnowAbsent(const Reader& r,
                                               absl::string_view name) {
  return r.caller().is_admin() || Coordinates(r.caller(), CohortOf(name));
}
bool ReadRule<v1::ContentFlag>::MayKnowAbsent(const Reader&,
                                              absl::string_view) {
  return false;
}
bool ReadRule<storage::v1::WebhookRecord>::MayKnowAbsent(const Reader& r,
                                                         absl::string_view) {
  return r.caller().is_admin();
}
bool ReadRule<v1::WebhookDelivery>::MayKnowAbsent(const Reader& r,
                                                  absl::string_view name) {
  return r.Load<storage::v1::WebhookRecord>(WebhookOf(name)).ok();
}
bool ReadRule<v1::Record>::MayKnowAbsent(const Reader&, absl::string_view) {
  return false;
}
bool ReadRule<v1::RecordVersion>::MayKnowAbsent(const Reader& r,
                                                absl::string_view name) {
  return r.Load<v1::Record>(RecordOf(name)).ok();
}
bool ReadRule<storage::v1::UploadRecord>::MayKnowAbsent(const Reader&,
                                                        absl::string_view) {
  return false;
}

bool ReadRule<storage::v1::LinkRecord>::MayKnowAbsent(const Reader& r,
                                                      absl::string_view) {
  return r.caller().is_admin();
}

}  // namespace cohorte::service
