#include <gtest/gtest.h>

#include <string>

#include "storage/blob_store.h"

namespace garret::storage {
namespace {

struct KeyCase {
  std::string key;
  bool valid;
};

TEST(BlobKey, Validation) {
  const KeyCase cases[] = {
      {"a", true},
      {"nar/ab/abcdef.nar.zst", true},
      {"A-Z_a-z.0-9/x", true},
      {".hidden", true},
      {"a/..b/c", true},
      {"...", true},
      {std::string(1024, 'k'), true},
      {std::string(1025, 'k'), false},
      {"", false},
      {"/abs", false},
      {"trailing/", false},
      {"a//b", false},
      {".", false},
      {"..", false},
      {"a/./b", false},
      {"a/../b", false},
      {"../a", false},
      {"a/..", false},
      {"space here", false},
      {"back\\slash", false},
      {"colon:x", false},
      {"plus+", false},
      {std::string("nul\0x", 5), false},
      {"\xc3\xbc", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(isValidBlobKey(c.key), c.valid) << "\"" << c.key << "\"";
  }
}

TEST(BlobKey, PrefixValidation) {
  const KeyCase cases[] = {
      {"", true},       {"nar", true},      {"nar/", true},
      {"nar/ab", true}, {"nar/ab/", true},  {"nar/.", true},
      {"/", false},     {"/nar", false},    {"../", false},
      {"a/../", false}, {"a//", false},     {"a b", false},
      {"./", false},    {"nar/./x", false}, {std::string(1025, 'p'), false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(isValidBlobPrefix(c.key), c.valid) << "\"" << c.key << "\"";
  }
}

}  // namespace
}  // namespace garret::storage
