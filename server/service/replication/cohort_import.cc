#include "server/service/replication/cohort_import.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cohorte/v1/records.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/delimited_message_util.h"
#include "server/service/audit/audit.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"
#include "server/service/core/validation.h"
#include "server/service/records/content_check.h"
#include "server/service/replication/home_guard.h"
#include "server/service/replication/replicator.h"
#include "storage/status_macros.h"

namespace cohorte::service {

namespace {

using storage::v1::LinkRecord;

constexpr absl::string_view kEventsFile = "events.pb";
constexpr absl::string_view kContentsDir = "contents/";

absl::Status Corrupt(absl::string_view message) {
  return ErrorWithReason(absl::StatusCode::kInvalidArgument,
                         kReasonBundleCorrupt,
                         absl::StrCat("the bundle is corrupt: ", message,
                                      "; nothing was imported"));
}

bool IsLowerHex(absl::string_view s, size_t size) {
  return s.size() == size && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

absl::Status CheckManifest(const v1::BundleManifest& m,
                           absl::string_view own_instance) {
  if (m.format_version() != 1) {
    return InvalidField("manifest.format_version",
                        "this server reads bundles of format 1");
  }
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("manifest.cohort", m.cohort(), "cohorts").status());
  if (!IsLowerHex(m.source_instance_id(), 32)) {
    return InvalidField("manifest.source_instance_id",
                        "an instance id is 32 lowercase hex digits");
  }
  if (m.source_instance_id() == own_instance) {
    return InvalidField("manifest.source_instance_id",
                        "the bundle was exported by this instance: its "
                        "cohorts are not imported back as replicas");
  }
  if (m.source_instance_name().size() > 200) {
    return InvalidField("manifest.source_instance_name",
                        "at most 200 characters");
  }
  if (m.files_size() < 1 || m.files(0).path() != kEventsFile) {
    return InvalidField("manifest.files", "the first file is events.pb");
  }
  const v1::BundleFile& events = m.files(0);
  if (!IsLowerHex(events.sha256(), 64)) {
    return InvalidField("manifest.files[0].sha256", "64 lowercase hex digits");
  }
  if (events.size_bytes() < 0) {
    return InvalidField("manifest.files[0].size_bytes", "negative");
  }
  if (events.size_bytes() > kMaxImportEventsBytes) {
    return FieldError(absl::StatusCode::kResourceExhausted, kReasonFieldInvalid,
                      "manifest.files[0].size_bytes",
                      absl::StrCat("an imported cohort's events.pb holds at "
                                   "most ",
                                   kMaxImportEventsBytes, " bytes"));
  }
  if (m.event_count() < 1) {
    return InvalidField("manifest.event_count",
                        "a bundle holds its cohort at least");
  }
  std::set<std::string> contents;
  for (int i = 1; i < m.files_size(); ++i) {
    const v1::BundleFile& f = m.files(i);
    const std::string field = absl::StrCat("manifest.files[", i, "]");
    if (!absl::StartsWith(f.path(), kContentsDir) ||
        !IsLowerHex(f.path().substr(kContentsDir.size()), 64)) {
      return InvalidField(absl::StrCat(field, ".path"),
                          "a bundle's other files are contents/{sha256}");
    }
    if (f.sha256() != f.path().substr(kContentsDir.size())) {
      return InvalidField(absl::StrCat(field, ".sha256"),
                          "a content's SHA-256 is its file's name");
    }
    if (f.size_bytes() < 1) {
      return InvalidField(absl::StrCat(field, ".size_bytes"),
                          "a record content holds one byte at least");
    }
    if (!contents.insert(f.sha256()).second) {
      return InvalidField(absl::StrCat(field, ".path"), "listed twice");
    }
  }
  if (m.content_count() != m.files_size() - 1) {
    return InvalidField("manifest.content_count",
                        "is not the number of contents/ files listed");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CohortImport::Add(const v1::ImportCohortRequest& message) {
  if (!started_) {
    if (!caller_.is_admin()) {
      return PermissionDenied(
          "import a cohort bundle (the administrator "
          "only)");
    }
    if (!message.has_manifest() || !message.events_data().empty()) {
      return InvalidField("manifest",
                          "the stream's first message holds the manifest, "
                          "alone");
    }
    COHORTE_RETURN_IF_ERROR(
        CheckManifest(message.manifest(), store_.instance_id()));
    first_ = message;
    started_ = true;
    return absl::OkStatus();
  }
  if (message.has_manifest()) {
    return InvalidField("manifest", "only in the stream's first message");
  }
  if (message.has_content()) {
    if (!message.events_data().empty()) {
      return InvalidField("events_data", "not with a content's piece");
    }
    return AddContent(message.content());
  }
  if (contents_begun_) {
    return Corrupt("events.pb's bytes came after a record content");
  }
  if (message.events_data().size() >
      static_cast<size_t>(kMaxImportChunkBytes)) {
    return InvalidField(
        "events_data",
        absl::StrCat("at most ", kMaxImportChunkBytes, " bytes per message"));
  }
  if (static_cast<int64_t>(events_.size() + message.events_data().size()) >
      first_.manifest().files(0).size_bytes()) {
    return Corrupt("events.pb is longer than the manifest says");
  }
  events_.append(message.events_data());
  return absl::OkStatus();
}

CohortImport::~CohortImport() {
  // Whatever the outcome: received bytes no version took become garbage.
  intake_.Settle(caller_.actor(), incoming_).IgnoreError();
}

absl::Status CohortImport::AddContent(const v1::BundleContentPiece& piece) {
  const v1::BundleManifest& m = first_.manifest();
  if (static_cast<int64_t>(events_.size()) != m.files(0).size_bytes()) {
    return Corrupt("a record content came before the end of events.pb");
  }
  if (piece.data().empty()) return InvalidField("content.data", "is empty");
  if (piece.data().size() > static_cast<size_t>(kMaxImportChunkBytes)) {
    return InvalidField(
        "content.data",
        absl::StrCat("at most ", kMaxImportChunkBytes, " bytes per message"));
  }
  if (!contents_begun_) {
    std::vector<WantedContent> wanted;
    for (int i = 1; i < m.files_size(); ++i) {
      wanted.push_back({m.files(i).sha256(), m.files(i).size_bytes()});
    }
    COHORTE_ASSIGN_OR_RETURN(incoming_, intake_.Begin(caller_.actor(), wanted));
    contents_begun_ = true;
  }
  const std::string& sha = piece.sha256();
  const bool same = (receiving_ != nullptr && receiving_->sha256() == sha) ||
                    (!skipping_.empty() && skipping_ == sha);
  if (!same) {
    COHORTE_RETURN_IF_ERROR(EndContent());
    if (contents_done_.count(sha) > 0) {
      return Corrupt(
          absl::StrCat("the content ", sha.substr(0, 64), " comes twice"));
    }
    const bool listed =
        std::any_of(m.files().begin() + 1, m.files().end(),
                    [&](const v1::BundleFile& f) { return f.sha256() == sha; });
    if (!listed) {
      return Corrupt(absl::StrCat("the stream holds the content ",
                                  sha.substr(0, 64),
                                  ", which the manifest does not list"));
    }
    contents_done_.insert(sha);
    auto it = std::find_if(incoming_.begin(), incoming_.end(),
                           [&](const auto& c) { return c->sha256() == sha; });
    if (it == incoming_.end()) {
      skipping_ = sha;  // held here already
    } else {
      receiving_ = it->get();
    }
  }
  if (receiving_ == nullptr) return absl::OkStatus();
  absl::Status s = receiving_->Append(piece.data());
  if (ErrorReason(s) == kReasonContentMismatch) return Corrupt(s.message());
  return s;
}

absl::Status CohortImport::EndContent() {
  skipping_.clear();
  if (receiving_ == nullptr) return absl::OkStatus();
  IncomingContent* ended = receiving_;
  receiving_ = nullptr;
  absl::Status s = ended->Finish();
  if (ErrorReason(s) == kReasonContentMismatch) return Corrupt(s.message());
  return s;
}

absl::StatusOr<v1::ImportCohortResponse> CohortImport::Finish() {
  if (!started_) {
    return InvalidField("manifest", "the stream held no manifest");
  }
  const v1::BundleManifest& m = first_.manifest();
  if (static_cast<int64_t>(events_.size()) != m.files(0).size_bytes()) {
    return Corrupt(absl::StrCat("events.pb holds ", events_.size(),
                                " bytes, the manifest says ",
                                m.files(0).size_bytes()));
  }
  if (Sha256Hex(events_) != m.files(0).sha256()) {
    return Corrupt("events.pb's SHA-256 is not the manifest's");
  }
  COHORTE_RETURN_IF_ERROR(EndContent());
  if (contents_begun_) {
    for (const auto& c : incoming_) {
      if (!c->finished()) {
        return Corrupt(absl::StrCat("the content ", c->sha256(),
                                    " is missing from the stream"));
      }
    }
  } else if (m.content_count() > 0) {
    return Corrupt(
        "the stream holds none of the record contents the "
        "manifest lists");
  }
  // Every event decodes, the cohort's first.
  std::vector<v1::ChangeEvent> events;
  {
    google::protobuf::io::ArrayInputStream raw(
        events_.data(), static_cast<int>(events_.size()));
    google::protobuf::io::CodedInputStream in(&raw);
    while (in.CurrentPosition() < static_cast<int>(events_.size())) {
      if (static_cast<int64_t>(events.size()) >= m.event_count()) {
        return Corrupt("events.pb holds more events than the manifest says");
      }
      v1::ChangeEvent e;
      bool clean_eof = false;
      if (!google::protobuf::util::ParseDelimitedFromCodedStream(&e, &in,
                                                                 &clean_eof)) {
        return Corrupt(absl::StrCat("event ", events.size() + 1,
                                    " of events.pb does not decode"));
      }
      if (e.type() != v1::ChangeEvent::CREATED) {
        return Corrupt(absl::StrCat("event ", events.size() + 1,
                                    " is not a snapshot's (CREATED)"));
      }
      events.push_back(std::move(e));
    }
  }
  if (static_cast<int64_t>(events.size()) != m.event_count()) {
    return Corrupt(absl::StrCat("events.pb holds ", events.size(),
                                " events, the manifest says ",
                                m.event_count()));
  }
  auto cohort_event =
      std::find_if(events.begin(), events.end(), [&](const auto& e) {
        return e.resource_name() == m.cohort() &&
               e.resource_type() == v1::Cohort::descriptor()->full_name();
      });
  if (cohort_event == events.end()) {
    return Corrupt(absl::StrCat("events.pb does not hold ", m.cohort()));
  }
  // The cohort first, record versions last (after their records).
  std::rotate(events.begin(), cohort_event, cohort_event + 1);
  std::stable_partition(events.begin() + 1, events.end(), [](const auto& e) {
    return e.resource_type() != v1::RecordVersion::descriptor()->full_name();
  });

  // The import acts as a link of the exporting instance.
  LinkRecord link;
  link.mutable_link()->set_name(std::string(kImportedLink));
  link.mutable_link()->set_peer_instance_id(m.source_instance_id());
  link.mutable_link()->set_peer_instance_name(m.source_instance_name());
  link.mutable_link()->add_cohorts(m.cohort());

  return CommitForResponse<v1::ImportCohortResponse>(
      store_, caller_, "ImportCohort", first_, /*request_id=*/"",
      [&](storage::Txn& txn,
          const Reader&) -> absl::StatusOr<v1::ImportCohortResponse> {
        const std::string& cohort = m.cohort();
        // A link that follows the cohort (its copy maybe not made yet).
        std::string follower;
        COHORTE_RETURN_IF_ERROR(txn.Scan(
            storage::Table::kEntities,
            storage::EntityKeyOf<LinkRecord>("links/"),
            [&](absl::string_view, absl::string_view value) {
              LinkRecord r;
              if (!storage::DecodeValue(value, &r).ok()) return true;
              const auto& cs = r.link().cohorts();
              if (std::find(cs.begin(), cs.end(), cohort) != cs.end()) {
                follower = r.link().name();
                return false;
              }
              return true;
            }));
        if (!follower.empty()) {
          return ErrorWithReason(
              absl::StatusCode::kFailedPrecondition, kReasonNameConflict,
              absl::StrCat(cohort, " is followed here by ", follower));
        }
        v1::Cohort before;
        absl::Status got = txn.GetEntity<v1::Cohort>(cohort, &before);
        if (!got.ok() && !absl::IsNotFound(got)) return got;
        const bool existed = got.ok();
        if (existed && before.home().link() == kImportedLink &&
            before.home().instance_id() != m.source_instance_id()) {
          return ErrorWithReason(
              absl::StatusCode::kFailedPrecondition, kReasonNameConflict,
              absl::StrCat(cohort, " was imported here from instance ",
                           before.home().instance_id(), ", not ",
                           m.source_instance_id()));
        }
        ApplyCounts counts;
        std::set<std::string> seen;
        for (const v1::ChangeEvent& e : events) {
          if (e.resource_type() ==
              v1::RecordVersion::descriptor()->full_name()) {
            // A version's metadata only with its record (never one of a
            // record refused: a GROUP record's file names stay home).
            const size_t at = e.resource_name().find("/versions/");
            if (at == std::string::npos ||
                seen.count(e.resource_name().substr(0, at)) == 0) {
              ++counts.refused;
              continue;
            }
          }
          absl::Status s = ApplyChange(
              txn, link, e, &counts, &seen, [](absl::string_view) {},
              incoming_);
          if (ErrorReason(s) == "PEER_PROTOCOL") return Corrupt(s.message());
          COHORTE_RETURN_IF_ERROR(s);
        }
        int64_t deleted = 0;
        COHORTE_RETURN_IF_ERROR(DeleteUnseen(txn, cohort, seen, &deleted));
        v1::ImportCohortResponse response;
        COHORTE_RETURN_IF_ERROR(
            txn.GetEntity<v1::Cohort>(cohort, response.mutable_cohort()));
        response.set_applied(counts.applied);
        response.set_refused(counts.refused);
        response.set_deleted(deleted);
        AuditLog audit(caller_.actor(), "ImportCohort");
        audit.Change(cohort, existed ? &before : nullptr, &response.cohort());
        COHORTE_RETURN_IF_ERROR(audit.Write(txn));
        return response;
      },
      /*replicated=*/true);
}

}  // namespace cohorte::service
