#include "auth/claims.h"

#include <openssl/rand.h>

#include <array>
#include <exception>
#include <limits>

#include "core/encoding.h"

namespace garret::auth {
namespace {

struct Letter {
  Permission bit;
  const char* key;
};
// Attic's field order, which is also the order of emission.
constexpr std::array<Letter, 7> kLetters = {{
    {kPull, "r"},
    {kPush, "w"},
    {kDelete, "d"},
    {kCreateCache, "cc"},
    {kConfigureCache, "cr"},
    {kConfigureRetention, "cq"},
    {kDestroyCache, "cd"},
}};

bool isAlnum(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool isValidName(std::string_view s, bool allow_star) {
  if (s.empty() || s.size() > 50) return false;
  auto first_ok = [&](char c) { return isAlnum(c) || (allow_star && c == '*'); };
  if (!first_ok(s[0])) return false;
  for (char c : s.substr(1)) {
    if (!first_ok(c) && c != '-' && c != '_' && c != '+') return false;
  }
  return true;
}

Result<std::int64_t> intClaim(const nlohmann::ordered_json& v, const char* name) {
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return invalid(std::string("claim '") + name + "' out of range");
    }
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<std::int64_t>();
  return invalid(std::string("claim '") + name + "' is not an integer");
}

Result<std::string> stringClaim(const nlohmann::ordered_json& v, const char* name) {
  if (!v.is_string()) return invalid(std::string("claim '") + name + "' is not a string");
  return v.get<std::string>();
}

Result<std::vector<std::string>> audClaim(const nlohmann::ordered_json& v) {
  if (v.is_string()) return std::vector<std::string>{v.get<std::string>()};
  if (!v.is_array()) return invalid("claim 'aud' is neither a string nor an array");
  std::vector<std::string> out;
  for (const auto& item : v) {
    if (!item.is_string()) return invalid("claim 'aud' holds a non-string");
    out.push_back(item.get<std::string>());
  }
  return out;
}

Result<Permissions> permissionsFromJson(const std::string& pattern,
                                        const nlohmann::ordered_json& v) {
  if (!v.is_object()) return invalid("permissions of '" + pattern + "' are not an object");
  Permissions p = 0;
  for (const Letter& letter : kLetters) {
    auto it = v.find(letter.key);
    if (it == v.end()) continue;
    if (!it->is_number_integer() ||
        (it->get<std::int64_t>() != 0 && it->get<std::int64_t>() != 1)) {
      return invalid("permission '" + std::string(letter.key) + "' of '" + pattern +
                     "' is not 0 or 1");
    }
    if (it->get<std::int64_t>() == 1) p |= letter.bit;
  }
  return p;
}

Result<std::vector<std::pair<std::string, Permissions>>> cachesFromJson(
    const nlohmann::ordered_json& json) {
  auto ns = json.find(std::string(kClaimNamespace));
  if (ns == json.end() || !ns->is_object()) {
    return invalid("missing claim '" + std::string(kClaimNamespace) + "'");
  }
  auto caches = ns->find("caches");
  if (caches == ns->end() || !caches->is_object()) {
    return invalid("claim '" + std::string(kClaimNamespace) + "' has no 'caches' object");
  }
  std::vector<std::pair<std::string, Permissions>> out;
  for (const auto& [pattern, perms] : caches->items()) {
    if (!isValidCachePattern(pattern)) return invalid("invalid cache pattern '" + pattern + "'");
    GARRET_ASSIGN_OR_RETURN(Permissions p, permissionsFromJson(pattern, perms));
    out.emplace_back(pattern, p);
  }
  return out;
}

// Adds `bits` to `pattern`'s entry, appending the entry on first mention.
void grant(std::vector<std::pair<std::string, Permissions>>& caches, const std::string& pattern,
           Permissions bits) {
  for (auto& [p, perms] : caches) {
    if (p == pattern) {
      perms |= bits;
      return;
    }
  }
  caches.emplace_back(pattern, bits);
}

Result<std::string> randomHex(std::size_t bytes) {
  std::vector<std::uint8_t> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) {
    return makeError(ErrorCode::kInternal, "random generator failed");
  }
  return hexEncode(buf);
}

Result<Claims> parseClaims(const nlohmann::ordered_json& json) {
  if (!json.is_object()) return invalid("claims are not a JSON object");
  Claims c;
  if (auto it = json.find("sub"); it != json.end()) {
    GARRET_ASSIGN_OR_RETURN(c.sub, stringClaim(*it, "sub"));
  }
  for (auto [name, field] : {std::pair{"exp", &c.exp}, {"nbf", &c.nbf}, {"iat", &c.iat}}) {
    if (auto it = json.find(name); it != json.end()) {
      GARRET_ASSIGN_OR_RETURN(*field, intClaim(*it, name));
    }
  }
  for (auto [name, field] : {std::pair{"iss", &c.iss}, {"jti", &c.jti}}) {
    if (auto it = json.find(name); it != json.end()) {
      GARRET_ASSIGN_OR_RETURN(*field, stringClaim(*it, name));
    }
  }
  if (auto it = json.find("aud"); it != json.end()) {
    GARRET_ASSIGN_OR_RETURN(c.aud, audClaim(*it));
  }
  GARRET_ASSIGN_OR_RETURN(c.caches, cachesFromJson(json));
  return c;
}

}  // namespace

std::string permissionLetters(Permissions permissions) {
  std::string out;
  for (const Letter& letter : kLetters) {
    if (!(permissions & letter.bit)) continue;
    if (!out.empty()) out += ',';
    out += letter.key;
  }
  return out.empty() ? "none" : out;
}

bool isValidCacheName(std::string_view name) { return isValidName(name, false); }

bool isValidCachePattern(std::string_view pattern) { return isValidName(pattern, true); }

bool matchCachePattern(std::string_view pattern, std::string_view name) {
  // Greedy match with backtracking to the last '*': linear for one star,
  // O(|pattern| * |name|) at worst, and names are at most 50 characters.
  std::size_t p = 0, n = 0;
  std::size_t star = std::string_view::npos, star_n = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_n = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++star_n;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Permissions permissionsFor(const Claims& claims, std::string_view cache) {
  for (const auto& [pattern, perms] : claims.caches) {
    if (pattern == cache && pattern.find('*') == std::string::npos) return perms;
  }
  for (const auto& [pattern, perms] : claims.caches) {
    if (matchCachePattern(pattern, cache)) return perms;
  }
  return 0;
}

nlohmann::ordered_json claimsToJson(const Claims& claims) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (!claims.sub.empty()) j["sub"] = claims.sub;
  if (claims.exp) j["exp"] = *claims.exp;
  if (claims.nbf) j["nbf"] = *claims.nbf;
  if (claims.iat) j["iat"] = *claims.iat;
  if (claims.iss) j["iss"] = *claims.iss;
  if (!claims.aud.empty()) j["aud"] = claims.aud;
  if (claims.jti) j["jti"] = *claims.jti;
  nlohmann::ordered_json caches = nlohmann::ordered_json::object();
  for (const auto& [pattern, perms] : claims.caches) {
    nlohmann::ordered_json entry = nlohmann::ordered_json::object();
    for (const Letter& letter : kLetters) {
      if (perms & letter.bit) entry[letter.key] = 1;
    }
    caches[pattern] = std::move(entry);
  }
  j[std::string(kClaimNamespace)] = {{"caches", std::move(caches)}};
  return j;
}

Result<Claims> claimsFromJson(const nlohmann::ordered_json& json) {
  // Types are checked before every access, so nothing should throw; this is
  // the backstop that keeps untrusted input from ever raising.
  try {
    return parseClaims(json);
  } catch (const std::exception& e) {
    return invalid(std::string("bad claims: ") + e.what());
  }
}

Result<Claims> claimsForRequest(const MakeTokenRequest& request, std::int64_t now) {
  if (request.sub.empty()) return invalid("the token needs a subject");
  if (request.validity_seconds <= 0) return invalid("validity must be positive");
  if (now > std::numeric_limits<std::int64_t>::max() - request.validity_seconds) {
    return invalid("validity too long");
  }
  Claims c;
  c.sub = request.sub;
  c.iat = now;
  c.nbf = now;
  c.exp = now + request.validity_seconds;
  c.iss = request.issuer;
  c.aud = request.audiences;
  const std::pair<const std::vector<std::string>*, Permission> lists[] = {
      {&request.pull, kPull},
      {&request.push, kPush},
      {&request.del, kDelete},
      {&request.create_cache, kCreateCache},
      {&request.configure_cache, kConfigureCache},
      {&request.configure_retention, kConfigureRetention},
      {&request.destroy_cache, kDestroyCache},
  };
  for (const auto& [patterns, bit] : lists) {
    for (const std::string& pattern : *patterns) {
      if (!isValidCachePattern(pattern)) return invalid("invalid cache pattern '" + pattern + "'");
      grant(c.caches, pattern, bit);
    }
  }
  GARRET_ASSIGN_OR_RETURN(c.jti, randomHex(16));
  return c;
}

}  // namespace garret::auth
