// Token handling of auth/: verifyToken with a fixed HS256 key,
// tokenFromAuthorization, and claimsFromJson.
//
// Random bytes rarely carry a valid HMAC, so an input shaped like a token
// ("a.b.c") is also verified after re-signing "a.b" with the key; that takes
// mutated headers and payloads past the signature check into claims
// parsing. The payload (or, for inputs without two dots, the whole input)
// is also parsed as JSON claims directly. Accepted claims must survive
// claimsToJson → claimsFromJson and mintToken → verifyToken unchanged.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/claims.h"
#include "auth/jwt.h"
#include "auth/token_key.h"
#include "core/encoding.h"
#include "fuzz_util.h"

namespace {

using garret::ErrorCode;
using garret::auth::Claims;
using garret::auth::TokenKey;
using garret::auth::VerifyOptions;
using garret::fuzz::escaped;
using Json = nlohmann::ordered_json;

constexpr std::int64_t kNow = 1'700'000'000;

const TokenKey& key() {
  static const TokenKey k = [] {
    std::string_view secret = "a golden test secret";  // tests/data/auth/hs256_secret.txt
    auto r = TokenKey::hs256(std::vector<std::uint8_t>(secret.begin(), secret.end()));
    FUZZ_CHECK(r.ok());
    return std::move(r).value();
  }();
  return k;
}

bool sameClaims(const Claims& a, const Claims& b) {
  return a.sub == b.sub && a.exp == b.exp && a.nbf == b.nbf && a.iat == b.iat && a.iss == b.iss &&
         a.jti == b.jti && a.aud == b.aud && a.caches == b.caches;
}

std::string show(const Claims& c) {
  return garret::auth::claimsToJson(c).dump(-1, ' ', false, Json::error_handler_t::replace);
}

// What every accepted set of claims satisfies.
void checkClaims(const Claims& c) {
  for (const auto& [pattern, perms] : c.caches) {
    FUZZ_CHECK_MSG(garret::auth::isValidCachePattern(pattern), escaped(pattern));
    FUZZ_CHECK(perms <= garret::auth::kAllPermissions);
    // A pattern matches the names it spells with its stars filled in.
    for (std::string_view fill : {"", "x", "a-b"}) {
      std::string name;
      for (char ch : pattern) {
        if (ch == '*') {
          name += fill;
        } else {
          name += ch;
        }
      }
      FUZZ_CHECK_MSG(garret::auth::matchCachePattern(pattern, name),
                     escaped(pattern) + " vs " + escaped(name));
    }
    // An exact (star-free) pattern decides its own name, first entry first.
    if (pattern.find('*') == std::string::npos) {
      for (const auto& [p, first_perms] : c.caches) {
        if (p != pattern) continue;
        FUZZ_CHECK(garret::auth::permissionsFor(c, pattern) == first_perms);
        break;
      }
    }
  }
}

void checkVerified(const garret::Result<Claims>& r, const VerifyOptions& o) {
  if (!r.ok()) {
    FUZZ_CHECK_MSG(r.error().code == ErrorCode::kUnauthorized, r.error().message);
    return;
  }
  checkClaims(*r);
  if (o.issuer) FUZZ_CHECK(r->iss == o.issuer);
  if (!o.audiences.empty()) {
    bool found = false;
    for (const auto& a : r->aud) found = found || a == o.audiences.front();
    FUZZ_CHECK(found);
  }
  if (r->exp) FUZZ_CHECK(*r->exp >= o.now - o.leeway_seconds);
  if (r->nbf) FUZZ_CHECK(*r->nbf <= o.now + o.leeway_seconds);
}

void verifyBoth(std::string_view token) {
  VerifyOptions plain;
  plain.now = kNow;
  checkVerified(garret::auth::verifyToken(token, key(), plain), plain);
  VerifyOptions bound = plain;
  bound.issuer = "garret";
  bound.audiences = {"ci"};
  checkVerified(garret::auth::verifyToken(token, key(), bound), bound);
}

// Claims accepted from JSON: the JSON and token round trips.
void checkClaimsRoundTrip(const Claims& c) {
  checkClaims(c);
  auto again = garret::auth::claimsFromJson(garret::auth::claimsToJson(c));
  FUZZ_CHECK_MSG(again.ok() && sameClaims(*again, c), show(c));

  auto token = garret::auth::mintToken(c, key());
  if (!token.ok()) {
    FUZZ_CHECK_MSG(token.error().message == "token would exceed the length limit",
                   token.error().message);
    return;
  }
  VerifyOptions o;
  o.now = c.nbf ? *c.nbf : c.exp ? *c.exp : c.iat ? *c.iat : kNow;
  auto verified = garret::auth::verifyToken(*token, key(), o);
  if (verified.ok()) {
    FUZZ_CHECK_MSG(sameClaims(*verified, c), show(c) + "\nbecame\n" + show(*verified));
  } else {
    // Only the clock can refuse a token the key just signed.
    const std::string& m = verified.error().message;
    FUZZ_CHECK_MSG(m.starts_with("token expired") || m.starts_with("token not valid before"),
                   m + "\nclaims: " + show(c));
  }
  // The token comes back out of both Authorization schemes.
  auto bearer = garret::auth::tokenFromAuthorization("Bearer " + *token);
  FUZZ_CHECK(bearer && *bearer == *token);
  auto basic = garret::auth::tokenFromAuthorization(
      "basic " + garret::base64Encode(garret::asBytes("user:" + *token)));
  FUZZ_CHECK(basic && *basic == *token);
}

void checkJsonClaims(std::string_view text) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return;
  auto claims = garret::auth::claimsFromJson(j);
  if (!claims.ok()) {
    FUZZ_CHECK(claims.error().code == ErrorCode::kInvalidArgument);
    return;
  }
  checkClaimsRoundTrip(*claims);
}

void checkAuthorization(std::string_view header) {
  auto token = garret::auth::tokenFromAuthorization(header);
  if (!token) return;
  FUZZ_CHECK(!token->empty());
  verifyBoth(*token);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = garret::fuzz::asText(data, size);
  verifyBoth(input);
  checkAuthorization(input);

  std::size_t dot1 = input.find('.');
  std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : input.find('.', dot1 + 1);
  bool token_shaped = dot2 != std::string_view::npos &&
                      input.find('.', dot2 + 1) == std::string_view::npos &&
                      input.size() <= garret::auth::kMaxTokenLength;
  if (!token_shaped) {
    checkJsonClaims(input);
    return 0;
  }
  std::string_view signing_input = input.substr(0, dot2);
  auto signature = key().sign(signing_input);
  FUZZ_CHECK(signature.ok());
  std::string resigned = std::string(signing_input) + "." + garret::base64UrlEncode(*signature);
  verifyBoth(resigned);
  VerifyOptions o;
  o.now = kNow;
  auto r = garret::auth::verifyToken(resigned, key(), o);
  if (!r.ok()) {
    FUZZ_CHECK_MSG(r.error().message != "bad signature", escaped(resigned));
  }
  auto payload = garret::base64UrlDecode(input.substr(dot1 + 1, dot2 - dot1 - 1));
  if (payload.ok()) {
    checkJsonClaims(std::string_view(reinterpret_cast<const char*>(payload->data()),
                                     payload->size()));
  }
  return 0;
}
