// Fuzzes request decoding as cohorted does it (protobuf's parser on the
// request types with the most fields), then what every handler computes
// first from a decoded request: its fingerprint for request_id replays and
// page tokens. Never crashes.

#include <cstddef>
#include <cstdint>

#include "cohorte/v1/cohorts.pb.h"
#include "cohorte/v1/exchanges.pb.h"
#include "cohorte/v1/reports.pb.h"
#include "cohorte/v1/sessions.pb.h"
#include "server/service/core/pagination.h"

namespace {

template <typename T>
void Parse(const uint8_t* data, size_t size) {
  T request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return;
  (void)cohorte::service::RequestFingerprint(request,
                                             {"request_id", "page_token"});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Parse<cohorte::v1::PostMessageRequest>(data, size);
  Parse<cohorte::v1::ListMessagesRequest>(data, size);
  Parse<cohorte::v1::CreateReportRequest>(data, size);
  Parse<cohorte::v1::UpdateReportRequest>(data, size);
  Parse<cohorte::v1::CreateCohortRequest>(data, size);
  Parse<cohorte::v1::CreateSessionRequest>(data, size);
  return 0;
}
