#include "auth/token_key.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/encoding.h"

namespace garret::auth {
namespace {

std::string readData(const std::string& name) {
  std::ifstream in(std::string(GARRET_TEST_DATA_DIR) + "/auth/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

TEST(TokenKeyTest, LoadsPemForms) {
  struct Case {
    const char* file;
    bool as_private;
    bool ok;
    bool can_sign;
  };
  const Case cases[] = {
      {"rsa_private.pem", true, true, true},         // PKCS#1, as Attic's docs make it
      {"rsa_pkcs8.pem", true, true, true},           // PKCS#8
      {"rsa_public.pem", false, true, false},        // SubjectPublicKeyInfo
      {"rsa_public_pkcs1.pem", false, true, false},  // PKCS#1 public
      {"rsa_public.pem", true, false, false},        // no private part
      {"rsa_private.pem", false, false, false},      // a secret where a public key belongs
      {"rsa_1024.pem", true, false, false},          // too short
      {"rsa_encrypted.pem", true, false, false},     // needs a passphrase
      {"ec_private.pem", true, false, false},        // not RSA
      {"ec_private.pem", false, false, false},
      {"hs256_secret.txt", true, false, false},  // not PEM
      {"hs256_secret.txt", false, false, false},
  };
  for (const Case& c : cases) {
    std::string pem = readData(c.file);
    auto key =
        c.as_private ? TokenKey::rs256PrivateFromPem(pem) : TokenKey::rs256PublicFromPem(pem);
    ASSERT_EQ(key.ok(), c.ok) << c.file;
    if (!key.ok()) {
      EXPECT_EQ(key.error().code, ErrorCode::kInvalidArgument) << c.file;
      continue;
    }
    EXPECT_EQ(key->algorithm(), Algorithm::kRs256);
    EXPECT_EQ(key->canSign(), c.can_sign) << c.file;
  }
}

TEST(TokenKeyTest, Base64PemAsInAtticConfig) {
  std::string pem = readData("rsa_private.pem");
  auto priv = TokenKey::rs256FromBase64Pem(base64Encode(asBytes(pem)), true);
  ASSERT_TRUE(priv.ok()) << priv.error().message;
  EXPECT_TRUE(priv->canSign());

  auto pub =
      TokenKey::rs256FromBase64Pem(base64Encode(asBytes(readData("rsa_public.pem"))) + "\n", false);
  ASSERT_TRUE(pub.ok()) << pub.error().message;
  EXPECT_FALSE(pub->canSign());

  EXPECT_FALSE(TokenKey::rs256FromBase64Pem("not base64!", true).ok());
  EXPECT_FALSE(TokenKey::rs256FromBase64Pem(base64Encode(asBytes("hello")), false).ok());
}

TEST(TokenKeyTest, Hs256Factories) {
  auto key = TokenKey::hs256FromBase64("dmVyeSBzZWN1cmUgc2VjcmV0");  // "very secure secret"
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->algorithm(), Algorithm::kHs256);
  EXPECT_TRUE(key->canSign());
  auto direct = TokenKey::hs256(bytes("very secure secret"));
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(*key->sign("x"), *direct->sign("x"));

  EXPECT_FALSE(TokenKey::hs256({}).ok());
  EXPECT_FALSE(TokenKey::hs256FromBase64("").ok());
  EXPECT_FALSE(TokenKey::hs256FromBase64("dmVyeSBzZWN1cmUgc2VjcmV0=").ok());
  EXPECT_FALSE(TokenKey::hs256FromBase64("dmVy*").ok());
}

TEST(TokenKeyTest, Hs256MatchesRfc4231) {
  // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
  auto key = TokenKey::hs256(bytes("Jefe"));
  ASSERT_TRUE(key.ok());
  auto mac = key->sign("what do ya want for nothing?");
  ASSERT_TRUE(mac.ok());
  EXPECT_EQ(hexEncode(*mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_TRUE(key->verify("what do ya want for nothing?", *mac));
  EXPECT_FALSE(key->verify("what do ya want for nothing!", *mac));
  std::vector<std::uint8_t> truncated(mac->begin(), mac->end() - 1);
  EXPECT_FALSE(key->verify("what do ya want for nothing?", truncated));
}

TEST(TokenKeyTest, Rs256SignVerify) {
  auto priv = TokenKey::rs256PrivateFromPem(readData("rsa_private.pem"));
  auto pub = TokenKey::rs256PublicFromPem(readData("rsa_public.pem"));
  auto pub1 = TokenKey::rs256PublicFromPem(readData("rsa_public_pkcs1.pem"));
  auto other = TokenKey::rs256PrivateFromPem(readData("rsa_other.pem"));
  ASSERT_TRUE(priv.ok() && pub.ok() && pub1.ok() && other.ok());
  auto sig = priv->sign("message");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(sig->size(), 256u);
  EXPECT_TRUE(priv->verify("message", *sig));
  EXPECT_TRUE(pub->verify("message", *sig));
  EXPECT_TRUE(pub1->verify("message", *sig));
  EXPECT_FALSE(other->verify("message", *sig));
  EXPECT_FALSE(pub->verify("messagE", *sig));
  (*sig)[10] ^= 1;
  EXPECT_FALSE(pub->verify("message", *sig));
  EXPECT_FALSE(pub->verify("message", std::vector<std::uint8_t>{}));

  auto cannot = pub->sign("message");
  ASSERT_FALSE(cannot.ok());
  EXPECT_EQ(cannot.error().code, ErrorCode::kInvalidArgument);
}

TEST(TokenKeyTest, PublicKeyPem) {
  auto priv = TokenKey::rs256PrivateFromPem(readData("rsa_private.pem"));
  ASSERT_TRUE(priv.ok());
  auto pem = priv->publicKeyPem();
  ASSERT_TRUE(pem.ok());
  EXPECT_EQ(*pem, readData("rsa_public.pem"));
  EXPECT_FALSE(TokenKey::hs256(bytes("s"))->publicKeyPem().ok());
}

TEST(TokenKeyTest, MoveKeepsKey) {
  auto a = TokenKey::hs256(bytes("first"));
  auto b = TokenKey::rs256PrivateFromPem(readData("rsa_private.pem"));
  ASSERT_TRUE(a.ok() && b.ok());
  auto sig = b->sign("m");
  TokenKey moved = std::move(*b);
  EXPECT_TRUE(moved.verify("m", *sig));
  moved = std::move(*a);
  EXPECT_EQ(moved.algorithm(), Algorithm::kHs256);
  EXPECT_EQ(*moved.sign("m"), *TokenKey::hs256(bytes("first"))->sign("m"));
}

TEST(TokenKeyTest, GeneratedSecretsAreAsciiAndFresh) {
  auto a = generateHs256Secret();
  auto b = generateHs256Secret();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 64u);
  EXPECT_NE(*a, *b);
  std::string text(a->begin(), a->end());
  EXPECT_EQ(text.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_TRUE(TokenKey::hs256(*a).ok());
}

}  // namespace
}  // namespace garret::auth
