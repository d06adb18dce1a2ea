#include "core/signing.h"

#include <sodium.h>

#include <algorithm>
#include <cassert>
#include <utility>

#include "core/encoding.h"
#include "core/stream.h"

namespace garret {
namespace {

constexpr std::size_t kMaxKeyNameLength = 128;
static_assert(crypto_sign_PUBLICKEYBYTES == 32);
static_assert(crypto_sign_SECRETKEYBYTES == 64);
static_assert(crypto_sign_BYTES == 64);

// sodium_init() is idempotent and thread-safe; the magic static runs it once.
bool ensureSodium() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

struct NamedBlob {
  std::string name;
  std::vector<std::uint8_t> bytes;
};

// Splits "name:base64" into a valid key name and exactly `size` bytes.
Result<NamedBlob> parseNamed(std::string_view text, std::size_t size, std::string_view what) {
  std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return invalid(std::string(what) + " is not of the form <name>:<base64>");
  }
  std::string_view name = text.substr(0, colon);
  if (!isValidKeyName(name)) return invalid(std::string(what) + " has an invalid key name");
  auto bytes = base64Decode(text.substr(colon + 1));
  if (!bytes.ok()) return bytes.error().context(std::string(what));
  if (bytes->size() != size) {
    return invalid(std::string(what) + " must be " + std::to_string(size) + " bytes, got " +
                   std::to_string(bytes->size()));
  }
  return NamedBlob{std::string(name), std::move(bytes).value()};
}

// libsodium's secret key is seed || public key; a mismatched half would make
// every signature fail verification, so reject such keys up front.
bool isConsistentSecretKey(const std::vector<std::uint8_t>& sk) {
  std::array<std::uint8_t, crypto_sign_PUBLICKEYBYTES> pk{};
  std::array<std::uint8_t, crypto_sign_SECRETKEYBYTES> derived{};
  crypto_sign_seed_keypair(pk.data(), derived.data(), sk.data());
  bool same = sodium_memcmp(derived.data(), sk.data(), derived.size()) == 0;
  sodium_memzero(derived.data(), derived.size());
  return same;
}

// Key files written by hand often end in a newline; Nix tolerates it too.
std::string_view trimTrailingSpace(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' ||
                           text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

template <std::size_t N>
std::array<std::uint8_t, N> toArray(const std::vector<std::uint8_t>& bytes) {
  std::array<std::uint8_t, N> out{};
  std::copy_n(bytes.begin(), N, out.begin());
  return out;
}

}  // namespace

bool isValidKeyName(std::string_view name) {
  if (name.empty() || name.size() > kMaxKeyNameLength) return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return c == ':' || u <= 0x20 || u == 0x7f;
  });
}

Result<PublicKey> PublicKey::parse(std::string_view text) {
  GARRET_ASSIGN_OR_RETURN(NamedBlob blob, parseNamed(trimTrailingSpace(text),
                                                     crypto_sign_PUBLICKEYBYTES, "public key"));
  PublicKey key;
  key.name_ = std::move(blob.name);
  key.key_ = toArray<crypto_sign_PUBLICKEYBYTES>(blob.bytes);
  return key;
}

std::string PublicKey::toString() const { return name_ + ":" + base64Encode(key_); }

bool PublicKey::verify(std::string_view message, std::string_view sig) const {
  auto parsed = parseNamed(sig, crypto_sign_BYTES, "signature");
  if (!parsed.ok() || parsed->name != name_ || !ensureSodium()) return false;
  ByteSpan msg = asBytes(message);
  return crypto_sign_verify_detached(parsed->bytes.data(), msg.data(), msg.size(), key_.data()) ==
         0;
}

Result<SecretKey> SecretKey::generate(std::string_view name) {
  if (!isValidKeyName(name)) return invalid("invalid key name");
  if (!ensureSodium()) return makeError(ErrorCode::kInternal, "libsodium failed to initialise");
  SecretKey key;
  key.name_ = std::string(name);
  std::array<std::uint8_t, crypto_sign_PUBLICKEYBYTES> pk{};
  crypto_sign_keypair(pk.data(), key.key_.data());
  return key;
}

Result<SecretKey> SecretKey::parse(std::string_view text) {
  GARRET_ASSIGN_OR_RETURN(NamedBlob blob, parseNamed(trimTrailingSpace(text),
                                                     crypto_sign_SECRETKEYBYTES, "secret key"));
  if (!ensureSodium()) return makeError(ErrorCode::kInternal, "libsodium failed to initialise");
  if (!isConsistentSecretKey(blob.bytes)) {
    return invalid("secret key: public half does not match the seed");
  }
  SecretKey key;
  key.name_ = std::move(blob.name);
  key.key_ = toArray<crypto_sign_SECRETKEYBYTES>(blob.bytes);
  return key;
}

std::string SecretKey::toString() const { return name_ + ":" + base64Encode(key_); }

PublicKey SecretKey::publicKey() const {
  PublicKey pub;
  pub.name_ = name_;
  crypto_sign_ed25519_sk_to_pk(pub.key_.data(), key_.data());
  return pub;
}

std::string SecretKey::sign(std::string_view message) const {
  [[maybe_unused]] bool ok = ensureSodium();
  assert(ok);
  std::array<std::uint8_t, crypto_sign_BYTES> sig{};
  ByteSpan msg = asBytes(message);
  crypto_sign_detached(sig.data(), nullptr, msg.data(), msg.size(), key_.data());
  return name_ + ":" + base64Encode(sig);
}

}  // namespace garret
