#include "cache/access.h"

namespace garret::cache {

Status checkAccess(const Identity& who, std::string_view cache_name, bool cache_exists,
                   bool cache_is_public, auth::Permissions needed) {
  auth::Permissions granted = who.claims ? auth::permissionsFor(*who.claims, cache_name) : 0;
  if (cache_exists && cache_is_public) granted |= auth::kPull;
  if ((granted & needed) == needed) {
    if (!cache_exists) return notFound("no such cache: " + std::string(cache_name));
    return {};
  }
  if (granted == 0) {
    std::string why = who.claims ? "token grants nothing on cache " + std::string(cache_name)
                      : who.refusal.empty() ? std::string("authentication required")
                                            : "token refused: " + who.refusal;
    return makeError(ErrorCode::kUnauthorized, why);
  }
  if (!cache_exists) return notFound("no such cache: " + std::string(cache_name));
  return makeError(ErrorCode::kForbidden, "token lacks permission '" +
                                              auth::permissionLetters(needed) + "' on cache " +
                                              std::string(cache_name));
}

}  // namespace garret::cache
