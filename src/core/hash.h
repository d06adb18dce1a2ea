#pragma once

// SHA-256 hashes as Nix writes them: "sha256:<nix-base32>" (narinfo),
// "sha256:<hex>" (Attic), SRI "sha256-<base64>", and base64 after the colon.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/stream.h"

namespace garret {

class Hash {
 public:
  static constexpr std::size_t kSize = 32;
  Hash() = default;
  explicit Hash(const std::array<std::uint8_t, kSize>& bytes) : bytes_(bytes) {}

  // Parses "sha256:<hex|nix-base32|base64>" or SRI "sha256-<base64>".
  // Other algorithms and malformed text are kInvalidArgument.
  static Result<Hash> parse(std::string_view text);
  // Parses the bare digest text (hex, nix-base32 or base64), e.g. the file
  // hash in a NAR file name.
  static Result<Hash> parseBare(std::string_view text);
  static Hash of(ByteSpan data);
  static Hash of(std::string_view data) { return of(asBytes(data)); }

  std::string toNix() const;       // "sha256:<nix-base32>"
  std::string toNixBase32() const; // "<nix-base32>" (52 chars)
  std::string toHex() const;       // "<hex>" (64 chars)
  std::string toSri() const;       // "sha256-<base64>"

  const std::array<std::uint8_t, kSize>& bytes() const { return bytes_; }
  bool operator==(const Hash&) const = default;

 private:
  std::array<std::uint8_t, kSize> bytes_{};
};

// Incremental SHA-256 (OpenSSL EVP underneath).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(ByteSpan data);
  Hash finish();  // call once

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Hashes and counts everything written, forwarding it to `next` if given.
class HashingSink final : public Sink {
 public:
  explicit HashingSink(Sink* next = nullptr) : next_(next) {}
  Status write(ByteSpan data) override;
  Status finish() override;
  // Valid after finish().
  const Hash& hash() const { return hash_; }
  std::uint64_t size() const { return size_; }

 private:
  Sink* next_;
  Sha256 sha_;
  Hash hash_;
  std::uint64_t size_ = 0;
};

}  // namespace garret
