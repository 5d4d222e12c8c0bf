// CallHandler's routing: writes and scans wait for a worker (and are
// refused SERVER_BUSY when the pool's queue is full), point reads and posts
// are served on gRPC's thread without one.

#include "server/transport/call_handler.h"

#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "cohorte/v1/cohorts.grpc.pb.h"
#include "cohorte/v1/exchanges.grpc.pb.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "server/demo/demo.h"
#include "server/service/access/tokens.h"
#include "server/service/identity/bootstrap.h"
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

TEST(CallHandlerTest, PostsWaitingForTheirCommitAreBoundedByMaxQueued) {
  ::cohorte::testing::TempDir dir;
  // The store's async leadership runs at once, until `hold`: then it is
  // kept, so that a post waits for its commit as long as the test wants.
  absl::Mutex mu;
  bool hold = false;
  std::vector<std::function<void()>> held;
  ::cohorte::testing::Services services(dir.path(),
                                        [&](std::function<void()> task) {
                                          {
                                            absl::MutexLock lock(&mu);
                                            if (hold) {
                                              held.push_back(std::move(task));
                                              return;
                                            }
                                          }
                                          task();
                                        });
  absl::StatusOr<service::BootstrapResult> boot =
      service::BootstrapAdmin(*services.store, dir.path() + "/admin.token");
  ASSERT_TRUE(boot.ok()) << boot.status();
  ASSERT_TRUE(demo::SeedDemo(*services.all, boot->admin, dir.path()).ok());
  std::string token;
  {
    std::ifstream in(dir.path() + "/demo-tokens/marie-dubois.token");
    std::getline(in, token);
  }
  ASSERT_FALSE(token.empty());

  service::Authenticator authenticator(services.store.get());
  WorkerPool pool(/*threads=*/2, /*max_queued=*/1);
  CallHandler calls(&authenticator, &pool);
  GrpcServices grpc_services(&calls, services.all.get());
  grpc::ServerBuilder builder;
  grpc_services.Register(builder);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  auto exchanges = v1::ExchangeService::NewStub(
      server->InProcessChannel(grpc::ChannelArguments()));
  auto post = [&](const std::string& body) {
    std::unique_ptr<grpc::ClientContext> context = WithDeadline();
    context->AddMetadata("authorization", "Bearer " + token);
    v1::PostMessageRequest request;
    request.set_parent("cohorts/occitanie/groups/elus/exchanges/e000000000001");
    request.mutable_message()->set_body(body);
    v1::Message message;
    return exchanges->PostMessage(context.get(), request, &message);
  };
  ASSERT_TRUE(post("avant").ok());  // served while nothing is held

  {
    absl::MutexLock lock(&mu);
    hold = true;
  }
  // At the bound: one post waits for its commit.
  grpc::Status first;
  std::thread waiting([&] { first = post("en attente"); });
  {
    absl::MutexLock lock(&mu);
    ASSERT_TRUE(mu.AwaitWithTimeout(
        absl::Condition(
            +[](std::vector<std::function<void()>>* h) { return !h->empty(); },
            &held),
        absl::Seconds(60)));
  }
  // Past it: the next one is refused at once, and writes nothing.
  const grpc::Status refused = post("refusé");
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << refused.error_message();
  // Released: the waiting post is committed and answered.
  std::vector<std::function<void()>> tasks;
  {
    absl::MutexLock lock(&mu);
    hold = false;
    tasks.swap(held);
  }
  for (auto& task : tasks) task();
  waiting.join();
  EXPECT_TRUE(first.ok()) << first.error_message();
  EXPECT_TRUE(post("après").ok());
  server->Shutdown();
}

}  // namespace
}  // namespace cohorte::transport
