#include "auth/jwt.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "core/encoding.h"

namespace garret::auth {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;

std::string readData(const std::string& name) {
  std::ifstream in(std::string(GARRET_TEST_DATA_DIR) + "/auth/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }
std::string b64url(std::string_view s) { return base64UrlEncode(asBytes(s)); }

TokenKey hsKey(std::string_view secret = "test secret") {
  return std::move(TokenKey::hs256(bytes(secret))).value();
}
TokenKey rsPrivate(const char* file = "rsa_private.pem") {
  return std::move(TokenKey::rs256PrivateFromPem(readData(file))).value();
}
TokenKey rsPublic() {
  return std::move(TokenKey::rs256PublicFromPem(readData("rsa_public.pem"))).value();
}

Claims sampleClaims() {
  Claims c;
  c.sub = "alice";
  c.exp = kNow + 3600;
  c.nbf = kNow - 10;
  c.iat = kNow - 10;
  c.jti = "abcd";
  c.caches = {{"main", kPull | kPush}, {"team-*", kPull}};
  return c;
}

VerifyOptions at(std::int64_t now) {
  VerifyOptions o;
  o.now = now;
  return o;
}

// A token with arbitrary header and payload text, HMAC-signed with `key`.
std::string craft(std::string_view header, std::string_view payload, const TokenKey& key) {
  std::string input = b64url(header) + "." + b64url(payload);
  return input + "." + base64UrlEncode(*key.sign(input));
}

const char* kMinimalPayload = R"({"sub":"x","https://jwt.attic.rs/v1":{"caches":{}}})";

void expectRefused(const Result<Claims>& r, std::string_view reason_prefix) {
  ASSERT_FALSE(r.ok()) << "expected refusal: " << reason_prefix;
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthorized);
  EXPECT_EQ(r.error().message.substr(0, reason_prefix.size()), reason_prefix) << r.error().message;
}

TEST(JwtTest, RoundTripBothAlgorithms) {
  TokenKey hs = hsKey();
  TokenKey rs = rsPrivate();
  TokenKey rs_pub = rsPublic();
  struct Case {
    const TokenKey* signer;
    const TokenKey* verifier;
    const char* alg;
  };
  const Case cases[] = {{&hs, &hs, "HS256"}, {&rs, &rs, "RS256"}, {&rs, &rs_pub, "RS256"}};
  for (const Case& c : cases) {
    auto token = mintToken(sampleClaims(), *c.signer);
    ASSERT_TRUE(token.ok()) << token.error().message;
    std::string header_b64 = token->substr(0, token->find('.'));
    auto header = base64UrlDecode(header_b64);
    ASSERT_TRUE(header.ok());
    EXPECT_EQ(std::string(header->begin(), header->end()),
              std::string(R"({"alg":")") + c.alg + R"(","typ":"JWT"})");
    auto claims = verifyToken(*token, *c.verifier, at(kNow));
    ASSERT_TRUE(claims.ok()) << claims.error().message;
    EXPECT_EQ(claims->sub, "alice");
    EXPECT_EQ(claims->exp, kNow + 3600);
    EXPECT_EQ(claims->jti, "abcd");
    EXPECT_EQ(claims->caches, sampleClaims().caches);
    EXPECT_EQ(permissionsFor(*claims, "main"), kPull | kPush);
  }
}

TEST(JwtTest, MintRefusals) {
  auto pub = mintToken(sampleClaims(), rsPublic());
  ASSERT_FALSE(pub.ok());
  EXPECT_EQ(pub.error().code, ErrorCode::kInvalidArgument);

  Claims bad = sampleClaims();
  bad.caches.emplace_back("no spaces", kPull);
  EXPECT_FALSE(mintToken(bad, hsKey()).ok());

  Claims big = sampleClaims();
  big.sub = std::string(kMaxTokenLength, 'x');
  EXPECT_FALSE(mintToken(big, hsKey()).ok());
}

TEST(JwtTest, GoldenHs256FromOpensslCli) {
  TokenKey key = std::move(TokenKey::hs256(bytes(readData("hs256_secret.txt")))).value();
  auto claims = verifyToken(readData("hs256_golden.jwt"), key, at(kNow));
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->sub, "meow");
  EXPECT_EQ(claims->exp, 4102324986);
  // Token order is team-*, all-ci-*, all-*, cache-rw, cache-ro.
  EXPECT_EQ(permissionsFor(*claims, "all-ci-abc"), kPush);
  EXPECT_EQ(permissionsFor(*claims, "all-abc"), kPull);
  EXPECT_EQ(permissionsFor(*claims, "team-xyz"), kPull | kPush | kCreateCache);
  EXPECT_EQ(permissionsFor(*claims, "cache-rw"), kPull | kPush);
  EXPECT_EQ(permissionsFor(*claims, "cache-ro"), kPull);
  EXPECT_EQ(permissionsFor(*claims, "forbidden-cache"), 0);

  // Minting the same claims gives a token with the same payload order.
  auto again = mintToken(*claims, key);
  ASSERT_TRUE(again.ok());
  auto reparsed = verifyToken(*again, key, at(kNow));
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(reparsed->caches, claims->caches);
}

TEST(JwtTest, GoldenRs256FromOpensslCli) {
  auto claims = verifyToken(readData("rs256_golden.jwt"), rsPublic(), at(kNow));
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->sub, "meow");
  EXPECT_EQ(permissionsFor(*claims, "all-ci-abc"), kPush);
  expectRefused(verifyToken(readData("rs256_golden.jwt"), rsPrivate("rsa_other.pem"), at(kNow)),
                "bad signature");
}

TEST(JwtTest, JwtIoExampleSignature) {
  // The HS256 example of jwt.io, secret "your-256-bit-secret".
  const std::string jwt =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
      "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
      "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
  TokenKey key = hsKey("your-256-bit-secret");
  auto sig = base64UrlDecode(jwt.substr(jwt.rfind('.') + 1));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(key.verify(jwt.substr(0, jwt.rfind('.')), *sig));
  // The signature passes; the payload lacks Attic's claim, which Attic refuses too.
  expectRefused(verifyToken(jwt, key, at(kNow)), "malformed token: missing claim");
  expectRefused(verifyToken(jwt, hsKey("your-256-bit-secreT"), at(kNow)), "bad signature");
}

TEST(JwtTest, TamperingIsRefused) {
  TokenKey key = hsKey();
  std::string token = *mintToken(sampleClaims(), key);
  std::size_t dot1 = token.find('.'), dot2 = token.rfind('.');

  Claims elevated = sampleClaims();
  elevated.caches = {{"*", kAllPermissions}};
  std::string forged_payload = b64url(claimsToJson(elevated).dump());
  std::string swapped = token.substr(0, dot1 + 1) + forged_payload + token.substr(dot2);
  expectRefused(verifyToken(swapped, key, at(kNow)), "bad signature");

  for (std::size_t pos : {dot1 + 5, dot2 - 3, dot2 + 1, token.size() - 2}) {
    std::string t = token;
    t[pos] = t[pos] == 'A' ? 'B' : 'A';
    auto r = verifyToken(t, key, at(kNow));
    EXPECT_FALSE(r.ok()) << "flipped position " << pos;
  }
  std::string no_sig = token.substr(0, dot2 + 1);
  expectRefused(verifyToken(no_sig, key, at(kNow)), "bad signature");
  // The last character of a 32-byte signature carries 2 unused bits.
  std::string stray_bits = token;
  stray_bits.back() = static_cast<char>(stray_bits.back() + 1);
  EXPECT_FALSE(verifyToken(stray_bits, key, at(kNow)).ok());
}

TEST(JwtTest, WrongKeyIsRefused) {
  std::string hs_token = *mintToken(sampleClaims(), hsKey("one"));
  expectRefused(verifyToken(hs_token, hsKey("two"), at(kNow)), "bad signature");
  std::string rs_token = *mintToken(sampleClaims(), rsPrivate());
  expectRefused(verifyToken(rs_token, rsPrivate("rsa_other.pem"), at(kNow)), "bad signature");
}

TEST(JwtTest, AlgorithmConfusionIsRefused) {
  // The classic attack: an HS256 token whose HMAC key is the server's RSA
  // public key PEM, presented to a server holding that RSA key.
  TokenKey confused = hsKey(readData("rsa_public.pem") + "\n");
  std::string token = *mintToken(sampleClaims(), confused);
  expectRefused(verifyToken(token, rsPublic(), at(kNow)),
                "token algorithm 'HS256' does not match the server's RS256 key");
  expectRefused(verifyToken(token, rsPrivate(), at(kNow)), "token algorithm 'HS256'");

  std::string rs_token = *mintToken(sampleClaims(), rsPrivate());
  expectRefused(verifyToken(rs_token, hsKey(), at(kNow)), "token algorithm 'RS256'");
}

TEST(JwtTest, HeaderChecks) {
  TokenKey key = hsKey();
  std::string payload = kMinimalPayload;
  // alg "none" with an empty signature, and with any signature.
  std::string none = b64url(R"({"alg":"none","typ":"JWT"})") + "." + b64url(payload) + ".";
  expectRefused(verifyToken(none, key, at(kNow)), "token algorithm 'none'");
  expectRefused(verifyToken(craft(R"({"alg":"none"})", payload, key), key, at(kNow)),
                "token algorithm 'none'");
  expectRefused(verifyToken(craft(R"({"alg":"hs256"})", payload, key), key, at(kNow)),
                "token algorithm 'hs256'");
  expectRefused(verifyToken(craft(R"({"typ":"JWT"})", payload, key), key, at(kNow)),
                "malformed token: header has no \"alg\"");
  expectRefused(verifyToken(craft(R"({"alg":["HS256"]})", payload, key), key, at(kNow)),
                "malformed token: header has no \"alg\"");
  expectRefused(
      verifyToken(craft(R"({"alg":"HS256","crit":["exp"]})", payload, key), key, at(kNow)),
      "token header has unsupported \"crit\"");
  // No "typ" is fine.
  EXPECT_TRUE(verifyToken(craft(R"({"alg":"HS256"})", payload, key), key, at(kNow)).ok());
}

TEST(JwtTest, MalformedTokens) {
  TokenKey key = hsKey();
  std::string good = craft(R"({"alg":"HS256"})", kMinimalPayload, key);
  std::string sig = good.substr(good.rfind('.'));
  std::string hdr = b64url(R"({"alg":"HS256"})");
  struct Case {
    std::string token;
    const char* reason;
  };
  const Case cases[] = {
      {"", "malformed token: expected 3 dot-separated parts"},
      {"abc", "malformed token: expected 3 dot-separated parts"},
      {"a.b", "malformed token: expected 3 dot-separated parts"},
      {good + ".x", "malformed token: expected 3 dot-separated parts"},
      {"..", "malformed token: header is not JSON"},
      {"e30=.e30." + sig.substr(1), "malformed token: header is not base64url"},
      {"e+0." + b64url(kMinimalPayload) + sig, "malformed token: header is not base64url"},
      {b64url("[1]") + "." + b64url(kMinimalPayload) + sig,
       "malformed token: header is not a JSON object"},
      {b64url("{\"alg\":") + "." + b64url(kMinimalPayload) + sig,
       "malformed token: header is not JSON"},
      {hdr + "." + b64url(kMinimalPayload) + ".%%%", "malformed token: signature is not base64url"},
      {craft(R"({"alg":"HS256"})", "not json", key), "malformed token: payload is not JSON"},
      {craft(R"({"alg":"HS256"})", "42", key), "malformed token: payload is not a JSON object"},
      {craft(R"({"alg":"HS256"})", R"({"sub":"x"})", key), "malformed token: missing claim"},
      {craft(R"({"alg":"HS256"})", R"({"https://jwt.attic.rs/v1":{"caches":{"a b":{"r":1}}}})",
             key),
       "malformed token: invalid cache pattern 'a b'"},
      {craft(R"({"alg":"HS256"})", R"({"exp":"soon","https://jwt.attic.rs/v1":{"caches":{}}})",
             key),
       "malformed token: claim 'exp' is not an integer"},
      {craft(R"({"alg":"HS256"})", "{\"sub\":\"\xff\"}", key),
       "malformed token: payload is not JSON"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.token);
    expectRefused(verifyToken(c.token, key, at(kNow)), c.reason);
  }
}

TEST(JwtTest, RandomCorruptionIsAlwaysRefused) {
  TokenKey key = hsKey();
  const std::string token = *mintToken(sampleClaims(), key);
  using namespace std::string_literals;
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \0\xff"s;
  std::mt19937 rng(12345);
  int refused = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string t = token;
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      std::size_t pos = rng() % t.size();
      switch (rng() % 3) {
        case 0:
          t[pos] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          t.erase(pos, 1 + rng() % 4);
          break;
        default:
          t.insert(pos, 1, alphabet[rng() % alphabet.size()]);
          break;
      }
    }
    if (t == token) continue;
    auto r = verifyToken(t, key, at(kNow));
    ASSERT_FALSE(r.ok()) << t;
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthorized);
    ++refused;
  }
  EXPECT_GT(refused, 1900);
}

TEST(JwtTest, LengthLimitComesFirst) {
  TokenKey key = hsKey();
  std::string huge(kMaxTokenLength + 1, 'a');
  expectRefused(verifyToken(huge, key, at(kNow)), "token too long (16385 bytes, limit 16384)");
  Claims c = sampleClaims();
  c.sub = std::string(kMaxTokenLength / 2, 'x');
  auto at_limit = mintToken(c, key);
  ASSERT_TRUE(at_limit.ok());
  EXPECT_TRUE(verifyToken(*at_limit, key, at(kNow)).ok());
}

TEST(JwtTest, ExpiryAndNotBeforeWithLeeway) {
  TokenKey key = hsKey();
  struct Case {
    std::int64_t now;
    std::int64_t leeway;
    const char* refusal;  // nullptr: accepted
  };
  Claims exp_only = sampleClaims();
  exp_only.nbf.reset();
  exp_only.exp = kNow;
  std::string exp_token = *mintToken(exp_only, key);
  Claims nbf_only = sampleClaims();
  nbf_only.exp.reset();
  nbf_only.nbf = kNow;
  std::string nbf_token = *mintToken(nbf_only, key);
  const Case exp_cases[] = {
      {kNow, 60, nullptr},
      {kNow + 60, 60, nullptr},
      {kNow + 61, 60, "token expired at 2023-11-14T22:13:20Z"},
      {kNow + 1, 0, "token expired at 2023-11-14T22:13:20Z"},
      {kNow, 0, nullptr},
      {kNow + 1, -5, "token expired at"},  // negative leeway counts as 0
      {kNow - 100000, 60, nullptr},
  };
  for (const Case& cs : exp_cases) {
    VerifyOptions o = at(cs.now);
    o.leeway_seconds = cs.leeway;
    SCOPED_TRACE(cs.now - kNow);
    if (cs.refusal == nullptr) {
      EXPECT_TRUE(verifyToken(exp_token, key, o).ok());
    } else {
      expectRefused(verifyToken(exp_token, key, o), cs.refusal);
    }
  }
  const Case nbf_cases[] = {
      {kNow, 60, nullptr},
      {kNow - 60, 60, nullptr},
      {kNow - 61, 60, "token not valid before 2023-11-14T22:13:20Z"},
      {kNow - 1, 0, "token not valid before"},
      {kNow + 1'000'000'000, 60, nullptr},  // no exp: never expires
  };
  for (const Case& cs : nbf_cases) {
    VerifyOptions o = at(cs.now);
    o.leeway_seconds = cs.leeway;
    SCOPED_TRACE(cs.now - kNow);
    if (cs.refusal == nullptr) {
      EXPECT_TRUE(verifyToken(nbf_token, key, o).ok());
    } else {
      expectRefused(verifyToken(nbf_token, key, o), cs.refusal);
    }
  }
}

TEST(JwtTest, ExtremeTimesDoNotOverflow) {
  TokenKey key = hsKey();
  Claims c = sampleClaims();
  c.exp = std::numeric_limits<std::int64_t>::max();
  c.nbf = std::numeric_limits<std::int64_t>::min();
  std::string token = *mintToken(c, key);
  VerifyOptions o = at(kNow);
  o.leeway_seconds = std::numeric_limits<std::int64_t>::max();
  EXPECT_TRUE(verifyToken(token, key, o).ok());
  c.exp = std::numeric_limits<std::int64_t>::min();
  c.nbf.reset();
  o.leeway_seconds = 60;
  expectRefused(verifyToken(*mintToken(c, key), key, o), "token expired at");
}

TEST(JwtTest, IssuerAndAudienceBinding) {
  TokenKey key = hsKey();
  struct Case {
    std::optional<std::string> iss;
    std::vector<std::string> aud;
    std::optional<std::string> bound_issuer;
    std::vector<std::string> bound_audiences;
    const char* refusal;
  };
  const Case cases[] = {
      {std::nullopt, {}, std::nullopt, {}, nullptr},
      {"a", {"x"}, std::nullopt, {}, nullptr},
      {"a", {}, "a", {}, nullptr},
      {"b", {}, "a", {}, "token issuer 'b' is not 'a'"},
      {std::nullopt, {}, "a", {}, "token has no issuer, expected 'a'"},
      {std::nullopt, {"x"}, std::nullopt, {"x"}, nullptr},
      {std::nullopt, {"y", "x"}, std::nullopt, {"x", "z"}, nullptr},
      {std::nullopt,
       {"y"},
       std::nullopt,
       {"x", "z"},
       "token audience does not include any of 'x', 'z'"},
      {std::nullopt, {}, std::nullopt, {"x"}, "token audience does not include any of 'x'"},
      {"a", {"x"}, "a", {"x"}, nullptr},
      {"a", {"y"}, "a", {"x"}, "token audience"},
  };
  for (const Case& cs : cases) {
    Claims c = sampleClaims();
    c.iss = cs.iss;
    c.aud = cs.aud;
    VerifyOptions o = at(kNow);
    o.issuer = cs.bound_issuer;
    o.audiences = cs.bound_audiences;
    auto r = verifyToken(*mintToken(c, key), key, o);
    SCOPED_TRACE(claimsToJson(c).dump());
    if (cs.refusal == nullptr) {
      EXPECT_TRUE(r.ok()) << r.error().message;
    } else {
      expectRefused(r, cs.refusal);
    }
  }
  // "aud" as a single string, as other issuers write it.
  std::string token =
      craft(R"({"alg":"HS256"})", R"({"aud":"x","https://jwt.attic.rs/v1":{"caches":{}}})", key);
  VerifyOptions o = at(kNow);
  o.audiences = {"x"};
  EXPECT_TRUE(verifyToken(token, key, o).ok());
}

TEST(JwtTest, MakeTokenEndToEnd) {
  MakeTokenRequest req;
  req.sub = "ci-runner";
  req.validity_seconds = 86400;
  req.pull = {"*"};
  req.push = {"main"};
  req.issuer = "garret";
  req.audiences = {"cache"};
  auto claims = claimsForRequest(req, kNow);
  ASSERT_TRUE(claims.ok());
  TokenKey key = rsPrivate();
  auto token = mintToken(*claims, key);
  ASSERT_TRUE(token.ok());
  VerifyOptions o = at(kNow + 100);
  o.issuer = "garret";
  o.audiences = {"cache"};
  auto back = verifyToken(*token, rsPublic(), o);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->jti, claims->jti);
  EXPECT_EQ(permissionsFor(*back, "main"), kPush);  // exact entry wins over "*"
  EXPECT_EQ(permissionsFor(*back, "other"), kPull);
  expectRefused(verifyToken(*token, rsPublic(), at(kNow + 86400 + 61)), "token expired at");
}

TEST(AuthorizationHeaderTest, ExtractsToken) {
  struct Case {
    std::string header;
    std::optional<std::string> token;
  };
  const Case cases[] = {
      {"Bearer abc.def.ghi", "abc.def.ghi"},
      {"bearer abc", "abc"},
      {"BEARER   abc  ", "abc"},
      {"  Bearer\tabc", "abc"},
      {"Basic " + base64Encode(asBytes("user:tok.en.sig")), "tok.en.sig"},
      {"basic " + base64Encode(asBytes(":tok")), "tok"},
      {"BASIC " + base64Encode(asBytes("u:a:b")), "a:b"},  // the first ':' splits
      {"Basic dTp0b2tlbg", "token"},                       // "u:token", unpadded
      {"Basic " + base64Encode(asBytes("user:")), std::nullopt},
      {"Basic " + base64Encode(asBytes("nocolon")), std::nullopt},
      {"Basic !!!!", std::nullopt},
      {"Basic", std::nullopt},
      {"Bearer", std::nullopt},
      {"Bearer ", std::nullopt},
      {"", std::nullopt},
      {"   ", std::nullopt},
      {"Token abc", std::nullopt},
      {"Bearerabc", std::nullopt},
      {"Digest username=x", std::nullopt},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(tokenFromAuthorization(c.header), c.token) << "header: " << c.header;
  }
}

}  // namespace
}  // namespace garret::auth
