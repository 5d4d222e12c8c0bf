// SHA256_CTX is deprecated in OpenSSL 3 for EVP, whose state cannot be
// saved; the low-level context is a plain struct that can.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "server/service/records/content_check.h"

#include <openssl/sha.h>

#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/service/core/errors.h"

namespace cohorte::service {

ResumableSha256::ResumableSha256() {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  state_.assign(reinterpret_cast<const char*>(&ctx), sizeof(ctx));
}

absl::StatusOr<ResumableSha256> ResumableSha256::Restore(
    absl::string_view state) {
  if (state.size() != sizeof(SHA256_CTX)) {
    return absl::InternalError("a saved SHA-256 state of the wrong size");
  }
  ResumableSha256 hash;
  hash.state_ = std::string(state);
  return hash;
}

void ResumableSha256::Update(absl::string_view bytes) {
  SHA256_CTX ctx;
  std::memcpy(&ctx, state_.data(), sizeof(ctx));
  SHA256_Update(&ctx, bytes.data(), bytes.size());
  state_.assign(reinterpret_cast<const char*>(&ctx), sizeof(ctx));
}

std::string ResumableSha256::Save() const { return state_; }

std::string ResumableSha256::HexDigest() const {
  SHA256_CTX ctx;
  std::memcpy(&ctx, state_.data(), sizeof(ctx));
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_Final(digest, &ctx);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::string Sha256Hex(absl::string_view bytes) {
  ResumableSha256 hash;
  hash.Update(bytes);
  return hash.HexDigest();
}

std::string SniffMediaType(absl::string_view head) {
  if (absl::StartsWith(head, "%PDF-")) return "application/pdf";
  if (absl::StartsWith(head, "\x89PNG\r\n\x1a\n")) return "image/png";
  if (absl::StartsWith(head, "\xff\xd8\xff")) return "image/jpeg";
  if (absl::StartsWith(head, "GIF87a") || absl::StartsWith(head, "GIF89a")) {
    return "image/gif";
  }
  if (absl::StartsWith(head, absl::string_view("PK\x03\x04", 4))) {
    return "application/zip";
  }
  if (head.size() >= 12 && head.substr(4, 4) == "ftyp") return "video/mp4";
  return "";
}

absl::Status CheckMediaType(absl::string_view declared,
                            absl::string_view head) {
  std::string expected;
  if (declared == "application/pdf" || declared == "image/png" ||
      declared == "image/jpeg" || declared == "image/gif" ||
      declared == "video/mp4") {
    expected = std::string(declared);
  } else if (declared == "application/zip" ||
             absl::StartsWith(
                 declared, "application/vnd.openxmlformats-officedocument.") ||
             absl::StartsWith(declared,
                              "application/vnd.oasis.opendocument.")) {
    expected = "application/zip";
  } else {
    return absl::OkStatus();  // no signature to check
  }
  if (SniffMediaType(head) == expected) return absl::OkStatus();
  return InvalidField(
      "media_type",
      absl::StrCat("is ", declared, " but the content does not start as one"));
}

}  // namespace cohorte::service
