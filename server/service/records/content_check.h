// File: server/service/records/content_check.h
//
// What the record service checks of a content's bytes: a SHA-256 that can
// be saved between chunks (its state stored with the upload, so that a
// write resumed after a restart hashes only its own bytes), and the media
// type against the first bytes for the common document types.
// Thread-compatible (values).
#ifndef COHORTE_SERVER_SERVICE_RECORDS_CONTENT_CHECK_H_
#define COHORTE_SERVER_SERVICE_RECORDS_CONTENT_CHECK_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cohorte::service {

// A SHA-256 in progress, saved as bytes between chunks.
class ResumableSha256 {
 public:
  // A new hash (no bytes yet).
  ResumableSha256();
  // The hash whose state Save() returned; INTERNAL if `state` is not one.
  static absl::StatusOr<ResumableSha256> Restore(absl::string_view state);

  void Update(absl::string_view bytes);
  // The state, for Restore.
  std::string Save() const;
  // The digest of the bytes so far, 64 lowercase hex digits (the state is
  // unchanged).
  std::string HexDigest() const;

 private:
  std::string state_;  // OpenSSL's SHA256_CTX, as bytes
};

// The SHA-256 of `bytes`, 64 lowercase hex digits.
std::string Sha256Hex(absl::string_view bytes);

// The media type of a content that starts with `head`, for the types with a
// signature (PDF, PNG, JPEG, GIF, ZIP and the office formats built on it,
// MP4); empty if none matches.
std::string SniffMediaType(absl::string_view head);

// OK if a content starting with `head` may be of `declared`: a declared
// type with a signature must match it (the office formats match ZIP's).
// INVALID_ARGUMENT naming media_type otherwise.
absl::Status CheckMediaType(absl::string_view declared, absl::string_view head);

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_RECORDS_CONTENT_CHECK_H_
