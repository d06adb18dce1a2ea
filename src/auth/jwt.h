#pragma once

// JSON Web Tokens as Attic uses them: compact JWS, HS256 or RS256, carrying
// the claims of auth/claims.h. This is the auth layer's main header.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/claims.h"
#include "auth/token_key.h"
#include "core/result.h"

namespace garret::auth {

// Longer tokens are refused before any decoding.
inline constexpr std::size_t kMaxTokenLength = 16 * 1024;

// Signs `claims` (see claimsToJson) with header {"alg":"HS256"|"RS256",
// "typ":"JWT"}. kInvalidArgument if the key cannot sign or a cache pattern
// is invalid (the token would be refused on verification).
Result<std::string> mintToken(const Claims& claims, const TokenKey& key);

struct VerifyOptions {
  std::int64_t now = 0;                // unix seconds
  std::int64_t leeway_seconds = 60;    // tolerated clock skew for exp and nbf
  std::optional<std::string> issuer;   // if set, "iss" must equal it
  std::vector<std::string> audiences;  // if non-empty, "aud" must name one
};

// Verifies a compact JWT and returns its claims. Every failure is
// kUnauthorized with a reason meant for the server log: "token too long …",
// "malformed token: …", "token algorithm … does not match …" (the header's
// "alg" must be the key's; "none" is never accepted), "bad signature",
// "token expired at <ISO time>" (exp + leeway < now), "token not valid
// before <ISO time>" (nbf - leeway > now), "token issuer …", "token audience
// …". A token without exp does not expire, as in Attic.
Result<Claims> verifyToken(std::string_view jwt, const TokenKey& key, const VerifyOptions& options);

// The token in an Authorization header value: "Bearer <jwt>", or
// "Basic <base64(user:password)>" whose password is the token (the user name
// is ignored and may be empty; this is how Nix sends it from netrc). The
// scheme is case-insensitive. nullopt when there is no usable token: empty
// or unknown scheme, bad base64, no ':' or an empty token.
std::optional<std::string> tokenFromAuthorization(std::string_view header_value);

}  // namespace garret::auth
