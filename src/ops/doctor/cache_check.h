#pragma once

// Checks of a garret cache from outside (`--cache-url`):
//   dns-unresolved   the URL's host does not resolve (getaddrinfo) (error)
//   cache-unhealthy  GET /health or /ready fails or is not 2xx (error)
//   tls-expiring     the served certificate expires within warn_days
//                    (warning) or error_days / already expired (error)

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/http_client.h"
#include "ops/doctor/metric.h"
#include "ops/finding.h"
#include "ops/host/system.h"

namespace garret::ops::doctor {

struct CacheCheckOptions {
  std::string url;  // "https://cache.example.org" (a path prefix is kept)
  int tls_warn_days = 30;
  int tls_error_days = 7;
};

// Host name of an http(s) URL ("[::1]" -> "::1"); nullopt if it is not one.
std::optional<std::string> urlHost(std::string_view url);

// libcurl's certificate "Expire date" ("Jan  2 03:04:05 2030 GMT" with
// OpenSSL, or "2030-01-02 03:04:05 GMT") to unix seconds.
std::optional<std::int64_t> parseCertDate(std::string_view text);

// tls-expiring for the leaf certificate of a response; nothing when the
// certificate has no parseable expiry.
std::vector<Finding> certificateFindings(const std::map<std::string, std::string>& leaf, const CacheCheckOptions& o,
                                         std::int64_t now, std::vector<Metric>& metrics);

// `http` must be made with HttpOptions::cert_info = true for the TLS check,
// and be fresh: libcurl reports certificates only for a new TLS handshake.
std::vector<Finding> checkCache(const CacheCheckOptions& o, client::HttpClient& http, host::HostSystem& host,
                                std::int64_t now, std::vector<Metric>& metrics);

}  // namespace garret::ops::doctor
