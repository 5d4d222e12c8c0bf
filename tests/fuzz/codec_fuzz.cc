// Fuzzes DecodeValue, which reads every stored value back (a corrupt or
// foreign value must be DATA_LOSS, never a crash), into the stored types
// with the most fields; a value that decodes encodes and decodes again to
// the same message.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "cohorte/v1/exchanges.pb.h"
#include "cohorte/v1/members.pb.h"
#include "cohorte/v1/reports.pb.h"
#include "storage/codec.h"

namespace {

template <typename T>
void Decode(absl::string_view value) {
  T message;
  const absl::Status status = cohorte::storage::DecodeValue(value, &message);
  if (!status.ok()) {
    if (status.code() != absl::StatusCode::kDataLoss) __builtin_trap();
    return;
  }
  T again;
  if (!cohorte::storage::DecodeValue(cohorte::storage::EncodeValue(message),
                                     &again)
           .ok() ||
      again.SerializeAsString() != message.SerializeAsString()) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view value(reinterpret_cast<const char*>(data), size);
  Decode<cohorte::v1::Message>(value);
  Decode<cohorte::v1::ExperienceReport>(value);
  Decode<cohorte::v1::Member>(value);
  uint64_t number = 0;
  cohorte::storage::DecodeUint64BigEndian(value, &number);
  return 0;
}
