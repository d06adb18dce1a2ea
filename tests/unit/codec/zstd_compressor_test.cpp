#include <gtest/gtest.h>
#include <zstd.h>

#include <string>

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

std::string compress(std::string_view data, int level, std::uint32_t seed = 0) {
  CollectingSink out;
  auto c = makeZstdCompressor(out, level);
  Status s = seed == 0 ? feedWhole(*c, data) : feedRandomly(*c, data, seed, 10000);
  EXPECT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(out.finishes(), 1);
  return out.data();
}

std::string decompress(std::string_view compressed) {
  CollectingSink out;
  auto d = makeDecompressor(Compression::kZstd, out);
  Status s = feedWhole(*d, compressed);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return out.data();
}

TEST(ZstdCompressorTest, RoundTripAtSeveralLevels) {
  std::string data = sampleData(500 * 1000, 1);
  for (int level : {1, 3, 9, 19}) {
    std::string compressed = compress(data, level);
    EXPECT_EQ(detectCompression(asBytes(compressed)), Compression::kZstd);
    EXPECT_LT(compressed.size(), data.size()) << level;
    EXPECT_EQ(decompress(compressed), data) << level;
  }
}

TEST(ZstdCompressorTest, PiecewiseInputGivesOneFrame) {
  std::string data = sampleData(300 * 1000, 2);
  std::string compressed = compress(data, 3, 7);
  EXPECT_EQ(ZSTD_findFrameCompressedSize(compressed.data(), compressed.size()), compressed.size());
  EXPECT_EQ(decompress(compressed), data);
}

TEST(ZstdCompressorTest, EmptyInputIsAValidFrame) {
  std::string compressed = compress("", 3);
  EXPECT_FALSE(compressed.empty());
  EXPECT_EQ(decompress(compressed), "");
}

TEST(ZstdCompressorTest, ZstdCliDecodesOutput) {
  ASSERT_TRUE(haveTool("zstd")) << "zstd is missing: run scripts/install-deps.sh";
  std::string data = sampleData(400 * 1000, 3);
  bool ok = false;
  std::string decoded = runFilter("zstd -d -c", compress(data, 3, 5), ok);
  EXPECT_TRUE(ok);
  EXPECT_EQ(decoded, data);
}

TEST(ZstdCompressorTest, WritesChecksum) {
  // Corrupting the last byte (part of the content checksum) is detected.
  std::string compressed = compress(sampleData(10 * 1000, 4), 3);
  compressed.back() = static_cast<char>(compressed.back() ^ 1);
  CollectingSink out;
  auto d = makeDecompressor(Compression::kZstd, out);
  Status s = feedWhole(*d, compressed);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
}

class FailingSink final : public Sink {
 public:
  Status write(ByteSpan) override { return makeError(ErrorCode::kIo, "disk full"); }
  Status finish() override { return {}; }
};

TEST(ZstdCompressorTest, PropagatesNextSinkError) {
  FailingSink out;
  auto c = makeZstdCompressor(out, 3);
  Status s = feedWhole(*c, sampleData(1000 * 1000, 5));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
  EXPECT_FALSE(c->finish().ok());
}

}  // namespace
}  // namespace garret::codec
