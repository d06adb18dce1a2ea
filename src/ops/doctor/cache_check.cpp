#include "ops/doctor/cache_check.h"

#include "core/timestamp.h"

#include <cstdio>
#include <cstring>
#include <ctime>

namespace garret::ops::doctor {

namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}


Finding unhealthy(const std::string& subject, std::string message, const std::string& url) {
  return {"cache-unhealthy", Severity::kError, subject, "", 0, std::move(message),
          "check garretd (systemctl status garretd, or kubectl -n garret get pods and logs); /ready fails while "
          "the database or storage is unreachable; curl -v " + url};
}

// GET base/<path>; a finding when it fails. Sets `response` on transport success.
std::optional<Finding> probe(client::HttpClient& http, const std::string& base, const char* path,
                             std::optional<client::HttpResponse>& response) {
  client::HttpRequest req;
  req.url = client::joinUrl(base, path);
  req.timeout = std::chrono::seconds(10);
  req.connect_timeout = std::chrono::seconds(5);
  auto r = http.send(req);
  std::string subject = "cache" + std::string(path);
  if (!r.ok()) return unhealthy(subject, "GET " + req.url + " failed: " + r.error().message, req.url);
  response = *r;
  if (!r->ok()) {
    return unhealthy(subject, "GET " + req.url + " answered HTTP " + std::to_string(r->status) + ": " +
                                  r->body.substr(0, 200), req.url);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> urlHost(std::string_view url) {
  std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::nullopt;
  std::string_view proto = url.substr(0, scheme);
  if (proto != "http" && proto != "https") return std::nullopt;
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (std::size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (rest.starts_with("[")) {
    std::size_t close = rest.find(']');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    return std::string(rest.substr(1, close - 1));
  }
  rest = rest.substr(0, rest.find(':'));
  if (rest.empty()) return std::nullopt;
  return std::string(rest);
}

std::optional<std::int64_t> parseCertDate(std::string_view text) {
  std::string s = trim(text);
  static constexpr const char* kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  char mon[4] = {};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, n = 0;
  if (std::sscanf(s.c_str(), "%3s %d %d:%d:%d %d GMT%n", mon, &d, &h, &mi, &sec, &y, &n) == 6 &&
      static_cast<std::size_t>(n) == s.size()) {
    const char* p = std::strstr(kMonths, mon);
    if (p == nullptr || std::strlen(mon) != 3 || (p - kMonths) % 3 != 0) return std::nullopt;
    return civilToUnix(y, static_cast<int>(p - kMonths) / 3 + 1, d, h, mi, sec);
  }
  if (std::sscanf(s.c_str(), "%d-%d-%d %d:%d:%d GMT%n", &y, &mo, &d, &h, &mi, &sec, &n) == 6 &&
      static_cast<std::size_t>(n) == s.size()) {
    return civilToUnix(y, mo, d, h, mi, sec);
  }
  return std::nullopt;
}

std::vector<Finding> certificateFindings(const std::map<std::string, std::string>& leaf, const CacheCheckOptions& o,
                                         std::int64_t now, std::vector<Metric>& metrics) {
  auto expire = leaf.find("Expire date");
  if (expire == leaf.end()) return {};
  auto at = parseCertDate(expire->second);
  if (!at) return {};
  double days = static_cast<double>(*at - now) / 86400.0;
  metrics.push_back({"garret_doctor_tls_expiry_days", "Days until the cache's TLS certificate expires.",
                     {{"url", o.url}}, days});
  if (days >= o.tls_warn_days) return {};
  auto issuer = leaf.find("Issuer");
  std::string by = issuer == leaf.end() ? "" : " (issuer " + trim(issuer->second) + ")";
  Severity sev = days < o.tls_error_days ? Severity::kError : Severity::kWarning;
  std::string when = days < 0 ? "expired " + std::to_string(static_cast<long>(-days)) + " days ago"
                              : "expires in " + std::to_string(static_cast<long>(days)) + " days";
  return {{"tls-expiring", sev, o.url, "", 0,
           "the TLS certificate " + when + " (" + trim(expire->second) + ")" + by,
           "renew it: with cert-manager, kubectl -n garret describe certificate and check the issuer "
           "(cmctl renew); otherwise replace the certificate files and reload garretd"}};
}

std::vector<Finding> checkCache(const CacheCheckOptions& o, client::HttpClient& http, host::HostSystem& host,
                                std::int64_t now, std::vector<Metric>& metrics) {
  auto hostname = urlHost(o.url);
  if (!hostname) {
    return {unhealthy("cache", "--cache-url " + o.url + " is not an http:// or https:// URL", o.url)};
  }
  auto addrs = host.resolve(*hostname);
  if (!addrs.ok()) {
    return {{"dns-unresolved", Severity::kError, *hostname, "", 0,
             "the cache's host name does not resolve: " + addrs.error().message,
             "create the DNS record (with external-dns: check its logs for " + *hostname +
                 "), or fix /etc/resolv.conf on this host; check with getent hosts " + *hostname}};
  }
  std::vector<Finding> out;
  std::optional<client::HttpResponse> health, ready;
  for (auto [path, resp] : {std::pair{"/health", &health}, std::pair{"/ready", &ready}}) {
    if (auto f = probe(http, o.url, path, *resp)) out.push_back(std::move(*f));
  }
  metrics.push_back({"garret_doctor_cache_up", "Whether the cache answered /health and /ready with 2xx.",
                     {{"url", o.url}}, out.empty() ? 1.0 : 0.0});
  // libcurl reports the chain only for a new handshake: take it from whichever response has it.
  for (const auto* r : {&health, &ready}) {
    if (!*r || (*r)->certificates.empty()) continue;
    for (Finding& f : certificateFindings((*r)->certificates.front(), o, now, metrics)) out.push_back(std::move(f));
    break;
  }
  return out;
}

}  // namespace garret::ops::doctor
