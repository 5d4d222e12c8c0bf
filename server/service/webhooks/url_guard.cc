#include "server/service/webhooks/url_guard.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/service/core/errors.h"
#include "server/service/core/limits.h"

namespace cohorte::service {
namespace {

struct CurlUrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

// A part of `u`, or "" if it has none.
std::string Part(CURLU* u, CURLUPart part) {
  char* value = nullptr;
  if (curl_url_get(u, part, &value, 0) != CURLUE_OK || value == nullptr) {
    return "";
  }
  std::string out(value);
  curl_free(value);
  return out;
}

// Parses a numeric address into `bytes` (4 or 16 of them); its family, or 0.
int ParseAddress(absl::string_view text, uint8_t* bytes) {
  const std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), bytes) == 1) return AF_INET;
  if (inet_pton(AF_INET6, s.c_str(), bytes) == 1) return AF_INET6;
  return 0;
}

}  // namespace

absl::StatusOr<WebhookAllowList> WebhookAllowList::Parse(
    const std::vector<std::string>& entries) {
  WebhookAllowList list;
  for (const std::string& raw : entries) {
    const std::string entry =
        absl::AsciiStrToLower(absl::StripAsciiWhitespace(raw));
    if (entry.empty()) continue;
    const size_t slash = entry.find('/');
    Network net;
    net.family = ParseAddress(entry.substr(0, slash), net.bytes.data());
    if (net.family != 0) {
      const int max_bits = net.family == AF_INET ? 32 : 128;
      net.prefix_bits = max_bits;
      if (slash != std::string::npos &&
          (!absl::SimpleAtoi(entry.substr(slash + 1), &net.prefix_bits) ||
           net.prefix_bits < 0 || net.prefix_bits > max_bits)) {
        return absl::InvalidArgumentError(
            absl::StrCat("--webhook-allow: bad network ", entry));
      }
      list.networks_.push_back(net);
      continue;
    }
    const bool name_like =
        slash == std::string::npos &&
        entry.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") ==
            std::string::npos;
    if (!name_like) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--webhook-allow: ", entry,
          " is neither a host name, an address nor a network (a.b.c.d/n)"));
    }
    list.hosts_.push_back(entry);
  }
  return list;
}

bool WebhookAllowList::Contains(int family, const uint8_t* bytes) const {
  for (const Network& net : networks_) {
    if (net.family != family) continue;
    int bits = net.prefix_bits;
    bool match = true;
    for (int i = 0; bits > 0 && match; ++i, bits -= 8) {
      const uint8_t mask =
          bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
      match = (bytes[i] & mask) == (net.bytes[i] & mask);
    }
    if (match) return true;
  }
  return false;
}

absl::StatusOr<CheckedUrl> WebhookAllowList::Check(
    absl::string_view field, absl::string_view url) const {
  if (url.empty()) return InvalidField(field, "is required");
  if (static_cast<int>(url.size()) > kMaxWebhookUrlLength) {
    return InvalidField(
        field, absl::StrCat("is longer than ", kMaxWebhookUrlLength, " bytes"));
  }
  std::unique_ptr<CURLU, CurlUrlDeleter> u(curl_url());
  const std::string text(url);
  if (u == nullptr ||
      curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) {
    return InvalidField(field, "is not a URL");
  }
  const std::string scheme =
      absl::AsciiStrToLower(Part(u.get(), CURLUPART_SCHEME));
  if (scheme != "http" && scheme != "https") {
    return InvalidField(field, "must be http:// or https://");
  }
  if (!Part(u.get(), CURLUPART_USER).empty() ||
      !Part(u.get(), CURLUPART_PASSWORD).empty()) {
    return InvalidField(field, "must not carry a user name or password");
  }
  CheckedUrl out;
  out.url = text;
  out.host = absl::AsciiStrToLower(Part(u.get(), CURLUPART_HOST));
  if (out.host.size() >= 2 && out.host.front() == '[') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (out.host.empty()) return InvalidField(field, "has no host");
  const std::string port = Part(u.get(), CURLUPART_PORT);
  out.port = scheme == "https" ? 443 : 80;
  if (!port.empty() && !absl::SimpleAtoi(port, &out.port)) {
    return InvalidField(field, "has a bad port");
  }
  if (empty()) {
    return InvalidField(field,
                        "no webhook destination is allowed on this server "
                        "(the operator allows hosts with --webhook-allow)");
  }
  bool host_allowed = false;
  for (const std::string& h : hosts_)
    host_allowed = host_allowed || h == out.host;

  addrinfo hints;
  std::memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(out.host.c_str(), nullptr, &hints, &found) != 0 ||
      found == nullptr) {
    return InvalidField(field, absl::StrCat("host ", out.host.substr(0, 255),
                                            " does not resolve"));
  }
  bool all_inside = true;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {0};
    const uint8_t* bytes = nullptr;
    if (a->ai_family == AF_INET) {
      bytes = reinterpret_cast<const uint8_t*>(
          &reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr);
    } else if (a->ai_family == AF_INET6) {
      bytes = reinterpret_cast<const uint8_t*>(
          &reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr);
    } else {
      continue;
    }
    inet_ntop(a->ai_family, bytes, buf, sizeof(buf));
    if (out.address.empty()) out.address = buf;
    all_inside = all_inside && Contains(a->ai_family, bytes);
  }
  freeaddrinfo(found);
  if (out.address.empty()) {
    return InvalidField(field, absl::StrCat("host ", out.host.substr(0, 255),
                                            " has no usable address"));
  }
  if (!host_allowed && !all_inside) {
    return InvalidField(
        field, absl::StrCat("host ", out.host.substr(0, 255),
                            " is not among the destinations this server "
                            "allows (--webhook-allow)"));
  }
  return out;
}

}  // namespace cohorte::service
