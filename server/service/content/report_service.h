// File: server/service/content/report_service.h
//
// ReportService: retours d'expérience (experience reports) of the
// territories: a draft read by its authors only, then published with a
// visibility (one group, the cohort, the network, public), then archived.
// Tags are checked against the référentiel; links against the cohort's
// chantiers and sessions. Publishing notifies the cohort's readers and the
// territory's followers. No gRPC. Thread-safe; `store` must outlive it.
#ifndef COHORTE_SERVER_SERVICE_CONTENT_REPORT_SERVICE_H_
#define COHORTE_SERVER_SERVICE_CONTENT_REPORT_SERVICE_H_

#include "absl/status/statusor.h"
#include "cohorte/v1/reports.pb.h"
#include "server/service/access/principal.h"
#include "server/service/inbox/fan_out.h"
#include "storage/store.h"

namespace cohorte::service {

class ReportService {
 public:
  // Sets the fan-out's audience of REPORT_PUBLISHED; `store` and `fan_out`
  // must outlive it.
  ReportService(storage::Store* store, NotificationFanOut* fan_out);
  ReportService(const ReportService&) = delete;
  ReportService& operator=(const ReportService&) = delete;

  absl::StatusOr<v1::ExperienceReport> CreateReport(
      const Principal& caller, const v1::CreateReportRequest& req);
  // PERMISSION_DENIED, naming neither, if the report does not exist or the
  // caller may not read it (a draft's existence is not revealed).
  absl::StatusOr<v1::ExperienceReport> GetReport(
      const Principal& caller, const v1::GetReportRequest& req);
  // Only what the caller may read; archived reports only when asked by
  // `state`, drafts only to their authors.
  absl::StatusOr<v1::ListReportsResponse> ListReports(
      const Principal& caller, const v1::ListReportsRequest& req);
  absl::StatusOr<v1::ExperienceReport> UpdateReport(
      const Principal& caller, const v1::UpdateReportRequest& req);
  // FAILED_PRECONDITION (WRONG_STATE) unless a draft. Its notifications
  // are delivered after the publication commits, before this returns
  // (NotificationFanOut): a failure there does not fail the publication.
  absl::StatusOr<v1::ExperienceReport> PublishReport(
      const Principal& caller, const v1::PublishReportRequest& req);
  // FAILED_PRECONDITION (WRONG_STATE) unless published.
  absl::StatusOr<v1::ExperienceReport> ArchiveReport(
      const Principal& caller, const v1::ArchiveReportRequest& req);

 private:
  storage::Store& store_;
  NotificationFanOut& fan_out_;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_CONTENT_REPORT_SERVICE_H_
