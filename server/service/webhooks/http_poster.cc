#include "server/service/webhooks/http_poster.h"

#include <curl/curl.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "server/service/core/limits.h"

namespace cohorte::service {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// Discards the response body: only the status matters.
size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

HttpOutcome Post(const WebhookAllowList& allow, const HttpPost& post) {
  HttpOutcome out;
  absl::StatusOr<CheckedUrl> checked = allow.Check("webhook.url", post.url);
  if (!checked.ok()) {
    out.error = std::string(checked.status().message());
    return out;
  }
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (curl == nullptr) {
    out.error = "libcurl could not start";
    return out;
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  for (const auto& [name, value] : post.headers) {
    headers.reset(curl_slist_append(headers.release(),
                                    absl::StrCat(name, ": ", value).c_str()));
  }
  // Connect to the address just checked, whatever DNS says next.
  const std::string address = checked->address.find(':') == std::string::npos
                                  ? checked->address
                                  : absl::StrCat("[", checked->address, "]");
  std::unique_ptr<curl_slist, SlistDeleter> resolve(curl_slist_append(
      nullptr,
      absl::StrCat(checked->host, ":", checked->port, ":", address).c_str()));
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, post.url.c_str());
  curl_easy_setopt(c, CURLOPT_RESOLVE, resolve.get());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, post.body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(post.body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(kWebhookConnectTimeoutMs));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(kWebhookRequestTimeoutMs));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_USERAGENT, "cohorted-webhooks/1");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Discard);
  const CURLcode code = curl_easy_perform(c);
  if (code != CURLE_OK) {
    out.error = curl_easy_strerror(code);
    return out;
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  out.status = static_cast<int>(status);
  if (!out.ok()) out.error = absl::StrCat("HTTP ", status);
  return out;
}

}  // namespace

HttpPoster CurlPoster(const WebhookAllowList* allow) {
  // Once per process, before any thread uses libcurl.
  static const bool initialized = curl_global_init(CURL_GLOBAL_DEFAULT) == 0;
  (void)initialized;
  return [allow](const HttpPost& post) { return Post(*allow, post); };
}

}  // namespace cohorte::service
