// post_latency: the latency of small PostMessage calls against a running
// cohorted, one at a time, for --seconds; prints the count, p50, p99 and
// max. Run it alone, then while a large `records push` goes on, to see
// what the upload costs the small writes (the README's figures).
//
//   COHORTE_TOKEN=… build/tests/post_latency --server=127.0.0.1:50051
//       --exchange=cohorts/occitanie/groups/elus/exchanges/e000000000001
//       [--seconds=10]   (one command line)

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "cohorte/v1/exchanges.grpc.pb.h"
#include "grpcpp/create_channel.h"

int main(int argc, char** argv) {
  std::string server = "127.0.0.1:50051";
  std::string exchange;
  double seconds = 10;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--server=")) {
      server = std::string(arg);
    } else if (absl::ConsumePrefix(&arg, "--exchange=")) {
      exchange = std::string(arg);
    } else if (!absl::ConsumePrefix(&arg, "--seconds=") ||
               !absl::SimpleAtod(arg, &seconds)) {
      std::fprintf(stderr,
                   "usage: post_latency --server=H:P --exchange=NAME "
                   "[--seconds=10]\n");
      return 64;
    }
  }
  const char* token = std::getenv("COHORTE_TOKEN");
  if (exchange.empty() || token == nullptr) return 64;
  auto stub = cohorte::v1::ExchangeService::NewStub(
      grpc::CreateChannel(server, grpc::InsecureChannelCredentials()));
  std::vector<double> ms;
  const auto end =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", std::string("Bearer ") + token);
    cohorte::v1::PostMessageRequest req;
    req.set_parent(exchange);
    req.mutable_message()->set_body(std::string(400, 'x'));
    cohorte::v1::Message m;
    const auto t0 = std::chrono::steady_clock::now();
    grpc::Status s = stub->PostMessage(&ctx, req, &m);
    ms.push_back(std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - t0)
                     .count());
    if (!s.ok()) {
      std::fprintf(stderr, "PostMessage: %s\n", s.error_message().c_str());
      return 1;
    }
  }
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))];
  };
  std::printf("posts=%zu p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", ms.size(),
              at(0.5), at(0.99), ms.back());
  return 0;
}
