#include "server/service/demo.h"

#include "storage/status_macros.h"

namespace cohorte::service {

absl::Status SeedDemo(CohortService& cohorts, const Principal& admin) {
  v1::CreateCohortRequest occitanie;
  occitanie.set_cohort_id("occitanie");
  occitanie.set_request_id("demo-cohort-occitanie");
  v1::Cohort* c = occitanie.mutable_cohort();
  c->set_display_name("Cohorte des territoires d'Occitanie");
  c->set_region("Occitanie");
  c->set_programme(
      "Accompagnement en cohorte régionale — la Fabrique des transitions et "
      "l'AREC Occitanie");
  c->set_description(
      "Huit territoires d'Occitanie apprennent ensemble la conduite de "
      "changement systémique : un tronc commun de webinaires (le quatrième : "
      "« Qu'est-ce qu'un projet de territoire au temps de la transition ? »), "
      "des échanges entre pairs, des retours d'expérience.\n\n"
      "Coopération d'échelles : mailler le local, le régional et le "
      "national.");
  COHORTE_RETURN_IF_ERROR(cohorts.CreateCohort(admin, occitanie).status());

  v1::CreateCohortRequest pilotes;
  pilotes.set_cohort_id("territoires-pilotes");
  pilotes.set_request_id("demo-cohort-territoires-pilotes");
  v1::Cohort* p = pilotes.mutable_cohort();
  p->set_display_name("Territoires Pilotes");
  p->set_region("France");
  p->set_programme(
      "Programme Territoires Pilotes — Association de Promotion de la "
      "Fabrique des Transitions et ses alliés");
  p->set_description(
      "Une année, dix territoires et un objectif : faire mieux, ou plutôt "
      "différemment. Journées communes, échanges entre pairs, entre "
      "groupes d'élus, d'agents, d'acteurs socio-économiques.");
  return cohorts.CreateCohort(admin, pilotes).status();
}

}  // namespace cohorte::service
