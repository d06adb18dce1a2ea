#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "codec/codec.h"
#include "codec_test_util.h"

namespace garret::codec {
namespace {

using testing::CollectingSink;
using testing::feedRandomly;
using testing::feedWhole;
using testing::haveTool;
using testing::runFilter;
using testing::sampleData;

struct Format {
  std::string name;
  Compression compression;
  std::string tool;      // executable that must exist
  std::string compress;  // command line compressing stdin to stdout
};

void PrintTo(const Format& f, std::ostream* os) { *os << f.name; }

std::vector<Format> formats() {
  return {
      {"xz", Compression::kXz, "xz", "xz -c -6"},
      {"zstd", Compression::kZstd, "zstd", "zstd -c -q -3"},
      {"bzip2", Compression::kBzip2, "bzip2", "bzip2 -c -9"},
  };
}

class DecompressorTest : public ::testing::TestWithParam<Format> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(haveTool(GetParam().tool))
        << GetParam().tool << " is missing: run scripts/install-deps.sh";
  }
  std::string compress(std::string_view data) {
    bool ok = false;
    std::string out = runFilter(GetParam().compress, data, ok);
    EXPECT_TRUE(ok) << GetParam().compress;
    return out;
  }
  Status decompress(std::string_view input, CollectingSink& out,
                    std::uint64_t max_output = UINT64_MAX) {
    auto d = makeDecompressor(GetParam().compression, out, max_output);
    return feedWhole(*d, input);
  }
};

TEST_P(DecompressorTest, DetectsOwnOutput) {
  std::string compressed = compress("hello");
  EXPECT_EQ(detectCompression(asBytes(compressed)), GetParam().compression);
}

TEST_P(DecompressorTest, RoundTripWhole) {
  std::string data = sampleData(700 * 1000, 1);
  CollectingSink out;
  Status s = decompress(compress(data), out);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(out.data(), data);
  EXPECT_EQ(out.finishes(), 1);
  EXPECT_LE(out.maxPiece(), 64u * 1024);
}

TEST_P(DecompressorTest, RoundTripRandomPieces) {
  std::string data = sampleData(200 * 1000, 2);
  std::string compressed = compress(data);
  for (std::uint32_t seed = 1; seed <= 5; ++seed) {
    CollectingSink out;
    auto d = makeDecompressor(GetParam().compression, out);
    Status s = feedRandomly(*d, compressed, seed, 5000 * seed);
    ASSERT_TRUE(s.ok()) << "seed " << seed << ": " << s.error().message;
    EXPECT_EQ(out.data(), data);
  }
}

TEST_P(DecompressorTest, RoundTripByteByByte) {
  std::string data = sampleData(20 * 1000, 3);
  CollectingSink out;
  auto d = makeDecompressor(GetParam().compression, out);
  Status s = feedRandomly(*d, compress(data), 1, 1);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(out.data(), data);
}

TEST_P(DecompressorTest, HighlyCompressibleDataComesOutInBoundedChunks) {
  std::string data(5 * 1000 * 1000, 'z');
  CollectingSink out;
  Status s = decompress(compress(data), out);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(out.data(), data);
  EXPECT_LE(out.maxPiece(), 64u * 1024);
}

TEST_P(DecompressorTest, EmptyPayload) {
  CollectingSink out;
  Status s = decompress(compress(""), out);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(out.data(), "");
}

TEST_P(DecompressorTest, ConcatenatedStreams) {
  std::string a = sampleData(100 * 1000, 4);
  std::string b = sampleData(50 * 1000, 5);
  std::string compressed = compress(a) + compress("") + compress(b);
  for (std::uint32_t seed = 1; seed <= 3; ++seed) {
    CollectingSink out;
    auto d = makeDecompressor(GetParam().compression, out);
    Status s = feedRandomly(*d, compressed, seed, 3000 * seed);
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(out.data(), a + b);
  }
}

TEST_P(DecompressorTest, EmptyWritesAreHarmless) {
  std::string compressed = compress("some data");
  CollectingSink out;
  auto d = makeDecompressor(GetParam().compression, out);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(d->write({}).ok());
  ASSERT_TRUE(d->write(asBytes(compressed)).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(d->write({}).ok());
  Status s = d->finish();
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(out.data(), "some data");
}

TEST_P(DecompressorTest, EmptyInputIsTruncated) {
  CollectingSink out;
  Status s = decompress("", out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message.find("truncated " + GetParam().name + " stream"), std::string::npos)
      << s.error().message;
}

TEST_P(DecompressorTest, EveryTruncationFails) {
  std::string compressed = compress(sampleData(3000, 6));
  for (std::size_t len = 0; len < compressed.size(); ++len) {
    CollectingSink out;
    Status s = decompress(std::string_view(compressed).substr(0, len), out);
    ASSERT_FALSE(s.ok()) << "prefix of " << len << " bytes accepted";
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument) << s.error().message;
  }
}

TEST_P(DecompressorTest, TruncationMessage) {
  std::string compressed = compress(sampleData(50 * 1000, 7));
  CollectingSink out;
  Status s = decompress(std::string_view(compressed).substr(0, compressed.size() - 3), out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("truncated " + GetParam().name + " stream"), std::string::npos)
      << s.error().message;
}

TEST_P(DecompressorTest, FlippedByteFails) {
  std::string data = sampleData(100 * 1000, 8);
  std::string compressed = compress(data);
  std::mt19937 rng(9);
  for (int i = 0; i < 20; ++i) {
    std::string corrupt = compressed;
    std::size_t at = corrupt.size() / 4 + rng() % (corrupt.size() / 2);
    corrupt[at] = static_cast<char>(corrupt[at] ^ (1 + rng() % 255));
    CollectingSink out;
    Status s = decompress(corrupt, out);
    ASSERT_FALSE(s.ok()) << "flip at " << at << " accepted";
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(s.error().message.find("corrupt " + GetParam().name + " data"), std::string::npos)
        << s.error().message;
  }
}

TEST_P(DecompressorTest, TrailingGarbageFails) {
  CollectingSink out;
  Status s = decompress(compress("payload") + "garbage that is not a stream", out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(DecompressorTest, NotCompressedFails) {
  CollectingSink out;
  Status s = decompress(std::string(100, 'n'), out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(DecompressorTest, MaxOutputExactlyReached) {
  std::string data = sampleData(100 * 1000, 10);
  CollectingSink out;
  Status s = decompress(compress(data), out, data.size());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(out.data(), data);
}

TEST_P(DecompressorTest, MaxOutputExceeded) {
  std::string data = sampleData(100 * 1000, 10);
  CollectingSink out;
  Status s = decompress(compress(data), out, data.size() - 1);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_LT(out.data().size(), data.size());
}

TEST_P(DecompressorTest, BombStopsAtLimit) {
  std::string compressed = compress(std::string(20 * 1000 * 1000, '\0'));
  CollectingSink out;
  auto d = makeDecompressor(GetParam().compression, out, 1000 * 1000);
  Status s = d->write(asBytes(compressed));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_LE(out.data().size(), 1000u * 1000);
  // The failure is sticky.
  EXPECT_EQ(d->finish().error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(out.finishes(), 0);
}

TEST_P(DecompressorTest, StaysFailedAfterCorruption) {
  CollectingSink out;
  auto d = makeDecompressor(GetParam().compression, out);
  ASSERT_FALSE(d->write(asBytes(std::string(64, 'x'))).ok());
  EXPECT_FALSE(d->write(asBytes(compress("fine"))).ok());
  EXPECT_FALSE(d->finish().ok());
  EXPECT_EQ(out.finishes(), 0);
}

INSTANTIATE_TEST_SUITE_P(Codec, DecompressorTest, ::testing::ValuesIn(formats()),
                         [](const auto& info) { return info.param.name; });

TEST(XzDecompressorTest, AcceptsStreamPadding) {
  ASSERT_TRUE(haveTool("xz")) << "xz is missing: run scripts/install-deps.sh";
  bool ok = false;
  std::string a = runFilter("xz -c", "first ", ok);
  std::string b = runFilter("xz -c", "second", ok);
  CollectingSink out;
  auto d = makeDecompressor(Compression::kXz, out);
  Status s = feedWhole(*d, a + std::string(8, '\0') + b);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(out.data(), "first second");
}

TEST(NoneDecompressorTest, PassesThrough) {
  std::string data = sampleData(300 * 1000, 11);
  CollectingSink out;
  auto d = makeDecompressor(Compression::kNone, out);
  Status s = feedRandomly(*d, data, 1, 100000);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(out.data(), data);
  EXPECT_EQ(out.finishes(), 1);
}

TEST(NoneDecompressorTest, EnforcesMaxOutput) {
  CollectingSink out;
  auto d = makeDecompressor(Compression::kNone, out, 10);
  EXPECT_TRUE(d->write(asBytes("0123456789")).ok());
  Status s = d->write(asBytes("x"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_FALSE(d->finish().ok());
  EXPECT_EQ(out.data(), "0123456789");
}

}  // namespace
}  // namespace garret::codec

namespace garret::codec {
namespace {

// A frame whose header declares 32 bytes of content but whose only block is
// empty: refused however the input is split (one-shot and streaming
// decompression in libzstd disagree on it otherwise).
TEST(ZstdDecompressor, ChecksDeclaredContentSizeWhateverTheSplit) {
  const std::string frame("\x28\xb5\x2f\xfd\x24\x20\x01\x00\x00\x99\xe9\xd8\x51", 13);
  {
    testing::CollectingSink out;
    auto dec = makeDecompressor(Compression::kZstd, out);
    EXPECT_FALSE(testing::feedWhole(*dec, frame).ok());
  }
  for (std::size_t piece : {1u, 2u, 5u}) {
    testing::CollectingSink out;
    auto dec = makeDecompressor(Compression::kZstd, out);
    Status s = testing::feedRandomly(*dec, frame, 7, piece);
    EXPECT_FALSE(s.ok()) << "pieces of at most " << piece;
  }
}

}  // namespace
}  // namespace garret::codec

namespace garret::codec {
namespace {

// libzstd's one-shot path refuses this frame (an empty compressed last
// block) while its streaming path accepts it; the verdict must not depend
// on how the input arrives.
TEST(ZstdDecompressor, SameVerdictWholeOrInPieces) {
  const std::string frame("\x28\xb5\x2f\xfd\x24\x00\x05\x00\x00\x99\xe9\xd8\x51", 13);
  testing::CollectingSink whole_out;
  auto whole = makeDecompressor(Compression::kZstd, whole_out);
  bool whole_ok = testing::feedWhole(*whole, frame).ok();
  for (std::size_t piece : {1u, 3u, 7u}) {
    testing::CollectingSink out;
    auto dec = makeDecompressor(Compression::kZstd, out);
    EXPECT_EQ(testing::feedRandomly(*dec, frame, 3, piece).ok(), whole_ok) << piece;
    EXPECT_EQ(out.data(), whole_out.data());
  }
}

}  // namespace
}  // namespace garret::codec
