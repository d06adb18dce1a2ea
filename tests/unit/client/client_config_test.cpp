#include "client/client_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "support/temp_dir.h"

namespace garret::client {
namespace {

void writeFile(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

TEST(ClientConfigTest, ParsesAtticsFormat) {
  auto c = parseClientConfig(
      "default-server = \"prod\"\n[servers.prod]\nendpoint = \"https://c.example.org\"\ntoken = \"t1\"\n"
      "[servers.ci]\nendpoint = \"http://10.0.0.1:8080/\"\ntoken-file = \"/run/t\"\nfuture-key = 1\n",
      "test");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->default_server, "prod");
  EXPECT_EQ(c->servers.at("prod").endpoint, "https://c.example.org/");
  EXPECT_EQ(c->servers.at("prod").token, "t1");
  EXPECT_EQ(c->servers.at("ci").token_file, "/run/t");
}

TEST(ClientConfigTest, RejectsBadInputWithItsLocation) {
  auto no_endpoint = parseClientConfig("[servers.x]\ntoken = \"t\"\n", "f.toml");
  ASSERT_FALSE(no_endpoint.ok());
  EXPECT_NE(no_endpoint.error().message.find("[servers.x] has no endpoint"), std::string::npos);
  EXPECT_FALSE(parseClientConfig("[servers.x]\nendpoint = 3\n", "f").ok());
  EXPECT_FALSE(parseClientConfig("[servers.x]\nendpoint = \"ftp://h\"\n", "f").ok());
  EXPECT_FALSE(parseClientConfig("servers = [1]\n", "f").ok());
  EXPECT_FALSE(parseClientConfig("= broken", "f").ok());
}

TEST(ClientConfigTest, RenderRoundTripsWithQuoting) {
  ClientConfig c;
  c.default_server = "a b";
  c.servers["a b"] = {"https://h/", "to\"k\\en", ""};
  c.servers["plain"] = {"http://x/", "", "/t"};
  auto back = parseClientConfig(renderClientConfig(c), "rendered");
  ASSERT_TRUE(back.ok()) << back.error().message << "\n" << renderClientConfig(c);
  EXPECT_EQ(back->default_server, "a b");
  EXPECT_EQ(back->servers.at("a b").token, "to\"k\\en");
  EXPECT_EQ(back->servers.at("plain").token_file, "/t");
}

TEST(ClientConfigTest, SaveIsPrivateAndLoadReadsItBack) {
  testing::TempDir dir;
  auto path = dir.path() / "cfg" / "garret" / "config.toml";
  ClientConfig c;
  c.servers["s"] = {"https://h/", "secret", ""};
  ASSERT_TRUE(saveClientConfig(path, c).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(path.parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto back = loadClientConfig(path);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->servers.at("s").token, "secret");
  auto missing = loadClientConfig(dir.path() / "nope.toml");
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->servers.empty());
}

TEST(ClientConfigTest, FindServerFallsBackToAtticAndReadsTokenFiles) {
  testing::TempDir dir;
  ConfigPaths paths{dir.path() / "garret.toml", dir.path() / "attic.toml"};
  writeFile(paths.garret, "[servers.own]\nendpoint = \"https://own/\"\ntoken = \"o\"\n");
  writeFile(paths.attic,
            "default-server = \"old\"\n[servers.old]\nendpoint = \"https://old/\"\ntoken-file = \"" +
                (dir.path() / "tok").string() + "\"\n");
  writeFile(dir.path() / "tok", "from-file\n");
  ::unsetenv("GARRET_TOKEN");
  auto own = findServer(paths, "own");
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->second.token, "o");
  auto dflt = findServer(paths, "");
  ASSERT_TRUE(dflt.ok()) << dflt.error().message;
  EXPECT_EQ(dflt->first, "old");
  EXPECT_EQ(dflt->second.token, "from-file");
  auto missing = findServer(paths, "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("garret login nope"), std::string::npos);
  ::setenv("GARRET_TOKEN", "env-token", 1);
  EXPECT_EQ(findServer(paths, "own")->second.token, "env-token");
  ::unsetenv("GARRET_TOKEN");
}

TEST(ClientConfigTest, CacheRefs) {
  auto both = parseCacheRef("prod:main");
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->first, "prod");
  EXPECT_EQ(both->second, "main");
  auto bare = parseCacheRef("team-x+1");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->first, "");
  for (const char* bad : {"", "prod:", "prod:-x", "prod:a/b", "p:a b", ":"}) {
    EXPECT_FALSE(parseCacheRef(bad).ok()) << bad;
  }
}

TEST(ClientConfigTest, Endpoints) {
  EXPECT_EQ(*normalizeEndpoint("http://h:8080"), "http://h:8080/");
  EXPECT_EQ(*normalizeEndpoint("https://h/sub/"), "https://h/sub/");
  for (const char* bad : {"h:8080", "http://", "http:///x", "https://h/?q", "https://h /"}) {
    EXPECT_FALSE(normalizeEndpoint(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace garret::client
