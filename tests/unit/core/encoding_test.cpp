#include "core/encoding.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace garret {
namespace {

std::vector<std::uint8_t> bytesOf(std::string_view s) {
  return std::vector<std::uint8_t>(s.begin(), s.end());
}

std::vector<std::uint8_t> fromHex(std::string_view hex) {
  auto r = hexDecode(hex);
  EXPECT_TRUE(r.ok()) << hex;
  return r.ok() ? *r : std::vector<std::uint8_t>{};
}

TEST(HexTest, EncodesAndDecodes) {
  struct Case {
    std::vector<std::uint8_t> bytes;
    std::string hex;
  };
  const Case cases[] = {
      {{}, ""},
      {{0x00}, "00"},
      {{0xff, 0x10, 0xab}, "ff10ab"},
      {{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}, "0123456789abcdef"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(hexEncode(c.bytes), c.hex);
    auto decoded = hexDecode(c.hex);
    ASSERT_TRUE(decoded.ok()) << c.hex;
    EXPECT_EQ(*decoded, c.bytes);
  }
}

TEST(HexTest, DecodesUppercase) {
  auto decoded = hexDecode("ABcdEF");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, (std::vector<std::uint8_t>{0xab, 0xcd, 0xef}));
}

TEST(HexTest, RejectsInvalid) {
  const std::string_view cases[] = {
      "0", "abc", "0g", "zz", " 00", "0x00", std::string_view("\0\0", 2)};
  for (std::string_view bad : cases) {
    auto r = hexDecode(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
}

// RFC 4648 section 10 vectors, plus bytes that hit '+' and '/'.
struct Base64Case {
  std::string plain;
  std::string standard;
  std::string url;
};
const Base64Case kBase64Cases[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
    {"\xfb\xff", "+/8=", "-_8"},
    {"\xff\xff\xfe", "///+", "___-"},
};

TEST(Base64Test, EncodesAndDecodes) {
  for (const auto& c : kBase64Cases) {
    EXPECT_EQ(base64Encode(bytesOf(c.plain)), c.standard);
    EXPECT_EQ(base64UrlEncode(bytesOf(c.plain)), c.url);
    auto standard = base64Decode(c.standard);
    ASSERT_TRUE(standard.ok()) << c.standard;
    EXPECT_EQ(*standard, bytesOf(c.plain));
    auto url = base64UrlDecode(c.url);
    ASSERT_TRUE(url.ok()) << c.url;
    EXPECT_EQ(*url, bytesOf(c.plain));
  }
}

TEST(Base64Test, RejectsInvalidStandard) {
  const char* bad[] = {
      "Zg",        // missing padding
      "Zg=",       // wrong length
      "Z===",      // too much padding
      "====",      // only padding
      "Zh==",      // non-zero trailing bits
      "Zm9=",      // non-zero trailing bits
      "Zm=v",      // padding in the middle
      "=Zm9",      // padding at the start
      "Zm9v!A==",  // invalid character
      "-_8=",      // URL alphabet
      "Zm9v\nYg==",
  };
  for (const char* text : bad) {
    auto r = base64Decode(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(Base64Test, RejectsInvalidUrl) {
  for (const char* text : {"Zg==", "Z", "Zm9vY", "+/8", "Zh", "Zm9", "a b"}) {
    EXPECT_FALSE(base64UrlDecode(text).ok()) << text;
  }
}

TEST(NixBase32Test, Length) {
  struct Case {
    std::size_t bytes;
    std::size_t chars;
  };
  for (auto c : {Case{0, 0}, Case{1, 2}, Case{5, 8}, Case{16, 26}, Case{20, 32}, Case{32, 52},
                 Case{64, 103}}) {
    EXPECT_EQ(nixBase32Length(c.bytes), c.chars) << c.bytes;
  }
}

// Vectors from `nix hash to-base32 --type <algo> <hex>` (Nix 2.8).
struct NixBase32Case {
  std::string hex;
  std::string base32;
};
const NixBase32Case kNixBase32Cases[] = {
    // sha256("")
    {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"},
    // sha256("hello\n")
    {"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
     "00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq"},
    // sha256("abc")
    {"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
     "1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s"},
    {"0000000000000000000000000000000000000000000000000000000000000000",
     "0000000000000000000000000000000000000000000000000000"},
    {"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
     "1zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"},
    // First and last byte only: shows the reversed digit order.
    {"0100000000000000000000000000000000000000000000000000000000000080",
     "1000000000000000000000000000000000000000000000000001"},
    // md5("abc"), sha1("abc"), sha512("abc")
    {"900150983cd24fb0d6963f7d28e17f72", "3jgzhjhz9zjvbb0kyj7jc500ch"},
    {"a9993e364706816aba3e25717850c26c9cd0d89d", "kpcd173cq987hw957sx6m0868wv3x6d9"},
    {"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3fee"
     "b"
     "bd454d4423643ce80e2a9ac94fa54ca49f",
     "2gs8k559z4rlahfx0y688s49m2vvszylcikrfinm30ly9rak69236nkam5ydvly1ai7xac99vxfc4ii84hawjbk876bly"
     "k"
     "1jfhkbbyx"},
};

TEST(NixBase32Test, MatchesNix) {
  for (const auto& c : kNixBase32Cases) {
    auto bytes = fromHex(c.hex);
    EXPECT_EQ(nixBase32Encode(bytes), c.base32) << c.hex;
    auto decoded = nixBase32Decode(c.base32, bytes.size());
    ASSERT_TRUE(decoded.ok()) << c.base32 << ": " << decoded.error().message;
    EXPECT_EQ(*decoded, bytes);
  }
}

TEST(NixBase32Test, RoundTripsEveryLength) {
  std::vector<std::uint8_t> data;
  for (std::size_t n = 0; n <= 70; ++n) {
    std::string text = nixBase32Encode(data);
    ASSERT_EQ(text.size(), nixBase32Length(n));
    auto decoded = nixBase32Decode(text, n);
    ASSERT_TRUE(decoded.ok()) << n;
    EXPECT_EQ(*decoded, data);
    data.push_back(static_cast<std::uint8_t>(n * 37 + 11));
  }
}

// 52 zero digits (32 zero bytes) with one digit replaced.
std::string zerosWith(std::size_t index, char digit) {
  std::string text(52, '0');
  text[index] = digit;
  return text;
}

TEST(NixBase32Test, RejectsInvalid) {
  struct Case {
    std::string text;
    std::size_t size;
  };
  const Case cases[] = {
      {std::string(51, '0'), 32},  // too short
      {std::string(53, '0'), 32},  // too long
      {zerosWith(0, 'e'), 32},     // 'e' is not in the alphabet
      {zerosWith(51, 'o'), 32},    // neither is 'o'
      {zerosWith(51, 'u'), 32},    // nor 'u'
      {zerosWith(51, 't'), 32},    // nor 't'
      {zerosWith(51, 'A'), 32},    // uppercase
      {zerosWith(10, ' '), 32},
      {zerosWith(0, '2'), 32},  // bit 256 set: excess bit
      {zerosWith(0, 'z'), 32},  // excess bits
      {"4", 1},                 // wrong length for one byte
      {"80", 1},                // 8 << 5 overflows one byte
  };
  for (const auto& c : cases) {
    auto r = nixBase32Decode(c.text, c.size);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(NixBase32Test, AcceptsLargestDigitsWithoutExcessBits) {
  auto r = nixBase32Decode("7z", 1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, std::vector<std::uint8_t>{0xff});
}

}  // namespace
}  // namespace garret
