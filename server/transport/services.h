// File: server/transport/services.h
//
// The gRPC services: thin `final` adapters from the generated callback
// services to the service layer, through CallHandler. They hold no rules.
// Thread-safe; what they point to must outlive them.
#ifndef COHORTE_SERVER_TRANSPORT_SERVICES_H_
#define COHORTE_SERVER_TRANSPORT_SERVICES_H_

#include <string>
#include <vector>

#include "cohorte/v1/admin.grpc.pb.h"
#include "cohorte/v1/audit.grpc.pb.h"
#include "cohorte/v1/changes.grpc.pb.h"
#include "cohorte/v1/cohorts.grpc.pb.h"
#include "cohorte/v1/exchanges.grpc.pb.h"
#include "cohorte/v1/groups.grpc.pb.h"
#include "cohorte/v1/inbox.grpc.pb.h"
#include "cohorte/v1/invitations.grpc.pb.h"
#include "cohorte/v1/links.grpc.pb.h"
#include "cohorte/v1/members.grpc.pb.h"
#include "cohorte/v1/moderation.grpc.pb.h"
#include "cohorte/v1/records.grpc.pb.h"
#include "cohorte/v1/referentiel.grpc.pb.h"
#include "cohorte/v1/reports.grpc.pb.h"
#include "cohorte/v1/sessions.grpc.pb.h"
#include "cohorte/v1/territories.grpc.pb.h"
#include "cohorte/v1/tokens.grpc.pb.h"
#include "cohorte/v1/webhooks.grpc.pb.h"
#include "grpcpp/server_builder.h"
#include "server/service/admin/admin_service.h"
#include "server/service/audit/audit.h"
#include "server/service/content/exchange_service.h"
#include "server/service/content/moderation_service.h"
#include "server/service/content/referentiel.h"
#include "server/service/content/report_service.h"
#include "server/service/identity/invitation_service.h"
#include "server/service/identity/token_service.h"
#include "server/service/inbox/inbox.h"
#include "server/service/services.h"
#include "server/service/sessions/session_service.h"
#include "server/service/structure/cohort_service.h"
#include "server/service/structure/group_service.h"
#include "server/service/structure/member_service.h"
#include "server/service/structure/territory_service.h"
#include "server/transport/call_handler.h"
#include "server/transport/request_decoding.h"

namespace cohorte::transport {

// Declares a unary adapter method, served behind a DecodeCheckingHandler
// (request_decoding.h): the member it declares puts it there.
#define COHORTE_DECLARE_UNARY(Method, Request, Response)                       \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx,           \
                                   const v1::Request* req, v1::Response* resp) \
      override;                                                                \
  const bool Method##_checks_decoding_ =                                       \
      CheckDecoding<v1::Request, v1::Response>(                                \
          #Method,                                                             \
          [this](grpc::CallbackServerContext* c, const v1::Request* q,         \
                 v1::Response* r) { return Method(c, q, r); })

class CohortGrpcService final : public DecodingService<v1::CohortService> {
 public:
  CohortGrpcService(CallHandler* calls, service::CohortService* cohorts)
      : calls_(*calls), cohorts_(*cohorts) {}

  COHORTE_DECLARE_UNARY(CreateCohort, CreateCohortRequest, Cohort);
  COHORTE_DECLARE_UNARY(GetCohort, GetCohortRequest, Cohort);
  COHORTE_DECLARE_UNARY(ListCohorts, ListCohortsRequest, ListCohortsResponse);
  COHORTE_DECLARE_UNARY(UpdateCohort, UpdateCohortRequest, Cohort);
  COHORTE_DECLARE_UNARY(DeleteCohort, DeleteCohortRequest, Cohort);
  COHORTE_DECLARE_UNARY(UndeleteCohort, UndeleteCohortRequest, Cohort);
  COHORTE_DECLARE_UNARY(ArchiveCohort, ArchiveCohortRequest, Cohort);
  COHORTE_DECLARE_UNARY(UnarchiveCohort, UnarchiveCohortRequest, Cohort);

 private:
  CallHandler& calls_;
  service::CohortService& cohorts_;
};

class MemberGrpcService final : public DecodingService<v1::MemberService> {
 public:
  MemberGrpcService(CallHandler* calls, service::MemberService* members)
      : calls_(*calls), members_(*members) {}

  COHORTE_DECLARE_UNARY(CreateMember, CreateMemberRequest, Member);
  COHORTE_DECLARE_UNARY(GetMember, GetMemberRequest, Member);
  COHORTE_DECLARE_UNARY(ListMembers, ListMembersRequest, ListMembersResponse);
  COHORTE_DECLARE_UNARY(UpdateMember, UpdateMemberRequest, Member);
  COHORTE_DECLARE_UNARY(CreateToken, CreateTokenRequest, CreateTokenResponse);

 private:
  CallHandler& calls_;
  service::MemberService& members_;
};

class TerritoryGrpcService final
    : public DecodingService<v1::TerritoryService> {
 public:
  TerritoryGrpcService(CallHandler* calls,
                       service::TerritoryService* territories)
      : calls_(*calls), territories_(*territories) {}

  COHORTE_DECLARE_UNARY(CreateTerritory, CreateTerritoryRequest, Territory);
  COHORTE_DECLARE_UNARY(GetTerritory, GetTerritoryRequest, Territory);
  COHORTE_DECLARE_UNARY(ListTerritories, ListTerritoriesRequest,
                        ListTerritoriesResponse);
  COHORTE_DECLARE_UNARY(UpdateTerritory, UpdateTerritoryRequest, Territory);
  COHORTE_DECLARE_UNARY(ChangeTerritoryPhase, ChangeTerritoryPhaseRequest,
                        Territory);
  COHORTE_DECLARE_UNARY(CreateChantier, CreateChantierRequest, Chantier);
  COHORTE_DECLARE_UNARY(GetChantier, GetChantierRequest, Chantier);
  COHORTE_DECLARE_UNARY(ListChantiers, ListChantiersRequest,
                        ListChantiersResponse);
  COHORTE_DECLARE_UNARY(UpdateChantier, UpdateChantierRequest, Chantier);

 private:
  CallHandler& calls_;
  service::TerritoryService& territories_;
};

class GroupGrpcService final : public DecodingService<v1::GroupService> {
 public:
  GroupGrpcService(CallHandler* calls, service::GroupService* groups)
      : calls_(*calls), groups_(*groups) {}

  COHORTE_DECLARE_UNARY(CreateGroup, CreateGroupRequest, PeerGroup);
  COHORTE_DECLARE_UNARY(GetGroup, GetGroupRequest, PeerGroup);
  COHORTE_DECLARE_UNARY(ListGroups, ListGroupsRequest, ListGroupsResponse);
  COHORTE_DECLARE_UNARY(SetGroupMembers, SetGroupMembersRequest, PeerGroup);
  COHORTE_DECLARE_UNARY(ListGroupMembers, ListGroupMembersRequest,
                        ListGroupMembersResponse);

 private:
  CallHandler& calls_;
  service::GroupService& groups_;
};

class TokenGrpcService final : public DecodingService<v1::TokenService> {
 public:
  TokenGrpcService(CallHandler* calls, service::TokenService* tokens)
      : calls_(*calls), tokens_(*tokens) {}

  COHORTE_DECLARE_UNARY(CreateServiceToken, CreateServiceTokenRequest,
                        TokenSecret);
  COHORTE_DECLARE_UNARY(GetToken, GetTokenRequest, Token);
  COHORTE_DECLARE_UNARY(ListTokens, ListTokensRequest, ListTokensResponse);
  COHORTE_DECLARE_UNARY(RevokeToken, RevokeTokenRequest, Token);
  COHORTE_DECLARE_UNARY(RotateToken, RotateTokenRequest, TokenSecret);

 private:
  CallHandler& calls_;
  service::TokenService& tokens_;
};

class InvitationGrpcService final
    : public DecodingService<v1::InvitationService> {
 public:
  InvitationGrpcService(CallHandler* calls,
                        service::InvitationService* invitations)
      : calls_(*calls), invitations_(*invitations) {}

  COHORTE_DECLARE_UNARY(CreateInvitation, CreateInvitationRequest,
                        CreateInvitationResponse);
  COHORTE_DECLARE_UNARY(GetInvitation, GetInvitationRequest, Invitation);
  COHORTE_DECLARE_UNARY(ListInvitations, ListInvitationsRequest,
                        ListInvitationsResponse);
  COHORTE_DECLARE_UNARY(RevokeInvitation, RevokeInvitationRequest, Invitation);
  // The one call without a bearer token: the secret is the credential.
  COHORTE_DECLARE_UNARY(AcceptInvitation, AcceptInvitationRequest,
                        AcceptInvitationResponse);

 private:
  CallHandler& calls_;
  service::InvitationService& invitations_;
};

class AuditGrpcService final : public DecodingService<v1::AuditService> {
 public:
  AuditGrpcService(CallHandler* calls, service::AuditService* audit)
      : calls_(*calls), audit_(*audit) {}

  COHORTE_DECLARE_UNARY(ListAuditEvents, ListAuditEventsRequest,
                        ListAuditEventsResponse);

 private:
  CallHandler& calls_;
  service::AuditService& audit_;
};

class ReferentielGrpcService final
    : public DecodingService<v1::ReferentielService> {
 public:
  ReferentielGrpcService(CallHandler* calls,
                         service::ReferentielService* referentiel)
      : calls_(*calls), referentiel_(*referentiel) {}

  COHORTE_DECLARE_UNARY(GetReferentiel, GetReferentielRequest, Referentiel);

 private:
  CallHandler& calls_;
  service::ReferentielService& referentiel_;
};

class ExchangeGrpcService final : public DecodingService<v1::ExchangeService> {
 public:
  ExchangeGrpcService(CallHandler* calls, service::ExchangeService* exchanges)
      : calls_(*calls), exchanges_(*exchanges) {}

  COHORTE_DECLARE_UNARY(CreateExchange, CreateExchangeRequest, Exchange);
  COHORTE_DECLARE_UNARY(GetExchange, GetExchangeRequest, Exchange);
  COHORTE_DECLARE_UNARY(ListExchanges, ListExchangesRequest,
                        ListExchangesResponse);
  COHORTE_DECLARE_UNARY(UpdateExchange, UpdateExchangeRequest, Exchange);
  COHORTE_DECLARE_UNARY(PostMessage, PostMessageRequest, Message);
  COHORTE_DECLARE_UNARY(GetMessage, GetMessageRequest, Message);
  COHORTE_DECLARE_UNARY(ListMessages, ListMessagesRequest,
                        ListMessagesResponse);
  COHORTE_DECLARE_UNARY(EditMessage, EditMessageRequest, Message);
  COHORTE_DECLARE_UNARY(DeleteMessage, DeleteMessageRequest, Message);
  COHORTE_DECLARE_UNARY(UndeleteMessage, UndeleteMessageRequest, Message);
  COHORTE_DECLARE_UNARY(MarkExchangeRead, MarkExchangeReadRequest,
                        MarkExchangeReadResponse);

 private:
  CallHandler& calls_;
  service::ExchangeService& exchanges_;
};

class InboxGrpcService final : public DecodingService<v1::InboxService> {
 public:
  InboxGrpcService(CallHandler* calls, service::InboxService* inbox)
      : calls_(*calls), inbox_(*inbox) {}

  COHORTE_DECLARE_UNARY(ListInbox, ListInboxRequest, ListInboxResponse);
  COHORTE_DECLARE_UNARY(MarkInboxRead, MarkInboxReadRequest,
                        MarkInboxReadResponse);
  COHORTE_DECLARE_UNARY(Follow, FollowRequest, FollowResponse);
  COHORTE_DECLARE_UNARY(Unfollow, FollowRequest, FollowResponse);
  COHORTE_DECLARE_UNARY(ListFollows, ListFollowsRequest, ListFollowsResponse);

 private:
  CallHandler& calls_;
  service::InboxService& inbox_;
};

class ReportGrpcService final : public DecodingService<v1::ReportService> {
 public:
  ReportGrpcService(CallHandler* calls, service::ReportService* reports)
      : calls_(*calls), reports_(*reports) {}

  COHORTE_DECLARE_UNARY(CreateReport, CreateReportRequest, ExperienceReport);
  COHORTE_DECLARE_UNARY(GetReport, GetReportRequest, ExperienceReport);
  COHORTE_DECLARE_UNARY(ListReports, ListReportsRequest, ListReportsResponse);
  COHORTE_DECLARE_UNARY(UpdateReport, UpdateReportRequest, ExperienceReport);
  COHORTE_DECLARE_UNARY(PublishReport, PublishReportRequest, ExperienceReport);
  COHORTE_DECLARE_UNARY(ArchiveReport, ArchiveReportRequest, ExperienceReport);

 private:
  CallHandler& calls_;
  service::ReportService& reports_;
};

class SessionGrpcService final : public DecodingService<v1::SessionService> {
 public:
  SessionGrpcService(CallHandler* calls, service::SessionService* sessions)
      : calls_(*calls), sessions_(*sessions) {}

  COHORTE_DECLARE_UNARY(CreateSession, CreateSessionRequest, Session);
  COHORTE_DECLARE_UNARY(GetSession, GetSessionRequest, Session);
  COHORTE_DECLARE_UNARY(ListSessions, ListSessionsRequest,
                        ListSessionsResponse);
  COHORTE_DECLARE_UNARY(ListUpcomingSessions, ListUpcomingSessionsRequest,
                        ListUpcomingSessionsResponse);
  COHORTE_DECLARE_UNARY(UpdateSession, UpdateSessionRequest, Session);
  COHORTE_DECLARE_UNARY(Register, RegisterRequest, Registration);
  COHORTE_DECLARE_UNARY(CancelRegistration, CancelRegistrationRequest,
                        Registration);
  COHORTE_DECLARE_UNARY(ListRegistrations, ListRegistrationsRequest,
                        ListRegistrationsResponse);
  COHORTE_DECLARE_UNARY(RecordAttendance, RecordAttendanceRequest,
                        Registration);

 private:
  CallHandler& calls_;
  service::SessionService& sessions_;
};

class ModerationGrpcService final
    : public DecodingService<v1::ModerationService> {
 public:
  ModerationGrpcService(CallHandler* calls,
                        service::ModerationService* moderation)
      : calls_(*calls), moderation_(*moderation) {}

  COHORTE_DECLARE_UNARY(FlagContent, FlagContentRequest, ContentFlag);
  COHORTE_DECLARE_UNARY(ListFlags, ListFlagsRequest, ListFlagsResponse);
  COHORTE_DECLARE_UNARY(HideContent, HideContentRequest, HideContentResponse);
  COHORTE_DECLARE_UNARY(UnhideContent, UnhideContentRequest,
                        HideContentResponse);
  COHORTE_DECLARE_UNARY(DismissFlag, DismissFlagRequest, ContentFlag);

 private:
  CallHandler& calls_;
  service::ModerationService& moderation_;
};

class AdminGrpcService final : public DecodingService<v1::AdminService> {
 public:
  AdminGrpcService(CallHandler* calls, service::AdminService* admin)
      : calls_(*calls), admin_(*admin) {}
  COHORTE_DECLARE_UNARY(CreateBackup, CreateBackupRequest, Backup);
  COHORTE_DECLARE_UNARY(ListBackups, ListBackupsRequest, ListBackupsResponse);
  COHORTE_DECLARE_UNARY(VerifyBackup, VerifyBackupRequest, Backup);
  COHORTE_DECLARE_UNARY(DeleteBackup, DeleteBackupRequest,
                        DeleteBackupResponse);

 private:
  CallHandler& calls_;
  service::AdminService& admin_;
};

class WebhookGrpcService final : public DecodingService<v1::WebhookService> {
 public:
  WebhookGrpcService(CallHandler* calls, service::WebhookService* webhooks)
      : calls_(*calls), webhooks_(*webhooks) {}

  COHORTE_DECLARE_UNARY(CreateWebhook, CreateWebhookRequest, WebhookSecret);
  COHORTE_DECLARE_UNARY(GetWebhook, GetWebhookRequest, Webhook);
  COHORTE_DECLARE_UNARY(ListWebhooks, ListWebhooksRequest,
                        ListWebhooksResponse);
  COHORTE_DECLARE_UNARY(PauseWebhook, PauseWebhookRequest, Webhook);
  COHORTE_DECLARE_UNARY(ResumeWebhook, ResumeWebhookRequest, Webhook);
  COHORTE_DECLARE_UNARY(DeleteWebhook, DeleteWebhookRequest, Webhook);
  COHORTE_DECLARE_UNARY(ListWebhookDeliveries, ListWebhookDeliveriesRequest,
                        ListWebhookDeliveriesResponse);

 private:
  CallHandler& calls_;
  service::WebhookService& webhooks_;
};

class RecordGrpcService final : public DecodingService<v1::RecordService> {
 public:
  RecordGrpcService(CallHandler* calls, service::RecordService* records)
      : calls_(*calls), records_(*records) {}

  COHORTE_DECLARE_UNARY(CreateRecord, CreateRecordRequest, Record);
  COHORTE_DECLARE_UNARY(GetRecord, GetRecordRequest, Record);
  COHORTE_DECLARE_UNARY(ListRecords, ListRecordsRequest, ListRecordsResponse);
  COHORTE_DECLARE_UNARY(UpdateRecord, UpdateRecordRequest, Record);
  COHORTE_DECLARE_UNARY(DeleteRecord, DeleteRecordRequest, Record);
  COHORTE_DECLARE_UNARY(UndeleteRecord, UndeleteRecordRequest, Record);
  COHORTE_DECLARE_UNARY(ListRecordVersions, ListRecordVersionsRequest,
                        ListRecordVersionsResponse);
  COHORTE_DECLARE_UNARY(StartUpload, StartUploadRequest, Upload);
  COHORTE_DECLARE_UNARY(QueryUpload, QueryUploadRequest, Upload);
  // Streaming: record_streams.h.
  grpc::ServerReadReactor<v1::WriteUploadRequest>* WriteUpload(
      grpc::CallbackServerContext* ctx, v1::Upload* resp) override;
  grpc::ServerWriteReactor<v1::ReadRecordVersionResponse>* ReadRecordVersion(
      grpc::CallbackServerContext* ctx,
      const v1::ReadRecordVersionRequest* req) override;
  const bool read_checks_decoding_ =
      CheckStreamDecoding<v1::ReadRecordVersionRequest,
                          v1::ReadRecordVersionResponse>(
          "ReadRecordVersion", [this](grpc::CallbackServerContext* c,
                                      const v1::ReadRecordVersionRequest* q) {
            return ReadRecordVersion(c, q);
          });

 private:
  CallHandler& calls_;
  service::RecordService& records_;
};

// The change feed: ListChanges through CallHandler; Watch as a callback
// write reactor (watch.cc) that the WatchHub feeds.
class ChangeGrpcService final : public DecodingService<v1::ChangeService> {
 public:
  ChangeGrpcService(CallHandler* calls, service::ChangeService* changes,
                    service::WatchHub* watches)
      : calls_(*calls), changes_(*changes), watches_(*watches) {}
  COHORTE_DECLARE_UNARY(ListChanges, ListChangesRequest, ListChangesResponse);
  COHORTE_DECLARE_UNARY(ListSnapshot, ListSnapshotRequest,
                        ListSnapshotResponse);
  grpc::ServerWriteReactor<v1::WatchResponse>* Watch(
      grpc::CallbackServerContext* ctx, const v1::WatchRequest* req) override;
  const bool watch_checks_decoding_ =
      CheckStreamDecoding<v1::WatchRequest, v1::WatchResponse>(
          "Watch", [this](grpc::CallbackServerContext* c,
                          const v1::WatchRequest* q) { return Watch(c, q); });

 private:
  CallHandler& calls_;
  service::ChangeService& changes_;
  service::WatchHub& watches_;
};

class LinkGrpcService final : public DecodingService<v1::LinkService> {
 public:
  LinkGrpcService(CallHandler* calls, service::LinkService* links)
      : calls_(*calls), links_(*links) {}

  COHORTE_DECLARE_UNARY(CreateLink, CreateLinkRequest, Link);
  COHORTE_DECLARE_UNARY(GetLink, GetLinkRequest, Link);
  COHORTE_DECLARE_UNARY(ListLinks, ListLinksRequest, ListLinksResponse);
  COHORTE_DECLARE_UNARY(PauseLink, PauseLinkRequest, Link);
  COHORTE_DECLARE_UNARY(ResumeLink, ResumeLinkRequest, Link);
  COHORTE_DECLARE_UNARY(DeleteLink, DeleteLinkRequest, Link);
  // Client streaming: import_stream.h.
  grpc::ServerReadReactor<v1::ImportCohortRequest>* ImportCohort(
      grpc::CallbackServerContext* ctx,
      v1::ImportCohortResponse* resp) override;

 private:
  CallHandler& calls_;
  service::LinkService& links_;
};

#undef COHORTE_DECLARE_UNARY

// Every gRPC service cohorted serves, over one service::Services: the one
// place that wires services -> gRPC adapters. Thread-safe once built; what
// it points to must outlive it.
class GrpcServices {
 public:
  GrpcServices(CallHandler* calls, service::Services* s)
      : cohorts_(calls, &s->cohorts),
        members_(calls, &s->members),
        territories_(calls, &s->territories),
        groups_(calls, &s->groups),
        tokens_(calls, &s->tokens),
        invitations_(calls, &s->invitations),
        audit_(calls, &s->audit),
        referentiel_(calls, &s->referentiel),
        exchanges_(calls, &s->exchanges),
        inbox_(calls, &s->inbox),
        reports_(calls, &s->reports),
        sessions_(calls, &s->sessions),
        moderation_(calls, &s->moderation),
        changes_(calls, &s->changes, &s->watches),
        admin_(calls, &s->admin),
        webhooks_(calls, &s->webhooks),
        records_(calls, &s->records),
        links_(calls, &s->links) {}
  GrpcServices(const GrpcServices&) = delete;
  GrpcServices& operator=(const GrpcServices&) = delete;

  // Registers every service with `builder`.
  void Register(grpc::ServerBuilder& builder);
  // The full names of the services Register registers, in its order (the
  // confidentiality matrix takes its RPCs from their descriptors).
  static std::vector<std::string> Names();

 private:
  CohortGrpcService cohorts_;
  MemberGrpcService members_;
  TerritoryGrpcService territories_;
  GroupGrpcService groups_;
  TokenGrpcService tokens_;
  InvitationGrpcService invitations_;
  AuditGrpcService audit_;
  ReferentielGrpcService referentiel_;
  ExchangeGrpcService exchanges_;
  InboxGrpcService inbox_;
  ReportGrpcService reports_;
  SessionGrpcService sessions_;
  ModerationGrpcService moderation_;
  ChangeGrpcService changes_;
  AdminGrpcService admin_;
  WebhookGrpcService webhooks_;
  RecordGrpcService records_;
  LinkGrpcService links_;
};

}  // namespace cohorte::transport

#endif  // COHORTE_SERVER_TRANSPORT_SERVICES_H_
