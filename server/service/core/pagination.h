// File: server/service/core/pagination.h
//
// Opaque List page tokens (AIP-158) and request fingerprints. A token is
// base64url of a cohorte.internal.v1.PageToken: the last key returned and a
// fingerprint of the other request fields. It carries a position, never a
// permission: every page is filtered for the caller again. Thread-safe.
#ifndef COHORTE_SERVER_SERVICE_CORE_PAGINATION_H_
#define COHORTE_SERVER_SERVICE_CORE_PAGINATION_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace cohorte::service {

// 64-bit FNV-1a of `bytes`: stable across processes and versions.
uint64_t Fingerprint(absl::string_view bytes);

// Fingerprint of `request` serialized deterministically with the fields
// named in `ignored_fields` cleared (e.g. "request_id", "page_token").
uint64_t RequestFingerprint(
    const google::protobuf::Message& request,
    std::initializer_list<absl::string_view> ignored_fields);

std::string EncodePageToken(uint64_t query_fingerprint,
                            absl::string_view last_key);

// The last key in `token`, or "" for an empty token. INVALID_ARGUMENT
// naming `field` if the token is malformed or was made for a request with
// other parameters.
absl::StatusOr<std::string> DecodePageToken(absl::string_view field,
                                            absl::string_view token,
                                            uint64_t query_fingerprint);

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_CORE_PAGINATION_H_
