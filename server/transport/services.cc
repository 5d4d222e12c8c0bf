#include "server/transport/services.h"

#include "server/transport/import_stream.h"
#include "server/transport/record_streams.h"

namespace cohorte::transport {
namespace {

// Full gRPC service names, for the call log.
#define CohortGrpcService_kName "cohorte.v1.CohortService"
#define MemberGrpcService_kName "cohorte.v1.MemberService"
#define TerritoryGrpcService_kName "cohorte.v1.TerritoryService"
#define GroupGrpcService_kName "cohorte.v1.GroupService"
#define TokenGrpcService_kName "cohorte.v1.TokenService"
#define InvitationGrpcService_kName "cohorte.v1.InvitationService"
#define AuditGrpcService_kName "cohorte.v1.AuditService"
#define ReferentielGrpcService_kName "cohorte.v1.ReferentielService"
#define ExchangeGrpcService_kName "cohorte.v1.ExchangeService"
#define InboxGrpcService_kName "cohorte.v1.InboxService"
#define ReportGrpcService_kName "cohorte.v1.ReportService"
#define SessionGrpcService_kName "cohorte.v1.SessionService"
#define ModerationGrpcService_kName "cohorte.v1.ModerationService"
#define ChangeGrpcService_kName "cohorte.v1.ChangeService"
#define AdminGrpcService_kName "cohorte.v1.AdminService"
#define WebhookGrpcService_kName "cohorte.v1.WebhookService"
#define RecordGrpcService_kName "cohorte.v1.RecordService"
#define LinkGrpcService_kName "cohorte.v1.LinkService"

}  // namespace

// Each adapter forwards to the service method of the same name, through
// CallHandler::`how`: Unary (on a worker) or Read (a point read, on gRPC's
// thread).
#define COHORTE_ADAPTER(how, Service, field, Method, Request, Response)       \
  grpc::ServerUnaryReactor* Service::Method(grpc::CallbackServerContext* ctx, \
                                            const v1::Request* req,           \
                                            v1::Response* resp) {             \
    return calls_.how<v1::Request, v1::Response>(                             \
        "/" Service##_kName "/" #Method, ctx, req, resp,                      \
        [this](const service::Principal& caller, const v1::Request& r) {      \
          return field.Method(caller, r);                                     \
        });                                                                   \
  }
#define COHORTE_UNARY(...) COHORTE_ADAPTER(Unary, __VA_ARGS__)
#define COHORTE_READ(...) COHORTE_ADAPTER(Read, __VA_ARGS__)

COHORTE_UNARY(CohortGrpcService, cohorts_, CreateCohort, CreateCohortRequest,
              Cohort)
COHORTE_READ(CohortGrpcService, cohorts_, GetCohort, GetCohortRequest, Cohort)
COHORTE_UNARY(CohortGrpcService, cohorts_, ListCohorts, ListCohortsRequest,
              ListCohortsResponse)
COHORTE_UNARY(CohortGrpcService, cohorts_, UpdateCohort, UpdateCohortRequest,
              Cohort)
COHORTE_UNARY(CohortGrpcService, cohorts_, DeleteCohort, DeleteCohortRequest,
              Cohort)
COHORTE_UNARY(CohortGrpcService, cohorts_, UndeleteCohort,
              UndeleteCohortRequest, Cohort)
COHORTE_UNARY(CohortGrpcService, cohorts_, ArchiveCohort, ArchiveCohortRequest,
              Cohort)
COHORTE_UNARY(CohortGrpcService, cohorts_, UnarchiveCohort,
              UnarchiveCohortRequest, Cohort)
COHORTE_UNARY(MemberGrpcService, members_, CreateMember, CreateMemberRequest,
              Member)
COHORTE_READ(MemberGrpcService, members_, GetMember, GetMemberRequest, Member)
COHORTE_UNARY(MemberGrpcService, members_, ListMembers, ListMembersRequest,
              ListMembersResponse)
COHORTE_UNARY(MemberGrpcService, members_, UpdateMember, UpdateMemberRequest,
              Member)
COHORTE_UNARY(MemberGrpcService, members_, CreateToken, CreateTokenRequest,
              CreateTokenResponse)
COHORTE_UNARY(TerritoryGrpcService, territories_, CreateTerritory,
              CreateTerritoryRequest, Territory)
COHORTE_READ(TerritoryGrpcService, territories_, GetTerritory,
             GetTerritoryRequest, Territory)
COHORTE_UNARY(TerritoryGrpcService, territories_, ListTerritories,
              ListTerritoriesRequest, ListTerritoriesResponse)
COHORTE_UNARY(TerritoryGrpcService, territories_, UpdateTerritory,
              UpdateTerritoryRequest, Territory)
COHORTE_UNARY(TerritoryGrpcService, territories_, ChangeTerritoryPhase,
              ChangeTerritoryPhaseRequest, Territory)
COHORTE_UNARY(GroupGrpcService, groups_, CreateGroup, CreateGroupRequest,
              PeerGroup)
COHORTE_READ(GroupGrpcService, groups_, GetGroup, GetGroupRequest, PeerGroup)
COHORTE_UNARY(GroupGrpcService, groups_, ListGroups, ListGroupsRequest,
              ListGroupsResponse)
COHORTE_UNARY(GroupGrpcService, groups_, SetGroupMembers,
              SetGroupMembersRequest, PeerGroup)
COHORTE_UNARY(GroupGrpcService, groups_, ListGroupMembers,
              ListGroupMembersRequest, ListGroupMembersResponse)

COHORTE_UNARY(TerritoryGrpcService, territories_, CreateChantier,
              CreateChantierRequest, Chantier)
COHORTE_READ(TerritoryGrpcService, territories_, GetChantier,
             GetChantierRequest, Chantier)
COHORTE_UNARY(TerritoryGrpcService, territories_, ListChantiers,
              ListChantiersRequest, ListChantiersResponse)
COHORTE_UNARY(TerritoryGrpcService, territories_, UpdateChantier,
              UpdateChantierRequest, Chantier)
COHORTE_UNARY(TokenGrpcService, tokens_, CreateServiceToken,
              CreateServiceTokenRequest, TokenSecret)
COHORTE_READ(TokenGrpcService, tokens_, GetToken, GetTokenRequest, Token)
COHORTE_UNARY(TokenGrpcService, tokens_, ListTokens, ListTokensRequest,
              ListTokensResponse)
COHORTE_UNARY(TokenGrpcService, tokens_, RevokeToken, RevokeTokenRequest, Token)
COHORTE_UNARY(TokenGrpcService, tokens_, RotateToken, RotateTokenRequest,
              TokenSecret)
COHORTE_UNARY(InvitationGrpcService, invitations_, CreateInvitation,
              CreateInvitationRequest, CreateInvitationResponse)
COHORTE_READ(InvitationGrpcService, invitations_, GetInvitation,
             GetInvitationRequest, Invitation)
COHORTE_UNARY(InvitationGrpcService, invitations_, ListInvitations,
              ListInvitationsRequest, ListInvitationsResponse)
COHORTE_UNARY(InvitationGrpcService, invitations_, RevokeInvitation,
              RevokeInvitationRequest, Invitation)
COHORTE_UNARY(AuditGrpcService, audit_, ListAuditEvents, ListAuditEventsRequest,
              ListAuditEventsResponse)

COHORTE_READ(ReferentielGrpcService, referentiel_, GetReferentiel,
             GetReferentielRequest, Referentiel)
COHORTE_UNARY(ExchangeGrpcService, exchanges_, CreateExchange,
              CreateExchangeRequest, Exchange)
COHORTE_READ(ExchangeGrpcService, exchanges_, GetExchange, GetExchangeRequest,
             Exchange)
COHORTE_UNARY(ExchangeGrpcService, exchanges_, ListExchanges,
              ListExchangesRequest, ListExchangesResponse)
COHORTE_UNARY(ExchangeGrpcService, exchanges_, UpdateExchange,
              UpdateExchangeRequest, Exchange)
// A post only waits on its commit: answered by the thread that led it.
grpc::ServerUnaryReactor* ExchangeGrpcService::PostMessage(
    grpc::CallbackServerContext* ctx, const v1::PostMessageRequest* req,
    v1::Message* resp) {
  return calls_.UnaryAsync<v1::PostMessageRequest, v1::Message>(
      "/" ExchangeGrpcService_kName "/PostMessage", ctx, req, resp,
      [this](const service::Principal& caller, const v1::PostMessageRequest& r,
             std::function<void(absl::StatusOr<v1::Message>)> done) {
        exchanges_.PostMessageAsync(caller, r, std::move(done));
      });
}
COHORTE_READ(ExchangeGrpcService, exchanges_, GetMessage, GetMessageRequest,
             Message)
COHORTE_UNARY(ExchangeGrpcService, exchanges_, ListMessages,
              ListMessagesRequest, ListMessagesResponse)
COHORTE_UNARY(ExchangeGrpcService, exchanges_, EditMessage, EditMessageRequest,
              Message)
COHORTE_UNARY(ExchangeGrpcService, exchanges_, DeleteMessage,
              DeleteMessageRequest, Message)
COHORTE_UNARY(ExchangeGrpcService, exchanges_, UndeleteMessage,
              UndeleteMessageRequest, Message)
COHORTE_UNARY(ExchangeGrpcService, exchanges_, MarkExchangeRead,
              MarkExchangeReadRequest, MarkExchangeReadResponse)
COHORTE_UNARY(InboxGrpcService, inbox_, ListInbox, ListInboxRequest,
              ListInboxResponse)
COHORTE_UNARY(InboxGrpcService, inbox_, MarkInboxRead, MarkInboxReadRequest,
              MarkInboxReadResponse)
COHORTE_UNARY(InboxGrpcService, inbox_, Follow, FollowRequest, FollowResponse)
COHORTE_UNARY(InboxGrpcService, inbox_, Unfollow, FollowRequest, FollowResponse)
COHORTE_UNARY(InboxGrpcService, inbox_, ListFollows, ListFollowsRequest,
              ListFollowsResponse)
COHORTE_UNARY(ReportGrpcService, reports_, CreateReport, CreateReportRequest,
              ExperienceReport)
COHORTE_READ(ReportGrpcService, reports_, GetReport, GetReportRequest,
             ExperienceReport)
COHORTE_UNARY(ReportGrpcService, reports_, ListReports, ListReportsRequest,
              ListReportsResponse)
COHORTE_UNARY(ReportGrpcService, reports_, UpdateReport, UpdateReportRequest,
              ExperienceReport)
COHORTE_UNARY(ReportGrpcService, reports_, PublishReport, PublishReportRequest,
              ExperienceReport)
COHORTE_UNARY(ReportGrpcService, reports_, ArchiveReport, ArchiveReportRequest,
              ExperienceReport)
COHORTE_UNARY(SessionGrpcService, sessions_, CreateSession,
              CreateSessionRequest, Session)
COHORTE_READ(SessionGrpcService, sessions_, GetSession, GetSessionRequest,
             Session)
COHORTE_UNARY(SessionGrpcService, sessions_, ListSessions, ListSessionsRequest,
              ListSessionsResponse)
COHORTE_UNARY(SessionGrpcService, sessions_, ListUpcomingSessions,
              ListUpcomingSessionsRequest, ListUpcomingSessionsResponse)
COHORTE_UNARY(SessionGrpcService, sessions_, UpdateSession,
              UpdateSessionRequest, Session)
COHORTE_UNARY(SessionGrpcService, sessions_, Register, RegisterRequest,
              Registration)
COHORTE_UNARY(SessionGrpcService, sessions_, CancelRegistration,
              CancelRegistrationRequest, Registration)
COHORTE_UNARY(SessionGrpcService, sessions_, ListRegistrations,
              ListRegistrationsRequest, ListRegistrationsResponse)
COHORTE_UNARY(SessionGrpcService, sessions_, RecordAttendance,
              RecordAttendanceRequest, Registration)
COHORTE_UNARY(ModerationGrpcService, moderation_, FlagContent,
              FlagContentRequest, ContentFlag)
COHORTE_UNARY(ModerationGrpcService, moderation_, ListFlags, ListFlagsRequest,
              ListFlagsResponse)
COHORTE_UNARY(ModerationGrpcService, moderation_, HideContent,
              HideContentRequest, HideContentResponse)
COHORTE_UNARY(ModerationGrpcService, moderation_, UnhideContent,
              UnhideContentRequest, HideContentResponse)
COHORTE_UNARY(ModerationGrpcService, moderation_, DismissFlag,
              DismissFlagRequest, ContentFlag)
COHORTE_UNARY(AdminGrpcService, admin_, CreateBackup, CreateBackupRequest,
              Backup)
COHORTE_UNARY(AdminGrpcService, admin_, ListBackups, ListBackupsRequest,
              ListBackupsResponse)
COHORTE_UNARY(AdminGrpcService, admin_, VerifyBackup, VerifyBackupRequest,
              Backup)
COHORTE_UNARY(AdminGrpcService, admin_, DeleteBackup, DeleteBackupRequest,
              DeleteBackupResponse)

COHORTE_UNARY(RecordGrpcService, records_, CreateRecord, CreateRecordRequest,
              Record)
COHORTE_READ(RecordGrpcService, records_, GetRecord, GetRecordRequest, Record)
COHORTE_UNARY(RecordGrpcService, records_, ListRecords, ListRecordsRequest,
              ListRecordsResponse)
COHORTE_UNARY(RecordGrpcService, records_, UpdateRecord, UpdateRecordRequest,
              Record)
COHORTE_UNARY(RecordGrpcService, records_, DeleteRecord, DeleteRecordRequest,
              Record)
COHORTE_UNARY(RecordGrpcService, records_, UndeleteRecord,
              UndeleteRecordRequest, Record)
COHORTE_UNARY(RecordGrpcService, records_, ListRecordVersions,
              ListRecordVersionsRequest, ListRecordVersionsResponse)
COHORTE_UNARY(RecordGrpcService, records_, StartUpload, StartUploadRequest,
              Upload)
COHORTE_UNARY(RecordGrpcService, records_, QueryUpload, QueryUploadRequest,
              Upload)

grpc::ServerReadReactor<v1::WriteUploadRequest>* RecordGrpcService::WriteUpload(
    grpc::CallbackServerContext* ctx, v1::Upload* resp) {
  return StartWriteUpload(calls_, records_, ctx, resp);
}

grpc::ServerWriteReactor<v1::ReadRecordVersionResponse>*
RecordGrpcService::ReadRecordVersion(grpc::CallbackServerContext* ctx,
                                     const v1::ReadRecordVersionRequest* req) {
  return StartReadRecordVersion(calls_, records_, ctx, req);
}

grpc::ServerUnaryReactor* InvitationGrpcService::AcceptInvitation(
    grpc::CallbackServerContext* ctx, const v1::AcceptInvitationRequest* req,
    v1::AcceptInvitationResponse* resp) {
  return calls_.UnaryWithoutToken<v1::AcceptInvitationRequest,
                                  v1::AcceptInvitationResponse>(
      "/" InvitationGrpcService_kName "/AcceptInvitation", ctx, req, resp,
      [this](const v1::AcceptInvitationRequest& r) {
        return invitations_.AcceptInvitation(r);
      });
}

COHORTE_UNARY(ChangeGrpcService, changes_, ListChanges, ListChangesRequest,
              ListChangesResponse)
COHORTE_UNARY(ChangeGrpcService, changes_, ListSnapshot, ListSnapshotRequest,
              ListSnapshotResponse)
COHORTE_UNARY(LinkGrpcService, links_, CreateLink, CreateLinkRequest, Link)
COHORTE_READ(LinkGrpcService, links_, GetLink, GetLinkRequest, Link)
COHORTE_UNARY(LinkGrpcService, links_, ListLinks, ListLinksRequest,
              ListLinksResponse)
COHORTE_UNARY(LinkGrpcService, links_, PauseLink, PauseLinkRequest, Link)
COHORTE_UNARY(LinkGrpcService, links_, ResumeLink, ResumeLinkRequest, Link)
COHORTE_UNARY(LinkGrpcService, links_, DeleteLink, DeleteLinkRequest, Link)

grpc::ServerReadReactor<v1::ImportCohortRequest>* LinkGrpcService::ImportCohort(
    grpc::CallbackServerContext* ctx, v1::ImportCohortResponse* resp) {
  return StartImportCohort(calls_, links_, ctx, resp);
}

COHORTE_UNARY(WebhookGrpcService, webhooks_, CreateWebhook,
              CreateWebhookRequest, WebhookSecret)
COHORTE_READ(WebhookGrpcService, webhooks_, GetWebhook, GetWebhookRequest,
             Webhook)
COHORTE_UNARY(WebhookGrpcService, webhooks_, ListWebhooks, ListWebhooksRequest,
              ListWebhooksResponse)
COHORTE_UNARY(WebhookGrpcService, webhooks_, PauseWebhook, PauseWebhookRequest,
              Webhook)
COHORTE_UNARY(WebhookGrpcService, webhooks_, ResumeWebhook,
              ResumeWebhookRequest, Webhook)
COHORTE_UNARY(WebhookGrpcService, webhooks_, DeleteWebhook,
              DeleteWebhookRequest, Webhook)
COHORTE_UNARY(WebhookGrpcService, webhooks_, ListWebhookDeliveries,
              ListWebhookDeliveriesRequest, ListWebhookDeliveriesResponse)
#undef COHORTE_UNARY
#undef COHORTE_READ
#undef COHORTE_ADAPTER
#undef ChangeGrpcService_kName
#undef CohortGrpcService_kName
#undef MemberGrpcService_kName
#undef TerritoryGrpcService_kName
#undef GroupGrpcService_kName
#undef TokenGrpcService_kName
#undef InvitationGrpcService_kName
#undef AuditGrpcService_kName
#undef ReferentielGrpcService_kName
#undef ExchangeGrpcService_kName
#undef InboxGrpcService_kName
#undef ReportGrpcService_kName
#undef SessionGrpcService_kName
#undef ModerationGrpcService_kName
#undef WebhookGrpcService_kName
#undef RecordGrpcService_kName
#undef LinkGrpcService_kName

void GrpcServices::Register(grpc::ServerBuilder& builder) {
  for (grpc::Service* service : std::initializer_list<grpc::Service*>{
           &cohorts_, &members_, &territories_, &groups_, &tokens_,
           &invitations_, &audit_, &referentiel_, &exchanges_, &inbox_,
           &reports_, &sessions_, &moderation_, &changes_, &admin_, &webhooks_,
           &records_, &links_}) {
    builder.RegisterService(service);
  }
}

std::vector<std::string> GrpcServices::Names() {
  return {v1::CohortService::service_full_name(),
          v1::MemberService::service_full_name(),
          v1::TerritoryService::service_full_name(),
          v1::GroupService::service_full_name(),
          v1::TokenService::service_full_name(),
          v1::InvitationService::service_full_name(),
          v1::AuditService::service_full_name(),
          v1::ReferentielService::service_full_name(),
          v1::ExchangeService::service_full_name(),
          v1::InboxService::service_full_name(),
          v1::ReportService::service_full_name(),
          v1::SessionService::service_full_name(),
          v1::ModerationService::service_full_name(),
          v1::ChangeService::service_full_name(),
          v1::AdminService::service_full_name(),
          v1::WebhookService::service_full_name(),
          v1::RecordService::service_full_name(),
          v1::LinkService::service_full_name()};
}

}  // namespace cohorte::transport
