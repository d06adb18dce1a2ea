#include "storage/local/local_blob_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

#include "support/temp_dir.h"

namespace garret::storage {
namespace {

namespace fs = std::filesystem;

class LocalBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = LocalBlobStore::open(root());
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    local_ = std::move(opened).value();
    store_ = local_.get();
  }
  fs::path root() const { return dir_.path() / "root"; }
  std::size_t tempFileCount() const {
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(root() / "tmp"), fs::directory_iterator()));
  }
  static void writeFile(const fs::path& path, const std::string& data) {
    std::ofstream(path, std::ios::binary) << data;
  }

  garret::testing::TempDir dir_;
  std::unique_ptr<LocalBlobStore> local_;
  BlobStore* store_ = nullptr;  // open(key) without the factory overload
};

TEST_F(LocalBlobStoreTest, CreatesNestedRoot) {
  auto nested = LocalBlobStore::open(dir_.path() / "a" / "b" / "c");
  ASSERT_TRUE(nested.ok());
  EXPECT_TRUE(fs::is_directory(dir_.path() / "a" / "b" / "c" / "tmp"));
  EXPECT_EQ((*nested)->root(), dir_.path() / "a" / "b" / "c");
}

TEST_F(LocalBlobStoreTest, EmptyRootIsInvalid) {
  auto opened = LocalBlobStore::open(fs::path());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(LocalBlobStoreTest, RelativeRootIsMadeAbsolute) {
  auto opened = LocalBlobStore::open(fs::relative(dir_.path() / "rel"));
  ASSERT_TRUE(opened.ok());
  EXPECT_TRUE((*opened)->root().is_absolute());
}

TEST_F(LocalBlobStoreTest, RootThatIsAFileIsIoError) {
  writeFile(dir_.path() / "file", "x");
  auto opened = LocalBlobStore::open(dir_.path() / "file");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kIo);
  EXPECT_NE(opened.error().message.find("file"), std::string::npos);
}

TEST_F(LocalBlobStoreTest, KeysAreFilesUnderRoot) {
  ASSERT_TRUE(store_->put("nar/ab/abc.nar.zst", asBytes("bytes")).ok());
  std::ifstream in(root() / "nar" / "ab" / "abc.nar.zst", std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "bytes");
  EXPECT_EQ(tempFileCount(), 0u);
}

TEST_F(LocalBlobStoreTest, TempFileLivesOnlyWhileWriting) {
  {
    auto writer = store_->create("k");
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->write(asBytes("abc")).ok());
    EXPECT_EQ(tempFileCount(), 1u);
  }
  EXPECT_EQ(tempFileCount(), 0u);
}

TEST_F(LocalBlobStoreTest, TempDirIsReservedAndNeverListed) {
  auto writer = store_->create("k");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->write(asBytes("abc")).ok());
  ASSERT_TRUE((*writer)->finish().ok());
  EXPECT_TRUE(store_->list("")->empty());
  EXPECT_TRUE(store_->list("tmp")->empty());
  EXPECT_EQ(store_->create("tmp/x").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->open("tmp").error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(store_->put("tmpx/y", asBytes("ok")).ok());
}

TEST_F(LocalBlobStoreTest, RemovesStaleTempFilesAtOpen) {
  fs::path stale = root() / "tmp" / "stale";
  fs::path fresh = root() / "tmp" / "fresh";
  writeFile(stale, "old");
  writeFile(fresh, "new");
  fs::last_write_time(stale, fs::file_time_type::clock::now() - std::chrono::hours(48));
  auto reopened = LocalBlobStore::open(root());
  ASSERT_TRUE(reopened.ok());
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(fresh));
}

TEST_F(LocalBlobStoreTest, RemoveStaleTempFilesCountsAndHonoursAge) {
  fs::path old_file = root() / "tmp" / "old";
  writeFile(old_file, "x");
  fs::last_write_time(old_file, fs::file_time_type::clock::now() - std::chrono::seconds(600));
  writeFile(root() / "tmp" / "new", "y");
  EXPECT_EQ(*local_->removeStaleTempFiles(3600), 0u);
  EXPECT_EQ(*local_->removeStaleTempFiles(60), 1u);
  EXPECT_EQ(tempFileCount(), 1u);
}

TEST_F(LocalBlobStoreTest, NativeHandleIsAReadableFd) {
  ASSERT_TRUE(store_->put("k", asBytes("0123456789")).ok());
  auto reader = store_->open("k");
  ASSERT_TRUE(reader.ok());
  int fd = (*reader)->nativeHandle();
  ASSERT_GE(fd, 0);
  char buf[4];
  ASSERT_EQ(::pread(fd, buf, 4, 3), 4);
  EXPECT_EQ(std::string(buf, 4), "3456");
}

TEST_F(LocalBlobStoreTest, ReaderKeepsOldBytesAfterOverwriteAndRemove) {
  ASSERT_TRUE(store_->put("k", asBytes("old")).ok());
  auto reader = store_->open("k");
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(store_->put("k", asBytes("newer")).ok());
  ASSERT_TRUE(store_->remove("k").ok());
  std::uint8_t buf[8];
  auto n = (*reader)->read(0, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), *n), "old");
}

TEST_F(LocalBlobStoreTest, DirectoryIsNotABlob) {
  ASSERT_TRUE(store_->put("a/b", asBytes("x")).ok());
  EXPECT_FALSE(*store_->exists("a"));
  EXPECT_EQ(store_->open("a").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->remove("a").ok());
  EXPECT_TRUE(*store_->exists("a/b"));
  EXPECT_FALSE(*store_->exists("a/b/c"));
}

TEST_F(LocalBlobStoreTest, NotFoundNamesThePath) {
  auto opened = store_->open("nar/xx/missing");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kNotFound);
  EXPECT_NE(opened.error().message.find("nar/xx/missing"), std::string::npos);
}

TEST_F(LocalBlobStoreTest, DataSurvivesReopen) {
  ASSERT_TRUE(store_->put("nar/ab/k", asBytes("kept")).ok());
  local_.reset();
  auto reopened = LocalBlobStore::open(root());
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(*(*reopened)->get("nar/ab/k"), "kept");
  EXPECT_EQ(*(*reopened)->list(""), std::vector<std::string>{"nar/ab/k"});
}

TEST_F(LocalBlobStoreTest, PingFailsWhenRootIsGone) {
  EXPECT_TRUE(store_->ping().ok());
  EXPECT_EQ(tempFileCount(), 0u);
  fs::remove_all(root());
  auto status = store_->ping();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kIo);
}

TEST_F(LocalBlobStoreTest, CommitFailsWhenParentIsAFile) {
  ASSERT_TRUE(store_->put("a", asBytes("file")).ok());
  auto writer = store_->create("a/b");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->write(asBytes("x")).ok());
  auto status = (*writer)->commit();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kIo);
  EXPECT_EQ(tempFileCount(), 0u);
  EXPECT_EQ(*store_->get("a"), "file");
}

}  // namespace
}  // namespace garret::storage
