#include "core/hash.h"

#include <gtest/gtest.h>

#include <string>

namespace garret {
namespace {

// Hex from sha256sum; the other forms from `nix hash to-base32|to-base64|to-sri`.
struct HashCase {
  std::string input;
  std::string hex;
  std::string base32;
  std::string base64;
};
const HashCase kHashCases[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73",
     "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
    {"hello\n", "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
     "00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq",
     "WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM="},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
     "1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s",
     "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="},
    {"The quick brown fox jumps over the lazy dog",
     "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592",
     "14p5r4vvzl025mvdng3dwi8md3ag5q4b1g4sr9lr906p0yrzpa6p",
     "16j7swfXgJRpypq8sAguT41WUeRtPNt2LQLQvzfJ5ZI="},
};

TEST(HashTest, OfMatchesKnownDigestsInEveryForm) {
  for (const auto& c : kHashCases) {
    Hash h = Hash::of(c.input);
    EXPECT_EQ(h.toHex(), c.hex);
    EXPECT_EQ(h.toNixBase32(), c.base32);
    EXPECT_EQ(h.toNix(), "sha256:" + c.base32);
    EXPECT_EQ(h.toSri(), "sha256-" + c.base64);
  }
}

TEST(HashTest, ParsesEveryForm) {
  for (const auto& c : kHashCases) {
    Hash expected = Hash::of(c.input);
    for (const std::string& text :
         {"sha256:" + c.hex, "sha256:" + c.base32, "sha256:" + c.base64, "sha256-" + c.base64}) {
      auto parsed = Hash::parse(text);
      ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.error().message;
      EXPECT_EQ(*parsed, expected) << text;
    }
    for (const std::string& bare : {c.hex, c.base32, c.base64}) {
      auto parsed = Hash::parseBare(bare);
      ASSERT_TRUE(parsed.ok()) << bare << ": " << parsed.error().message;
      EXPECT_EQ(*parsed, expected) << bare;
    }
  }
}

TEST(HashTest, ParsesUppercaseHex) {
  auto parsed =
      Hash::parse("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, Hash::of("abc"));
}

TEST(HashTest, RejectsMalformed) {
  const std::string hex = kHashCases[2].hex;
  const std::string b32 = kHashCases[2].base32;
  const std::string b64 = kHashCases[2].base64;
  const std::string cases[] = {
      "",
      "sha256:",
      "sha256-",
      hex,              // no prefix
      "SHA256:" + hex,  // prefix is case-sensitive
      "sha512:" + hex,  // other algorithm
      "md5:900150983cd24fb0d6963f7d28e17f72",
      "sha1-qZk+NkcGgWq6PiVxeFDCbJzQ2J0=",
      "sha256:" + hex.substr(1),            // 63 hex
      "sha256:" + hex + "0",                // 65 hex
      "sha256:" + hex.substr(1) + "g",      // bad hex digit
      "sha256:" + b32.substr(1) + "e",      // bad base32 digit
      "sha256:2" + b32.substr(1),           // base32 excess bits
      "sha256:" + b64.substr(0, 43) + "!",  // bad base64
      "sha256-" + hex,                      // SRI is base64 only
      "sha256-" + b32,
      "sha256: " + hex,
      "sha256:" + hex + "\n",
  };
  for (const auto& text : cases) {
    auto r = Hash::parse(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << text;
    EXPECT_FALSE(r.error().message.empty());
  }
}

TEST(HashTest, ParseBareRejectsMalformed) {
  for (const std::string& text :
       {std::string(""), std::string(63, 'a'), std::string(51, '0'), std::string(52, 'e'),
        std::string(44, '!'), "sha256:" + std::string(52, '0')}) {
    EXPECT_FALSE(Hash::parseBare(text).ok()) << text;
  }
}

TEST(HashTest, NamesOtherAlgorithmInError) {
  auto r = Hash::parse("sha512:abcd");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("sha512"), std::string::npos) << r.error().message;
}

TEST(Sha256Test, IncrementalMatchesOneShot) {
  std::string data;
  for (int i = 0; i < 10'000; ++i) data.push_back(static_cast<char>(i * 7));
  Sha256 sha;
  for (std::size_t pos = 0; pos < data.size(); pos += 333) {
    sha.update(asBytes(std::string_view(data).substr(pos, 333)));
  }
  sha.update(ByteSpan());
  EXPECT_EQ(sha.finish(), Hash::of(data));
}

class FailingSink final : public Sink {
 public:
  Status write(ByteSpan) override { return makeError(ErrorCode::kIo, "disk full"); }
  Status finish() override { return makeError(ErrorCode::kIo, "disk full"); }
};

TEST(HashingSinkTest, HashesCountsAndForwards) {
  CountingSink counter;
  HashingSink sink(&counter);
  ASSERT_TRUE(sink.write(asBytes("The quick brown ")).ok());
  ASSERT_TRUE(sink.write(asBytes("fox jumps over the lazy dog")).ok());
  ASSERT_TRUE(sink.finish().ok());
  EXPECT_EQ(sink.hash().toHex(), kHashCases[3].hex);
  EXPECT_EQ(sink.size(), 43u);
  EXPECT_EQ(counter.count(), 43u);
}

TEST(HashingSinkTest, WorksWithoutNext) {
  HashingSink sink;
  ASSERT_TRUE(sink.finish().ok());
  EXPECT_EQ(sink.hash(), Hash::of(""));
  EXPECT_EQ(sink.size(), 0u);
}

TEST(HashingSinkTest, PropagatesErrorsFromNext) {
  FailingSink failing;
  HashingSink sink(&failing);
  auto w = sink.write(asBytes("x"));
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, ErrorCode::kIo);
  EXPECT_FALSE(sink.finish().ok());
}

}  // namespace
}  // namespace garret
