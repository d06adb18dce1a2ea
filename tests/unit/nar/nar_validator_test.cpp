#include "nar/nar_validator.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "nar_test_util.h"

namespace garret::nar {
namespace {

using testing::CollectingSink;
using testing::directoryNode;
using testing::feedRandomly;
using testing::feedWhole;
using testing::nar;
using testing::narString;
using testing::narStrings;
using testing::regularNode;
using testing::symlinkNode;

struct ValidCase {
  std::string name;
  std::string bytes;
};

void PrintTo(const ValidCase& c, std::ostream* os) { *os << c.name; }

std::string nestedDirectories(int depth) {
  std::string node = regularNode("leaf");
  for (int i = 0; i < depth; ++i) node = directoryNode({{"d", node}});
  return node;
}

std::vector<ValidCase> validCases() {
  return {
      {"regular", nar(regularNode("hello\n"))},
      {"empty_regular", nar(regularNode(""))},
      {"executable", nar(regularNode("#!/bin/sh\n", true))},
      {"contents_multiple_of_8", nar(regularNode("12345678"))},
      {"binary_contents", nar(regularNode(std::string("\0\x01\xff\0", 4)))},
      {"symlink", nar(symlinkNode("../target"))},
      {"empty_directory", nar(directoryNode({}))},
      {"directory",
       nar(directoryNode(
           {{"a", regularNode("x")}, {"b", symlinkNode("a")}, {"c", directoryNode({})}}))},
      // Byte order, not locale order: 'B' < 'a' and 0x7f < 0x80.
      {"byte_order", nar(directoryNode({{"B", regularNode("")},
                                        {"a", regularNode("")},
                                        {"a.b", regularNode("")},
                                        {"ab", regularNode("")},
                                        {"\x7f", regularNode("")},
                                        {"\x80", regularNode("")}}))},
      {"name_at_limit", nar(directoryNode({{std::string(255, 'n'), regularNode("")}}))},
      {"target_at_limit", nar(symlinkNode(std::string(4096, 't')))},
      {"depth_at_limit", nar(nestedDirectories(256))},
  };
}

class ValidNarTest : public ::testing::TestWithParam<ValidCase> {};

TEST_P(ValidNarTest, AcceptsWholeAndHashes) {
  const std::string& bytes = GetParam().bytes;
  CollectingSink out;
  NarValidator v(&out);
  Status s = feedWhole(v, bytes);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(v.narSize(), bytes.size());
  EXPECT_EQ(v.narHash(), Hash::of(bytes));
  EXPECT_EQ(out.data(), bytes);
  EXPECT_EQ(out.finishes(), 1);
}

TEST_P(ValidNarTest, AcceptsByteByByte) {
  const std::string& bytes = GetParam().bytes;
  NarValidator v;
  Status s = feedRandomly(v, bytes, 1, 1);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(v.narHash(), Hash::of(bytes));
  EXPECT_EQ(v.narSize(), bytes.size());
}

TEST_P(ValidNarTest, AcceptsRandomPieces) {
  const std::string& bytes = GetParam().bytes;
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    CollectingSink out;
    NarValidator v(&out);
    Status s = feedRandomly(v, bytes, seed, 1 + seed * 7);
    ASSERT_TRUE(s.ok()) << "seed " << seed << ": " << s.error().message;
    EXPECT_EQ(v.narHash(), Hash::of(bytes));
    EXPECT_EQ(out.data(), bytes);
  }
}

INSTANTIATE_TEST_SUITE_P(Nar, ValidNarTest, ::testing::ValuesIn(validCases()),
                         [](const auto& info) { return info.param.name; });

struct InvalidCase {
  std::string name;
  std::string bytes;
  std::string error;  // expected substring of the message
  NarLimits limits = {};
};

void PrintTo(const InvalidCase& c, std::ostream* os) { *os << c.name; }

std::string withEntry(const std::string& name) {
  return nar(directoryNode({{name, regularNode("")}}));
}

std::string header() { return narString("nix-archive-1"); }

// A string whose padding has a non-zero byte.
std::string badlyPadded(std::string_view s) {
  std::string out = narString(s);
  out.back() = 'x';
  return out;
}

std::vector<InvalidCase> invalidCases() {
  std::string huge_length(8, '\xff');
  return {
      {"empty_input", "", "truncated, expected magic"},
      {"bad_magic", narString("nix-archive-2") + regularNode(""), "bad magic"},
      {"magic_too_long", narString(std::string(100, 'x')), "expected magic"},
      {"huge_length", header() + huge_length, "expected \"(\""},
      {"missing_open", header() + narStrings({"type", "regular"}), "expected \"(\""},
      {"missing_type", header() + narStrings({"(", "regular"}), "expected \"type\""},
      {"unknown_type", header() + narStrings({"(", "type", "fifo"}), "unknown file type"},
      {"type_twice", header() + narStrings({"(", "type", "regular", "type"}),
       "expected \"executable\" or \"contents\""},
      {"regular_without_contents", header() + narStrings({"(", "type", "regular", ")"}),
       "expected \"executable\" or \"contents\""},
      {"executable_marker_not_empty",
       header() + narStrings({"(", "type", "regular", "executable", "x"}),
       "executable marker is not empty"},
      {"executable_after_contents",
       header() + narStrings({"(", "type", "regular", "contents", "", "executable", "", ")"}),
       "expected \")\""},
      {"executable_twice",
       header() + narStrings({"(", "type", "regular", "executable", "", "executable"}),
       "expected \"contents\""},
      {"symlink_without_target", header() + narStrings({"(", "type", "symlink", ")"}),
       "expected \"target\""},
      {"empty_target", nar(symlinkNode("")), "empty symlink target"},
      {"target_too_long", nar(symlinkNode(std::string(4097, 't'))), "symlink target too long"},
      {"target_with_nul", nar(symlinkNode(std::string("a\0b", 3))), "contains NUL"},
      {"nonzero_padding_contents",
       header() + narStrings({"(", "type", "regular", "contents"}) + badlyPadded("abc"),
       "non-zero padding"},
      {"nonzero_padding_token", header() + badlyPadded("("), "non-zero padding"},
      {"unsorted", nar(directoryNode({{"b", regularNode("")}, {"a", regularNode("")}})),
       "entry names not sorted"},
      {"duplicate", nar(directoryNode({{"a", regularNode("")}, {"a", regularNode("")}})),
       "entry names not sorted"},
      {"unsorted_nested",
       nar(directoryNode({{"d", directoryNode({{"y", regularNode("")}, {"x", regularNode("")}})}})),
       "entry names not sorted"},
      {"empty_name", withEntry(""), "invalid entry name"},
      {"dot", withEntry("."), "invalid entry name"},
      {"dotdot", withEntry(".."), "invalid entry name"},
      {"slash", withEntry("a/b"), "invalid entry name"},
      {"nul", withEntry(std::string("a\0b", 3)), "invalid entry name"},
      {"name_too_long", withEntry(std::string(256, 'n')), "entry name too long"},
      {"entry_without_name",
       header() + narStrings({"(", "type", "directory", "entry", "(", "node"}),
       "expected \"name\""},
      {"entry_without_node",
       header() + narStrings({"(", "type", "directory", "entry", "(", "name", "a", ")"}),
       "expected \"node\""},
      {"entry_without_open", header() + narStrings({"(", "type", "directory", "entry", "name"}),
       "expected \"(\""},
      {"directory_unknown_field", header() + narStrings({"(", "type", "directory", "contents"}),
       "expected \"entry\" or \")\""},
      {"too_deep", nar(nestedDirectories(257)), "nested too deeply"},
      {"too_deep_custom_limit", nar(nestedDirectories(3)), "nested too deeply",
       NarLimits{.max_depth = 2}},
      {"name_over_custom_limit", withEntry("abcd"), "entry name too long",
       NarLimits{.max_name_length = 3}},
      {"trailing_byte", nar(regularNode("")) + std::string(1, '\0'),
       "trailing bytes after the root node"},
      {"trailing_node", nar(regularNode("")) + regularNode(""),
       "trailing bytes after the root node"},
      {"truncated_contents",
       header() + narStrings({"(", "type", "regular", "contents"}) + narString("abc").substr(0, 10),
       "truncated, expected file contents"},
      {"truncated_close", nar(regularNode("")).substr(0, nar(regularNode("")).size() - 8),
       "truncated, expected \")\""},
  };
}

class InvalidNarTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidNarTest, RejectsWhole) {
  NarValidator v(nullptr, GetParam().limits);
  Status s = feedWhole(v, GetParam().bytes);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message.find("invalid NAR at byte "), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find(GetParam().error), std::string::npos) << s.error().message;
}

TEST_P(InvalidNarTest, RejectsByteByByteWithSameMessage) {
  NarValidator whole(nullptr, GetParam().limits);
  Status expected = feedWhole(whole, GetParam().bytes);
  ASSERT_FALSE(expected.ok());
  NarValidator v(nullptr, GetParam().limits);
  Status s = feedRandomly(v, GetParam().bytes, 7, 1);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, expected.error().message);
}

TEST_P(InvalidNarTest, StaysFailed) {
  NarValidator v(nullptr, GetParam().limits);
  ASSERT_FALSE(feedWhole(v, GetParam().bytes).ok());
  EXPECT_FALSE(v.write(asBytes(nar(regularNode("")))).ok());
  EXPECT_FALSE(v.finish().ok());
}

INSTANTIATE_TEST_SUITE_P(Nar, InvalidNarTest, ::testing::ValuesIn(invalidCases()),
                         [](const auto& info) { return info.param.name; });

TEST(NarValidatorTest, ReportsByteOffsetOfBadString) {
  // The unsorted name "a" starts after the header, the directory prologue,
  // the first entry and the second entry's "entry" "(" "name".
  std::string bytes = nar(directoryNode({{"b", regularNode("")}, {"a", regularNode("")}}));
  std::string prefix = header() + narStrings({"(", "type", "directory"}) +
                       narStrings({"entry", "(", "name", "b", "node"}) + regularNode("") +
                       narString(")") + narStrings({"entry", "(", "name"});
  NarValidator v;
  Status s = feedWhole(v, bytes);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "invalid NAR at byte " + std::to_string(prefix.size()) + ": entry names not sorted");
}

TEST(NarValidatorTest, ReportsOffsetOfNonZeroPaddingByte) {
  std::string bytes = header() + badlyPadded("(");
  NarValidator v;
  Status s = feedWhole(v, bytes);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "invalid NAR at byte " + std::to_string(bytes.size() - 1) + ": non-zero padding");
}

TEST(NarValidatorTest, EveryTruncationFails) {
  std::string bytes = nar(directoryNode({{"a", regularNode("abc", true)},
                                         {"b", symlinkNode("a")},
                                         {"c", directoryNode({{"d", regularNode("")}})}}));
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    NarValidator v;
    Status s = feedWhole(v, std::string_view(bytes).substr(0, len));
    ASSERT_FALSE(s.ok()) << "prefix of " << len << " bytes accepted";
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  }
  NarValidator v;
  EXPECT_TRUE(feedWhole(v, bytes).ok());
}

TEST(NarValidatorTest, TruncationIsReportedOnlyAtFinish) {
  std::string bytes = nar(regularNode("hello"));
  NarValidator v;
  EXPECT_TRUE(v.write(asBytes(std::string_view(bytes).substr(0, bytes.size() - 1))).ok());
  Status s = v.finish();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("truncated"), std::string::npos);
}

TEST(NarValidatorTest, StreamsHugeContentsWithoutBuffering) {
  // Declares a 1 TiB file: accepted as far as it goes, truncated at finish.
  std::string bytes = header() + narStrings({"(", "type", "regular", "contents"});
  std::uint64_t size = 1ull << 40;
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((size >> (8 * i)) & 0xff));
  CountingSink counter;
  NarValidator v(&counter);
  ASSERT_TRUE(v.write(asBytes(bytes)).ok());
  std::string block(1 << 20, 'z');
  for (int i = 0; i < 16; ++i) ASSERT_TRUE(v.write(asBytes(block)).ok());
  EXPECT_EQ(counter.count(), bytes.size() + 16 * block.size());
  Status s = v.finish();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("truncated, expected file contents"), std::string::npos);
}

TEST(NarValidatorTest, DoesNotForwardRejectedPiece) {
  CollectingSink out;
  NarValidator v(&out);
  std::string good = header();
  ASSERT_TRUE(v.write(asBytes(good)).ok());
  ASSERT_FALSE(v.write(asBytes(narString("bogus"))).ok());
  EXPECT_EQ(out.data(), good);
  EXPECT_EQ(out.finishes(), 0);
}

class FailingSink final : public Sink {
 public:
  Status write(ByteSpan) override { return makeError(ErrorCode::kIo, "disk full"); }
  Status finish() override { return makeError(ErrorCode::kIo, "disk full"); }
};

TEST(NarValidatorTest, PropagatesNextSinkError) {
  FailingSink out;
  NarValidator v(&out);
  Status s = v.write(asBytes(nar(regularNode(""))));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
  EXPECT_FALSE(v.finish().ok());
}

TEST(NarValidatorTest, RandomGarbageNeverAccepted) {
  std::mt19937 rng(42);
  for (int i = 0; i < 200; ++i) {
    std::string bytes = nar(regularNode("data"));
    // Flip one byte. Every byte of a canonical NAR is significant except the
    // file contents and their length (4 → 5..7 still parses, the padding
    // becoming contents), so skip those.
    std::size_t contents_at = bytes.size() - narString(")").size() - 8;
    std::size_t at = rng() % bytes.size();
    if (at >= contents_at - 8 && at < contents_at + 4) continue;
    bytes[at] = static_cast<char>(bytes[at] ^ (1 + rng() % 255));
    NarValidator v;
    EXPECT_FALSE(feedWhole(v, bytes).ok()) << "flipped byte " << at;
  }
}

}  // namespace
}  // namespace garret::nar
