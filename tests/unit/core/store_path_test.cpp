#include "core/store_path.h"

#include <gtest/gtest.h>

#include <string>

namespace garret {
namespace {

constexpr std::string_view kHash = "2zlggw45i6gdscxwc2ijhvqg1fi3iqj8";

std::string base(std::string_view name) { return std::string(kHash) + "-" + std::string(name); }

TEST(StorePathTest, ParsesValidBaseNames) {
  const std::string names[] = {
      "top", "hello-2.12.1", "a", "A+Z-_.?=09",          "foo.drv",
      "x..", "-dash-first",  "_", std::string(211, 'n'),
  };
  for (const auto& name : names) {
    auto p = StorePath::parseBaseName(base(name));
    ASSERT_TRUE(p.ok()) << name << ": " << p.error().message;
    EXPECT_EQ(p->hash, kHash);
    EXPECT_EQ(p->name, name);
    EXPECT_EQ(p->baseName(), base(name));
    EXPECT_EQ(p->full(kDefaultStoreDir), "/nix/store/" + base(name));
  }
}

TEST(StorePathTest, RejectsInvalidBaseNames) {
  const std::string cases[] = {
      "",
      std::string(kHash),                           // no name
      base(""),                                     // empty name
      std::string(kHash) + "_top",                  // no dash after the hash
      std::string(kHash.substr(1)) + "-top",        // hash too short
      "e" + std::string(kHash.substr(1)) + "-top",  // 'e' is not nix-base32
      "o" + std::string(kHash.substr(1)) + "-top",
      "u" + std::string(kHash.substr(1)) + "-top",
      "t" + std::string(kHash.substr(1)) + "-top",
      "Z" + std::string(kHash.substr(1)) + "-top",  // uppercase
      base(".hidden"),                              // leading dot
      base("."),
      base(".."),
      base("a/b"),
      base("a b"),
      base("caf\xc3\xa9"),
      base("a\nb"),
      base(std::string("a\0b", 3)),
      base("semi;colon"),
      base("bang!"),
      base(std::string(212, 'n')),  // name too long
  };
  for (const auto& text : cases) {
    auto p = StorePath::parseBaseName(text);
    ASSERT_FALSE(p.ok()) << text;
    EXPECT_EQ(p.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(StorePathTest, ValidatesHashAndNameSeparately) {
  EXPECT_TRUE(isValidStorePathHash(kHash));
  EXPECT_TRUE(isValidStorePathHash("0123456789abcdfghijklmnpqrsvwxyz"));
  EXPECT_FALSE(isValidStorePathHash("0123456789abcdfghijklmnpqrsvwxye"));
  EXPECT_FALSE(isValidStorePathHash(kHash.substr(1)));
  EXPECT_TRUE(isValidStorePathName("foo"));
  EXPECT_FALSE(isValidStorePathName(""));
  EXPECT_FALSE(isValidStorePathName(".foo"));
}

TEST(StorePathTest, ParsesFullPaths) {
  auto p = StorePath::parseFull("/nix/store/" + base("top"), kDefaultStoreDir);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->name, "top");
  auto custom = StorePath::parseFull("/opt/store/" + base("x"), "/opt/store");
  ASSERT_TRUE(custom.ok());
  EXPECT_EQ(custom->full("/opt/store"), "/opt/store/" + base("x"));
}

TEST(StorePathTest, RejectsFullPathsOutsideTheStore) {
  const std::string cases[] = {
      base("top"),  // not absolute
      "/nix/store",
      "/nix/store/",
      "/nix/storex/" + base("top"),
      "/nix/" + base("top"),
      "/nix/store//" + base("top"),
      "/nix/store/" + base("top") + "/bin/sh",  // not top level
      "/nix/store/../store/" + base("top"),
      "/other/store/" + base("top"),
      "/nix/store/" + base("top") + "/",
  };
  for (const auto& text : cases) {
    EXPECT_FALSE(StorePath::parseFull(text, kDefaultStoreDir).ok()) << text;
  }
}

TEST(StorePathTest, ValidatesStoreDirs) {
  for (std::string_view dir : {"/nix/store", "/a", "/opt/my store", "/x/.y/z"}) {
    EXPECT_TRUE(isValidStoreDir(dir)) << dir;
  }
  for (std::string_view dir : {"", "/", "nix/store", "/nix/store/", "/nix//store", "/nix/./store",
                               "/nix/../store", "/nix/store/..", "/.", "/nix/st\nore"}) {
    EXPECT_FALSE(isValidStoreDir(dir)) << dir;
  }
}

}  // namespace
}  // namespace garret
