#include "support/fake_blob_store.h"

#include <gtest/gtest.h>

namespace garret::storage {
namespace {

TEST(FakeBlobStore, FailNextWritesKillsTheWriter) {
  FakeBlobStore store;
  store.fail_next_writes = 1;
  auto writer = store.create("k");
  ASSERT_TRUE(writer.ok());
  auto status = (*writer)->write(asBytes("x"));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kIo);
  EXPECT_FALSE((*writer)->write(asBytes("y")).ok());
  EXPECT_FALSE((*writer)->commit().ok());
  EXPECT_EQ(store.blobCount(), 0u);
  EXPECT_TRUE(store.put("k", asBytes("z")).ok());
  EXPECT_EQ(store.peek("k"), "z");
}

TEST(FakeBlobStore, CountersApplyToThatManyCalls) {
  FakeBlobStore store;
  store.fail_next_creates = 2;
  store.fault_code = ErrorCode::kUnavailable;
  EXPECT_EQ(store.create("a").error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(store.put("a", asBytes("1")).error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(store.put("a", asBytes("1")).ok());
}

TEST(FakeBlobStore, FailedCommitLeavesNothing) {
  FakeBlobStore store;
  store.fail_next_commits = 1;
  EXPECT_FALSE(store.put("k", asBytes("data")).ok());
  EXPECT_FALSE(*store.exists("k"));
  EXPECT_EQ(store.commitCount(), 0);
  EXPECT_EQ(store.openWriters(), 0);
}

TEST(FakeBlobStore, ReadOpenRemoveFaults) {
  FakeBlobStore store;
  ASSERT_TRUE(store.put("k", asBytes("data")).ok());
  store.fail_next_opens = 1;
  EXPECT_FALSE(store.open("k").ok());
  store.fail_next_reads = 1;
  EXPECT_FALSE(store.get("k").ok());
  EXPECT_EQ(*store.get("k"), "data");
  store.fail_next_removes = 1;
  EXPECT_FALSE(store.remove("k").ok());
  EXPECT_TRUE(*store.exists("k"));
}

TEST(FakeBlobStore, UnavailableFailsEverything) {
  FakeBlobStore store;
  ASSERT_TRUE(store.put("k", asBytes("data")).ok());
  store.unavailable = true;
  EXPECT_EQ(store.ping().error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(store.get("k").error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(store.exists("k").error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(store.list("").error().code, ErrorCode::kUnavailable);
  store.unavailable = false;
  EXPECT_TRUE(store.ping().ok());
}

TEST(FakeBlobStore, PokeAndPeekBypassWriters) {
  FakeBlobStore store;
  store.poke("nar/x", "corrupt");
  EXPECT_EQ(*store.get("nar/x"), "corrupt");
  EXPECT_EQ(store.peek("missing"), std::nullopt);
  EXPECT_EQ(store.commitCount(), 0);
}

TEST(FakeBlobStore, TracksOpenWriters) {
  FakeBlobStore store;
  auto a = store.create("a");
  auto b = store.create("b");
  EXPECT_EQ(store.openWriters(), 2);
  ASSERT_TRUE((*a)->commit().ok());
  EXPECT_EQ(store.openWriters(), 1);
  b = Error{};
  EXPECT_EQ(store.openWriters(), 0);
  EXPECT_EQ(store.commitCount(), 1);
}

}  // namespace
}  // namespace garret::storage
