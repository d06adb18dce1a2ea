// The text encodings of core/: Hash::parse and parseBare, StorePath's
// parsers, hex, base64, base64url and nix-base32. Each accepted text must
// round-trip: the encodings and store paths have exactly one accepted
// spelling per value (hex ignoring case), and a hash reparses from every
// form it renders.

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/encoding.h"
#include "core/hash.h"
#include "core/store_path.h"
#include "fuzz_util.h"

namespace {

using garret::Hash;
using garret::StorePath;
using garret::fuzz::escaped;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

void checkHashForms(const Hash& h) {
  for (const std::string& form :
       {h.toNix(), h.toSri(), "sha256:" + h.toHex(), "sha256:" + h.toNixBase32()}) {
    auto again = Hash::parse(form);
    FUZZ_CHECK_MSG(again.ok() && *again == h, "form does not reparse: " + form);
  }
  for (const std::string& bare : {h.toHex(), h.toNixBase32()}) {
    auto again = Hash::parseBare(bare);
    FUZZ_CHECK_MSG(again.ok() && *again == h, "bare form does not reparse: " + bare);
  }
  FUZZ_CHECK(h.toHex().size() == 64 && h.toNixBase32().size() == 52);
}

void checkHash(std::string_view text) {
  for (bool bare : {false, true}) {
    auto h = bare ? Hash::parseBare(text) : Hash::parse(text);
    if (!h.ok()) {
      FUZZ_CHECK(h.error().code == garret::ErrorCode::kInvalidArgument);
      continue;
    }
    checkHashForms(*h);
    std::string_view digest = text;
    if (!bare) digest.remove_prefix(7);  // "sha256:" or "sha256-"
    // The accepted digest is one of the three encodings of these bytes.
    std::string b64 = garret::base64Encode(h->bytes());
    FUZZ_CHECK_MSG(lower(digest) == h->toHex() || digest == h->toNixBase32() || digest == b64,
                   "accepted " + escaped(text) + " as " + h->toNix());
  }
}

void checkStorePath(std::string_view text) {
  auto base = StorePath::parseBaseName(text);
  if (base.ok()) {
    FUZZ_CHECK_MSG(base->baseName() == text, escaped(text));
    FUZZ_CHECK(garret::isValidStorePathHash(base->hash));
    FUZZ_CHECK(garret::isValidStorePathName(base->name));
    auto full = StorePath::parseFull(base->full(garret::kDefaultStoreDir), garret::kDefaultStoreDir);
    FUZZ_CHECK(full.ok() && *full == *base);
  }
  // Full paths: the store dir is everything before the last '/'.
  std::size_t slash = text.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return;
  std::string_view dir = text.substr(0, slash);
  auto full = StorePath::parseFull(text, dir);
  if (!full.ok()) return;
  FUZZ_CHECK_MSG(full->full(dir) == text, escaped(text));
  auto again = StorePath::parseBaseName(text.substr(slash + 1));
  FUZZ_CHECK(again.ok() && *again == *full);
  if (garret::isValidStoreDir(dir)) {
    FUZZ_CHECK_MSG(dir.find("/./") == std::string_view::npos &&
                       dir.find("/../") == std::string_view::npos && !dir.ends_with("/.") &&
                       !dir.ends_with("/..") && dir.find("//") == std::string_view::npos,
                   escaped(dir));
  }
}

void checkEncodings(std::string_view text) {
  if (auto bytes = garret::hexDecode(text); bytes.ok()) {
    FUZZ_CHECK_MSG(garret::hexEncode(*bytes) == lower(text), escaped(text));
  }
  if (auto bytes = garret::base64Decode(text); bytes.ok()) {
    FUZZ_CHECK_MSG(garret::base64Encode(*bytes) == text, escaped(text));
  }
  if (auto bytes = garret::base64UrlDecode(text); bytes.ok()) {
    FUZZ_CHECK_MSG(garret::base64UrlEncode(*bytes) == text, escaped(text));
  }
  // nix-base32: the byte count whose encoding has this length, if any.
  std::size_t n = text.size() * 5 / 8;
  if (garret::nixBase32Length(n) == text.size()) {
    auto bytes = garret::nixBase32Decode(text, n);
    if (bytes.ok()) {
      FUZZ_CHECK(bytes->size() == n);
      FUZZ_CHECK_MSG(garret::nixBase32Encode(*bytes) == text, escaped(text));
    }
  }
  // Any length other than the right one is refused.
  FUZZ_CHECK(!garret::nixBase32Decode(text, n + 1).ok());
  // And every byte string round-trips through every encoding.
  garret::ByteSpan raw = garret::asBytes(text);
  auto hex = garret::hexDecode(garret::hexEncode(raw));
  auto b64 = garret::base64Decode(garret::base64Encode(raw));
  auto b64url = garret::base64UrlDecode(garret::base64UrlEncode(raw));
  auto b32 = garret::nixBase32Decode(garret::nixBase32Encode(raw), raw.size());
  for (const auto* r : {&hex, &b64, &b64url, &b32}) {
    FUZZ_CHECK_MSG(r->ok() && std::equal(raw.begin(), raw.end(), (*r)->begin(), (*r)->end()),
                   escaped(text));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = garret::fuzz::asText(data, size);
  checkHash(text);
  checkStorePath(text);
  checkEncodings(text);
  return 0;
}
