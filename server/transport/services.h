// File: server/transport/services.h
//
// The gRPC services: thin `final` adapters from the generated callback
// services to the service layer, through CallHandler. They hold no rules.
// Thread-safe; what they point to must outlive them.
#ifndef COHORTE_SERVER_TRANSPORT_SERVICES_H_
#define COHORTE_SERVER_TRANSPORT_SERVICES_H_

#include "cohorte/v1/audit.grpc.pb.h"
#include "cohorte/v1/cohorts.grpc.pb.h"
#include "cohorte/v1/groups.grpc.pb.h"
#include "cohorte/v1/invitations.grpc.pb.h"
#include "cohorte/v1/members.grpc.pb.h"
#include "cohorte/v1/territories.grpc.pb.h"
#include "cohorte/v1/tokens.grpc.pb.h"
#include "server/service/audit.h"
#include "server/service/cohort_service.h"
#include "server/service/group_service.h"
#include "server/service/invitation_service.h"
#include "server/service/member_service.h"
#include "server/service/territory_service.h"
#include "server/service/token_service.h"
#include "server/transport/call_handler.h"

namespace cohorte::transport {

class CohortGrpcService final : public v1::CohortService::CallbackService {
 public:
  CohortGrpcService(CallHandler* calls, service::CohortService* cohorts)
      : calls_(*calls), cohorts_(*cohorts) {}

  grpc::ServerUnaryReactor* CreateCohort(grpc::CallbackServerContext* ctx,
                                         const v1::CreateCohortRequest* req,
                                         v1::Cohort* resp) override;
  grpc::ServerUnaryReactor* GetCohort(grpc::CallbackServerContext* ctx,
                                      const v1::GetCohortRequest* req,
                                      v1::Cohort* resp) override;
  grpc::ServerUnaryReactor* ListCohorts(grpc::CallbackServerContext* ctx,
                                        const v1::ListCohortsRequest* req,
                                        v1::ListCohortsResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateCohort(grpc::CallbackServerContext* ctx,
                                         const v1::UpdateCohortRequest* req,
                                         v1::Cohort* resp) override;
  grpc::ServerUnaryReactor* DeleteCohort(grpc::CallbackServerContext* ctx,
                                         const v1::DeleteCohortRequest* req,
                                         v1::Cohort* resp) override;
  grpc::ServerUnaryReactor* UndeleteCohort(grpc::CallbackServerContext* ctx,
                                           const v1::UndeleteCohortRequest* req,
                                           v1::Cohort* resp) override;
  grpc::ServerUnaryReactor* ArchiveCohort(grpc::CallbackServerContext* ctx,
                                          const v1::ArchiveCohortRequest* req,
                                          v1::Cohort* resp) override;
  grpc::ServerUnaryReactor* UnarchiveCohort(
      grpc::CallbackServerContext* ctx, const v1::UnarchiveCohortRequest* req,
      v1::Cohort* resp) override;

 private:
  CallHandler& calls_;
  service::CohortService& cohorts_;
};

// Declares a unary adapter method.
#define COHORTE_DECLARE_UNARY(Method, Request, Response)                       \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx,           \
                                   const v1::Request* req, v1::Response* resp) \
      override

class MemberGrpcService final : public v1::MemberService::CallbackService {
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
    : public v1::TerritoryService::CallbackService {
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

class GroupGrpcService final : public v1::GroupService::CallbackService {
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

class TokenGrpcService final : public v1::TokenService::CallbackService {
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
    : public v1::InvitationService::CallbackService {
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

class AuditGrpcService final : public v1::AuditService::CallbackService {
 public:
  AuditGrpcService(CallHandler* calls, service::AuditService* audit)
      : calls_(*calls), audit_(*audit) {}

  COHORTE_DECLARE_UNARY(ListAuditEvents, ListAuditEventsRequest,
                        ListAuditEventsResponse);

 private:
  CallHandler& calls_;
  service::AuditService& audit_;
};

#undef COHORTE_DECLARE_UNARY

}  // namespace cohorte::transport

#endif  // COHORTE_SERVER_TRANSPORT_SERVICES_H_
