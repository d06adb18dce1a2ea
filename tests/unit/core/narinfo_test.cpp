#include "core/narinfo.h"

#include <gtest/gtest.h>

#include <string>

#include "core/signing.h"
#include "unit/core/test_files.h"

namespace garret {
namespace {

using testing::readCoreTestFile;

// Golden narinfos written by Nix 2.8 (`nix copy --to file://…`):
// ca-file: a content-addressed file (CA line, no references, no deriver);
// dep-one: a built output with a deriver and no references;
// top: references itself and two others, signed by both test keys.
const char* const kGoldenNarInfos[] = {"ca-file.narinfo", "dep-one.narinfo", "top.narinfo"};

std::string replaceLine(std::string text, std::string_view key, std::string_view line) {
  std::size_t pos = text.find(std::string(key) + ": ");
  EXPECT_NE(pos, std::string::npos) << key;
  std::size_t eol = text.find('\n', pos);
  return text.replace(pos, eol + 1 - pos, std::string(line));
}

TEST(NarInfoTest, RendersNixNarInfosByteIdentically) {
  for (const char* file : kGoldenNarInfos) {
    std::string text = readCoreTestFile(file);
    auto info = NarInfo::parse(text, kDefaultStoreDir);
    ASSERT_TRUE(info.ok()) << file << ": " << info.error().message;
    EXPECT_EQ(info->render(kDefaultStoreDir), text) << file;
  }
}

TEST(NarInfoTest, ParsesEveryField) {
  auto info = NarInfo::parse(readCoreTestFile("top.narinfo"), kDefaultStoreDir);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->store_path.baseName(), "2zlggw45i6gdscxwc2ijhvqg1fi3iqj8-top");
  EXPECT_EQ(info->url, "nar/00jhh3rf9q8wdr1qfdl2rkg8prh6gdjz3i6z5sp7c9h4fz9wbfga.nar.xz");
  EXPECT_EQ(info->compression, "xz");
  ASSERT_TRUE(info->file_hash.has_value());
  EXPECT_EQ(info->file_hash->toNixBase32(), "00jhh3rf9q8wdr1qfdl2rkg8prh6gdjz3i6z5sp7c9h4fz9wbfga");
  EXPECT_EQ(info->file_size, 292u);
  EXPECT_EQ(info->nar_hash.toSri(), "sha256-eR/BA50MgYPd/NEP0c/evAaRAOJZNn84rmX3GXHJdqQ=");
  EXPECT_EQ(info->nar_size, 616u);
  EXPECT_EQ(info->references,
            (std::vector<std::string>{"19aiyg64pppran5s8xin855xgrprh57j-dep-two",
                                      "2zlggw45i6gdscxwc2ijhvqg1fi3iqj8-top",
                                      "j1qjq8ymb5b01ygrpl96ay7y9wcmzjrv-dep-one"}));
  EXPECT_EQ(info->deriver, "2b8baxjc1y2bar0w57il754jwf4y29j3-top.drv");
  EXPECT_FALSE(info->system.has_value());
  EXPECT_EQ(info->sigs.size(), 2u);
  EXPECT_FALSE(info->ca.has_value());

  auto ca = NarInfo::parse(readCoreTestFile("ca-file.narinfo"), kDefaultStoreDir);
  ASSERT_TRUE(ca.ok());
  EXPECT_TRUE(ca->references.empty());
  EXPECT_FALSE(ca->deriver.has_value());
  EXPECT_EQ(ca->ca, "fixed:r:sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw");
}

TEST(NarInfoTest, HashesMatchTheNarFiles) {
  auto info = NarInfo::parse(readCoreTestFile("top.narinfo"), kDefaultStoreDir);
  ASSERT_TRUE(info.ok());
  std::string nar = readCoreTestFile("top.nar");
  std::string compressed = readCoreTestFile("top.nar.xz");
  EXPECT_EQ(Hash::of(nar), info->nar_hash);
  EXPECT_EQ(nar.size(), info->nar_size);
  EXPECT_EQ(Hash::of(compressed), info->file_hash);
  EXPECT_EQ(compressed.size(), info->file_size);
  EXPECT_EQ(info->url, "nar/" + info->file_hash->toNixBase32() + ".nar.xz");
}

TEST(NarInfoTest, FingerprintVerifiesNixSignatures) {
  auto info = NarInfo::parse(readCoreTestFile("top.narinfo"), kDefaultStoreDir);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->fingerprint(kDefaultStoreDir),
            "1;/nix/store/2zlggw45i6gdscxwc2ijhvqg1fi3iqj8-top;"
            "sha256:193nr5qikxv5mqw7ydjrw80921mwvv7x23yizkfq708ckl1w27vr;616;"
            "/nix/store/19aiyg64pppran5s8xin855xgrprh57j-dep-two,"
            "/nix/store/2zlggw45i6gdscxwc2ijhvqg1fi3iqj8-top,"
            "/nix/store/j1qjq8ymb5b01ygrpl96ay7y9wcmzjrv-dep-one");
  for (const char* file : kGoldenNarInfos) {
    auto golden = NarInfo::parse(readCoreTestFile(file), kDefaultStoreDir);
    ASSERT_TRUE(golden.ok());
    ASSERT_FALSE(golden->sigs.empty());
    for (const auto& sig : golden->sigs) {
      std::string key_file = sig.starts_with("test1:") ? "test1" : "test2";
      auto pub = PublicKey::parse(readCoreTestFile(key_file + ".public"));
      ASSERT_TRUE(pub.ok());
      EXPECT_TRUE(pub->verify(golden->fingerprint(kDefaultStoreDir), sig)) << file << " " << sig;
      auto secret = SecretKey::parse(readCoreTestFile(key_file + ".secret"));
      ASSERT_TRUE(secret.ok());
      EXPECT_EQ(secret->sign(golden->fingerprint(kDefaultStoreDir)), sig) << file;
    }
  }
}

TEST(NarInfoTest, FingerprintDependsOnEverySignedField) {
  auto info = NarInfo::parse(readCoreTestFile("top.narinfo"), kDefaultStoreDir);
  ASSERT_TRUE(info.ok());
  auto pub = PublicKey::parse(readCoreTestFile("test1.public"));
  ASSERT_TRUE(pub.ok());
  const std::string sig = info->sigs[0];
  NarInfo changed = *info;
  changed.nar_size += 1;
  EXPECT_FALSE(pub->verify(changed.fingerprint(kDefaultStoreDir), sig));
  changed = *info;
  changed.references.pop_back();
  EXPECT_FALSE(pub->verify(changed.fingerprint(kDefaultStoreDir), sig));
  changed = *info;
  changed.nar_hash = Hash::of("other");
  EXPECT_FALSE(pub->verify(changed.fingerprint(kDefaultStoreDir), sig));
  // URL, compression and file hash are not signed.
  changed = *info;
  changed.url = "nar/other.nar";
  changed.compression = "zstd";
  changed.file_hash.reset();
  EXPECT_TRUE(pub->verify(changed.fingerprint(kDefaultStoreDir), sig));
}

TEST(NarInfoTest, RendersMinimalRecord) {
  NarInfo info;
  info.store_path = StorePath{"2zlggw45i6gdscxwc2ijhvqg1fi3iqj8", "top"};
  info.url = "nar/x.nar";
  info.nar_hash = Hash::of("abc");
  info.nar_size = 5;
  ASSERT_TRUE(info.validate(kDefaultStoreDir).ok());
  EXPECT_EQ(info.render(kDefaultStoreDir),
            "StorePath: /nix/store/2zlggw45i6gdscxwc2ijhvqg1fi3iqj8-top\n"
            "URL: nar/x.nar\n"
            "NarHash: sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s\n"
            "NarSize: 5\n"
            "References: \n");
  EXPECT_EQ(info.fingerprint(kDefaultStoreDir),
            "1;/nix/store/2zlggw45i6gdscxwc2ijhvqg1fi3iqj8-top;"
            "sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s;5;");
}

TEST(NarInfoTest, RenderSortsReferencesAndSigs) {
  NarInfo info;
  info.store_path = StorePath{"2zlggw45i6gdscxwc2ijhvqg1fi3iqj8", "top"};
  info.url = "u";
  info.nar_size = 1;
  info.references = {"j1qjq8ymb5b01ygrpl96ay7y9wcmzjrv-b", "19aiyg64pppran5s8xin855xgrprh57j-a"};
  info.sigs = {"k2:x", "k1:y"};
  info.system = "x86_64-linux";
  std::string text = info.render("/s");
  EXPECT_NE(
      text.find("References: 19aiyg64pppran5s8xin855xgrprh57j-a "
                "j1qjq8ymb5b01ygrpl96ay7y9wcmzjrv-b\nSystem: x86_64-linux\nSig: k1:y\nSig: k2:x\n"),
      std::string::npos)
      << text;
  EXPECT_NE(info.fingerprint("/s").find(";/s/19aiyg64pppran5s8xin855xgrprh57j-a,/s/j1q"),
            std::string::npos);
}

TEST(NarInfoTest, AcceptsWhatNixAccepts) {
  const std::string base = readCoreTestFile("top.narinfo");
  const std::string hex = "791fc1039d0c8183ddfcd10fd1cfdebc069100e259367f38ae65f71971c976a4";
  struct Case {
    std::string name;
    std::string text;
  };
  const Case cases[] = {
      {"hex NarHash", replaceLine(base, "NarHash", "NarHash: sha256:" + hex + "\n")},
      {"SRI NarHash",
       replaceLine(base, "NarHash",
                   "NarHash: sha256-eR/BA50MgYPd/NEP0c/evAaRAOJZNn84rmX3GXHJdqQ=\n")},
      {"unknown key", base + "Frobnicate: yes\n"},
      {"unknown key twice", base + "X-Y: 1\nX-Y: 2\n"},
      {"extra spaces in References",
       replaceLine(base, "References",
                   "References:  19aiyg64pppran5s8xin855xgrprh57j-dep-two  "
                   "j1qjq8ymb5b01ygrpl96ay7y9wcmzjrv-dep-one "
                   "2zlggw45i6gdscxwc2ijhvqg1fi3iqj8-top \n")},
      {"keys in another order", replaceLine(base, "StorePath", "") +
                                    "StorePath: /nix/store/2zlggw45i6gdscxwc2ijhvqg1fi3iqj8-top\n"},
  };
  auto expected = NarInfo::parse(base, kDefaultStoreDir);
  ASSERT_TRUE(expected.ok());
  for (const auto& c : cases) {
    auto info = NarInfo::parse(c.text, kDefaultStoreDir);
    ASSERT_TRUE(info.ok()) << c.name << ": " << info.error().message;
    EXPECT_EQ(info->render(kDefaultStoreDir), base) << c.name;
  }
}

TEST(NarInfoTest, OptionalFieldsMayBeAbsentOrPlaceholders) {
  const std::string minimal =
      "StorePath: /nix/store/2zlggw45i6gdscxwc2ijhvqg1fi3iqj8-top\n"
      "URL: nar/x.nar.bz2\n"
      "NarHash: sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s\n"
      "NarSize: 18446744073709551615\n";
  auto info = NarInfo::parse(minimal + "Deriver: unknown-deriver\nCA: \n", kDefaultStoreDir);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_FALSE(info->compression.has_value());
  EXPECT_FALSE(info->file_hash.has_value());
  EXPECT_FALSE(info->file_size.has_value());
  EXPECT_FALSE(info->deriver.has_value());
  EXPECT_FALSE(info->ca.has_value());
  EXPECT_TRUE(info->references.empty());
  EXPECT_EQ(info->nar_size, 18446744073709551615u);
  EXPECT_EQ(info->render(kDefaultStoreDir), minimal + "References: \n");
}

TEST(NarInfoTest, UsesTheGivenStoreDir) {
  const std::string text =
      "StorePath: /opt/store/2zlggw45i6gdscxwc2ijhvqg1fi3iqj8-top\n"
      "URL: nar/x.nar\n"
      "NarHash: sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s\n"
      "NarSize: 3\n"
      "References: 2zlggw45i6gdscxwc2ijhvqg1fi3iqj8-top\n";
  auto info = NarInfo::parse(text, "/opt/store");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->render("/opt/store"), text);
  EXPECT_TRUE(info->fingerprint("/opt/store")
                  .ends_with(";3;/opt/store/2zlggw45i6gdscxwc2ijhvqg1fi3iqj8-top"));
  EXPECT_FALSE(NarInfo::parse(text, kDefaultStoreDir).ok());
  EXPECT_FALSE(NarInfo::parse(text, "/opt/store/").ok());
  EXPECT_FALSE(NarInfo::parse(text, "").ok());
}

struct MalformedCase {
  std::string name;
  std::string text;
};

std::vector<MalformedCase> malformedCases() {
  const std::string base = readCoreTestFile("top.narinfo");
  const std::string ca = readCoreTestFile("ca-file.narinfo");
  const std::string bad_ref = "References: 19aiyg64pppran5s8xin855xgrprh57j-dep-two x\n";
  return {
      {"empty", ""},
      {"no trailing newline", base.substr(0, base.size() - 1)},
      {"missing StorePath", replaceLine(base, "StorePath", "")},
      {"missing URL", replaceLine(base, "URL", "")},
      {"empty URL", replaceLine(base, "URL", "URL: \n")},
      {"missing NarHash", replaceLine(base, "NarHash", "")},
      {"missing NarSize", replaceLine(base, "NarSize", "")},
      {"zero NarSize", replaceLine(base, "NarSize", "NarSize: 0\n")},
      {"negative NarSize", replaceLine(base, "NarSize", "NarSize: -616\n")},
      {"signed NarSize", replaceLine(base, "NarSize", "NarSize: +616\n")},
      {"hex NarSize", replaceLine(base, "NarSize", "NarSize: 0x268\n")},
      {"NarSize with space", replaceLine(base, "NarSize", "NarSize: 616 \n")},
      {"NarSize overflow", replaceLine(base, "NarSize", "NarSize: 18446744073709551616\n")},
      {"FileSize not a number", replaceLine(base, "FileSize", "FileSize: many\n")},
      {"empty FileSize", replaceLine(base, "FileSize", "FileSize: \n")},
      {"bad NarHash", replaceLine(base, "NarHash", "NarHash: sha256:0000\n")},
      {"NarHash other algorithm",
       replaceLine(base, "NarHash", "NarHash: md5:900150983cd24fb0d6963f7d28e17f72\n")},
      {"bad FileHash",
       replaceLine(base, "FileHash",
                   "FileHash: sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\n")},
      {"StorePath in another store",
       replaceLine(base, "StorePath",
                   "StorePath: /gnu/store/2zlggw45i6gdscxwc2ijhvqg1fi3iqj8-top\n")},
      {"StorePath bad hash",
       replaceLine(base, "StorePath",
                   "StorePath: /nix/store/ezlggw45i6gdscxwc2ijhvqg1fi3iqj8-top\n")},
      {"StorePath bad name",
       replaceLine(base, "StorePath",
                   "StorePath: /nix/store/2zlggw45i6gdscxwc2ijhvqg1fi3iqj8-t p\n")},
      {"StorePath base name only",
       replaceLine(base, "StorePath", "StorePath: 2zlggw45i6gdscxwc2ijhvqg1fi3iqj8-top\n")},
      {"bad reference", replaceLine(base, "References", bad_ref)},
      {"full path reference",
       replaceLine(base, "References",
                   "References: /nix/store/19aiyg64pppran5s8xin855xgrprh57j-dep-two\n")},
      {"bad deriver", replaceLine(base, "Deriver", "Deriver: nope\n")},
      {"full path deriver",
       replaceLine(base, "Deriver",
                   "Deriver: /nix/store/2b8baxjc1y2bar0w57il754jwf4y29j3-top.drv\n")},
      {"duplicate NarHash",
       base + "NarHash: sha256:193nr5qikxv5mqw7ydjrw80921mwvv7x23yizkfq708ckl1w27vr\n"},
      {"duplicate StorePath",
       base + "StorePath: /nix/store/2zlggw45i6gdscxwc2ijhvqg1fi3iqj8-top\n"},
      {"duplicate References", base + "References: \n"},
      {"duplicate URL", base + "URL: nar/other.nar\n"},
      {"duplicate CA",
       ca + "CA: fixed:r:sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw\n"},
      {"bad CA", ca.substr(0, ca.find("CA: ")) + "CA: sha256:abc\n"},
      {"no space after colon", replaceLine(base, "URL", "URL:nar/x.nar\n")},
      {"no colon", base + "garbage\n"},
      {"blank line", base + "\n"},
      {"empty key", base + ": value\n"},
      {"key only", replaceLine(base, "References", "References:\n")},
      {"CRLF line endings", replaceLine(base, "NarSize", "NarSize: 616\r\n")},
      {"control character in System", base + "System: x86\x01\n"},
      {"empty Sig", base + "Sig: \n"},
  };
}

TEST(NarInfoTest, RejectsMalformed) {
  for (const auto& c : malformedCases()) {
    auto info = NarInfo::parse(c.text, kDefaultStoreDir);
    ASSERT_FALSE(info.ok()) << c.name;
    EXPECT_EQ(info.error().code, ErrorCode::kInvalidArgument) << c.name;
    EXPECT_FALSE(info.error().message.empty()) << c.name;
  }
}

TEST(NarInfoTest, ErrorsNameTheProblem) {
  const std::string base = readCoreTestFile("top.narinfo");
  struct Case {
    std::string text;
    std::string expected;
  };
  const Case cases[] = {
      {replaceLine(base, "NarSize", "NarSize: 0\n"), "NarSize"},
      {base + "NarSize: 616\n", "duplicate key NarSize"},
      {replaceLine(base, "NarHash", "NarHash: sha256:0000\n"), "NarHash"},
      {replaceLine(base, "Deriver", "Deriver: nope\n"), "Deriver"},
      {base.substr(0, base.size() - 1), "newline"},
      {replaceLine(base, "StorePath", ""), "StorePath"},
  };
  for (const auto& c : cases) {
    auto info = NarInfo::parse(c.text, kDefaultStoreDir);
    ASSERT_FALSE(info.ok()) << c.expected;
    EXPECT_NE(info.error().message.find(c.expected), std::string::npos) << info.error().message;
  }
}

TEST(NarInfoTest, RefusesHugeInput) {
  std::string text = readCoreTestFile("top.narinfo");
  text += "Padding: " + std::string(1 << 20, 'x') + "\n";
  auto info = NarInfo::parse(text, kDefaultStoreDir);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code, ErrorCode::kPayloadTooLarge);
}

TEST(NarInfoTest, ValidateRejectsUnsafeConstructedRecords) {
  auto parsed = NarInfo::parse(readCoreTestFile("top.narinfo"), kDefaultStoreDir);
  ASSERT_TRUE(parsed.ok());
  ASSERT_TRUE(parsed->validate(kDefaultStoreDir).ok());
  struct Case {
    std::string name;
    void (*mutate)(NarInfo&);
  };
  const Case cases[] = {
      {"newline in URL", [](NarInfo& i) { i.url += "\nSig: forged:AAAA"; }},
      {"empty URL", [](NarInfo& i) { i.url.clear(); }},
      {"zero NarSize", [](NarInfo& i) { i.nar_size = 0; }},
      {"bad store path name", [](NarInfo& i) { i.store_path.name = "a/b"; }},
      {"bad store path hash", [](NarInfo& i) { i.store_path.hash = "short"; }},
      {"bad reference", [](NarInfo& i) { i.references.push_back("nope"); }},
      {"bad deriver", [](NarInfo& i) { i.deriver = "x.drv"; }},
      {"newline in System", [](NarInfo& i) { i.system = "x\ny"; }},
      {"newline in Compression", [](NarInfo& i) { i.compression = "zstd\n"; }},
      {"newline in CA", [](NarInfo& i) { i.ca = "fixed:\n"; }},
      {"newline in Sig", [](NarInfo& i) { i.sigs.push_back("k:\nURL: x"); }},
      {"empty Sig", [](NarInfo& i) { i.sigs.push_back(""); }},
  };
  for (const auto& c : cases) {
    NarInfo info = *parsed;
    c.mutate(info);
    auto status = info.validate(kDefaultStoreDir);
    ASSERT_FALSE(status.ok()) << c.name;
    EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument) << c.name;
  }
  EXPECT_FALSE(parsed->validate("relative/store").ok());
}

TEST(CacheInfoTest, Renders) {
  EXPECT_EQ(renderCacheInfo(kDefaultStoreDir, 40),
            "StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n");
  EXPECT_EQ(renderCacheInfo("/opt/store", 0),
            "StoreDir: /opt/store\nWantMassQuery: 1\nPriority: 0\n");
}

}  // namespace
}  // namespace garret
