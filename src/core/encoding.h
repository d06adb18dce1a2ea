#pragma once

// Text encodings of binary data used by Nix: lowercase hex, standard base64
// (with padding), and nix-base32 (alphabet 0123456789abcdfghijklmnpqrsvwxyz,
// encoded from the last byte backwards, as Nix's libutil does).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/stream.h"

namespace garret {

std::string hexEncode(ByteSpan data);
Result<std::vector<std::uint8_t>> hexDecode(std::string_view text);

std::string base64Encode(ByteSpan data);
// Accepts padded standard base64; rejects other characters and bad padding.
Result<std::vector<std::uint8_t>> base64Decode(std::string_view text);
// URL-safe alphabet without padding (JWT).
std::string base64UrlEncode(ByteSpan data);
Result<std::vector<std::uint8_t>> base64UrlDecode(std::string_view text);

inline constexpr std::string_view kNixBase32Alphabet = "0123456789abcdfghijklmnpqrsvwxyz";
// Length of the nix-base32 text for n bytes: ceil(n*8/5).
std::size_t nixBase32Length(std::size_t n);
std::string nixBase32Encode(ByteSpan data);
// Decodes text of length nixBase32Length(size) into `size` bytes; rejects
// invalid characters and non-zero excess bits.
Result<std::vector<std::uint8_t>> nixBase32Decode(std::string_view text, std::size_t size);

// Byte structure of UTF-8: lead bytes, sequence lengths and continuation
// bytes (overlong forms and surrogates are not rejected).
bool isWellFormedUtf8(std::string_view s);

}  // namespace garret
