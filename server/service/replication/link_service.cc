#include "server/service/replication/link_service.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/service/access/policy.h"
#include "server/service/audit/audit.h"
#include "server/service/core/entities.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "server/service/core/validation.h"
#include "server/service/replication/home_guard.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace cohorte::service {

namespace {

using storage::Txn;
using storage::v1::LinkRecord;

constexpr absl::string_view kCollection = "links";

bool IsLowerHex(absl::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

// `host:port`, a DNS name, an IPv4 address or a bracketed IPv6 address.
absl::Status CheckEndpoint(absl::string_view field, absl::string_view e) {
  if (e.empty()) return InvalidField(field, "required: the peer's host:port");
  if (e.size() > static_cast<size_t>(kMaxLinkEndpointLength)) {
    return InvalidField(
        field, absl::StrCat("at most ", kMaxLinkEndpointLength, " characters"));
  }
  const size_t colon = e.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(e.substr(colon + 1), &port) || port < 1 ||
      port > 65535 ||
      !std::all_of(e.begin() + colon + 1, e.end(), absl::ascii_isdigit)) {
    return InvalidField(field,
                        "expected host:port, e.g. cohorte.example.org:443");
  }
  absl::string_view host = e.substr(0, colon);
  if (absl::StartsWith(host, "[")) {
    if (!absl::EndsWith(host, "]") || host.size() < 3) {
      return InvalidField(field, "an IPv6 host is written [address]");
    }
    host = host.substr(1, host.size() - 2);
    if (!std::all_of(host.begin(), host.end(), [](char c) {
          return absl::ascii_isxdigit(c) || c == ':' || c == '.';
        })) {
      return InvalidField(field, "not an IPv6 address");
    }
    return absl::OkStatus();
  }
  if (!std::all_of(host.begin(), host.end(), [](char c) {
        return absl::ascii_isalnum(c) || c == '-' || c == '.';
      })) {
    return InvalidField(field, "the host is a DNS name or an IP address");
  }
  return absl::OkStatus();
}

absl::Status CheckPem(absl::string_view field, absl::string_view pem,
                      absl::string_view marker) {
  if (pem.size() > static_cast<size_t>(kMaxLinkPemBytes)) {
    return InvalidField(field,
                        absl::StrCat("at most ", kMaxLinkPemBytes, " bytes"));
  }
  if (!absl::StrContains(pem, "-----BEGIN ") ||
      !absl::StrContains(pem, marker)) {
    return InvalidField(field, absl::StrCat("not a PEM ", marker));
  }
  return absl::OkStatus();
}

absl::Status Validate(const v1::CreateLinkRequest& req) {
  if (!req.link_id().empty()) {
    COHORTE_RETURN_IF_ERROR(CheckResourceId("link_id", req.link_id()));
  }
  const v1::Link& l = req.link();
  COHORTE_RETURN_IF_ERROR(CheckText("link.display_name", l.display_name(), 1,
                                    kMaxLinkDisplayNameChars,
                                    TextKind::kSingleLine));
  COHORTE_RETURN_IF_ERROR(CheckEndpoint("link.endpoint", l.endpoint()));
  if (l.cohorts().empty()) {
    return InvalidField("link.cohorts",
                        "required: the peer's cohorts to "
                        "follow (cohorts/{c})");
  }
  if (l.cohorts_size() > kMaxLinkCohorts) {
    return InvalidField("link.cohorts",
                        absl::StrCat("at most ", kMaxLinkCohorts));
  }
  std::set<std::string> cohorts;
  for (int i = 0; i < l.cohorts_size(); ++i) {
    const std::string field = absl::StrCat("link.cohorts[", i, "]");
    COHORTE_RETURN_IF_ERROR(
        ParseTopLevelName(field, l.cohorts(i), "cohorts").status());
    if (!cohorts.insert(l.cohorts(i)).second) {
      return InvalidField(field, "named twice");
    }
  }
  if (!l.tls_ca_pem().empty()) {
    COHORTE_RETURN_IF_ERROR(
        CheckPem("link.tls_ca_pem", l.tls_ca_pem(), "CERTIFICATE-----"));
  }
  if (!l.tls_client_cert_pem().empty()) {
    if (l.tls_ca_pem().empty()) {
      return InvalidField("link.tls_client_cert_pem",
                          "mTLS needs TLS: set link.tls_ca_pem too");
    }
    COHORTE_RETURN_IF_ERROR(CheckPem("link.tls_client_cert_pem",
                                     l.tls_client_cert_pem(),
                                     "CERTIFICATE-----"));
    if (req.client_key_pem().empty()) {
      return InvalidField("client_key_pem",
                          "required with link.tls_client_cert_pem");
    }
  }
  if (!req.client_key_pem().empty()) {
    if (l.tls_client_cert_pem().empty()) {
      return InvalidField("client_key_pem",
                          "needs link.tls_client_cert_pem, its certificate");
    }
    COHORTE_RETURN_IF_ERROR(
        CheckPem("client_key_pem", req.client_key_pem(), "PRIVATE KEY-----"));
  }
  if (!l.peer_instance_id().empty() && (l.peer_instance_id().size() != 32 ||
                                        !IsLowerHex(l.peer_instance_id()))) {
    return InvalidField("link.peer_instance_id",
                        "an instance id is 32 lowercase hex digits");
  }
  if (!v1::Link::RecordContents_IsValid(l.record_contents())) {
    return InvalidField("link.record_contents", "EAGER or LAZY");
  }
  const std::string& t = req.token();
  if (t.size() != 68 || !absl::StartsWith(t, "coh_") ||
      !IsLowerHex(absl::string_view(t).substr(4))) {
    return InvalidField("token",
                        "required: the secret of a SERVICE token of the peer "
                        "(coh_ followed by 64 hex digits)");
  }
  return CheckRequestId("request_id", req.request_id());
}

absl::Status Audit(Txn& txn, absl::string_view actor, absl::string_view method,
                   const v1::Link* before, const v1::Link* after) {
  AuditLog audit(actor, method);
  const v1::Link& l = after != nullptr ? *after : *before;
  audit.Change(l.name(), before, after);
  return audit.Write(txn);
}

void SaveLink(Txn& txn, LinkRecord& record) {
  v1::Link& l = *record.mutable_link();
  *l.mutable_update_time() = ToTimestamp(txn.commit_time());
  l.set_etag(NextEtag(l.etag()));
  // The change log gets the API form, never the token or the key.
  txn.PutEntity(l.name(), record, l);
}

absl::Status CheckName(absl::string_view field, absl::string_view name) {
  return ParseTopLevelName(field, name, kCollection).status();
}

}  // namespace

absl::StatusOr<v1::Link> LinkService::CreateLink(
    const Principal& caller, const v1::CreateLinkRequest& req) {
  COHORTE_RETURN_IF_ERROR(Authorize(caller, Resource::kLink, Action::kCreate));
  COHORTE_RETURN_IF_ERROR(Validate(req));
  const std::string id =
      req.link_id().empty() ? GenerateId("link-") : req.link_id();
  const std::string name = absl::StrCat(kCollection, "/", id);
  absl::StatusOr<v1::Link> created = CommitForResponse<v1::Link>(
      store_, caller, "CreateLink", req, req.request_id(),
      [&](Txn& txn, const Reader& reader) -> absl::StatusOr<v1::Link> {
        COHORTE_RETURN_IF_ERROR(
            Authorize(reader.caller(), Resource::kLink, Action::kCreate));
        COHORTE_ASSIGN_OR_RETURN(
            bool exists, txn.Exists(storage::Table::kEntities,
                                    storage::EntityKeyOf<LinkRecord>(name)));
        if (exists) return AlreadyExists(name);
        std::vector<LinkRecord> others;
        COHORTE_RETURN_IF_ERROR(txn.Scan(
            storage::Table::kEntities,
            storage::EntityKeyOf<LinkRecord>(absl::StrCat(kCollection, "/")),
            [&](absl::string_view, absl::string_view value) {
              LinkRecord r;
              if (storage::DecodeValue(value, &r).ok()) {
                others.push_back(std::move(r));
              }
              return true;
            }));
        if (others.size() >= static_cast<size_t>(kMaxLinks)) {
          return WrongState(absl::StrCat("this instance has ", kMaxLinks,
                                         " links, the most it may have"));
        }
        for (const std::string& c : req.link().cohorts()) {
          for (const LinkRecord& o : others) {
            const auto& oc = o.link().cohorts();
            if (std::find(oc.begin(), oc.end(), c) != oc.end()) {
              return ErrorWithReason(
                  absl::StatusCode::kFailedPrecondition, kReasonNameConflict,
                  absl::StrCat("link.cohorts: ", o.link().name(), " follows ",
                               c, " already"));
            }
          }
          absl::StatusOr<v1::Home> home = HomeOfCohort(txn, c);
          if (absl::IsNotFound(home.status())) continue;
          COHORTE_RETURN_IF_ERROR(home.status());
          COHORTE_ASSIGN_OR_RETURN(bool adoptable,
                                   Adoptable(txn, *home, req.link()));
          if (!adoptable) {
            return ErrorWithReason(
                absl::StatusCode::kFailedPrecondition, kReasonNameConflict,
                absl::StrCat("link.cohorts: ", c,
                             " exists on this instance already"));
          }
        }
        LinkRecord record;
        v1::Link& l = *record.mutable_link();
        l = req.link();
        l.set_name(name);
        l.set_state(v1::Link::SNAPSHOTTING);
        if (l.record_contents() == v1::Link::RECORD_CONTENTS_UNSPECIFIED) {
          l.set_record_contents(v1::Link::EAGER);
        }
        l.clear_peer_instance_name();
        l.clear_error_reason();
        l.clear_error_message();
        l.clear_next_retry_time();
        l.clear_cursor();
        l.clear_lag_revisions();
        l.clear_lag_seconds();
        l.clear_applied_changes();
        l.clear_last_applied_time();
        l.clear_refused_changes();
        l.clear_etag();
        *l.mutable_create_time() = ToTimestamp(txn.commit_time());
        record.set_token(req.token());
        record.set_client_key_pem(req.client_key_pem());
        SaveLink(txn, record);
        COHORTE_RETURN_IF_ERROR(
            Audit(txn, reader.caller().actor(), "CreateLink", nullptr, &l));
        return l;
      });
  if (created.ok()) replicator_.Reconcile(created->name());
  return created;
}

absl::StatusOr<v1::Link> LinkService::GetLink(const Principal& caller,
                                              const v1::GetLinkRequest& req) {
  COHORTE_RETURN_IF_ERROR(CheckName("name", req.name()));
  COHORTE_ASSIGN_OR_RETURN(LinkRecord record,
                           Reader(store_, caller).Get<LinkRecord>(req.name()));
  return record.link();
}

absl::StatusOr<v1::ListLinksResponse> LinkService::ListLinks(
    const Principal& caller, const v1::ListLinksRequest& req) {
  COHORTE_ASSIGN_OR_RETURN(PageStart page,
                           StartPage(req, req.page_size(), req.page_token()));
  google::protobuf::RepeatedPtrField<LinkRecord> records;
  v1::ListLinksResponse response;
  COHORTE_ASSIGN_OR_RETURN(
      *response.mutable_next_page_token(),
      Reader(store_, caller)
          .List<LinkRecord>(
              storage::EntityKeyOf<LinkRecord>(absl::StrCat(kCollection, "/")),
              page, [](LinkRecord&) { return true; }, &records));
  for (const LinkRecord& r : records) *response.add_links() = r.link();
  return response;
}

namespace {
enum LinkAction { kPause = 0, kResume = 1, kDelete = 2 };
}  // namespace

absl::StatusOr<v1::Link> LinkService::PauseLink(
    const Principal& caller, const v1::PauseLinkRequest& req) {
  return Change(caller, "PauseLink", req, req.name(), req.etag(), kPause,
                false);
}

absl::StatusOr<v1::Link> LinkService::ResumeLink(
    const Principal& caller, const v1::ResumeLinkRequest& req) {
  return Change(caller, "ResumeLink", req, req.name(), req.etag(), kResume,
                false);
}

absl::StatusOr<v1::Link> LinkService::DeleteLink(
    const Principal& caller, const v1::DeleteLinkRequest& req) {
  return Change(caller, "DeleteLink", req, req.name(), req.etag(), kDelete,
                req.keep_copies());
}

absl::StatusOr<v1::Link> LinkService::Change(
    const Principal& caller, absl::string_view method,
    const google::protobuf::Message& req, absl::string_view name,
    absl::string_view etag, int action, bool keep_copies) {
  COHORTE_RETURN_IF_ERROR(CheckName("name", name));
  absl::StatusOr<v1::Link> changed = CommitForResponse<v1::Link>(
      store_, caller, method, req, /*request_id=*/"",
      [&](Txn& txn, const Reader& reader) -> absl::StatusOr<v1::Link> {
        COHORTE_ASSIGN_OR_RETURN(LinkRecord record,
                                 reader.Load<LinkRecord>(name));
        v1::Link& l = *record.mutable_link();
        COHORTE_RETURN_IF_ERROR(CheckEtag(name, l.etag(), etag));
        const v1::Link before = l;
        if (action == kDelete) {
          if (!keep_copies) {
            int64_t deleted = 0;
            for (const std::string& c : l.cohorts()) {
              absl::StatusOr<v1::Home> home = HomeOfCohort(txn, c);
              if (absl::IsNotFound(home.status())) continue;
              COHORTE_RETURN_IF_ERROR(home.status());
              if (home->link() != name) continue;
              COHORTE_RETURN_IF_ERROR(DeleteReplica(txn, c, &deleted));
            }
          }
          txn.DeleteEntity<LinkRecord>(name);
          COHORTE_RETURN_IF_ERROR(
              Audit(txn, reader.caller().actor(), method, &before, nullptr));
          return before;
        }
        if (action == kPause) {
          if (l.state() == v1::Link::PAUSED) {
            return WrongState(absl::StrCat(name, " is already paused"));
          }
          l.set_state(v1::Link::PAUSED);
        } else {
          if (l.state() != v1::Link::PAUSED && l.state() != v1::Link::ERROR) {
            return WrongState(absl::StrCat(name,
                                           " is neither paused nor in "
                                           "error"));
          }
          l.set_state(record.cursor_token().empty() ? v1::Link::SNAPSHOTTING
                                                    : v1::Link::FOLLOWING);
          l.clear_next_retry_time();
        }
        SaveLink(txn, record);
        COHORTE_RETURN_IF_ERROR(
            Audit(txn, reader.caller().actor(), method, &before, &l));
        return l;
      },
      /*replicated=*/action == kDelete && !keep_copies);
  if (changed.ok()) replicator_.Reconcile(name);
  return changed;
}

}  // namespace cohorte::service
