#include "storage/s3/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "core/encoding.h"
#include "core/hash.h"
#include "core/text.h"

namespace garret::storage::s3 {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

bool isUnreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

std::array<std::uint8_t, 32> hmac(ByteSpan key, std::string_view data) {
  std::array<std::uint8_t, 32> out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  return out;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims and collapses runs of spaces to one, as the canonical header value wants.
std::string canonicalHeaderValue(std::string_view v) { return collapseBlanks(v, " \t"); }

}  // namespace

std::string uriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (isUnreserved(c) || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string canonicalUri(std::string_view raw_path) {
  if (raw_path.empty()) return "/";
  std::string path = uriEncode(raw_path, /*keep_slash=*/true);
  return path.front() == '/' ? path : "/" + path;
}

std::string canonicalQuery(const std::vector<QueryParam>& params) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(params.size());
  for (const QueryParam& p : params) encoded.emplace_back(uriEncode(p.name), uriEncode(p.value));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name + "=" + value;
  }
  return out;
}

CanonicalRequest canonicalRequest(const SigningInput& input) {
  std::vector<std::pair<std::string, std::string>> headers;
  for (const Header& h : input.headers) {
    headers.emplace_back(lowercase(h.name), canonicalHeaderValue(h.value));
  }
  // A stable sort keeps repeated headers in the order they are sent.
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonical_headers, signed_headers;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    const auto& [name, value] = headers[i];
    if (i > 0 && headers[i - 1].first == name) {
      canonical_headers.pop_back();  // the '\n' of the previous value
      canonical_headers += "," + value + "\n";
      continue;
    }
    canonical_headers += name + ":" + value + "\n";
    signed_headers += (signed_headers.empty() ? "" : ";") + name;
  }
  CanonicalRequest out;
  out.text = std::string(input.method) + "\n" + std::string(input.canonical_uri) + "\n" +
             std::string(input.canonical_query) + "\n" + canonical_headers + "\n" + signed_headers +
             "\n" + std::string(input.payload_hash);
  out.signed_headers = std::move(signed_headers);
  return out;
}

std::string amzDate(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string credentialScope(std::string_view amz_date, std::string_view region,
                            std::string_view service) {
  return std::string(amz_date.substr(0, 8)) + "/" + std::string(region) + "/" +
         std::string(service) + "/aws4_request";
}

std::string stringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  return std::string(kAlgorithm) + "\n" + std::string(amz_date) + "\n" + std::string(scope) + "\n" +
         sha256Hex(asBytes(canonical_request));
}

std::array<std::uint8_t, 32> signingKey(std::string_view secret_access_key, std::string_view date8,
                                        std::string_view region, std::string_view service) {
  std::string secret = "AWS4" + std::string(secret_access_key);
  auto k_date = hmac(asBytes(secret), date8);
  auto k_region = hmac(k_date, region);
  auto k_service = hmac(k_region, service);
  return hmac(k_service, "aws4_request");
}

std::string signature(const std::array<std::uint8_t, 32>& key, std::string_view string_to_sign) {
  return hexEncode(hmac(key, string_to_sign));
}

std::string sha256Hex(ByteSpan data) { return Hash::of(data).toHex(); }

std::string authorization(const SigningInput& input, const Credentials& credentials,
                          std::string_view region, std::string_view service,
                          std::string_view amz_date) {
  CanonicalRequest canonical = canonicalRequest(input);
  std::string scope = credentialScope(amz_date, region, service);
  auto key = signingKey(credentials.secret_access_key, amz_date.substr(0, 8), region, service);
  return std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" + scope +
         ",SignedHeaders=" + canonical.signed_headers +
         ",Signature=" + signature(key, stringToSign(amz_date, scope, canonical.text));
}

}  // namespace garret::storage::s3
