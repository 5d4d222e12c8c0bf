#include "server/service/webhooks/signature.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace cohorte::service {

std::string HmacSha256Hex(absl::string_view key, absl::string_view message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
       digest, &length);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string WebhookSignature(absl::string_view secret, int64_t unix_seconds,
                             absl::string_view body) {
  return absl::StrCat(
      "t=", unix_seconds,
      ",v1=", HmacSha256Hex(secret, absl::StrCat(unix_seconds, ".", body)));
}

}  // namespace cohorte::service
