// File: server/service/webhooks/url_guard.h
//
// WebhookAllowList: where the server may send webhooks, against
// server-side request forgery. The operator lists allowed host names and
// networks (--webhook-allow); the default allows nothing, so no webhook can
// be made until the operator allows somewhere. A URL passes if it is
// http(s), carries no user name or password, and either its host is an
// allowed name (the operator trusts whatever it resolves to) or every
// address it resolves to lies in an allowed network. The check runs when
// a webhook is made and again before each delivery (DNS rebinding); the
// delivery then connects to the very address checked (CURLOPT_RESOLVE).
//
// Thread-safe (immutable once parsed).
#ifndef COHORTE_SERVER_SERVICE_WEBHOOKS_URL_GUARD_H_
#define COHORTE_SERVER_SERVICE_WEBHOOKS_URL_GUARD_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cohorte::service {

// A URL that passed the allow list, with the address to connect to.
struct CheckedUrl {
  std::string url;
  std::string host;  // as in the URL, without brackets
  int port = 0;
  // The numeric address checked (IPv4 dotted or IPv6 without brackets).
  std::string address;
};

class WebhookAllowList {
 public:
  // Entries: host names (`hooks.example.org`), addresses (`127.0.0.1`,
  // `::1`) and networks in CIDR form (`10.0.0.0/8`, `fd00::/8`).
  // INVALID_ARGUMENT naming the entry for anything else.
  static absl::StatusOr<WebhookAllowList> Parse(
      const std::vector<std::string>& entries);

  // The empty list: allows nothing.
  WebhookAllowList() = default;

  // OK and where to connect if `url` may receive webhooks (see the file
  // comment); INVALID_ARGUMENT naming `field` otherwise (not http(s), a
  // user name in it, no host, a host that does not resolve, or resolves
  // outside the list).
  absl::StatusOr<CheckedUrl> Check(absl::string_view field,
                                   absl::string_view url) const;

  bool empty() const { return hosts_.empty() && networks_.empty(); }

 private:
  struct Network {
    int family = 0;  // AF_INET or AF_INET6
    std::array<uint8_t, 16> bytes{};
    int prefix_bits = 0;
  };
  bool Contains(int family, const uint8_t* bytes) const;

  std::vector<std::string> hosts_;  // lowercase
  std::vector<Network> networks_;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_WEBHOOKS_URL_GUARD_H_
