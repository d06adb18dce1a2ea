#pragma once

// Reads golden files under tests/data/core/.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace garret::testing {

inline std::string readCoreTestFile(const std::string& name) {
  std::string path = std::string(GARRET_TEST_DATA_DIR) + "/core/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace garret::testing
