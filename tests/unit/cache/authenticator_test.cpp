#include "cache/authenticator.h"

#include <gtest/gtest.h>

#include "core/encoding.h"

namespace garret::cache {
namespace {

class AuthenticatorTest : public ::testing::Test {
 protected:
  static auth::TokenKey key() {
    return std::move(auth::TokenKey::hs256(std::vector<std::uint8_t>(32, 7)).value());
  }
  std::string mint(const std::string& sub, std::int64_t validity = 3600) {
    auth::MakeTokenRequest req;
    req.sub = sub;
    req.validity_seconds = validity;
    req.pull = {"main"};
    auto claims = auth::claimsForRequest(req, clock_.now());
    EXPECT_TRUE(claims.ok());
    auto token = auth::mintToken(*claims, signer_);
    EXPECT_TRUE(token.ok());
    return *token;
  }
  std::string basic(const std::string& token) {
    std::string creds = ":" + token;
    return "Basic " + base64Encode(asBytes(creds));
  }

  FakeClock clock_;
  auth::TokenKey signer_ = key();
  Authenticator authn_{key(), auth::VerifyOptions{}, clock_, {"revoked-bot"}};
};

TEST_F(AuthenticatorTest, AcceptsBearerAndNetrcBasic) {
  std::string token = mint("alice");
  for (const std::string& header : {"Bearer " + token, basic(token)}) {
    Identity who = authn_.identify(header);
    ASSERT_TRUE(who.claims.has_value()) << header << ": " << who.refusal;
    EXPECT_EQ(who.subject(), "alice");
    EXPECT_EQ(auth::permissionsFor(*who.claims, "main"), auth::kPull);
  }
}

TEST_F(AuthenticatorTest, RefusalsCarryTheirReason) {
  EXPECT_FALSE(authn_.identify(std::nullopt).claims.has_value());
  EXPECT_TRUE(authn_.identify(std::nullopt).refusal.empty());  // anonymous, not refused
  const std::pair<std::string, std::string> cases[] = {
      {"Bearer not.a.token", "malformed"},
      {"Digest abc", "no token"},
      {"Bearer " + mint("revoked-bot"), "blocked"},
  };
  for (const auto& [header, reason] : cases) {
    Identity who = authn_.identify(header);
    EXPECT_FALSE(who.claims.has_value()) << header;
    EXPECT_NE(who.refusal.find(reason), std::string::npos) << who.refusal;
  }
  std::string short_lived = mint("bob", 10);
  clock_.advance(10 + 61);  // past exp and the clock-skew leeway
  Identity expired = authn_.identify("Bearer " + short_lived);
  EXPECT_FALSE(expired.claims.has_value());
  EXPECT_NE(expired.refusal.find("expired"), std::string::npos) << expired.refusal;
}

}  // namespace
}  // namespace garret::cache
