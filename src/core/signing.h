#pragma once

// ed25519 keys in Nix's text form (libsodium underneath):
// secret "name:base64(64 bytes)", public "name:base64(32 bytes)",
// signatures "name:base64(64 bytes)". Key parsers ignore trailing whitespace
// (a key file's final newline).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace garret {

class PublicKey {
 public:
  static Result<PublicKey> parse(std::string_view text);
  const std::string& name() const { return name_; }
  std::string toString() const;
  // True if `sig` ("name:base64") has this key's name and verifies `message`.
  bool verify(std::string_view message, std::string_view sig) const;

 private:
  friend class SecretKey;
  std::string name_;
  std::array<std::uint8_t, 32> key_{};
};

class SecretKey {
 public:
  // Key names: 1..128 chars, no ':' or whitespace.
  static Result<SecretKey> generate(std::string_view name);
  static Result<SecretKey> parse(std::string_view text);
  const std::string& name() const { return name_; }
  std::string toString() const;
  PublicKey publicKey() const;
  // Returns "name:base64(signature)".
  std::string sign(std::string_view message) const;

 private:
  std::string name_;
  std::array<std::uint8_t, 64> key_{};
};

bool isValidKeyName(std::string_view name);

}  // namespace garret
