#include "server/service/core/pagination.h"

#include <memory>

#include "absl/strings/escaping.h"
#include "cohorte/internal/v1/page_token.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"

namespace cohorte::service {

uint64_t Fingerprint(absl::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

uint64_t RequestFingerprint(
    const google::protobuf::Message& request,
    std::initializer_list<absl::string_view> ignored_fields) {
  std::unique_ptr<google::protobuf::Message> copy(request.New());
  copy->CopyFrom(request);
  const google::protobuf::Descriptor* descriptor = copy->GetDescriptor();
  for (absl::string_view name : ignored_fields) {
    const google::protobuf::FieldDescriptor* field =
        descriptor->FindFieldByName(std::string(name));
    if (field != nullptr) copy->GetReflection()->ClearField(copy.get(), field);
  }
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    copy->SerializeToCodedStream(&coded);
  }
  return Fingerprint(bytes);
}

std::string EncodePageToken(uint64_t query_fingerprint,
                            absl::string_view last_key) {
  internal::v1::PageToken token;
  token.set_query_fingerprint(query_fingerprint);
  token.set_last_key(std::string(last_key));
  return absl::WebSafeBase64Escape(token.SerializeAsString());
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view field,
                                            absl::string_view token,
                                            uint64_t query_fingerprint) {
  if (token.empty()) return std::string();
  std::string bytes;
  internal::v1::PageToken decoded;
  if (static_cast<int>(token.size()) > kMaxPageTokenLength ||
      !absl::WebSafeBase64Unescape(token, &bytes) ||
      !decoded.ParseFromString(bytes) || decoded.last_key().empty()) {
    return InvalidField(field, "is not a page token from this API");
  }
  if (decoded.query_fingerprint() != query_fingerprint) {
    return InvalidField(field,
                        "was issued for a request with other parameters");
  }
  return decoded.last_key();
}

}  // namespace cohorte::service
