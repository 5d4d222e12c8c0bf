// File: server/transport/services.h
//
// The gRPC services: thin `final` adapters from the generated callback
// services to the service layer, through CallHandler. They hold no rules.
// Thread-safe; what they point to must outlive them.
#ifndef COHORTE_SERVER_TRANSPORT_SERVICES_H_
#define COHORTE_SERVER_TRANSPORT_SERVICES_H_

#include "cohorte/v1/cohorts.grpc.pb.h"
#include "cohorte/v1/members.grpc.pb.h"
#include "server/service/cohort_service.h"
#include "server/service/member_service.h"
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
  grpc::ServerUnaryReactor* ListCohorts(
      grpc::CallbackServerContext* ctx, const v1::ListCohortsRequest* req,
      v1::ListCohortsResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateCohort(grpc::CallbackServerContext* ctx,
                                         const v1::UpdateCohortRequest* req,
                                         v1::Cohort* resp) override;
  grpc::ServerUnaryReactor* DeleteCohort(grpc::CallbackServerContext* ctx,
                                         const v1::DeleteCohortRequest* req,
                                         v1::Cohort* resp) override;
  grpc::ServerUnaryReactor* UndeleteCohort(
      grpc::CallbackServerContext* ctx, const v1::UndeleteCohortRequest* req,
      v1::Cohort* resp) override;
  grpc::ServerUnaryReactor* ArchiveCohort(
      grpc::CallbackServerContext* ctx, const v1::ArchiveCohortRequest* req,
      v1::Cohort* resp) override;
  grpc::ServerUnaryReactor* UnarchiveCohort(
      grpc::CallbackServerContext* ctx, const v1::UnarchiveCohortRequest* req,
      v1::Cohort* resp) override;

 private:
  CallHandler& calls_;
  service::CohortService& cohorts_;
};

class MemberGrpcService final : public v1::MemberService::CallbackService {
 public:
  MemberGrpcService(CallHandler* calls, service::MemberService* members)
      : calls_(*calls), members_(*members) {}

  grpc::ServerUnaryReactor* GetMember(grpc::CallbackServerContext* ctx,
                                      const v1::GetMemberRequest* req,
                                      v1::Member* resp) override;

 private:
  CallHandler& calls_;
  service::MemberService& members_;
};

}  // namespace cohorte::transport

#endif  // COHORTE_SERVER_TRANSPORT_SERVICES_H_
