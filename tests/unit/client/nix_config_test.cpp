#include "client/nix_config.h"

#include <gtest/gtest.h>

namespace garret::client {
namespace {

constexpr const char* kSub = "https://cache.example.org/main";
constexpr const char* kKey = "cache.example.org-main-1:AAAAkey=";

TEST(NixConfTest, AddsToAnEmptyFile) {
  auto e = editNixConf("", kSub, kKey, "/home/u/.config/nix/netrc");
  EXPECT_TRUE(e.changed);
  EXPECT_EQ(e.text,
            "extra-substituters = https://cache.example.org/main\n"
            "extra-trusted-public-keys = cache.example.org-main-1:AAAAkey=\n"
            "netrc-file = /home/u/.config/nix/netrc\n");
  EXPECT_EQ(e.netrc_file, "/home/u/.config/nix/netrc");
}

TEST(NixConfTest, SecondEditChangesNothing) {
  auto first = editNixConf("max-jobs = 4\n", kSub, kKey, "/n");
  auto second = editNixConf(first.text, kSub, kKey, "/n");
  EXPECT_FALSE(second.changed);
  EXPECT_EQ(second.text, first.text);
}

TEST(NixConfTest, KeepsOtherLinesAndComments) {
  std::string text = "# mine\nsubstituters = https://cache.nixos.org\nmax-jobs = 4 # fast\n";
  auto e = editNixConf(text, kSub, kKey, "");
  EXPECT_NE(e.text.find("# mine\nsubstituters = https://cache.nixos.org\nmax-jobs = 4 # fast\n"),
            std::string::npos);
  EXPECT_NE(e.text.find("extra-substituters = https://cache.example.org/main\n"), std::string::npos);
  EXPECT_EQ(e.text.find("netrc-file"), std::string::npos) << "no token, no netrc";
}

TEST(NixConfTest, AppendsToAnExistingExtraLine) {
  auto e = editNixConf("extra-substituters = https://a.example # team\n", kSub, kKey, "");
  EXPECT_NE(e.text.find("extra-substituters = https://a.example https://cache.example.org/main # team\n"),
            std::string::npos)
      << e.text;
}

TEST(NixConfTest, SubstituterAlreadyInPlainSettingIsNotDuplicated) {
  std::string text = std::string("substituters = ") + kSub + "\ntrusted-public-keys = " + kKey + "\n";
  auto e = editNixConf(text, kSub, kKey, "");
  EXPECT_FALSE(e.changed);
}

TEST(NixConfTest, ReplacesARotatedKeyOfTheSameName) {
  std::string text = "extra-trusted-public-keys = other-1:x= cache.example.org-main-1:OLD=\n";
  auto e = editNixConf(text, kSub, kKey, "");
  EXPECT_EQ(e.text.find("OLD="), std::string::npos);
  EXPECT_NE(e.text.find("other-1:x="), std::string::npos);
  EXPECT_NE(e.text.find(kKey), std::string::npos);
}

TEST(NixConfTest, ExistingNetrcFileSettingWins) {
  auto e = editNixConf("netrc-file = /etc/nix/netrc\n", kSub, kKey, "/home/u/netrc");
  EXPECT_EQ(e.netrc_file, "/etc/nix/netrc");
  EXPECT_EQ(e.text.find("/home/u/netrc"), std::string::npos);
}

TEST(NetrcTest, AppendsANewMachine) {
  auto e = editNetrc("machine other.org password x\n", "cache.example.org", "tok");
  EXPECT_TRUE(e.changed);
  EXPECT_EQ(e.text, "machine other.org password x\nmachine cache.example.org password tok\n");
}

TEST(NetrcTest, ReplacesThePasswordInPlace) {
  auto e = editNetrc("machine cache.example.org\n  login u\n  password old\nmachine b password c\n",
                     "cache.example.org", "new");
  EXPECT_EQ(e.text, "machine cache.example.org\n  login u\n  password new\nmachine b password c\n");
}

TEST(NetrcTest, SameTokenChangesNothing) {
  auto e = editNetrc("machine h password t\n", "h", "t");
  EXPECT_FALSE(e.changed);
}

TEST(NetrcTest, DoesNotTouchAnotherMachinesPassword) {
  auto e = editNetrc("machine a password x\nmachine h login u\n", "h", "t");
  EXPECT_EQ(e.text, "machine a password x\nmachine h password t login u\n");
}

TEST(NetrcTest, FileWithoutTrailingNewline) {
  EXPECT_EQ(editNetrc("machine a password x", "h", "t").text, "machine a password x\nmachine h password t\n");
}

TEST(UrlHostTest, Cases) {
  EXPECT_EQ(urlHost("https://cache.example.org:8443/main"), "cache.example.org");
  EXPECT_EQ(urlHost("http://127.0.0.1:8080/x"), "127.0.0.1");
  EXPECT_EQ(urlHost("http://[::1]:80/"), "::1");
  EXPECT_EQ(urlHost("https://user@host.org/"), "host.org");
}

}  // namespace
}  // namespace garret::client
