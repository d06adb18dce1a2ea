#include "cache/authenticator.h"

namespace garret::cache {

Identity Authenticator::identify(std::optional<std::string_view> authorization) const {
  Identity who;
  if (!authorization) return who;
  auto token = auth::tokenFromAuthorization(*authorization);
  if (!token) {
    who.refusal = "Authorization header carries no token";
    return who;
  }
  auth::VerifyOptions options = options_;
  options.now = clock_.now();
  auto claims = auth::verifyToken(*token, key_, options);
  if (!claims.ok()) {
    who.refusal = claims.error().message;
    return who;
  }
  for (const auto& blocked : blocked_subjects_) {
    if (claims->sub == blocked) {
      who.refusal = "subject \"" + blocked + "\" is blocked by the server's configuration";
      return who;
    }
  }
  who.claims = std::move(*claims);
  return who;
}

}  // namespace garret::cache
