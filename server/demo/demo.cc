#include "server/demo/demo.h"

#include <sys/stat.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cohorte/v1/cohorts.pb.h"
#include "cohorte/v1/territories.pb.h"
#include "server/demo/demo_records.h"
#include "server/service/core/entities.h"
#include "server/service/identity/bootstrap.h"
#include "storage/status_macros.h"

namespace cohorte::demo {
namespace {

using namespace ::cohorte::service;  // NOLINT: the demo speaks the service
                                     // layer

constexpr char kOccitanie[] = "cohorts/occitanie";
constexpr char kPetr[] = "cohorts/occitanie/territories/petr-vallees";
constexpr char kCoteaux[] = "cohorts/occitanie/territories/cc-coteaux";

absl::Status AddCohorts(CohortService& cohorts, const Principal& admin) {
  v1::CreateCohortRequest occitanie;
  occitanie.set_cohort_id("occitanie");
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

absl::Status AddTerritories(TerritoryService& territories,
                            const Principal& admin) {
  struct T {
    const char* id;
    const char* name;
    v1::Territory::Kind kind;
  };
  for (const T& t :
       {T{"petr-vallees", "PETR des Vallées (démo)", v1::Territory::PETR},
        T{"cc-coteaux", "Communauté de communes des Coteaux (démo)",
          v1::Territory::INTERCOMMUNALITE},
        T{"saint-exemple", "Commune de Saint-Exemple (démo)",
          v1::Territory::COMMUNE}}) {
    v1::CreateTerritoryRequest req;
    req.set_parent(kOccitanie);
    req.set_territory_id(t.id);
    req.mutable_territory()->set_display_name(t.name);
    req.mutable_territory()->set_kind(t.kind);
    COHORTE_RETURN_IF_ERROR(territories.CreateTerritory(admin, req).status());
  }
  // The PETR's trajectory, as its projet de territoire tells it: the
  // Conseil de développement set the course, an hybrid project team formed
  // ecosystems of actors, and of five chantiers three went into action.
  struct Step {
    v1::Territory::Phase phase;
    const char* note;
  };
  for (const Step& s :
       {Step{v1::Territory::EMERGENCE,
             "Le Conseil de développement et les élus définissent un cap et "
             "une ambition partagée."},
        Step{v1::Territory::STRATEGIE,
             "Diagnostic par les flux de revenus : partir des moteurs de "
             "développement plutôt que des faiblesses."},
        Step{v1::Territory::GOUVERNANCE_MISE_EN_OEUVRE,
             "Une équipe-projet de 15 personnes ; sur 5 chantiers, 3 sont "
             "passés en action."}}) {
    v1::ChangeTerritoryPhaseRequest req;
    req.set_name(kPetr);
    req.set_phase(s.phase);
    req.set_note(s.note);
    COHORTE_RETURN_IF_ERROR(
        territories.ChangeTerritoryPhase(admin, req).status());
  }
  return absl::OkStatus();
}

absl::Status AddMembers(MemberService& members, const Principal& admin,
                        const std::string& data_dir) {
  struct M {
    const char* id;
    const char* given;
    const char* family;
    const char* organisation;
    v1::Member::Role role;
    v1::College college;
    const char* territory;  // delegation, or nullptr
    bool token;
  };
  const M people[] = {
      {"claire-martin", "Claire", "Martin", "AREC Occitanie (démo)",
       v1::Member::COORDINATOR, v1::COLLEGE_UNSPECIFIED, nullptr, true},
      {"hugo-bernard", "Hugo", "Bernard", "Bureau d'études allié (démo)",
       v1::Member::ALLY, v1::COLLEGE_UNSPECIFIED, nullptr, true},
      {"marie-dubois", "Marie", "Dubois", "PETR des Vallées",
       v1::Member::MEMBER, v1::ELU, kPetr, true},
      {"thomas-petit", "Thomas", "Petit", "PETR des Vallées",
       v1::Member::MEMBER, v1::AGENT, kPetr, true},
      {"sophie-laurent", "Sophie", "Laurent", "DDT (démo)", v1::Member::MEMBER,
       v1::ETAT_TERRITORIAL, kPetr, false},
      {"luc-moreau", "Luc", "Moreau", "Association Vallées en transition",
       v1::Member::MEMBER, v1::ACTEUR_SOCIO_ECONOMIQUE, kPetr, false},
      {"anne-roux", "Anne", "Roux", "CC des Coteaux", v1::Member::MEMBER,
       v1::ELU, kCoteaux, false},
      {"karim-benali", "Karim", "Benali", "CC des Coteaux", v1::Member::MEMBER,
       v1::AGENT, kCoteaux, false},
  };
  const std::string token_dir = data_dir + "/demo-tokens";
  if (::mkdir(token_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::UnavailableError(absl::StrCat("cannot create ", token_dir));
  }
  for (const M& m : people) {
    v1::CreateMemberRequest req;
    req.set_member_id(m.id);
    v1::Member* member = req.mutable_member();
    member->set_given_name(m.given);
    member->set_family_name(m.family);
    member->set_email(absl::StrCat(m.id, "@example.org"));
    member->set_organisation(m.organisation);
    member->set_role(m.role);
    member->set_college(m.college);
    if (m.territory != nullptr) member->add_delegations(m.territory);
    if (m.role != v1::Member::MEMBER) member->add_cohorts(kOccitanie);
    COHORTE_RETURN_IF_ERROR(members.CreateMember(admin, req).status());
    if (!m.token) continue;
    v1::CreateTokenRequest token;
    token.set_parent(absl::StrCat("members/", m.id));
    token.set_display_name("demo token");
    COHORTE_ASSIGN_OR_RETURN(v1::CreateTokenResponse created,
                             members.CreateToken(admin, token));
    COHORTE_RETURN_IF_ERROR(WritePrivateFile(
        absl::StrCat(token_dir, "/", m.id, ".token"), created.secret() + "\n"));
  }
  return absl::OkStatus();
}

absl::Status AddGroups(GroupService& groups, const Principal& admin) {
  v1::CreateGroupRequest club;
  club.set_parent(kOccitanie);
  club.set_group_id("club-sobriete");
  v1::PeerGroup* g = club.mutable_group();
  g->set_display_name("Club sobriété");
  g->set_description(
      "Un club thématique : sobriété foncière, énergétique, "
      "alimentation.");
  g->set_kind(v1::PeerGroup::THEMATIC);
  g->add_members("members/anne-roux");
  g->add_members("members/marie-dubois");
  g->add_members("members/luc-moreau");
  g->add_facilitators("members/hugo-bernard");
  COHORTE_RETURN_IF_ERROR(groups.CreateGroup(admin, club).status());

  v1::CreateGroupRequest delegation;
  delegation.set_parent(kOccitanie);
  delegation.set_group_id("delegation-petr-vallees");
  g = delegation.mutable_group();
  g->set_display_name("Délégation du PETR des Vallées");
  g->set_kind(v1::PeerGroup::DELEGATION);
  g->set_territory(kPetr);
  for (const char* m : {"members/marie-dubois", "members/thomas-petit",
                        "members/sophie-laurent", "members/luc-moreau"}) {
    g->add_members(m);
  }
  return groups.CreateGroup(admin, delegation).status();
}

// The PETR's five chantiers, three of them in action (seed 004).
absl::Status AddChantiers(TerritoryService& territories,
                          const Principal& admin) {
  struct C {
    const char* id;
    const char* name;
    v1::Chantier::Status status;
    const char* carrier;
  };
  for (const C& c :
       {C{"alimentation", "Alimentation locale et restauration collective",
          v1::Chantier::EN_ACTION, "members/luc-moreau"},
        C{"sobriete-fonciere", "Sobriété foncière", v1::Chantier::EN_ACTION,
          "members/marie-dubois"},
        C{"mobilites", "Mobilités du quotidien", v1::Chantier::EN_ACTION,
          "members/thomas-petit"},
        C{"energie", "Énergies renouvelables citoyennes",
          v1::Chantier::IDENTIFIE, nullptr},
        C{"ecologie-industrielle", "Écologie industrielle territoriale",
          v1::Chantier::EN_PAUSE, nullptr}}) {
    v1::CreateChantierRequest req;
    req.set_parent(kPetr);
    req.set_chantier_id(c.id);
    req.mutable_chantier()->set_display_name(c.name);
    req.mutable_chantier()->set_status(c.status);
    if (c.carrier != nullptr) req.mutable_chantier()->add_carriers(c.carrier);
    COHORTE_RETURN_IF_ERROR(territories.CreateChantier(admin, req).status());
  }
  return absl::OkStatus();
}

// The ally's evaluation tool reads the cohort through a service token; a
// new agent of the Coteaux is invited.
absl::Status AddTokenAndInvitation(TokenService& tokens,
                                   InvitationService& invitations,
                                   const Principal& admin,
                                   const std::string& data_dir) {
  v1::CreateServiceTokenRequest service;
  v1::Token* t = service.mutable_token();
  t->set_display_name("Outil d'évaluation du bureau d'études (démo)");
  t->add_cohorts(kOccitanie);
  t->set_access(v1::Token::READ);
  COHORTE_ASSIGN_OR_RETURN(v1::TokenSecret created,
                           tokens.CreateServiceToken(admin, service));
  COHORTE_RETURN_IF_ERROR(WritePrivateFile(
      data_dir + "/demo-tokens/ally-service.token", created.secret() + "\n"));

  v1::CreateInvitationRequest invite;
  invite.set_parent(kOccitanie);
  v1::Invitation* inv = invite.mutable_invitation();
  inv->set_email("nadia-haddad@example.org");
  inv->set_role(v1::Member::MEMBER);
  inv->set_college(v1::AGENT);
  inv->set_territory(kCoteaux);
  COHORTE_ASSIGN_OR_RETURN(v1::CreateInvitationResponse invited,
                           invitations.CreateInvitation(admin, invite));
  return WritePrivateFile(data_dir + "/demo-tokens/invitation.secret",
                          invited.secret() + "\n");
}

// `hour`:00 in Paris, `days` days from today (negative: in the past).
google::protobuf::Timestamp ParisDay(int days, int hour) {
  absl::TimeZone paris = absl::UTCTimeZone();
  absl::LoadTimeZone("Europe/Paris", &paris);
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), paris);
  const absl::CivilHour at(today + days);
  return ToTimestamp(absl::FromCivil(at + hour, paris));
}

// What the cohort says and learns: exchanges, reports, sessions, each by
// the demo person who would write it (so that every rule applies).
absl::Status AddLife(Services& services, const Principal& admin) {
  auto as = [&](const char* id) -> absl::StatusOr<Principal> {
    v1::GetMemberRequest req;
    req.set_name(absl::StrCat("members/", id));
    COHORTE_ASSIGN_OR_RETURN(v1::Member m,
                             services.members.GetMember(admin, req));
    return Principal::FromMember(m, "tokens/demo");
  };
  COHORTE_ASSIGN_OR_RETURN(Principal marie, as("marie-dubois"));
  COHORTE_ASSIGN_OR_RETURN(Principal anne, as("anne-roux"));
  COHORTE_ASSIGN_OR_RETURN(Principal thomas, as("thomas-petit"));
  COHORTE_ASSIGN_OR_RETURN(Principal karim, as("karim-benali"));
  COHORTE_ASSIGN_OR_RETURN(Principal luc, as("luc-moreau"));
  COHORTE_ASSIGN_OR_RETURN(Principal claire, as("claire-martin"));

  // Entre élus: what is said here stays here.
  v1::CreateExchangeRequest elus;
  elus.set_parent(absl::StrCat(kOccitanie, "/groups/elus"));
  elus.mutable_exchange()->set_title(
      "Comment embarquer le conseil communautaire ?");
  elus.mutable_exchange()->set_kind(v1::Exchange::CALL_FOR_HELP);
  elus.mutable_exchange()->add_tags("cooperation-1");
  elus.set_first_message(
      "Notre Master Plan n'a pas été repris par le reste de l'exécutif après "
      "le départ du président. Entre nous : comment avez-vous évité que la "
      "transition devienne l'affaire d'un seul élu ?");
  COHORTE_ASSIGN_OR_RETURN(v1::Exchange e,
                           services.exchanges.CreateExchange(marie, elus));
  v1::PostMessageRequest reply;
  reply.set_parent(e.name());
  reply.mutable_message()->set_reply_to(
      absl::StrCat(e.name(), "/messages/m000001"));
  reply.mutable_message()->set_body(
      "Nous avons fait porter chaque chantier par un binôme élu-agent, et "
      "présenté les résultats en bureau tous les trimestres. @marie-dubois, "
      "je peux te raconter nos ratés aussi.");
  COHORTE_RETURN_IF_ERROR(services.exchanges.PostMessage(anne, reply).status());

  // Entre agents.
  v1::CreateExchangeRequest agents;
  agents.set_parent(absl::StrCat(kOccitanie, "/groups/agents"));
  agents.mutable_exchange()->set_title("Quel tableau de bord des chantiers ?");
  agents.mutable_exchange()->set_kind(v1::Exchange::QUESTION);
  agents.mutable_exchange()->add_tags("cooperation-d-2");
  agents.set_first_message(
      "Vous suivez vos chantiers avec quel outil ? Nous avons 5 chantiers, "
      "3 en action, et un tableur qui ne suffit plus.");
  COHORTE_ASSIGN_OR_RETURN(v1::Exchange a,
                           services.exchanges.CreateExchange(thomas, agents));
  reply.set_parent(a.name());
  reply.mutable_message()->set_reply_to(
      absl::StrCat(a.name(), "/messages/m000001"));
  reply.mutable_message()->set_body(
      "Un tableau de bord inter-services, mis à jour en réunion d'équipe "
      "projet : simple, mais tenu.");
  COHORTE_RETURN_IF_ERROR(
      services.exchanges.PostMessage(karim, reply).status());

  // Two reports, one telling its failures plainly.
  v1::CreateReportRequest failure;
  failure.set_parent(kOccitanie);
  failure.set_report_id("master-plan-deux-echecs");
  v1::ExperienceReport* r = failure.mutable_report();
  r->set_title("Master Plan du PETR : ce qui a marché, et deux échecs majeurs");
  r->set_territory(kPetr);
  r->add_authors("members/thomas-petit");
  r->add_authors("members/sophie-laurent");
  r->add_authors("members/luc-moreau");
  r->set_visibility(v1::NETWORK);
  r->set_context(
      "Un PETR rural ; un Conseil de développement moteur ; une équipe-projet "
      "hybride de 15 personnes.");
  r->set_actions(
      "Diagnostic par les flux de revenus, cinq chantiers ouverts, une "
      "délibération-cadre.");
  r->set_results("Sur 5 chantiers, 3 sont passés en action.");
  r->set_what_worked(
      "L'implication des services ; la qualité des contenus produits "
      "ensemble.");
  r->set_what_failed(
      "Deux échecs majeurs : la non-participation significative des acteurs "
      "extérieurs (liée à la pandémie) et la non prise en compte du Master "
      "Plan par le reste du politique, après le départ du président.");
  r->set_lessons(
      "Faire porter le récit par plusieurs élus dès le départ ; garder des "
      "temps de rencontre physiques avec les acteurs socio-économiques.");
  r->add_balises("engagement-2");
  r->add_balises("cooperation-3");
  r->add_themes("gouvernance");
  r->add_chantiers(absl::StrCat(kPetr, "/chantiers/alimentation"));
  COHORTE_ASSIGN_OR_RETURN(v1::ExperienceReport failure_report,
                           services.reports.CreateReport(marie, failure));
  v1::PublishReportRequest publish;
  publish.set_name(failure_report.name());
  COHORTE_RETURN_IF_ERROR(
      services.reports.PublishReport(marie, publish).status());

  v1::CreateReportRequest trip;
  trip.set_parent(kOccitanie);
  trip.set_report_id("voyage-levier-engagement");
  r = trip.mutable_report();
  r->set_title("Le voyage d'étude comme levier d'engagement");
  r->set_territory(kCoteaux);
  r->set_visibility(v1::COHORT);
  r->set_context("Une intercommunalité où les élus se connaissaient peu.");
  r->set_what_worked(
      "Trois jours ensemble, loin du territoire : les élus sont revenus avec "
      "un projet commun de cantine en régie.");
  r->set_what_failed(
      "Les agents n'étaient pas du voyage : il a fallu refaire le chemin "
      "avec eux au retour.");
  r->set_lessons("Emmener les Quatre Fantastiques, pas seulement les élus.");
  r->add_balises("engagement-6");
  r->add_themes("alimentation");
  COHORTE_ASSIGN_OR_RETURN(v1::ExperienceReport trip_report,
                           services.reports.CreateReport(anne, trip));
  publish.set_name(trip_report.name());
  COHORTE_RETURN_IF_ERROR(
      services.reports.PublishReport(anne, publish).status());

  // A past common day, with attendance and minutes.
  v1::CreateSessionRequest day;
  day.set_parent(kOccitanie);
  day.set_session_id("journee-commune-1");
  v1::Session* s = day.mutable_session();
  s->set_kind(v1::Session::JOURNEE_COMMUNE);
  s->set_title("Journée commune n°1 : partager les enjeux");
  *s->mutable_start_time() = ParisDay(-60, 9);
  *s->mutable_end_time() = ParisDay(-60, 17);
  s->set_place("Toulouse, Hôtel de Région");
  COHORTE_ASSIGN_OR_RETURN(v1::Session past,
                           services.sessions.CreateSession(claire, day));
  for (const char* id :
       {"marie-dubois", "thomas-petit", "anne-roux", "karim-benali"}) {
    v1::RegisterRequest reg;
    reg.set_session(past.name());
    reg.set_member(absl::StrCat("members/", id));
    COHORTE_RETURN_IF_ERROR(services.sessions.Register(claire, reg).status());
  }
  for (const char* id : {"marie-dubois", "thomas-petit", "anne-roux"}) {
    v1::RecordAttendanceRequest att;
    att.set_session(past.name());
    att.set_member(absl::StrCat("members/", id));
    att.set_attended(true);
    COHORTE_RETURN_IF_ERROR(
        services.sessions.RecordAttendance(claire, att).status());
  }
  v1::UpdateSessionRequest minutes;
  minutes.mutable_session()->set_name(past.name());
  minutes.mutable_session()->set_minutes(
      "Tour de table des trajectoires ; atelier « dissensus » sur le "
      "diagnostic ; les délégations repartent avec une question à porter "
      "chez elles.");
  minutes.mutable_update_mask()->add_paths("minutes");
  COHORTE_RETURN_IF_ERROR(
      services.sessions.UpdateSession(claire, minutes).status());

  // An upcoming study trip, with registrations.
  v1::CreateSessionRequest voyage;
  voyage.set_parent(kOccitanie);
  voyage.set_session_id("voyage-etude-trieves");
  s = voyage.mutable_session();
  s->set_kind(v1::Session::VOYAGE_ETUDE);
  s->set_title("Voyage d'étude dans le Trièves : l'engagement est un voyage");
  *s->mutable_start_time() = ParisDay(21, 9);
  *s->mutable_end_time() = ParisDay(23, 17);
  s->set_place("Mens (Isère)");
  s->set_capacity(12);
  COHORTE_ASSIGN_OR_RETURN(v1::Session upcoming,
                           services.sessions.CreateSession(claire, voyage));
  for (const Principal* p : {&marie, &luc}) {
    v1::RegisterRequest reg;
    reg.set_session(upcoming.name());
    COHORTE_RETURN_IF_ERROR(services.sessions.Register(*p, reg).status());
  }
  return AddDemoRecords(services, claire, thomas);
}

}  // namespace

absl::Status SeedDemo(service::Services& services,
                      const service::Principal& admin,
                      const std::string& data_dir) {
  COHORTE_RETURN_IF_ERROR(AddCohorts(services.cohorts, admin));
  COHORTE_RETURN_IF_ERROR(AddTerritories(services.territories, admin));
  COHORTE_RETURN_IF_ERROR(AddMembers(services.members, admin, data_dir));
  COHORTE_RETURN_IF_ERROR(AddGroups(services.groups, admin));
  COHORTE_RETURN_IF_ERROR(AddChantiers(services.territories, admin));
  COHORTE_RETURN_IF_ERROR(AddTokenAndInvitation(
      services.tokens, services.invitations, admin, data_dir));
  return AddLife(services, admin);
}

}  // namespace cohorte::demo
