#include "server/demo/demo_records.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "server/service/records/content_check.h"
#include "storage/status_macros.h"

namespace cohorte::demo {
namespace {

using service::Principal;
using service::RecordService;

constexpr char kOccitanie[] = "cohorts/occitanie";

absl::StatusOr<v1::Record> MakeRecord(
    RecordService& records, const Principal& who, const std::string& id,
    const std::string& title, v1::Record::Kind kind, v1::Visibility visibility,
    const std::string& link) {
  v1::CreateRecordRequest req;
  req.set_parent(kOccitanie);
  req.set_record_id(id);
  v1::Record* r = req.mutable_record();
  r->set_title(title);
  r->set_kind(kind);
  r->set_visibility(visibility);
  r->add_links(link);
  return records.CreateRecord(who, req);
}

// Uploads `content` as a new version of `record`, in one chunk (the demo's
// files are small).
absl::Status Push(RecordService& records, const Principal& who,
                  const std::string& record, const std::string& content,
                  const std::string& media_type, const std::string& file_name,
                  const std::string& note) {
  v1::StartUploadRequest start;
  start.set_parent(record);
  start.set_size_bytes(static_cast<int64_t>(content.size()));
  start.set_sha256(service::Sha256Hex(content));
  start.set_media_type(media_type);
  start.set_file_name(file_name);
  start.set_note(note);
  COHORTE_ASSIGN_OR_RETURN(v1::Upload upload, records.StartUpload(who, start));
  v1::WriteUploadRequest write;
  write.set_write_offset(0);
  write.set_data(content);
  return records.WriteUpload(who, upload.name(), write).status();
}

// A one-page PDF that says `text` (ASCII).
std::string OnePagePdf(const std::string& text) {
  const std::string stream =
      absl::StrCat("BT /F1 14 Tf 56 780 Td (", text, ") Tj ET");
  std::string pdf = "%PDF-1.4\n";
  std::string xref;
  auto object = [&](int n, const std::string& body) {
    xref +=
        absl::StrCat(std::string(10 - std::to_string(pdf.size()).size(), '0'),
                     pdf.size(), " 00000 n \n");
    absl::StrAppend(&pdf, n, " 0 obj\n", body, "\nendobj\n");
  };
  object(1, "<< /Type /Catalog /Pages 2 0 R >>");
  object(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
  object(3,
         "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 "
         "R /Resources << /Font << /F1 5 0 R >> >> >>");
  object(4, absl::StrCat("<< /Length ", stream.size(), " >>\nstream\n", stream,
                         "\nendstream"));
  object(5, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
  const size_t at = pdf.size();
  absl::StrAppend(&pdf, "xref\n0 6\n0000000000 65535 f \n", xref,
                  "trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n", at,
                  "\n%%EOF\n");
  return pdf;
}

}  // namespace

absl::Status AddDemoRecords(service::Services& services,
                            const Principal& coordinator,
                            const Principal& agent) {
  RecordService& records = services.records;
  // The minutes of the past common day, corrected once.
  COHORTE_ASSIGN_OR_RETURN(
      v1::Record minutes,
      MakeRecord(records, coordinator, "compte-rendu-journee-1",
                 "Compte-rendu de la journée commune n°1",
                 v1::Record::COMPTE_RENDU, v1::COHORT,
                 "cohorts/occitanie/sessions/journee-commune-1"));
  const std::string text =
      "# Journée commune n°1 : partager les enjeux\n\n"
      "Tour de table des trajectoires ; atelier « dissensus » sur le "
      "diagnostic.\n";
  COHORTE_RETURN_IF_ERROR(Push(records, coordinator, minutes.name(), text,
                               "text/markdown", "compte-rendu-journee-1.md",
                               "première diffusion"));
  COHORTE_RETURN_IF_ERROR(
      Push(records, coordinator, minutes.name(),
           text + "\nChaque délégation repart avec une question à porter chez "
                  "elle.\n",
           "text/markdown", "compte-rendu-journee-1.md",
           "ajout des suites, après relecture par les délégations"));

  // A teaching kit.
  COHORTE_ASSIGN_OR_RETURN(
      v1::Record kit,
      MakeRecord(records, coordinator, "mallette-sobriete",
                 "Mallette pédagogique : la sobriété en 3 ateliers",
                 v1::Record::MALLETTE_PEDAGOGIQUE, v1::NETWORK,
                 "cohorts/occitanie/sessions/journee-commune-1"));
  COHORTE_RETURN_IF_ERROR(
      Push(records, coordinator, kit.name(),
           OnePagePdf("Mallette pedagogique : la sobriete en 3 ateliers"),
           "application/pdf", "mallette-sobriete.pdf", ""));

  // The PETR's master plan, linked from the report of its two failures.
  COHORTE_ASSIGN_OR_RETURN(
      v1::Record plan,
      MakeRecord(records, agent, "master-plan-petr",
                 "Master Plan du PETR des Vallées",
                 v1::Record::FEUILLE_DE_ROUTE, v1::NETWORK,
                 "cohorts/occitanie/territories/petr-vallees"));
  COHORTE_RETURN_IF_ERROR(
      Push(records, agent, plan.name(),
           OnePagePdf("Master Plan du PETR : cinq chantiers"),
           "application/pdf", "master-plan-petr.pdf", "version votée"));
  v1::UpdateReportRequest link;
  link.mutable_report()->set_name(
      "cohorts/occitanie/reports/master-plan-deux-echecs");
  link.mutable_report()->add_records(plan.name());
  link.mutable_update_mask()->add_paths("records");
  return services.reports.UpdateReport(agent, link).status();
}

}  // namespace cohorte::demo
