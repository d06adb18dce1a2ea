#pragma once

// The claim model of Attic's tokens: per-cache permissions keyed by cache
// name patterns under the "https://jwt.attic.rs/v1" claim, plus the standard
// JWT claims garret uses (sub, exp, nbf, iat, iss, aud, jti). Pure logic.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace garret::auth {

// One bit per permission letter of Attic's claim.
enum Permission : std::uint8_t {
  kPull = 1,                 // "r"
  kPush = 2,                 // "w"
  kDelete = 4,               // "d"
  kCreateCache = 8,          // "cc"
  kConfigureCache = 16,      // "cr"
  kConfigureRetention = 32,  // "cq"
  kDestroyCache = 64,        // "cd"
};
using Permissions = std::uint8_t;
inline constexpr Permissions kAllPermissions = 127;

// The claim key that holds the permissions.
inline constexpr std::string_view kClaimNamespace = "https://jwt.attic.rs/v1";

// Attic's letters joined by commas, for logs and messages: "r,w,cc";
// "none" for 0.
std::string permissionLetters(Permissions permissions);

// Cache names: ^[A-Za-z0-9][A-Za-z0-9-_+]{0,49}$.
bool isValidCacheName(std::string_view name);
// Patterns additionally allow '*' anywhere: ^[A-Za-z0-9*][A-Za-z0-9-_+*]{0,49}$.
bool isValidCachePattern(std::string_view pattern);

// '*' matches any run of characters, possibly empty; all else is literal.
bool matchCachePattern(std::string_view pattern, std::string_view name);

struct Claims {
  std::string sub;                            // empty if absent
  std::optional<std::int64_t> exp, nbf, iat;  // unix seconds
  std::optional<std::string> iss, jti;
  std::vector<std::string> aud;
  // Cache pattern -> permissions, in the order of the token's JSON, which
  // decides which pattern applies (see permissionsFor).
  std::vector<std::pair<std::string, Permissions>> caches;
};

// What the claims grant on `cache`, as Attic decides it: an entry whose
// pattern equals the name exactly wins; otherwise the first pattern (in
// token order) that matches applies. Permissions of several patterns are
// never merged. 0 if nothing matches.
Permissions permissionsFor(const Claims& claims, std::string_view cache);

// The JSON payload of a token. Key order: sub, exp, nbf, iat, iss, aud, jti,
// then the namespace claim; absent optionals are omitted; each cache entry
// lists only granted letters, with value 1, in the order r w d cc cr cq cd.
nlohmann::ordered_json claimsToJson(const Claims& claims);

// Parses a token payload. Like Attic, requires the namespace claim with a
// "caches" object, and rejects the whole payload if a pattern is invalid or
// a letter's value is not 0 or 1; unknown letters and claims are ignored.
// Time claims must be integers; "aud" is a string or an array of strings.
// Errors are kInvalidArgument.
Result<Claims> claimsFromJson(const nlohmann::ordered_json& json);

// What `garretd make-token` (like `atticadm make-token`) asks for. Each list
// holds cache patterns granted that permission.
struct MakeTokenRequest {
  std::string sub;
  std::int64_t validity_seconds = 0;
  std::vector<std::string> pull, push, del, create_cache, configure_cache, configure_retention,
      destroy_cache;
  std::optional<std::string> issuer;
  std::vector<std::string> audiences;
};

// Builds the claims of a new token: each pattern gets the union of the
// permissions of every list naming it; patterns keep the order of first
// mention (lists taken in declaration order); iat = nbf = now,
// exp = now + validity; jti is 16 random bytes in hex (for revocation).
// Fails (kInvalidArgument) on an empty sub, a non-positive validity or an
// invalid pattern; kInternal if the random generator fails.
Result<Claims> claimsForRequest(const MakeTokenRequest& request, std::int64_t now);

}  // namespace garret::auth
