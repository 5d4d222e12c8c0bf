#include "server/service/replication/cohort_import.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

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
          absl::Status s = ApplyChange(txn, link, e, &counts, &seen,
                                       [](absl::string_view) {});
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
