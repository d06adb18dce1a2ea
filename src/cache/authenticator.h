#pragma once

// Turns an Authorization header into an Identity: verifies the JWT found in
// a Bearer header or in the password of Basic auth (what Nix sends from a
// netrc file). A refused token yields an anonymous identity carrying the
// reason, so the caller can log it and answer as for anonymous access.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwt.h"
#include "cache/access.h"
#include "core/clock.h"

namespace garret::cache {

class Authenticator {
 public:
  // Tokens whose `sub` is in `blocked_subjects` are refused (Attic's
  // [jwt.blacklist] subjects).
  Authenticator(auth::TokenKey key, auth::VerifyOptions options, const Clock& clock,
                std::vector<std::string> blocked_subjects = {})
      : key_(std::move(key)),
        options_(std::move(options)),
        clock_(clock),
        blocked_subjects_(std::move(blocked_subjects)) {}

  Identity identify(std::optional<std::string_view> authorization) const;
  const auth::TokenKey& key() const { return key_; }

 private:
  auth::TokenKey key_;
  auth::VerifyOptions options_;
  const Clock& clock_;
  std::vector<std::string> blocked_subjects_;
};

}  // namespace garret::cache
