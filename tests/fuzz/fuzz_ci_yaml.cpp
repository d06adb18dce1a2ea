// garret ci lint on arbitrary .gitlab-ci.yml text: resolve (the input also
// serves as every local include, so include chains and duplicates get
// exercised), lint with the default and a strict policy, render every output
// format, and print every job merged. Invariants: nothing throws or crashes;
// every finding has a documented id, a message and a fix; the JSON outputs
// parse; a merged job printed as YAML reads back as the same tree. The input
// is also parsed as a .garret-ci.toml policy, which must fail cleanly or
// give a usable policy.

#include <algorithm>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "../support/yaml_canon.h"
#include "core/encoding.h"
#include "fuzz_util.h"
#include "ops/gitlab/ci_checks.h"
#include "ops/gitlab/ci_config.h"
#include "ops/gitlab/ci_policy.h"
#include "ops/gitlab/ci_render.h"

namespace {

namespace gl = garret::ops::gitlab;

std::string canon(const YAML::Node& n) { return garret::testing::canonicalYaml(n); }

void checkFindings(const std::vector<garret::ops::Finding>& findings) {
  const auto& ids = gl::ciFindingIds();
  for (const auto& f : findings) {
    FUZZ_CHECK_MSG(std::find(ids.begin(), ids.end(), f.id) != ids.end(), "undocumented id " + f.id);
    FUZZ_CHECK_MSG(!f.message.empty() && !f.fix.empty(), "finding without message or fix: " + f.id);
  }
  const auto json = nlohmann::json::parse(gl::renderCiJson(findings), nullptr, false);
  FUZZ_CHECK(!json.is_discarded() && json["findings"].size() == findings.size());
  const auto cq = nlohmann::json::parse(gl::renderCodeQuality(findings), nullptr, false);
  FUZZ_CHECK(!cq.is_discarded() && cq.size() == findings.size());
  (void)gl::renderCiFindings(gl::CiFormat::kJunit, findings, false);
  (void)gl::renderCiFindings(gl::CiFormat::kText, findings, true);
}

void checkMerged(const gl::ResolvedJob& job) {
  const std::string text = gl::renderMergedJob(job.name, job.node);
  YAML::Node back;
  try {
    back = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    FUZZ_CHECK_MSG(false, std::string("merged job does not parse: ") + e.what() + "\n" +
                              garret::fuzz::escaped(text, 2000));
  }
  FUZZ_CHECK_MSG(back.IsMap() && back.size() == 1, garret::fuzz::escaped(text, 2000));
  FUZZ_CHECK_MSG(canon(back.begin()->second) == canon(job.node),
                 "merged job reads back differently:\n" + garret::fuzz::escaped(text, 2000));
}

void checkPolicy(std::string_view text) {
  auto policy = gl::parseCiPolicy(text, "fuzz.toml");
  if (!policy.ok()) {
    FUZZ_CHECK(policy.error().code == garret::ErrorCode::kInvalidArgument);
    FUZZ_CHECK(!policy.error().message.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(garret::fuzz::asText(data, size));
  const gl::FileReader reader = [&text](const std::string& path) -> std::optional<std::string> {
    if (path.find("missing") != std::string::npos) return std::nullopt;
    return text;
  };
  const gl::CiConfig config = gl::resolveCiConfig(".gitlab-ci.yml", text, reader);
  gl::CiPolicy strict;
  strict.required_tags = {"self-hosted"};
  strict.forbidden_tags = {"saas-*", "*shared*"};
  checkFindings(gl::lintCiConfig(config, gl::CiPolicy{}));
  checkFindings(gl::lintCiConfig(config, strict));
  // yaml-cpp's emitter replaces invalid UTF-8 with U+FFFD (GitLab rejects such
  // files anyway), so the read-back check only applies to valid UTF-8.
  if (garret::isWellFormedUtf8(text)) {
    for (const auto& job : config.jobs) checkMerged(job);
  }
  checkPolicy(text);
  return 0;
}
