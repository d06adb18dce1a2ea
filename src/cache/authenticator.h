#pragma once

// Turns an Authorization header into an Identity: verifies the JWT found in
// a Bearer header or in the password of Basic auth (what Nix sends from a
// netrc file). A refused token yields an anonymous identity carrying the
// reason, so the caller can log it and answer as for anonymous access.

#include <optional>
#include <string_view>

#include "auth/jwt.h"
#include "cache/access.h"
#include "core/clock.h"

namespace garret::cache {

class Authenticator {
 public:
  Authenticator(auth::TokenKey key, auth::VerifyOptions options, const Clock& clock)
      : key_(std::move(key)), options_(std::move(options)), clock_(clock) {}

  Identity identify(std::optional<std::string_view> authorization) const;
  const auth::TokenKey& key() const { return key_; }

 private:
  auth::TokenKey key_;
  auth::VerifyOptions options_;
  const Clock& clock_;
};

}  // namespace garret::cache
