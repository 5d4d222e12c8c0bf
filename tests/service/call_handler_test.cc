// CallHandler's routing: writes and scans wait for a worker (and are
// refused SERVER_BUSY when the pool's queue is full), point reads and posts
// are served on gRPC's thread without one.

#include "server/transport/call_handler.h"

#include <chrono>
#include <memory>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "cohorte/v1/cohorts.grpc.pb.h"
#include "cohorte/v1/exchanges.grpc.pb.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "server/service/access/tokens.h"
#include "server/transport/services.h"
#include "server/transport/worker_pool.h"
#include "tests/testing/services.h"
#include "tests/testing/temp_dir.h"

namespace cohorte::transport {
namespace {

std::unique_ptr<grpc::ClientContext> WithDeadline() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(60));
  return context;
}

TEST(CallHandlerTest, PointReadsAndPostsAreServedWhileEveryWorkerIsBusy) {
  ::cohorte::testing::TempDir dir;
  ::cohorte::testing::Services services(dir.path());
  service::Authenticator authenticator(services.store.get());
  WorkerPool pool(/*threads=*/1, /*max_queued=*/1);
  CallHandler calls(&authenticator, &pool);
  GrpcServices grpc_services(&calls, services.all.get());
  grpc::ServerBuilder builder;
  grpc_services.Register(builder);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  auto stub = v1::CohortService::NewStub(
      server->InProcessChannel(grpc::ChannelArguments()));

  // The one worker is held, and the one place in the queue taken.
  absl::Notification started;
  absl::Notification release;
  ASSERT_TRUE(pool.TrySchedule([&] {
    started.Notify();
    release.WaitForNotificationWithTimeout(absl::Seconds(60));
  }));
  ASSERT_TRUE(started.WaitForNotificationWithTimeout(absl::Seconds(60)));
  ASSERT_TRUE(pool.TrySchedule([] {}));

  // A write and a list need a worker: refused at once.
  v1::CreateCohortRequest create;
  v1::Cohort cohort;
  EXPECT_EQ(
      stub->CreateCohort(WithDeadline().get(), create, &cohort).error_code(),
      grpc::StatusCode::RESOURCE_EXHAUSTED);
  v1::ListCohortsRequest list;
  v1::ListCohortsResponse listed;
  EXPECT_EQ(stub->ListCohorts(WithDeadline().get(), list, &listed).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  // A point read does not: it is authenticated and answered on gRPC's
  // thread (UNAUTHENTICATED here: no token), not refused as busy.
  v1::GetCohortRequest get;
  get.set_name("cohorts/occitanie");
  EXPECT_EQ(stub->GetCohort(WithDeadline().get(), get, &cohort).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // Nor does a post, which only queues its commit (CallHandler::UnaryAsync).
  auto exchanges = v1::ExchangeService::NewStub(
      server->InProcessChannel(grpc::ChannelArguments()));
  v1::PostMessageRequest post;
  post.set_parent("cohorts/occitanie/groups/elus/exchanges/e000000000001");
  v1::Message message;
  EXPECT_EQ(
      exchanges->PostMessage(WithDeadline().get(), post, &message).error_code(),
      grpc::StatusCode::UNAUTHENTICATED);

  release.Notify();
  server->Shutdown();
}

}  // namespace
}  // namespace cohorte::transport
