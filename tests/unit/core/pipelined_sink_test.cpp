#include "core/pipelined_sink.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace garret {
namespace {

// Collects what it gets; can fail at a given byte count or go slowly.
class RecordingSink final : public Sink {
 public:
  Status write(ByteSpan data) override {
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    if (fail_after && got.size() + data.size() > *fail_after) return invalid("too much");
    got.append(reinterpret_cast<const char*>(data.data()), data.size());
    writer = std::this_thread::get_id();
    return {};
  }
  Status finish() override {
    finished = true;
    return {};
  }
  std::string got;
  std::optional<std::size_t> fail_after;
  std::chrono::milliseconds delay{0};
  bool finished = false;
  std::thread::id writer;
};

TEST(PipelinedSinkTest, ForwardsEverythingInOrderOnAnotherThread) {
  RecordingSink next;
  PipelinedSink p(next, 64);
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    std::string piece = std::to_string(i) + ",";
    expected += piece;
    ASSERT_TRUE(p.write(asBytes(piece)).ok());
  }
  ASSERT_TRUE(p.finish().ok());
  EXPECT_EQ(next.got, expected);
  EXPECT_TRUE(next.finished);
  EXPECT_NE(next.writer, std::this_thread::get_id());
}

TEST(PipelinedSinkTest, TheNextSinksErrorReachesTheProducer) {
  RecordingSink next;
  next.fail_after = 10;
  PipelinedSink p(next, 8);
  Status last;
  for (int i = 0; i < 100 && last.ok(); ++i) last = p.write(asBytes("abcd"));
  ASSERT_FALSE(last.ok()) << "a later write reports the failure";
  EXPECT_EQ(last.error().message, "too much");
  Status f = p.finish();
  ASSERT_FALSE(f.ok());
  EXPECT_FALSE(next.finished) << "a failed stream is not finished";
}

TEST(PipelinedSinkTest, ErrorSurfacesAtFinishWhenNoWriteFollows) {
  RecordingSink next;
  next.fail_after = 2;
  PipelinedSink p(next, 1024);
  ASSERT_TRUE(p.write(asBytes("abc")).ok());
  EXPECT_FALSE(p.finish().ok());
}

TEST(PipelinedSinkTest, BoundsWhatIsQueued) {
  RecordingSink next;
  next.delay = std::chrono::milliseconds(20);
  PipelinedSink p(next, 8);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(p.write(asBytes("12345678")).ok());
  // 5 pieces of 8 bytes with room for one: the producer waited for the consumer.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(40));
  ASSERT_TRUE(p.finish().ok());
  EXPECT_EQ(next.got.size(), 40u);
}

TEST(PipelinedSinkTest, DestroyingAnUnfinishedStreamAbandonsIt) {
  RecordingSink next;
  next.delay = std::chrono::milliseconds(5);
  {
    PipelinedSink p(next, 1 << 20);
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(p.write(asBytes("x")).ok());
  }
  EXPECT_FALSE(next.finished);
  EXPECT_LT(next.got.size(), 100u);
}

TEST(PipelinedSinkTest, MisuseIsAnError) {
  RecordingSink next;
  PipelinedSink p(next, 16);
  ASSERT_TRUE(p.finish().ok());
  EXPECT_FALSE(p.write(asBytes("late")).ok());
  EXPECT_FALSE(p.finish().ok());
}

}  // namespace
}  // namespace garret
