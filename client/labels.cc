#include "client/labels.h"

#include <cstdlib>
#include <map>
#include <string>
#include <utility>

namespace cohorte::client {
namespace {

// enum type full name + "." + value name → {French, English}.
const std::map<std::string, std::pair<const char*, const char*>>& Labels() {
  static const auto* labels = new std::map<std::string,
                                           std::pair<const char*, const char*>>{
      {"cohorte.v1.Cohort.State.ACTIVE", {"Active", "Active"}},
      {"cohorte.v1.Cohort.State.ARCHIVED", {"Archivée", "Archived"}},
      {"cohorte.v1.College.ELU", {"Élus", "Elected officials"}},
      {"cohorte.v1.College.AGENT", {"Agents", "Local government staff"}},
      {"cohorte.v1.College.ETAT_TERRITORIAL",
       {"État territorial", "State services"}},
      {"cohorte.v1.College.ACTEUR_SOCIO_ECONOMIQUE",
       {"Acteurs socio-économiques", "Socio-economic actors"}},
      {"cohorte.v1.Member.Role.MEMBER",
       {"Membre de délégation", "Delegation member"}},
      {"cohorte.v1.Member.Role.ALLY", {"Allié", "Ally"}},
      {"cohorte.v1.Member.Role.COORDINATOR", {"Coordination", "Coordinator"}},
      {"cohorte.v1.Member.Role.ADMIN", {"Administration", "Administrator"}},
      {"cohorte.v1.Territory.Kind.COMMUNE", {"Commune", "Municipality"}},
      {"cohorte.v1.Territory.Kind.INTERCOMMUNALITE",
       {"Intercommunalité", "Inter-municipality"}},
      {"cohorte.v1.Territory.Kind.PETR", {"PETR", "PETR"}},
      {"cohorte.v1.Territory.Kind.DEPARTEMENT", {"Département", "Department"}},
      {"cohorte.v1.Territory.Kind.REGION", {"Région", "Region"}},
      {"cohorte.v1.Territory.Kind.OTHER", {"Autre", "Other"}},
      {"cohorte.v1.Territory.Phase.PARTAGE_DES_ENJEUX",
       {"Partage des enjeux", "Sharing the issues"}},
      {"cohorte.v1.Territory.Phase.EMERGENCE", {"Émergence", "Emergence"}},
      {"cohorte.v1.Territory.Phase.STRATEGIE", {"Stratégie", "Strategy"}},
      {"cohorte.v1.Territory.Phase.GOUVERNANCE_MISE_EN_OEUVRE",
       {"Gouvernance et mise en œuvre", "Governance and implementation"}},
      {"cohorte.v1.Territory.Phase.SUIVI", {"Suivi", "Follow-up"}},
      {"cohorte.v1.Chantier.Status.IDENTIFIE", {"Identifié", "Identified"}},
      {"cohorte.v1.Chantier.Status.EN_ACTION", {"En action", "Under way"}},
      {"cohorte.v1.Chantier.Status.EN_PAUSE", {"En pause", "Paused"}},
      {"cohorte.v1.Chantier.Status.TERMINE", {"Terminé", "Done"}},
      {"cohorte.v1.PeerGroup.Kind.COLLEGE", {"Collège", "College"}},
      {"cohorte.v1.PeerGroup.Kind.GEOGRAPHIC", {"Géographique", "Geographic"}},
      {"cohorte.v1.PeerGroup.Kind.THEMATIC", {"Thématique", "Thematic"}},
      {"cohorte.v1.PeerGroup.Kind.DELEGATION", {"Délégation", "Delegation"}},
      {"cohorte.v1.Exchange.Kind.QUESTION", {"Question", "Question"}},
      {"cohorte.v1.Exchange.Kind.SHARING", {"Partage", "Sharing"}},
      {"cohorte.v1.Exchange.Kind.CALL_FOR_HELP",
       {"Appel à l'aide", "Call for help"}},
      {"cohorte.v1.Exchange.Kind.DEBATE", {"Débat", "Debate"}},
      {"cohorte.v1.Exchange.State.OPEN", {"Ouvert", "Open"}},
      {"cohorte.v1.Exchange.State.RESOLVED", {"Résolu", "Resolved"}},
      {"cohorte.v1.Exchange.State.CLOSED", {"Clos", "Closed"}},
      {"cohorte.v1.InboxItem.Kind.NEW_MESSAGE",
       {"Nouveau message", "New message"}},
      {"cohorte.v1.InboxItem.Kind.REPLY", {"Réponse", "Reply"}},
      {"cohorte.v1.InboxItem.Kind.MENTION", {"Mention", "Mention"}},
      {"cohorte.v1.InboxItem.Kind.REPORT_PUBLISHED",
       {"Retour d'expérience publié", "Report published"}},
      {"cohorte.v1.InboxItem.Kind.SESSION_OPEN",
       {"Inscriptions ouvertes", "Session open"}},
      {"cohorte.v1.InboxItem.Kind.GROUP_READER_ADDED",
       {"Nouveau membre du groupe", "Group member added"}},
      {"cohorte.v1.InboxItem.Kind.SEAT_GRANTED",
       {"Place obtenue", "Seat granted"}},
      {"cohorte.v1.InboxItem.Kind.WEBHOOK_PAUSED",
       {"Webhook suspendu", "Webhook paused"}},
      {"cohorte.v1.Webhook.State.ACTIVE", {"Actif", "Active"}},
      {"cohorte.v1.Link.State.SNAPSHOTTING",
       {"Copie initiale", "Snapshotting"}},
      {"cohorte.v1.Link.State.FOLLOWING", {"Suivi", "Following"}},
      {"cohorte.v1.Link.State.PAUSED", {"Suspendu", "Paused"}},
      {"cohorte.v1.Link.State.ERROR", {"En erreur", "Error"}},
      {"cohorte.v1.Webhook.State.PAUSED", {"Suspendu", "Paused"}},
      {"cohorte.v1.WebhookDelivery.Status.DELIVERED", {"Livré", "Delivered"}},
      {"cohorte.v1.WebhookDelivery.Status.FAILED", {"Échec", "Failed"}},
      {"cohorte.v1.Invitation.State.PENDING", {"En attente", "Pending"}},
      {"cohorte.v1.Invitation.State.ACCEPTED", {"Acceptée", "Accepted"}},
      {"cohorte.v1.Invitation.State.REVOKED", {"Révoquée", "Revoked"}},
      {"cohorte.v1.Invitation.State.EXPIRED", {"Expirée", "Expired"}},
      {"cohorte.v1.ContentFlag.Reason.SPAM", {"Spam", "Spam"}},
      {"cohorte.v1.ContentFlag.Reason.ABUSE", {"Abus", "Abuse"}},
      {"cohorte.v1.ContentFlag.Reason.CONFIDENTIALITY",
       {"Confidentialité", "Confidentiality"}},
      {"cohorte.v1.ContentFlag.Reason.OTHER", {"Autre", "Other"}},
      {"cohorte.v1.ContentFlag.State.OPEN", {"Ouvert", "Open"}},
      {"cohorte.v1.ContentFlag.State.RESOLVED", {"Traité", "Resolved"}},
      {"cohorte.v1.Visibility.GROUP", {"Groupe", "Group"}},
      {"cohorte.v1.Visibility.COHORT", {"Cohorte", "Cohort"}},
      {"cohorte.v1.Visibility.NETWORK", {"Réseau", "Network"}},
      {"cohorte.v1.Visibility.PUBLIC", {"Public", "Public"}},
      {"cohorte.v1.ExperienceReport.State.DRAFT", {"Brouillon", "Draft"}},
      {"cohorte.v1.ExperienceReport.State.PUBLISHED", {"Publié", "Published"}},
      {"cohorte.v1.ExperienceReport.State.ARCHIVED", {"Archivé", "Archived"}},
      {"cohorte.v1.Session.Kind.JOURNEE_COMMUNE",
       {"Journée commune", "Common day"}},
      {"cohorte.v1.Session.Kind.WEBINAIRE", {"Webinaire", "Webinar"}},
      {"cohorte.v1.Session.Kind.ATELIER", {"Atelier", "Workshop"}},
      {"cohorte.v1.Session.Kind.VOYAGE_ETUDE",
       {"Voyage d'étude", "Study trip"}},
      {"cohorte.v1.Session.Kind.INTERSESSION",
       {"Intersession", "Intersession"}},
      {"cohorte.v1.Registration.State.REGISTERED", {"Inscrit", "Registered"}},
      {"cohorte.v1.Registration.State.WAITLISTED",
       {"Liste d'attente", "Waiting list"}},
      {"cohorte.v1.Registration.State.CANCELLED", {"Annulé", "Cancelled"}},
      {"cohorte.v1.Token.Kind.PERSONAL", {"Personnel", "Personal"}},
      {"cohorte.v1.Token.Kind.SERVICE", {"Service", "Service"}},
      {"cohorte.v1.Token.Access.READ", {"Lecture", "Read"}},
      {"cohorte.v1.Token.Access.READ_WRITE",
       {"Lecture et écriture", "Read and write"}},
  };
  return *labels;
}

}  // namespace

LabelLanguage LocaleLanguage() {
  for (const char* name : {"LC_ALL", "LC_MESSAGES", "LANG"}) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') continue;
    const std::string locale = value;
    if (locale.rfind("fr", 0) == 0) return LabelLanguage::kFrench;
    if (locale.rfind("en", 0) == 0) return LabelLanguage::kEnglish;
    return LabelLanguage::kCanonical;
  }
  return LabelLanguage::kCanonical;
}

std::string LabelOf(const google::protobuf::EnumValueDescriptor* value,
                    LabelLanguage language) {
  if (language == LabelLanguage::kCanonical) return value->name();
  const auto it =
      Labels().find(value->type()->full_name() + "." + value->name());
  if (it == Labels().end()) return value->name();
  return language == LabelLanguage::kFrench ? it->second.first
                                            : it->second.second;
}

}  // namespace cohorte::client
