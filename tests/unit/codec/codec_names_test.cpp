#include <gtest/gtest.h>

#include <string>

#include "codec/codec.h"

namespace garret::codec {
namespace {

struct NameCase {
  std::string name;
  Compression compression;
  std::string extension;
};

class CompressionNameTest : public ::testing::TestWithParam<NameCase> {};

TEST_P(CompressionNameTest, RoundTrips) {
  const NameCase& c = GetParam();
  Result<Compression> parsed = compressionFromName(c.name);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(*parsed, c.compression);
  EXPECT_EQ(compressionName(c.compression), c.name);
  EXPECT_EQ(compressionExtension(c.compression), c.extension);
  EXPECT_EQ(compressionFromFileName("abc.nar" + c.extension), c.compression);
}

INSTANTIATE_TEST_SUITE_P(Codec, CompressionNameTest,
                         ::testing::Values(NameCase{"none", Compression::kNone, ""},
                                           NameCase{"xz", Compression::kXz, ".xz"},
                                           NameCase{"zstd", Compression::kZstd, ".zst"},
                                           NameCase{"bzip2", Compression::kBzip2, ".bz2"}),
                         [](const auto& info) { return info.param.name; });

TEST(CompressionFromNameTest, EmptyMeansNone) {
  Result<Compression> parsed = compressionFromName("");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, Compression::kNone);
}

TEST(CompressionFromNameTest, RejectsUnsupported) {
  for (const char* name : {"br", "gzip", "lz4", "lzip", "XZ", "zst", "bz2", " xz"}) {
    Result<Compression> parsed = compressionFromName(name);
    ASSERT_FALSE(parsed.ok()) << name;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(parsed.error().message.find(name), std::string::npos);
    EXPECT_NE(parsed.error().message.find("supported: none, xz, zstd, bzip2"), std::string::npos)
        << parsed.error().message;
  }
}

TEST(CompressionFileNameTest, Table) {
  struct Case {
    const char* file_name;
    std::optional<Compression> expected;
  };
  const Case cases[] = {
      {"0a1b2c.nar.xz", Compression::kXz},
      {"0a1b2c.nar.zst", Compression::kZstd},
      {"0a1b2c.nar.bz2", Compression::kBzip2},
      {"0a1b2c.nar", Compression::kNone},
      {"nar/0a1b2c.nar.xz", Compression::kXz},
      {"0a1b2c.nar.br", std::nullopt},
      {"0a1b2c.nar.gz", std::nullopt},
      {"0a1b2c.nar.zstd", std::nullopt},
      {"0a1b2c.xz", std::nullopt},
      {"0a1b2c.narinfo", std::nullopt},
      {".nar.xz", std::nullopt},
      {"", std::nullopt},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(compressionFromFileName(c.file_name), c.expected) << c.file_name;
  }
}

TEST(DetectCompressionTest, Table) {
  struct Case {
    std::string head;
    std::optional<Compression> expected;
  };
  const Case cases[] = {
      {std::string("\xFD"
                   "7zXZ\0\0\x01",
                   8),
       Compression::kXz},
      {std::string("\xFD"
                   "7zXZ\0",
                   6),
       Compression::kXz},
      {std::string("\xFD"
                   "7zXZ",
                   5),
       std::nullopt},  // too short to tell
      {std::string("\xFD"
                   "7zXZ\x01",
                   6),
       std::nullopt},
      {"\x28\xB5\x2F\xFD\x04", Compression::kZstd},
      {"\x28\xB5\x2F\xFD", Compression::kZstd},
      {"\x28\xB5\x2F", std::nullopt},
      {"\x29\xB5\x2F\xFD", std::nullopt},
      {"BZh91AY&SY", Compression::kBzip2},
      {"BZh", Compression::kBzip2},
      {"BZ", std::nullopt},
      {"bzh9", std::nullopt},
      {std::string("\x0d\0\0\0\0\0\0\0nix-archive-1", 21), std::nullopt},
      {"\x1f\x8b\x08", std::nullopt},  // gzip is not supported
      {"", std::nullopt},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(detectCompression(asBytes(c.head)), c.expected) << c.head.size();
  }
}

}  // namespace
}  // namespace garret::codec
