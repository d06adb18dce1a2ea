// The doctor's score and Prometheus output: well-formed exposition text
// (one HELP/TYPE per family, before its samples, no duplicate series,
// escaped labels), and the atomic textfile write.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "ops/doctor/prometheus.h"
#include "support/temp_dir.h"

namespace garret::ops::doctor {
namespace {

using garret::testing::TempDir;

Finding finding(const char* id, Severity s, const char* subject) { return {id, s, subject, "", 0, "m", "f"}; }

// Checks the text/plain exposition format line by line; returns series -> value.
std::map<std::string, std::string> parseExposition(const std::string& text) {
  static const std::regex kSample(R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? (\S+))");
  std::map<std::string, std::string> samples;
  std::set<std::string> help, type;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (line.rfind("# HELP ", 0) == 0) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(help.insert(name).second) << "second HELP for " << name;
    } else if (line.rfind("# TYPE ", 0) == 0) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(type.insert(name).second) << "second TYPE for " << name;
      EXPECT_EQ(help.count(name), 1u) << "TYPE before HELP for " << name;
      EXPECT_EQ(line.substr(line.rfind(' ') + 1), "gauge");
    } else if (std::regex_match(line, m, kSample)) {
      EXPECT_EQ(type.count(m[1].str()), 1u) << "sample before its TYPE: " << line;
      std::string series = line.substr(0, line.rfind(' '));
      EXPECT_TRUE(samples.emplace(series, m[5].str()).second) << "duplicate series " << series;
    } else {
      ADD_FAILURE() << "malformed line: " << line;
    }
  }
  EXPECT_FALSE(text.empty() || text.back() != '\n') << "must end with a newline";
  return samples;
}

TEST(DoctorPrometheus, Score) {
  EXPECT_EQ(score({}), 100);
  EXPECT_EQ(score({finding("a", Severity::kInfo, "")}), 100);
  EXPECT_EQ(score({finding("a", Severity::kError, ""), finding("b", Severity::kWarning, ""),
                   finding("c", Severity::kWarning, "")}),
            70);
  EXPECT_EQ(score({finding("a", Severity::kBlocker, ""), finding("b", Severity::kBlocker, ""),
                   finding("c", Severity::kError, "")}),
            0);
}

TEST(DoctorPrometheus, WellFormedWithFamiliesFindingsAndTimestamp) {
  std::vector<Finding> findings = {finding("disk-usage", Severity::kWarning, "/var/lib/docker"),
                                   finding("lease-stale", Severity::kError, "kube-system/lease/\"odd\\name\n"),
                                   finding("disk-usage", Severity::kWarning, "/var/lib/docker")};  // duplicate
  std::vector<Metric> metrics = {{"garret_doctor_disk_used_ratio", "Used fraction.", {{"mount", "/"}}, 0.25},
                                 {"garret_doctor_disk_used_ratio", "Used fraction.", {{"mount", "/cache"}}, 0.5},
                                 {"garret_doctor_iowait_ratio", "Iowait.", {}, 0.0125}};
  std::string text = renderPrometheus(findings, metrics, 1795780800);
  auto samples = parseExposition(text);
  EXPECT_EQ(samples["garret_doctor_finding{id=\"disk-usage\",severity=\"warning\",subject=\"/var/lib/docker\"}"], "1");
  EXPECT_EQ(samples["garret_doctor_finding{id=\"lease-stale\",severity=\"error\",subject=\"kube-system/lease/\\\"odd\\\\name\\n\"}"],
            "1");
  EXPECT_EQ(samples["garret_doctor_findings{severity=\"warning\"}"], "2");
  EXPECT_EQ(samples["garret_doctor_findings{severity=\"blocker\"}"], "0");
  EXPECT_EQ(samples["garret_doctor_score"], "70");
  EXPECT_EQ(samples["garret_doctor_last_run_timestamp_seconds"], "1795780800");
  EXPECT_EQ(samples["garret_doctor_disk_used_ratio{mount=\"/cache\"}"], "0.5");
  EXPECT_EQ(samples["garret_doctor_iowait_ratio"], "0.0125");
}

TEST(DoctorPrometheus, NoFindingsStillHasEveryFamily) {
  auto samples = parseExposition(renderPrometheus({}, {}, 5));
  EXPECT_EQ(samples.size(), 6u);  // 4 severities, score, timestamp
  EXPECT_EQ(samples["garret_doctor_score"], "100");
}

TEST(DoctorPrometheus, TextfileIsWrittenAtomically) {
  TempDir dir;
  std::ofstream(dir.path() / "garret_doctor.prom") << "old content\n";
  std::ofstream(dir.path() / "other.prom") << "# someone else's file\n";
  std::string content = renderPrometheus({finding("load-high", Severity::kWarning, "load")}, {}, 42);
  ASSERT_TRUE(writeTextfile(dir.path(), content).ok());
  std::ifstream in(dir.path() / "garret_doctor.prom");
  std::ostringstream got;
  got << in.rdbuf();
  EXPECT_EQ(got.str(), content);
  // Only the two .prom files remain: the temporary file was renamed, not left behind.
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) names.insert(e.path().filename().string());
  EXPECT_EQ(names, (std::set<std::string>{"garret_doctor.prom", "other.prom"}));
}

TEST(DoctorPrometheus, UnwritableDirectoryIsAnError) {
  auto r = writeTextfile("/no/such/dir", "x\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
  EXPECT_NE(r.error().message.find("/no/such/dir"), std::string::npos);
}

}  // namespace
}  // namespace garret::ops::doctor
