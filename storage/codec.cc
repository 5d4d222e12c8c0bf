#include "storage/codec.h"

#include "absl/strings/str_cat.h"

namespace cohorte::storage {

std::string EncodeValue(const google::protobuf::MessageLite& message) {
  std::string out(1, kValueFormatProto3);
  message.AppendToString(&out);
  return out;
}

absl::Status DecodeValue(absl::string_view value,
                         google::protobuf::MessageLite* message) {
  if (value.empty() || value[0] != kValueFormatProto3) {
    return absl::DataLossError(absl::StrCat(
        "stored value has an unknown format (", message->GetTypeName(), ")"));
  }
  value.remove_prefix(1);
  if (!message->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError(
        absl::StrCat("stored ", message->GetTypeName(), " does not parse"));
  }
  return absl::OkStatus();
}

std::string EncodeUint64BigEndian(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

bool DecodeUint64BigEndian(absl::string_view bytes, uint64_t* value) {
  if (bytes.size() != 8) return false;
  uint64_t v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<unsigned char>(c);
  *value = v;
  return true;
}

}  // namespace cohorte::storage
