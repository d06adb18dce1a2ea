#include "core/hash.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cassert>

#include "core/encoding.h"

namespace garret {
namespace {

constexpr std::size_t kHexLength = Hash::kSize * 2;
constexpr std::size_t kBase64Length = (Hash::kSize + 2) / 3 * 4;
constexpr std::string_view kPrefix = "sha256:";
constexpr std::string_view kSriPrefix = "sha256-";

Result<Hash> fromBytes(Result<std::vector<std::uint8_t>> decoded, std::string_view what) {
  if (!decoded.ok()) return decoded.error().context("bad " + std::string(what) + " hash");
  if (decoded->size() != Hash::kSize)
    return invalid("bad " + std::string(what) + " hash: wrong size");
  std::array<std::uint8_t, Hash::kSize> bytes{};
  std::copy(decoded->begin(), decoded->end(), bytes.begin());
  return Hash(bytes);
}

Result<Hash> parseBase64(std::string_view text) {
  if (text.size() != kBase64Length) {
    return invalid("bad base64 hash: expected " + std::to_string(kBase64Length) + " characters");
  }
  return fromBytes(base64Decode(text), "base64");
}

struct EvpCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

Result<Hash> Hash::parse(std::string_view text) {
  if (text.starts_with(kSriPrefix)) return parseBase64(text.substr(kSriPrefix.size()));
  if (text.starts_with(kPrefix)) return parseBare(text.substr(kPrefix.size()));
  std::size_t sep = text.find_first_of(":-");
  if (sep != std::string_view::npos && sep > 0) {
    return invalid("unsupported hash algorithm \"" + std::string(text.substr(0, sep)) + "\"");
  }
  return invalid("hash lacks a \"sha256:\" or \"sha256-\" prefix");
}

Result<Hash> Hash::parseBare(std::string_view text) {
  if (text.size() == kHexLength) return fromBytes(hexDecode(text), "hex");
  if (text.size() == nixBase32Length(kSize)) {
    return fromBytes(nixBase32Decode(text, kSize), "nix-base32");
  }
  if (text.size() == kBase64Length) return parseBase64(text);
  return invalid("bad sha256 hash: length " + std::to_string(text.size()) +
                 " matches no encoding (64 hex, 52 nix-base32, 44 base64)");
}

Hash Hash::of(ByteSpan data) {
  Sha256 sha;
  sha.update(data);
  return sha.finish();
}

std::string Hash::toNix() const { return std::string(kPrefix) + toNixBase32(); }
std::string Hash::toNixBase32() const { return nixBase32Encode(bytes_); }
std::string Hash::toHex() const { return hexEncode(bytes_); }
std::string Hash::toSri() const { return std::string(kSriPrefix) + base64Encode(bytes_); }

struct Sha256::State {
  std::unique_ptr<EVP_MD_CTX, EvpCtxDeleter> ctx;
};

// OpenSSL only fails here on allocation failure or a broken build, neither
// of which depends on input, so these are asserts rather than Results.
Sha256::Sha256() : state_(std::make_unique<State>()) {
  state_->ctx.reset(EVP_MD_CTX_new());
  assert(state_->ctx);
  [[maybe_unused]] int ok = EVP_DigestInit_ex(state_->ctx.get(), EVP_sha256(), nullptr);
  assert(ok == 1);
}

Sha256::~Sha256() = default;

void Sha256::update(ByteSpan data) {
  if (data.empty()) return;
  [[maybe_unused]] int ok = EVP_DigestUpdate(state_->ctx.get(), data.data(), data.size());
  assert(ok == 1);
}

Hash Sha256::finish() {
  std::array<std::uint8_t, Hash::kSize> bytes{};
  unsigned int len = 0;
  [[maybe_unused]] int ok = EVP_DigestFinal_ex(state_->ctx.get(), bytes.data(), &len);
  assert(ok == 1 && len == Hash::kSize);
  return Hash(bytes);
}

Status HashingSink::write(ByteSpan data) {
  sha_.update(data);
  size_ += data.size();
  return next_ ? next_->write(data) : Status();
}

Status HashingSink::finish() {
  hash_ = sha_.finish();
  return next_ ? next_->finish() : Status();
}

}  // namespace garret
