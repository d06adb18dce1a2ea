// NarValidator against NARs written by Nix itself: a golden file and trees
// dumped with `nix-store --dump` at test time.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "nar/nar_validator.h"
#include "nar_test_util.h"

namespace garret::nar {
namespace {

namespace fs = std::filesystem;
using testing::feedRandomly;
using testing::feedWhole;
using testing::runCommand;
using testing::TempDir;

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void writeFile(const fs::path& path, const std::string& data, bool executable = false) {
  std::ofstream(path, std::ios::binary) << data;
  if (executable) fs::permissions(path, fs::perms::owner_exec, fs::perm_options::add);
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string randomBytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

bool haveNix() {
  bool ok = false;
  runCommand("nix-store --version >/dev/null 2>&1", ok);
  return ok;
}

// A tree with every kind of node Nix can dump.
void makeTree(const fs::path& root) {
  fs::create_directories(root / "bin");
  fs::create_directories(root / "share/empty");
  fs::create_directories(root / "share/a/b/c/d");
  writeFile(root / "bin/tool", "#!/bin/sh\nexit 0\n", true);
  writeFile(root / "share/empty-file", "");
  writeFile(root / "share/exactly8", "12345678");
  writeFile(root / "share/a/b/c/d/deep", "deep\n");
  writeFile(root / "share/random.bin", randomBytes(300 * 1024 + 3, 5));
  writeFile(root / "share/Upper", "sorts before lower case\n");
  writeFile(root / "share/lower", "x");
  writeFile(root / "share/with space", "y");
  fs::create_symlink("../bin/tool", root / "share/tool-link");
  fs::create_symlink("/nonexistent/dangling", root / "dangling");
}

struct NixDump {
  std::string nar;
  std::string base32;
  std::string hex;
};

NixDump dumpWithNix(const fs::path& path) {
  NixDump d;
  bool ok = false;
  std::string quoted = "'" + path.string() + "'";
  d.nar = runCommand("nix-store --dump " + quoted, ok);
  EXPECT_TRUE(ok) << "nix-store --dump failed";
  d.base32 = trim(runCommand("nix-hash --type sha256 --base32 " + quoted, ok));
  EXPECT_TRUE(ok);
  d.hex = trim(runCommand("nix-hash --type sha256 " + quoted, ok));
  EXPECT_TRUE(ok);
  return d;
}

void expectValidatesAs(const NixDump& d) {
  NarValidator whole;
  Status s = feedWhole(whole, d.nar);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(whole.narHash().toNixBase32(), d.base32);
  EXPECT_EQ(whole.narHash().toHex(), d.hex);
  EXPECT_EQ(whole.narSize(), d.nar.size());
  for (std::uint32_t seed = 1; seed <= 3; ++seed) {
    NarValidator v;
    s = feedRandomly(v, d.nar, seed, 1000 * seed);
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(v.narHash().toNixBase32(), d.base32);
  }
}

TEST(NarValidatorGoldenTest, MatchesStoredHash) {
  std::string nar = readFile(fs::path(GARRET_TEST_DATA_DIR) / "nar/tree.nar");
  std::string hash = trim(readFile(fs::path(GARRET_TEST_DATA_DIR) / "nar/tree.nar.sha256"));
  ASSERT_FALSE(nar.empty());
  NarValidator v;
  Status s = feedRandomly(v, nar, 3, 1);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(v.narHash().toNixBase32(), hash);
  EXPECT_EQ(v.narSize(), nar.size());
}

class NixDumpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(haveNix()) << "nix-store is missing: run scripts/install-deps.sh";
    ASSERT_FALSE(dir_.path().empty());
  }
  TempDir dir_;
};

TEST_F(NixDumpTest, Tree) {
  makeTree(dir_.path() / "tree");
  expectValidatesAs(dumpWithNix(dir_.path() / "tree"));
}

TEST_F(NixDumpTest, RootRegularFile) {
  writeFile(dir_.path() / "file", "just a file\n");
  expectValidatesAs(dumpWithNix(dir_.path() / "file"));
}

TEST_F(NixDumpTest, RootExecutable) {
  writeFile(dir_.path() / "exe", "#!/bin/sh\n", true);
  expectValidatesAs(dumpWithNix(dir_.path() / "exe"));
}

TEST_F(NixDumpTest, RootEmptyFile) {
  writeFile(dir_.path() / "empty", "");
  expectValidatesAs(dumpWithNix(dir_.path() / "empty"));
}

TEST_F(NixDumpTest, RootSymlink) {
  fs::create_symlink("some/target", dir_.path() / "link");
  expectValidatesAs(dumpWithNix(dir_.path() / "link"));
}

TEST_F(NixDumpTest, RootEmptyDirectory) {
  fs::create_directory(dir_.path() / "empty-dir");
  expectValidatesAs(dumpWithNix(dir_.path() / "empty-dir"));
}

TEST_F(NixDumpTest, ByteByByte) {
  fs::create_directories(dir_.path() / "small/sub");
  writeFile(dir_.path() / "small/sub/f", "abc", true);
  fs::create_symlink("sub/f", dir_.path() / "small/l");
  NixDump d = dumpWithNix(dir_.path() / "small");
  NarValidator v;
  Status s = feedRandomly(v, d.nar, 1, 1);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(v.narHash().toNixBase32(), d.base32);
}

}  // namespace
}  // namespace garret::nar
