#include "auth/token_key.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "core/encoding.h"
#include "core/text.h"

namespace garret::auth {
namespace {

constexpr int kMinRsaBits = 2048;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct DecoderFree {
  void operator()(OSSL_DECODER_CTX* c) const { OSSL_DECODER_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// Decodes a PEM RSA key. `selection` is EVP_PKEY_KEYPAIR or
// EVP_PKEY_PUBLIC_KEY. No passphrase source is set, so an encrypted key
// fails instead of prompting.
Result<EVP_PKEY*> decodeRsaPem(std::string_view pem, int selection) {
  EVP_PKEY* key = nullptr;
  std::unique_ptr<OSSL_DECODER_CTX, DecoderFree> ctx(
      OSSL_DECODER_CTX_new_for_pkey(&key, "PEM", nullptr, "RSA", selection, nullptr, nullptr));
  if (!ctx) return makeError(ErrorCode::kInternal, "cannot create a PEM decoder");
  const auto* data = reinterpret_cast<const unsigned char*>(pem.data());
  std::size_t len = pem.size();
  if (OSSL_DECODER_from_data(ctx.get(), &data, &len) != 1 || key == nullptr) {
    ERR_clear_error();
    EVP_PKEY_free(key);
    return invalid(selection == EVP_PKEY_PUBLIC_KEY ? "not a PEM RSA public key"
                                                    : "not an unencrypted PEM RSA private key");
  }
  if (EVP_PKEY_get_bits(key) < kMinRsaBits) {
    int bits = EVP_PKEY_get_bits(key);
    EVP_PKEY_free(key);
    return invalid("RSA key has " + std::to_string(bits) + " bits, need at least " +
                   std::to_string(kMinRsaBits));
  }
  return key;
}

Result<std::string> decodeBase64Text(std::string_view b64, std::string_view what) {
  auto bytes = base64Decode(trimSpace(b64));
  if (!bytes) return bytes.error().context(what);
  return std::string(bytes->begin(), bytes->end());
}

}  // namespace

std::string_view algorithmName(Algorithm alg) {
  return alg == Algorithm::kHs256 ? "HS256" : "RS256";
}

void TokenKey::PkeyFree::operator()(evp_pkey_st* key) const { EVP_PKEY_free(key); }

TokenKey::TokenKey(TokenKey&&) noexcept = default;
TokenKey& TokenKey::operator=(TokenKey&& other) noexcept {
  if (this != &other) {
    if (!secret_.empty()) OPENSSL_cleanse(secret_.data(), secret_.size());
    alg_ = other.alg_;
    secret_ = std::move(other.secret_);
    pkey_ = std::move(other.pkey_);
    has_private_ = other.has_private_;
  }
  return *this;
}

TokenKey::~TokenKey() {
  if (!secret_.empty()) OPENSSL_cleanse(secret_.data(), secret_.size());
}

Result<TokenKey> TokenKey::hs256(std::vector<std::uint8_t> secret) {
  if (secret.empty()) return invalid("HS256 secret is empty");
  TokenKey key;
  key.alg_ = Algorithm::kHs256;
  key.secret_ = std::move(secret);
  key.has_private_ = true;
  return key;
}

Result<TokenKey> TokenKey::hs256FromBase64(std::string_view b64) {
  auto bytes = base64Decode(trimSpace(b64));
  if (!bytes) return bytes.error().context("HS256 secret");
  return hs256(std::move(bytes).value());
}

Result<TokenKey> TokenKey::rs256PrivateFromPem(std::string_view pem) {
  auto pkey = decodeRsaPem(pem, EVP_PKEY_KEYPAIR);
  if (!pkey) return pkey.error().context("RS256 private key");
  TokenKey key;
  key.alg_ = Algorithm::kRs256;
  key.pkey_.reset(*pkey);
  key.has_private_ = true;
  return key;
}

Result<TokenKey> TokenKey::rs256PublicFromPem(std::string_view pem) {
  auto pkey = decodeRsaPem(pem, EVP_PKEY_PUBLIC_KEY);
  if (!pkey) return pkey.error().context("RS256 public key");
  TokenKey key;
  key.alg_ = Algorithm::kRs256;
  key.pkey_.reset(*pkey);
  key.has_private_ = false;
  return key;
}

Result<TokenKey> TokenKey::rs256FromBase64Pem(std::string_view b64, bool is_private) {
  auto pem = decodeBase64Text(b64, is_private ? "RS256 private key" : "RS256 public key");
  if (!pem) return pem.error();
  auto key = is_private ? rs256PrivateFromPem(*pem) : rs256PublicFromPem(*pem);
  OPENSSL_cleanse(pem->data(), pem->size());
  return key;
}

bool TokenKey::canSign() const { return has_private_; }

Result<std::vector<std::uint8_t>> TokenKey::sign(std::string_view signing_input) const {
  if (!has_private_) return invalid("an RS256 public key cannot sign tokens");
  const auto* in = reinterpret_cast<const unsigned char*>(signing_input.data());
  if (alg_ == Algorithm::kHs256) {
    std::vector<std::uint8_t> mac(EVP_MAX_MD_SIZE);
    unsigned int mac_len = 0;
    if (!HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()), in,
              signing_input.size(), mac.data(), &mac_len)) {
      return makeError(ErrorCode::kInternal, "HMAC-SHA256 failed");
    }
    mac.resize(mac_len);
    return mac;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::size_t sig_len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &sig_len, in, signing_input.size()) != 1) {
    return makeError(ErrorCode::kInternal, "RSA signing setup failed");
  }
  std::vector<std::uint8_t> sig(sig_len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &sig_len, in, signing_input.size()) != 1) {
    return makeError(ErrorCode::kInternal, "RSA signing failed");
  }
  sig.resize(sig_len);
  return sig;
}

bool TokenKey::verify(std::string_view signing_input, ByteSpan signature) const {
  const auto* in = reinterpret_cast<const unsigned char*>(signing_input.data());
  if (alg_ == Algorithm::kHs256) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (!HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()), in,
              signing_input.size(), mac, &mac_len)) {
      return false;
    }
    return signature.size() == mac_len && CRYPTO_memcmp(mac, signature.data(), mac_len) == 0;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  bool ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey_.get()) == 1 &&
      EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), in, signing_input.size()) ==
          1;
  // A refused signature leaves OpenSSL errors queued on this thread; they
  // must not surface in unrelated OpenSSL calls later.
  if (!ok) ERR_clear_error();
  return ok;
}

Result<std::string> TokenKey::publicKeyPem() const {
  if (alg_ != Algorithm::kRs256) return invalid("an HS256 key has no public part");
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey_.get()) != 1) {
    return makeError(ErrorCode::kInternal, "cannot write the public key");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

Result<std::vector<std::uint8_t>> generateHs256Secret() {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) {
    return makeError(ErrorCode::kInternal, "random generator failed");
  }
  std::string hex = hexEncode(ByteSpan(raw, sizeof raw));
  OPENSSL_cleanse(raw, sizeof raw);
  std::vector<std::uint8_t> secret(hex.begin(), hex.end());
  OPENSSL_cleanse(hex.data(), hex.size());
  return secret;
}

}  // namespace garret::auth
