#pragma once

// Who is asking, and whether they may do something to a cache. Pure logic.

#include <optional>
#include <string>
#include <string_view>

#include "auth/jwt.h"
#include "core/result.h"

namespace garret::cache {

struct Identity {
  std::optional<auth::Claims> claims;  // nullopt: anonymous
  std::string refusal;  // why a presented token was refused (empty if none)

  std::string subject() const { return claims ? claims->sub : std::string(); }
};

// Decides access as Attic does, without leaking which caches exist:
// - a public cache grants pull to everyone;
// - if the token grants the permissions: ok (kNotFound if the cache is missing);
// - if it grants nothing at all on this name: kUnauthorized (even when the
//   cache does not exist);
// - otherwise kNotFound for a missing cache, kForbidden for an existing one.
Status checkAccess(const Identity& who, std::string_view cache_name, bool cache_exists,
                   bool cache_is_public, auth::Permissions needed);

}  // namespace garret::cache
