// File: server/service/webhooks/signature.h
//
// The signature of a webhook delivery, after Stripe's: the header
//   Cohorte-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>
// where the HMAC is keyed by the webhook's secret over "<t>.<body>". A
// receiver recomputes it, compares in constant time, and refuses a `t`
// too far from its clock (replays).
//
// Thread-safe (pure functions).
#ifndef COHORTE_SERVER_SERVICE_WEBHOOKS_SIGNATURE_H_
#define COHORTE_SERVER_SERVICE_WEBHOOKS_SIGNATURE_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace cohorte::service {

inline constexpr absl::string_view kWebhookSecretPrefix = "whsec_";

// Lowercase hex of HMAC-SHA256(key, message).
std::string HmacSha256Hex(absl::string_view key, absl::string_view message);

// The Cohorte-Signature header value for `body` sent at `unix_seconds`.
std::string WebhookSignature(absl::string_view secret, int64_t unix_seconds,
                             absl::string_view body);

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_WEBHOOKS_SIGNATURE_H_
