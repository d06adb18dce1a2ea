#pragma once

// The key that signs and verifies tokens: an HS256 secret, an RS256 key pair,
// or an RS256 public key (verify only) — the three forms of Attic's
// [jwt.signing] section. Const methods are safe to call from many threads.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/stream.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace garret::auth {

enum class Algorithm { kHs256, kRs256 };

// The JWT "alg" value: "HS256" or "RS256".
std::string_view algorithmName(Algorithm alg);

class TokenKey {
 public:
  // A non-empty HMAC secret (raw bytes).
  static Result<TokenKey> hs256(std::vector<std::uint8_t> secret);
  // Attic's token-hs256-secret-base64: standard base64 of the secret.
  static Result<TokenKey> hs256FromBase64(std::string_view b64);
  // An RSA private key in PEM, PKCS#1 ("BEGIN RSA PRIVATE KEY") or PKCS#8
  // ("BEGIN PRIVATE KEY"), unencrypted, at least 2048 bits.
  static Result<TokenKey> rs256PrivateFromPem(std::string_view pem);
  // An RSA public key in PEM, SubjectPublicKeyInfo ("BEGIN PUBLIC KEY") or
  // PKCS#1 ("BEGIN RSA PUBLIC KEY"), at least 2048 bits. Verify only.
  static Result<TokenKey> rs256PublicFromPem(std::string_view pem);
  // Attic's token-rs256-secret-base64 (is_private) or
  // token-rs256-pubkey-base64: standard base64 of a PEM.
  static Result<TokenKey> rs256FromBase64Pem(std::string_view b64, bool is_private);

  TokenKey(TokenKey&&) noexcept;
  TokenKey& operator=(TokenKey&&) noexcept;
  ~TokenKey();  // wipes the secret

  Algorithm algorithm() const { return alg_; }
  // False for an RS256 public key.
  bool canSign() const;

  // The signature of a JWT's "header.payload" text. kInvalidArgument if the
  // key cannot sign, kInternal if OpenSSL fails.
  Result<std::vector<std::uint8_t>> sign(std::string_view signing_input) const;
  // True if `signature` is this key's valid signature of `signing_input`
  // (HMAC compared in constant time).
  bool verify(std::string_view signing_input, ByteSpan signature) const;

  // The public key as SubjectPublicKeyInfo PEM (RS256 only; kInvalidArgument
  // for HS256), e.g. to hand verify-only servers token-rs256-pubkey-base64.
  Result<std::string> publicKeyPem() const;

 private:
  struct PkeyFree {
    void operator()(evp_pkey_st* key) const;
  };

  TokenKey() = default;

  Algorithm alg_ = Algorithm::kHs256;
  std::vector<std::uint8_t> secret_;
  std::unique_ptr<evp_pkey_st, PkeyFree> pkey_;
  bool has_private_ = false;
};

// A fresh HS256 secret: 64 random lowercase hex characters (256 bits). ASCII
// so that Attic, which requires the decoded secret to be UTF-8, accepts it too.
Result<std::vector<std::uint8_t>> generateHs256Secret();

}  // namespace garret::auth
