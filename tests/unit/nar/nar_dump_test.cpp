// NarDumpSource against `nix-store --dump` of the same trees, read with
// buffers of many sizes, plus the error cases (unsupported file types, files
// that change size while they are read).

#include "nar/nar_dump.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/hash.h"
#include "nar/nar_validator.h"
#include "nar_test_util.h"

namespace garret::nar {
namespace {

namespace fs = std::filesystem;
using testing::feedWhole;
using testing::narString;
using testing::runCommand;
using testing::TempDir;

void writeFile(const fs::path& path, const std::string& data, bool executable = false) {
  std::ofstream(path, std::ios::binary) << data;
  if (executable) fs::permissions(path, fs::perms::owner_exec, fs::perm_options::add);
}

std::string randomBytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

std::string nixDump(const fs::path& path) {
  bool ok = false;
  std::string nar = runCommand("nix-store --dump '" + path.string() + "'", ok);
  EXPECT_TRUE(ok) << "nix-store --dump failed for " << path;
  return nar;
}

// Reads the whole NAR with `buffer_size` byte reads; fails the test on error.
std::string dumpAll(const fs::path& path, std::size_t buffer_size) {
  auto source = openNarDump(path);
  EXPECT_TRUE(source.ok()) << source.error().message;
  if (!source.ok()) return {};
  std::string out;
  std::vector<char> buf(buffer_size);
  for (;;) {
    Result<std::size_t> n = (*source)->read(buf.data(), buf.size());
    EXPECT_TRUE(n.ok()) << n.error().message;
    if (!n.ok() || *n == 0) break;
    EXPECT_LE(*n, buffer_size);
    out.append(buf.data(), *n);
  }
  EXPECT_EQ((*source)->produced(), out.size());
  return out;
}

// Reads until the source fails or ends; returns the error (or nullopt).
std::optional<Error> dumpError(NarDumpSource& source, std::size_t buffer_size = 4096) {
  std::vector<char> buf(buffer_size);
  for (;;) {
    Result<std::size_t> n = source.read(buf.data(), buf.size());
    if (!n.ok()) return n.error();
    if (*n == 0) return std::nullopt;
  }
}

// Names whose bytewise order differs from a locale's collation order.
void makeTree(const fs::path& root) {
  fs::create_directories(root / "bin");
  fs::create_directories(root / "empty-dir");
  fs::create_directories(root / "a/b/c/d");
  writeFile(root / "bin/tool", "#!/bin/sh\nexit 0\n", true);
  writeFile(root / "empty-file", "");
  writeFile(root / "exactly8", "12345678");
  writeFile(root / "a/b/c/d/deep", "deep\n");
  for (const char* name : {"Zebra", "apple", "_under", "-dash", "10", "9", ".hidden", "\xc3\xa9t\xc3\xa9",
                           "e", "E", "with space"}) {
    writeFile(root / name, std::string("content of ") + name);
  }
  fs::create_symlink("../bin/tool", root / "a/tool-link");
  fs::create_symlink("/nonexistent/dangling", root / "dangling");
  fs::create_symlink("a", root / "dir-link");
}

class NarDumpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bool ok = false;
    runCommand("nix-store --version >/dev/null 2>&1", ok);
    ASSERT_TRUE(ok) << "nix-store is missing: run scripts/install-deps.sh";
  }
  fs::path path(const std::string& name) const { return dir_.path() / name; }
  void expectMatchesNix(const fs::path& p, std::size_t buffer_size = 4096) {
    std::string expected = nixDump(p);
    ASSERT_FALSE(expected.empty());
    std::string ours = dumpAll(p, buffer_size);
    EXPECT_EQ(ours.size(), expected.size());
    EXPECT_TRUE(ours == expected) << "NAR of " << p << " differs from nix-store --dump";
  }
  TempDir dir_;
};

TEST_F(NarDumpTest, TreeMatchesNixWithManyBufferSizes) {
  makeTree(path("tree"));
  for (std::size_t size : {1, 7, 8, 4096, 1 << 20}) {
    SCOPED_TRACE("buffer size " + std::to_string(size));
    expectMatchesNix(path("tree"), size);
  }
}

TEST_F(NarDumpTest, LargeFileWithTinyBuffers) {
  fs::create_directory(path("big"));
  writeFile(path("big/blob"), randomBytes((1 << 20) + 12345, 7), true);
  writeFile(path("big/small"), "after the blob");
  std::string expected = nixDump(path("big"));
  ASSERT_GT(expected.size(), std::size_t{1} << 20);
  for (std::size_t size : {1, 7, 4096}) {
    SCOPED_TRACE("buffer size " + std::to_string(size));
    EXPECT_TRUE(dumpAll(path("big"), size) == expected);
  }
}

TEST_F(NarDumpTest, OutputPassesValidatorWithNixHash) {
  makeTree(path("tree"));
  std::string ours = dumpAll(path("tree"), 999);
  NarValidator validator;
  Status s = feedWhole(validator, ours);
  ASSERT_TRUE(s.ok()) << s.error().message;
  bool ok = false;
  std::string hex = runCommand("nix-hash --type sha256 '" + path("tree").string() + "'", ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(validator.narHash().toHex() + "\n", hex);
  EXPECT_EQ(validator.narSize(), ours.size());
}

TEST_F(NarDumpTest, RootNodesOfEachKind) {
  writeFile(path("file"), "just a file\n");
  writeFile(path("exe"), "#!/bin/sh\n", true);
  writeFile(path("empty"), "");
  fs::create_symlink("some/target", path("link"));
  fs::create_directory(path("empty-dir"));
  for (const char* name : {"file", "exe", "empty", "link", "empty-dir"}) {
    SCOPED_TRACE(name);
    expectMatchesNix(path(name), 3);
  }
}

TEST_F(NarDumpTest, ExactBytesForSmallFile) {
  writeFile(path("f"), "abc");
  std::string expected = narString("nix-archive-1") +
                         testing::narStrings({"(", "type", "regular", "contents", "abc", ")"});
  EXPECT_EQ(dumpAll(path("f"), 5), expected);
}

TEST_F(NarDumpTest, ExecutableBitFollowsNix) {
  // Nix looks at the owner's execute bit only; group/other bits alone do not count.
  for (auto [name, mode] : {std::pair{"u", 0744}, std::pair{"g", 0654}, std::pair{"o", 0645}}) {
    writeFile(path(name), "x");
    ASSERT_EQ(::chmod(path(name).c_str(), static_cast<mode_t>(mode)), 0);
    SCOPED_TRACE(name);
    expectMatchesNix(path(name));
  }
  EXPECT_NE(dumpAll(path("u"), 64).find(narString("executable")), std::string::npos);
  EXPECT_EQ(dumpAll(path("g"), 64).find(narString("executable")), std::string::npos);
}

TEST_F(NarDumpTest, MissingRootFailsAtOpen) {
  auto source = openNarDump(path("does-not-exist"));
  ASSERT_FALSE(source.ok());
  EXPECT_NE(source.error().message.find("does-not-exist"), std::string::npos);
}

TEST_F(NarDumpTest, FifoIsRejected) {
  fs::create_directory(path("d"));
  ASSERT_EQ(::mkfifo(path("d/fifo").c_str(), 0644), 0);
  auto source = openNarDump(path("d"));
  ASSERT_TRUE(source.ok());
  std::optional<Error> err = dumpError(**source);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->code, ErrorCode::kInvalidArgument);
  EXPECT_NE(err->message.find("fifo"), std::string::npos) << err->message;
  // The source stays failed.
  char c;
  EXPECT_FALSE((*source)->read(&c, 1).ok());
}

TEST_F(NarDumpTest, SocketIsRejected) {
  fs::path sock = path("sock");
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(sock.string().size(), sizeof addr.sun_path);
  std::strcpy(addr.sun_path, sock.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);
  auto source = openNarDump(sock);
  ASSERT_TRUE(source.ok());
  std::optional<Error> err = dumpError(**source);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->code, ErrorCode::kInvalidArgument);
}

// Starts a dump of dir/f (100 bytes) and stops inside the file's contents.
std::unique_ptr<NarDumpSource> startInsideFile(const fs::path& dir) {
  fs::create_directory(dir);
  writeFile(dir / "f", std::string(100, 'x'));
  auto source = openNarDump(dir);
  EXPECT_TRUE(source.ok());
  if (!source.ok()) return nullptr;
  std::string header = narString("nix-archive-1") +
                       testing::narStrings({"(", "type", "directory", "entry", "(", "name", "f", "node",
                                            "(", "type", "regular", "contents"}) +
                       std::string(8, '\0');
  std::vector<char> buf(header.size() + 10);
  std::size_t got = 0;
  while (got < buf.size()) {
    Result<std::size_t> n = (*source)->read(buf.data() + got, buf.size() - got);
    EXPECT_TRUE(n.ok() && *n > 0);
    if (!n.ok() || *n == 0) return nullptr;
    got += *n;
  }
  return std::move(source).value();
}

TEST_F(NarDumpTest, FileGrowingDuringReadFails) {
  auto source = startInsideFile(path("grow"));
  ASSERT_NE(source, nullptr);
  std::ofstream(path("grow/f"), std::ios::binary | std::ios::app) << "more bytes";
  std::optional<Error> err = dumpError(*source, 7);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->message.find("grew"), std::string::npos) << err->message;
}

TEST_F(NarDumpTest, FileShrinkingDuringReadFails) {
  auto source = startInsideFile(path("shrink"));
  ASSERT_NE(source, nullptr);
  fs::resize_file(path("shrink/f"), 20);
  std::optional<Error> err = dumpError(*source, 7);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->message.find("shrank"), std::string::npos) << err->message;
}

TEST_F(NarDumpTest, UnchangedFileSucceedsAfterPartialRead) {
  auto source = startInsideFile(path("same"));
  ASSERT_NE(source, nullptr);
  EXPECT_FALSE(dumpError(*source, 7).has_value());
  EXPECT_EQ(source->produced(), nixDump(path("same")).size());
}

}  // namespace
}  // namespace garret::nar
