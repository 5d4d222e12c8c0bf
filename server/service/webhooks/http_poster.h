// File: server/service/webhooks/http_poster.h
//
// How a webhook delivery leaves the server: an HttpPoster sends one POST
// and says what came back. CurlPoster is the real one (libcurl): it checks
// the URL against the allow list again (DNS rebinding), connects to the
// address it checked (CURLOPT_RESOLVE), follows no redirect, speaks only
// http and https, and gives up after short timeouts. Tests use their own.
//
// Thread-safety: CurlPoster is safe from many threads (one easy handle per
// call); the allow list must outlive it.
#ifndef COHORTE_SERVER_SERVICE_WEBHOOKS_HTTP_POSTER_H_
#define COHORTE_SERVER_SERVICE_WEBHOOKS_HTTP_POSTER_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "server/service/webhooks/url_guard.h"

namespace cohorte::service {

struct HttpPost {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpOutcome {
  // The HTTP status; 0 if there was none (refused, timed out, not allowed).
  int status = 0;
  // Empty on a 2xx; otherwise what went wrong, for the delivery log.
  std::string error;
  bool ok() const { return status >= 200 && status < 300; }
};

using HttpPoster = std::function<HttpOutcome(const HttpPost&)>;

// The libcurl poster, checking each URL against `allow` first.
HttpPoster CurlPoster(const WebhookAllowList* allow);

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_WEBHOOKS_HTTP_POSTER_H_
