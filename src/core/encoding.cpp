#include "core/encoding.h"

#include <array>

namespace garret {
namespace {

constexpr std::string_view kHexDigits = "0123456789abcdef";
constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBase64UrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::int8_t kNoDigit = -1;

using DecodeTable = std::array<std::int8_t, 256>;

constexpr DecodeTable makeDecodeTable(std::string_view alphabet) {
  DecodeTable table{};
  table.fill(kNoDigit);
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<std::uint8_t>(alphabet[i])] = static_cast<std::int8_t>(i);
  }
  return table;
}

constexpr DecodeTable kBase64Table = makeDecodeTable(kBase64Alphabet);
constexpr DecodeTable kBase64UrlTable = makeDecodeTable(kBase64UrlAlphabet);
constexpr DecodeTable kNixBase32Table = makeDecodeTable(kNixBase32Alphabet);

int hexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string base64EncodeWith(ByteSpan data, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    std::uint32_t v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(alphabet[(v >> shift) & 63]);
  }
  std::size_t rest = data.size() - i;
  if (rest == 0) return out;
  std::uint32_t v = data[i] << 16;
  if (rest == 2) v |= data[i + 1] << 8;
  out.push_back(alphabet[(v >> 18) & 63]);
  out.push_back(alphabet[(v >> 12) & 63]);
  if (rest == 2) out.push_back(alphabet[(v >> 6) & 63]);
  if (pad) out.append(3 - rest, '=');
  return out;
}

// Decodes unpadded base64 digits; the final partial group must carry no
// stray bits, so every byte string has exactly one accepted encoding.
Result<std::vector<std::uint8_t>> base64DecodeDigits(std::string_view text,
                                                     const DecodeTable& table) {
  if (text.size() % 4 == 1) return invalid("base64: truncated input");
  std::vector<std::uint8_t> out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    std::int8_t digit = table[static_cast<std::uint8_t>(c)];
    if (digit == kNoDigit) return invalid("base64: invalid character");
    acc = (acc << 6) | static_cast<std::uint32_t>(digit);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
      acc &= (1u << bits) - 1;
    }
  }
  if (acc != 0) return invalid("base64: non-zero trailing bits");
  return out;
}

}  // namespace

std::string hexEncode(ByteSpan data) {
  std::string out;
  out.reserve(data.size() * 2);
  for (std::uint8_t b : data) {
    out.push_back(kHexDigits[b >> 4]);
    out.push_back(kHexDigits[b & 15]);
  }
  return out;
}

Result<std::vector<std::uint8_t>> hexDecode(std::string_view text) {
  if (text.size() % 2 != 0) return invalid("hex: odd number of digits");
  std::vector<std::uint8_t> out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    int hi = hexDigitValue(text[i]);
    int lo = hexDigitValue(text[i + 1]);
    if (hi < 0 || lo < 0) return invalid("hex: invalid character");
    out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
  }
  return out;
}

std::string base64Encode(ByteSpan data) { return base64EncodeWith(data, kBase64Alphabet, true); }

Result<std::vector<std::uint8_t>> base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return invalid("base64: length is not a multiple of 4");
  std::size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  return base64DecodeDigits(text.substr(0, text.size() - pad), kBase64Table);
}

std::string base64UrlEncode(ByteSpan data) {
  return base64EncodeWith(data, kBase64UrlAlphabet, false);
}

Result<std::vector<std::uint8_t>> base64UrlDecode(std::string_view text) {
  return base64DecodeDigits(text, kBase64UrlTable);
}

std::size_t nixBase32Length(std::size_t n) { return (n * 8 + 4) / 5; }

std::string nixBase32Encode(ByteSpan data) {
  std::size_t len = nixBase32Length(data.size());
  std::string out;
  out.reserve(len);
  // Digit n holds bits [5n, 5n+5) of the little-endian bit string; the text
  // starts with the highest digit.
  for (std::size_t n = len; n-- > 0;) {
    std::size_t bit = n * 5;
    std::size_t i = bit / 8;
    unsigned j = bit % 8;
    unsigned v = data[i] >> j;
    if (i + 1 < data.size()) v |= static_cast<unsigned>(data[i + 1]) << (8 - j);
    out.push_back(kNixBase32Alphabet[v & 31]);
  }
  return out;
}

Result<std::vector<std::uint8_t>> nixBase32Decode(std::string_view text, std::size_t size) {
  if (text.size() != nixBase32Length(size)) {
    return invalid("nix-base32: expected " + std::to_string(nixBase32Length(size)) +
                   " characters, got " + std::to_string(text.size()));
  }
  std::vector<std::uint8_t> out(size, 0);
  for (std::size_t n = 0; n < text.size(); ++n) {
    std::int8_t digit = kNixBase32Table[static_cast<std::uint8_t>(text[text.size() - 1 - n])];
    if (digit == kNoDigit) return invalid("nix-base32: invalid character");
    std::size_t bit = n * 5;
    std::size_t i = bit / 8;
    unsigned j = bit % 8;
    unsigned v = static_cast<unsigned>(digit);
    out[i] |= static_cast<std::uint8_t>(v << j);
    unsigned high = v >> (8 - j);
    if (i + 1 < size) {
      out[i + 1] |= static_cast<std::uint8_t>(high);
    } else if (high != 0) {
      return invalid("nix-base32: non-zero excess bits");
    }
  }
  return out;
}

bool isWellFormedUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

}  // namespace garret
