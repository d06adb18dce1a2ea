// The client's parsers of untrusted input: whatever a server answers to the
// API calls garret makes (status and body), and the config files and netrc /
// nix.conf texts garret edits. Nothing may throw or crash; edits must be
// idempotent (a second identical edit changes nothing).
//
// Input layout: byte 0 picks the status class, byte 1 the call, the rest is
// the body (or the file text).

#include <cstdint>
#include <string>
#include <string_view>

#include "../support/fake_http_client.h"
#include "client/api_client.h"
#include "client/client_config.h"
#include "client/nix_config.h"
#include "fuzz_util.h"

namespace {

using namespace garret;

const long kStatuses[] = {200, 201, 204, 400, 401, 403, 404, 429, 500, 503};

void fuzzApi(long status, std::uint8_t call, const std::string& body) {
  testing::FakeHttpClient http([&](const client::HttpRequest&, const std::string&) -> Result<client::HttpResponse> {
    client::HttpResponse r;
    r.status = status;
    r.body = body;
    return r;
  });
  client::ApiClient api(http, "http://cache.test/", "token");
  switch (call % 5) {
    case 0: {
      auto c = api.cacheConfig("main");
      if (c.ok()) {
        (void)client::jsonString(*c, "public_key");
        (void)client::jsonString(*c, "substituter_endpoint", "x");
      }
      break;
    }
    case 1: {
      auto l = api.listCaches();
      if (l.ok()) {
        for (const auto& c : (*l)["caches"]) (void)client::jsonString(c, "name");
      }
      break;
    }
    case 2:
      (void)api.missingPaths("main", {std::string(32, 'a'), std::string(32, 'b')});
      break;
    case 3: {
      client::UploadRequest up;
      up.nar_info = {{"store_path", "/nix/store/x"}};
      up.nar_size = 3;
      up.nar_reader = [done = false](char* buf, std::size_t) mutable -> Result<std::size_t> {
        if (done) return std::size_t{0};
        done = true;
        buf[0] = buf[1] = buf[2] = 'n';
        return std::size_t{3};
      };
      auto r = api.uploadPath(up);
      if (r.ok() && r->frac_deduplicated) (void)*r->frac_deduplicated;
      break;
    }
    default: {
      client::HttpResponse r;
      r.status = status;
      r.body = body;
      FUZZ_CHECK(!client::responseError(r, "x").message.empty());
    }
  }
}

void fuzzFiles(std::string_view text) {
  (void)client::parseClientConfig(text, "fuzz.toml");
  (void)client::parseCacheRef(text.substr(0, 80));
  (void)client::normalizeEndpoint(text.substr(0, 80));
  auto conf = client::editNixConf(text, "https://cache.test/main", "cache.test-main-1:AAAA=", "/netrc");
  auto again = client::editNixConf(conf.text, "https://cache.test/main", "cache.test-main-1:AAAA=", "/netrc");
  FUZZ_CHECK_MSG(!again.changed, "nix.conf edit is not idempotent on: " + fuzz::escaped(text));
  auto netrc = client::editNetrc(text, "cache.test", "tok");
  auto netrc2 = client::editNetrc(netrc.text, "cache.test", "tok");
  FUZZ_CHECK_MSG(!netrc2.changed, "netrc edit is not idempotent on: " + fuzz::escaped(text));
  (void)client::urlHost(text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::string body(reinterpret_cast<const char*>(data) + 2, size - 2);
  fuzzApi(kStatuses[data[0] % 10], data[1], body);
  fuzzFiles(body);
  return 0;
}
