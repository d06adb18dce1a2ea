#include "core/signing.h"

#include <gtest/gtest.h>

#include <string>

#include "core/encoding.h"
#include "unit/core/test_files.h"

namespace garret {
namespace {

using testing::readCoreTestFile;

// The fingerprint of tests/data/core/top.narinfo and the signatures Nix 2.8
// (`nix store sign`) made over it with the two key pairs in tests/data/core.
constexpr std::string_view kTopFingerprint =
    "1;/nix/store/2zlggw45i6gdscxwc2ijhvqg1fi3iqj8-top;"
    "sha256:193nr5qikxv5mqw7ydjrw80921mwvv7x23yizkfq708ckl1w27vr;616;"
    "/nix/store/19aiyg64pppran5s8xin855xgrprh57j-dep-two,"
    "/nix/store/2zlggw45i6gdscxwc2ijhvqg1fi3iqj8-top,"
    "/nix/store/j1qjq8ymb5b01ygrpl96ay7y9wcmzjrv-dep-one";

struct NixKeyCase {
  std::string key_file;
  std::string name;
  std::string nix_sig;
};
const NixKeyCase kNixKeys[] = {
    {"test1", "test1",
     "test1:Id//"
     "tjrXowTdVFySTgXtf42vDsOrgPVbr6kikkJD8jIJLPk9IqW5t+G8+c0E6V1FnqG6xeRu+NSTyJf3yOnpAQ=="},
    {"test2", "test2.example.org-1",
     "test2.example.org-1:K6VAb6QjGDiCvEFJ0BEMDS8nHbjtpxHa7Vba2Am3pW/"
     "8x3lB+SImTuuaSupUlGFFcrPt9eMg6o/fObIm/VEnDQ=="},
};

TEST(SigningTest, NixKeysRoundTrip) {
  for (const auto& c : kNixKeys) {
    std::string secret_text = readCoreTestFile(c.key_file + ".secret");
    std::string public_text = readCoreTestFile(c.key_file + ".public");
    auto secret = SecretKey::parse(secret_text);
    ASSERT_TRUE(secret.ok()) << secret.error().message;
    auto pub = PublicKey::parse(public_text);
    ASSERT_TRUE(pub.ok()) << pub.error().message;
    EXPECT_EQ(secret->name(), c.name);
    EXPECT_EQ(pub->name(), c.name);
    EXPECT_EQ(secret->toString(), secret_text);
    EXPECT_EQ(pub->toString(), public_text);
    EXPECT_EQ(secret->publicKey().toString(), public_text);
  }
}

TEST(SigningTest, SignatureEqualsNixs) {
  for (const auto& c : kNixKeys) {
    auto secret = SecretKey::parse(readCoreTestFile(c.key_file + ".secret"));
    ASSERT_TRUE(secret.ok());
    EXPECT_EQ(secret->sign(kTopFingerprint), c.nix_sig);
  }
}

TEST(SigningTest, VerifiesNixSignatures) {
  for (const auto& c : kNixKeys) {
    auto pub = PublicKey::parse(readCoreTestFile(c.key_file + ".public"));
    ASSERT_TRUE(pub.ok());
    EXPECT_TRUE(pub->verify(kTopFingerprint, c.nix_sig));
  }
}

TEST(SigningTest, RejectsBadSignatures) {
  auto pub = PublicKey::parse(readCoreTestFile("test1.public"));
  ASSERT_TRUE(pub.ok());
  const std::string good = kNixKeys[0].nix_sig;
  std::string flipped = good;
  flipped[10] = flipped[10] == 'A' ? 'B' : 'A';
  std::string message(kTopFingerprint);
  EXPECT_TRUE(pub->verify(message, good));
  EXPECT_FALSE(pub->verify(message + "x", good));                // other message
  EXPECT_FALSE(pub->verify(message, flipped));                   // tampered signature
  EXPECT_FALSE(pub->verify(message, kNixKeys[1].nix_sig));       // other key's name
  EXPECT_FALSE(pub->verify(message, "test2" + good.substr(5)));  // right bytes, wrong name
  EXPECT_FALSE(pub->verify(message, good.substr(6)));            // no name
  EXPECT_FALSE(pub->verify(message, "test1:"));
  EXPECT_FALSE(pub->verify(message, "test1:AAAA"));  // too short
  EXPECT_FALSE(pub->verify(message, "test1:!!!!"));
  EXPECT_FALSE(pub->verify(message, ""));
  // The other key's signature under this key's name.
  std::string other_bytes = kNixKeys[1].nix_sig.substr(kNixKeys[1].nix_sig.find(':') + 1);
  EXPECT_FALSE(pub->verify(message, "test1:" + other_bytes));
}

TEST(SigningTest, GeneratedKeysSignAndVerify) {
  auto secret = SecretKey::generate("cache.example.org-1");
  ASSERT_TRUE(secret.ok());
  PublicKey pub = secret->publicKey();
  std::string sig = secret->sign("message");
  EXPECT_TRUE(sig.starts_with("cache.example.org-1:"));
  EXPECT_TRUE(pub.verify("message", sig));
  EXPECT_FALSE(pub.verify("massage", sig));

  auto reparsed = SecretKey::parse(secret->toString());
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(reparsed->sign("message"), sig);
  auto reparsed_pub = PublicKey::parse(pub.toString());
  ASSERT_TRUE(reparsed_pub.ok());
  EXPECT_TRUE(reparsed_pub->verify("message", sig));

  auto other = SecretKey::generate("cache.example.org-1");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->toString(), secret->toString());
  EXPECT_FALSE(other->publicKey().verify("message", sig));
}

TEST(SigningTest, IgnoresTrailingNewlineInKeyText) {
  auto pub = PublicKey::parse(readCoreTestFile("test1.public") + "\n");
  ASSERT_TRUE(pub.ok());
  EXPECT_TRUE(pub->verify(kTopFingerprint, kNixKeys[0].nix_sig));
  EXPECT_TRUE(SecretKey::parse(readCoreTestFile("test1.secret") + "\r\n").ok());
}

TEST(SigningTest, RejectsMalformedKeys) {
  const std::string secret = readCoreTestFile("test1.secret");
  const std::string pub = readCoreTestFile("test1.public");
  const std::string secret_b64 = secret.substr(secret.find(':') + 1);
  const std::string pub_b64 = pub.substr(pub.find(':') + 1);
  // Seed of one key with the public half of another.
  auto other = SecretKey::parse(readCoreTestFile("test2.secret"));
  ASSERT_TRUE(other.ok());
  auto mixed_bytes = base64Decode(secret_b64);
  auto other_bytes = base64Decode(other->toString().substr(other->name().size() + 1));
  ASSERT_TRUE(mixed_bytes.ok() && other_bytes.ok());
  std::copy(other_bytes->begin() + 32, other_bytes->end(), mixed_bytes->begin() + 32);
  const std::string mixed = "test1:" + base64Encode(*mixed_bytes);

  const std::string bad_secrets[] = {
      "",
      "test1",
      ":" + secret_b64,
      secret_b64,
      "test1:" + pub_b64,
      "test1:" + secret_b64 + "==",
      "te st:" + secret_b64,
      "\ntest1:" + secret_b64,
      "test1:" + secret_b64.substr(4),
      mixed,
  };
  for (const auto& text : bad_secrets) {
    auto r = SecretKey::parse(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << text;
  }
  const std::string bad_publics[] = {
      "",
      "test1",
      ":" + pub_b64,
      pub_b64,
      "test1:" + secret_b64,
      "test1:" + pub_b64.substr(4),
      "test1:" + pub_b64 + "A",
      std::string(129, 'k') + ":" + pub_b64,
  };
  for (const auto& text : bad_publics) {
    auto r = PublicKey::parse(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << text;
  }
}

TEST(SigningTest, KeyNames) {
  for (const std::string& name :
       {std::string("a"), std::string("cache.nixos.org-1"), std::string(128, 'k')}) {
    EXPECT_TRUE(isValidKeyName(name)) << name;
    EXPECT_TRUE(SecretKey::generate(name).ok()) << name;
  }
  for (const std::string& name :
       {std::string(""), std::string("a:b"), std::string("a b"), std::string("a\tb"),
        std::string("a\nb"), std::string(129, 'k')}) {
    EXPECT_FALSE(isValidKeyName(name)) << name;
    auto r = SecretKey::generate(name);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace garret
