#include "auth/jwt.h"

#include <ctime>
#include <exception>
#include <limits>

#include "core/encoding.h"

namespace garret::auth {
namespace {

using Json = nlohmann::ordered_json;

Error unauthorized(std::string message) {
  return makeError(ErrorCode::kUnauthorized, std::move(message));
}

Error malformed(std::string_view why) {
  return unauthorized("malformed token: " + std::string(why));
}

std::int64_t saturatingAdd(std::int64_t a, std::int64_t b) {
  if (b > 0 && a > std::numeric_limits<std::int64_t>::max() - b) {
    return std::numeric_limits<std::int64_t>::max();
  }
  if (b < 0 && a < std::numeric_limits<std::int64_t>::min() - b) {
    return std::numeric_limits<std::int64_t>::min();
  }
  return a + b;
}

// "2024-05-01T12:00:00Z"; "@<seconds>" if the time has no calendar form.
std::string isoTime(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  char buf[64];
  if (gmtime_r(&tt, &tm) == nullptr ||
      std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
    return "@" + std::to_string(t);
  }
  return buf;
}

std::string base64Url(std::string_view text) { return base64UrlEncode(asBytes(text)); }

// Decodes one base64url segment holding a JSON object.
Result<Json> jsonSegment(std::string_view segment, std::string_view what) {
  auto bytes = base64UrlDecode(segment);
  if (!bytes) return malformed(std::string(what) + " is not base64url");
  Json j = Json::parse(bytes->begin(), bytes->end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return malformed(std::string(what) + " is not JSON");
  if (!j.is_object()) return malformed(std::string(what) + " is not a JSON object");
  return j;
}

Status checkHeader(const Json& header, const TokenKey& key) {
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) return malformed("header has no \"alg\"");
  const std::string& name = alg->get_ref<const std::string&>();
  if (name != algorithmName(key.algorithm())) {
    return unauthorized("token algorithm '" + name + "' does not match the server's " +
                        std::string(algorithmName(key.algorithm())) + " key");
  }
  // RFC 7515 §4.1.11: extensions marked critical must be understood, and we
  // understand none.
  if (header.contains("crit")) return unauthorized("token header has unsupported \"crit\"");
  return okStatus();
}

Status checkTimes(const Claims& c, const VerifyOptions& o) {
  std::int64_t leeway = o.leeway_seconds < 0 ? 0 : o.leeway_seconds;
  if (c.exp && saturatingAdd(*c.exp, leeway) < o.now) {
    return unauthorized("token expired at " + isoTime(*c.exp));
  }
  if (c.nbf && saturatingAdd(*c.nbf, -leeway) > o.now) {
    return unauthorized("token not valid before " + isoTime(*c.nbf));
  }
  return okStatus();
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "'" : ", '") + s + "'";
  return out;
}

Status checkBinding(const Claims& c, const VerifyOptions& o) {
  if (o.issuer && c.iss != o.issuer) {
    return unauthorized(c.iss ? "token issuer '" + *c.iss + "' is not '" + *o.issuer + "'"
                              : "token has no issuer, expected '" + *o.issuer + "'");
  }
  if (o.audiences.empty()) return okStatus();
  for (const auto& want : o.audiences) {
    for (const auto& have : c.aud) {
      if (have == want) return okStatus();
    }
  }
  return unauthorized("token audience does not include any of " + joined(o.audiences));
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::string> passwordFromBasic(std::string_view credentials) {
  std::string padded(credentials);
  // Some clients drop the padding; restore it rather than refuse.
  if (padded.size() % 4 != 0) padded.append(4 - padded.size() % 4, '=');
  auto decoded = base64Decode(padded);
  if (!decoded) return std::nullopt;
  std::string text(decoded->begin(), decoded->end());
  auto colon = text.find(':');
  if (colon == std::string::npos || colon + 1 == text.size()) return std::nullopt;
  return text.substr(colon + 1);
}

}  // namespace

Result<std::string> mintToken(const Claims& claims, const TokenKey& key) {
  if (!key.canSign()) return invalid("an RS256 public key cannot sign tokens");
  for (const auto& [pattern, perms] : claims.caches) {
    if (!isValidCachePattern(pattern)) return invalid("invalid cache pattern '" + pattern + "'");
  }
  std::string header =
      R"({"alg":")" + std::string(algorithmName(key.algorithm())) + R"(","typ":"JWT"})";
  std::string payload = claimsToJson(claims).dump(-1, ' ', false, Json::error_handler_t::replace);
  std::string token = base64Url(header) + "." + base64Url(payload);
  GARRET_ASSIGN_OR_RETURN(auto sig, key.sign(token));
  token += "." + base64UrlEncode(sig);
  if (token.size() > kMaxTokenLength) return invalid("token would exceed the length limit");
  return token;
}

Result<Claims> verifyToken(std::string_view jwt, const TokenKey& key,
                           const VerifyOptions& options) {
  if (jwt.size() > kMaxTokenLength) {
    return unauthorized("token too long (" + std::to_string(jwt.size()) + " bytes, limit " +
                        std::to_string(kMaxTokenLength) + ")");
  }
  std::size_t dot1 = jwt.find('.');
  std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : jwt.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || jwt.find('.', dot2 + 1) != std::string_view::npos) {
    return malformed("expected 3 dot-separated parts");
  }
  GARRET_ASSIGN_OR_RETURN(Json header, jsonSegment(jwt.substr(0, dot1), "header"));
  GARRET_TRY(checkHeader(header, key));
  auto sig = base64UrlDecode(jwt.substr(dot2 + 1));
  if (!sig) return malformed("signature is not base64url");
  if (!key.verify(jwt.substr(0, dot2), *sig)) return unauthorized("bad signature");
  GARRET_ASSIGN_OR_RETURN(Json payload,
                          jsonSegment(jwt.substr(dot1 + 1, dot2 - dot1 - 1), "payload"));
  auto claims = claimsFromJson(payload);
  if (!claims) return malformed(claims.error().message);
  GARRET_TRY(checkTimes(*claims, options));
  GARRET_TRY(checkBinding(*claims, options));
  return claims;
}

std::optional<std::string> tokenFromAuthorization(std::string_view header_value) {
  std::string_view value = trimOws(header_value);
  std::size_t space = value.find_first_of(" \t");
  if (space == std::string_view::npos) return std::nullopt;
  std::string_view scheme = value.substr(0, space);
  std::string_view credentials = trimOws(value.substr(space + 1));
  if (credentials.empty()) return std::nullopt;
  if (equalsIgnoreCase(scheme, "bearer")) return std::string(credentials);
  if (equalsIgnoreCase(scheme, "basic")) return passwordFromBasic(credentials);
  return std::nullopt;
}

}  // namespace garret::auth
