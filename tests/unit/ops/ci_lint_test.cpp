// ci lint: the fixture corpus under tests/data/ci (expected findings and merged
// jobs per fixture), plus table tests of the individual checks, the policy
// file and the output formats.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/yaml_canon.h"
#include "ops/gitlab/ci_checks.h"
#include "ops/gitlab/ci_config.h"
#include "ops/gitlab/ci_policy.h"
#include "ops/gitlab/ci_render.h"

namespace garret::ops::gitlab {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kFixtures = fs::path(GARRET_TEST_DATA_DIR) / "ci";

std::optional<std::string> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

FileReader dirReader(const fs::path& root) {
  return [root](const std::string& path) { return slurp(root / path); };
}

std::vector<std::string> fixtureNames() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kFixtures)) {
    if (e.is_directory()) names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> fixturesWithMergedJobs() {
  std::vector<std::string> names;
  for (const std::string& n : fixtureNames()) {
    if (fs::exists(kFixtures / n / "merged")) names.push_back(n);
  }
  return names;
}

struct Linted {
  CiConfig config;
  std::vector<Finding> findings;
};

Linted lintFixture(const std::string& name) {
  const fs::path dir = kFixtures / name;
  CiPolicy policy;
  if (auto text = slurp(dir / ".garret-ci.toml")) {
    Result<CiPolicy> parsed = parseCiPolicy(*text, ".garret-ci.toml");
    EXPECT_TRUE(parsed.ok()) << parsed.error().message;
    if (parsed.ok()) policy = *parsed;
  }
  Result<CiConfig> config = loadCiConfig(".gitlab-ci.yml", dirReader(dir));
  EXPECT_TRUE(config.ok());
  if (!config.ok()) return {};
  std::vector<Finding> findings = lintCiConfig(*config, policy);
  return Linted{std::move(config).value(), std::move(findings)};
}

// The fields expected.json pins down (messages may be reworded freely).
json summary(const std::vector<Finding>& findings) {
  json out = json::array();
  for (const Finding& f : findings) {
    out.push_back({{"id", f.id}, {"severity", severityName(f.severity)}, {"job", f.subject},
                   {"file", f.file}, {"line", f.line}});
  }
  return out;
}

class CiFixture : public ::testing::TestWithParam<std::string> {};
class CiMergedFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(CiFixture, FindingsMatchExpected) {
  const fs::path dir = kFixtures / GetParam();
  auto expected_text = slurp(dir / "expected.json");
  ASSERT_TRUE(expected_text) << "missing " << (dir / "expected.json");
  const json expected = json::parse(*expected_text)["findings"];
  Linted linted = lintFixture(GetParam());
  EXPECT_EQ(summary(linted.findings).dump(1), expected.dump(1));
  for (const Finding& f : linted.findings) {
    EXPECT_FALSE(f.message.empty()) << f.id;
    EXPECT_FALSE(f.fix.empty()) << f.id;
  }
}

TEST_P(CiMergedFixture, MergedJobsMatchExpected) {
  const fs::path merged = kFixtures / GetParam() / "merged";
  Linted linted = lintFixture(GetParam());
  int compared = 0;
  for (const auto& e : fs::directory_iterator(merged)) {
    const std::string job = e.path().stem().string();
    const ResolvedJob* found = nullptr;
    for (const auto& j : linted.config.jobs) found = j.name == job ? &j : found;
    ASSERT_NE(found, nullptr) << "no job " << job;
    EXPECT_EQ(renderMergedJob(job, found->node), *slurp(e.path())) << "job " << job;
    ++compared;
  }
  EXPECT_GT(compared, 0);
}

std::string paramName(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

INSTANTIATE_TEST_SUITE_P(Corpus, CiFixture, ::testing::ValuesIn(fixtureNames()), paramName);
INSTANTIATE_TEST_SUITE_P(Corpus, CiMergedFixture, ::testing::ValuesIn(fixturesWithMergedJobs()),
                         paramName);

TEST(CiFixtures, CorpusIsThere) {
  EXPECT_GE(fixtureNames().size(), 11u);
  EXPECT_EQ(fixturesWithMergedJobs(), (std::vector<std::string>{"clean", "resolution"}));
}

TEST(CiFixtures, EveryFindingIdIsProducedSomewhere) {
  std::set<std::string> seen;
  for (const std::string& name : fixtureNames()) {
    for (const Finding& f : lintFixture(name).findings) seen.insert(f.id);
  }
  for (const std::string& id : ciFindingIds()) EXPECT_TRUE(seen.count(id)) << id << " never produced";
  for (const std::string& id : seen) {
    EXPECT_NE(std::find(ciFindingIds().begin(), ciFindingIds().end(), id), ciFindingIds().end())
        << id << " is not a documented id";
  }
}

TEST(CiFixtures, CleanFixtureHasNoFindings) {
  Linted linted = lintFixture("clean");
  EXPECT_TRUE(linted.findings.empty()) << renderText(linted.findings, false);
  EXPECT_GE(linted.config.jobs.size(), 4u);
}

std::string canon(const YAML::Node& n) { return garret::testing::canonicalYaml(n); }

TEST(CiFixtures, MergedOutputParsesBackToTheSameTree) {
  Linted linted = lintFixture("resolution");
  ASSERT_FALSE(linted.config.jobs.empty());
  for (const ResolvedJob& job : linted.config.jobs) {
    const YAML::Node back = YAML::Load(renderMergedJob(job.name, job.node))[job.name];
    EXPECT_EQ(canon(back), canon(job.node)) << job.name;
  }
  const ResolvedJob* quoting = nullptr;
  for (const auto& j : linted.config.jobs) quoting = j.name == "quoting" ? &j : quoting;
  ASSERT_NE(quoting, nullptr);
  const std::string text = renderMergedJob("quoting", quoting->node);
  EXPECT_NE(text.find("PORT: \"2375\""), std::string::npos) << text;
  EXPECT_NE(text.find("FLAG: \"true\""), std::string::npos) << text;
  EXPECT_NE(text.find("EMPTY: \"\""), std::string::npos) << text;
  EXPECT_NE(text.find("PLAIN: 2376"), std::string::npos) << text;
}

// ---- individual checks, table-driven ------------------------------------------

constexpr const char* kGoodRetry =
    "  retry: {max: 2, when: [runner_system_failure, stuck_or_timeout_failure, "
    "job_execution_timeout, api_failure, scheduler_failure]}\n";

// Ids found for job `job` in a one-file configuration.
std::vector<std::string> idsFor(const std::string& yaml, const CiPolicy& policy = {}) {
  CiConfig config = resolveCiConfig(".gitlab-ci.yml", yaml, [](const std::string&) {
    return std::optional<std::string>();
  });
  std::vector<std::string> ids;
  for (const Finding& f : lintCiConfig(config, policy)) ids.push_back(f.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

struct CheckCase {
  const char* name;
  std::string job;  // the body of job `job:` (indented by two spaces), kGoodRetry added
  std::vector<std::string> ids;
};

class CiCheck : public ::testing::TestWithParam<CheckCase> {};

TEST_P(CiCheck, FindsExactly) {
  const CheckCase& c = GetParam();
  EXPECT_EQ(idsFor("job:\n" + c.job + kGoodRetry), c.ids);
}

using V = std::vector<std::string>;

INSTANTIATE_TEST_SUITE_P(
    Table, CiCheck,
    ::testing::Values(
        CheckCase{"Tagged", "  tags: [x86_64]\n  script: [make]\n", V{}},
        CheckCase{"EmptyTags", "  tags: []\n  script: [make]\n", V{"untagged-job"}},
        CheckCase{"TriggerJobsAreNotChecked", "  trigger: {project: a/b}\n", V{}},
        CheckCase{"DindViaServiceMap",
                  "  tags: [x86_64]\n  services: [{name: 'registry.example.com/mirror/docker:27.3.1-dind',"
                  " alias: docker}]\n  script: [make]\n",
                  V{"dind-missing-tags"}},
        CheckCase{"DindDigestIsPinned",
                  "  tags: [dind, x86_64]\n  services: ['docker@sha256:abcd']\n  script: [make]\n",
                  V{}},
        CheckCase{"DindStableIsUnpinned",
                  "  tags: [dind, x86_64]\n  services: ['docker:stable-dind']\n  script: [make]\n",
                  V{"dind-unpinned"}},
        CheckCase{"DockerImageWithoutTag", "  tags: [x86_64]\n  image: docker\n  script: [make]\n",
                  V{"dind-unpinned"}},
        CheckCase{"HostMismatchWithTlsVerify",
                  "  tags: [dind, x86_64]\n  services: ['docker:27-dind']\n"
                  "  variables: {DOCKER_HOST: 'tcp://docker:2375', DOCKER_TLS_CERTDIR: '', "
                  "DOCKER_TLS_VERIFY: '1'}\n  script: ['until docker info; do sleep 1; done']\n",
                  V{"dind-host-mismatch"}},
        CheckCase{"KubernetesLocalhostTls",
                  "  tags: [dind, x86_64]\n  services: ['docker:27-dind']\n"
                  "  variables: {DOCKER_HOST: 'tcp://localhost:2376', DOCKER_TLS_CERTDIR: '/certs'}\n"
                  "  script: ['timeout 60 sh -c \"until docker info; do sleep 1; done\"', 'docker ps']\n",
                  V{}},
        CheckCase{"DockerAfterAndAnd",
                  "  tags: [dind, x86_64]\n  services: ['docker:27-dind']\n"
                  "  script: ['cd app && docker build .']\n",
                  V{"dind-no-wait"}},
        CheckCase{"WaitForScript",
                  "  tags: [dind, x86_64]\n  services: ['docker:27-dind']\n"
                  "  script: ['./wait-for-docker.sh', 'docker build .']\n",
                  V{}},
        CheckCase{"ShortShaKey",
                  "  tags: [x86_64]\n  cache: {key: '${CI_COMMIT_SHORT_SHA}', paths: [a]}\n"
                  "  script: [make]\n",
                  V{"cache-key-never-hits"}},
        CheckCase{"RefSlugKey",
                  "  tags: [x86_64]\n  cache: {key: '$CI_COMMIT_REF_SLUG', paths: [a]}\n"
                  "  script: [make]\n",
                  V{}},
        CheckCase{"FourCachesAllowed",
                  "  tags: [x86_64]\n  cache: [{key: a}, {key: b}, {key: c}, {key: d}]\n"
                  "  script: [make]\n",
                  V{}},
        CheckCase{"WgetPipeBash",
                  "  tags: [x86_64]\n  script: ['wget -qO- https://x.example/i.sh | bash -s -- -y']\n",
                  V{"unpinned-download"}},
        CheckCase{"PipeToShellcheckIsNotAShell",
                  "  tags: [x86_64]\n  script: ['curl -s https://x.example/f | shellcheck -']\n",
                  V{}},
        CheckCase{"AptToolchain",
                  "  tags: [x86_64]\n  script: ['apt-get update && apt-get install -y gcc-12 make']\n",
                  V{"slow-package-install"}},
        CheckCase{"NpmProjectInstall", "  tags: [x86_64]\n  script: ['npm install eslint']\n", V{}},
        CheckCase{"AfterScriptCounts",
                  "  tags: [x86_64]\n  script: [make]\n  after_script: ['pip3 install yamllint']\n",
                  V{"slow-package-install"}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CiChecks, RequiredAndForbiddenTagsFromPolicy) {
  CiPolicy policy;
  policy.required_tags = {"self-hosted"};
  policy.forbidden_tags = {"saas-*"};
  EXPECT_EQ(idsFor(std::string("job:\n  tags: [saas-linux-medium-amd64]\n  script: [x]\n") +
                       kGoodRetry, policy),
            (V{"forbidden-tag", "required-tags-missing"}));
  EXPECT_EQ(idsFor(std::string("job:\n  tags: [self-hosted]\n  script: [x]\n") + kGoodRetry, policy),
            V{});
}

TEST(CiChecks, CustomDindTags) {
  CiPolicy policy;
  policy.dind_tags = {"privileged"};
  const std::string job = std::string("job:\n  tags: [dind, x86_64]\n  services: ['docker:27-dind']\n"
                                      "  script: [make]\n") + kGoodRetry;
  EXPECT_EQ(idsFor(job, policy), V{"dind-missing-tags"});
  policy.dind_tags = {"dind"};
  EXPECT_EQ(idsFor(job, policy), V{});
}

TEST(CiChecks, RetryWhenFromPolicy) {
  CiPolicy policy;
  policy.retry_when = {"runner_system_failure"};
  EXPECT_EQ(idsFor("job:\n  tags: [x]\n  retry: {max: 1, when: runner_system_failure}\n  script: [x]\n",
                   policy),
            V{});
  EXPECT_EQ(idsFor("job:\n  tags: [x]\n  retry: {max: 1, when: runner_system_failure}\n  script: [x]\n"),
            V{"retry-missing"});
}

TEST(CiChecks, RetryInvalidSeverities) {
  CiConfig config = resolveCiConfig(
      ".gitlab-ci.yml",
      "a:\n  tags: [x]\n  retry: {max: 2, when: [always, brand_new_reason]}\n  script: [x]\n"
      "b:\n  tags: [x]\n  retry: {max: two, when: always}\n  script: [x]\n",
      [](const std::string&) { return std::optional<std::string>(); });
  std::map<std::string, Severity> by_job;
  for (const Finding& f : lintCiConfig(config, {})) {
    ASSERT_EQ(f.id, "retry-invalid");
    by_job[f.subject] = f.severity;
  }
  EXPECT_EQ(by_job["a"], Severity::kWarning);
  EXPECT_EQ(by_job["b"], Severity::kError);
}

TEST(CiChecks, FindingCarriesJobFileAndLine) {
  CiConfig config = resolveCiConfig(".gitlab-ci.yml", "stages: [a]\n\nbuild:\n  script: [x]\n" +
                                                          std::string(kGoodRetry),
                                    [](const std::string&) { return std::optional<std::string>(); });
  std::vector<Finding> f = lintCiConfig(config, {});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].id, "untagged-job");
  EXPECT_EQ(f[0].subject, "build");
  EXPECT_EQ(f[0].file, ".gitlab-ci.yml");
  EXPECT_EQ(f[0].line, 3);
  EXPECT_EQ(f[0].severity, Severity::kWarning);
}

TEST(CiChecks, EffectiveVariablesHonourInherit) {
  const YAML::Node globals = YAML::Load("variables: {A: '1', B: {value: '2', description: d}}");
  EXPECT_EQ(canon(effectiveVariables(YAML::Load("{variables: {C: '3'}}"), globals)),
            canon(YAML::Load("{A: '1', B: '2', C: '3'}")));
  EXPECT_EQ(canon(effectiveVariables(YAML::Load("{inherit: {variables: false}}"), globals)),
            canon(YAML::Load("{}")));
  EXPECT_EQ(canon(effectiveVariables(YAML::Load("{inherit: {variables: [B]}, variables: {B: own}}"),
                                     globals)),
            canon(YAML::Load("{B: own}")));
}

// ---- policy ---------------------------------------------------------------------

TEST(CiPolicyParse, DefaultsWhenEmpty) {
  Result<CiPolicy> p = parseCiPolicy("", "p.toml");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->dind_tags, (V{"dind", "x86_64"}));
  EXPECT_TRUE(p->required_tags.empty());
  EXPECT_TRUE(p->forbidden_tags.empty());
  EXPECT_EQ(p->retry_when.size(), 5u);
}

TEST(CiPolicyParse, AllKeys) {
  Result<CiPolicy> p = parseCiPolicy(
      "dind_tags = ['privileged']\nrequired_tags = ['own']\nforbidden_tags = ['saas-*']\n"
      "retry_when = ['api_failure']\n",
      "p.toml");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->dind_tags, V{"privileged"});
  EXPECT_EQ(p->required_tags, V{"own"});
  EXPECT_EQ(p->forbidden_tags, V{"saas-*"});
  EXPECT_EQ(p->retry_when, V{"api_failure"});
}

TEST(CiPolicyParse, Errors) {
  struct Case {
    const char* text;
    const char* needle;
  };
  for (const Case& c : {Case{"dind_tags = ['a']\nrequire_tags = ['x']\n", "p.toml:2: unknown key 'require_tags'"},
                        Case{"dind_tags = 'dind'\n", "must be an array of strings"},
                        Case{"forbidden_tags = [1]\n", "must be an array of strings"},
                        Case{"retry_when = ['runner_sytem_failure']\n", "unknown failure reason"},
                        Case{"dind_tags = [\n", "p.toml"}}) {
    Result<CiPolicy> p = parseCiPolicy(c.text, "p.toml");
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_EQ(p.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(p.error().message.find(c.needle), std::string::npos) << p.error().message;
  }
}

TEST(CiPolicyGlob, Matches) {
  EXPECT_TRUE(globMatch("saas-*", "saas-linux-small-amd64"));
  EXPECT_TRUE(globMatch("saas-*", "saas-"));
  EXPECT_FALSE(globMatch("saas-*", "my-saas-runner"));
  EXPECT_TRUE(globMatch("*-gpu-?", "x-gpu-1"));
  EXPECT_FALSE(globMatch("*-gpu-?", "x-gpu-12"));
  EXPECT_TRUE(globMatch("exact", "exact"));
  EXPECT_FALSE(globMatch("exact", "exactly"));
  EXPECT_TRUE(globMatch("*a*a*a*b", "aaaaaaaaaaaaaaaaaaaab"));
  EXPECT_FALSE(globMatch("*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaa"));
}

// ---- output formats -------------------------------------------------------------

std::vector<Finding> sample() {
  return {Finding{"dind-missing-tags", Severity::kError, "build", ".gitlab-ci.yml", 12, "m1", "f1"},
          Finding{"untagged-job", Severity::kWarning, "lint", "ci/a.yml", 3, "m2", "f2"},
          Finding{"include-unresolved", Severity::kInfo, "", ".gitlab-ci.yml", 0, "m3", "f3"},
          Finding{"yaml-error", Severity::kBlocker, "", "bad.yml", 5, "m4", "f4"}};
}

TEST(CiRender, JsonShape) {
  const json j = json::parse(renderCiJson(sample()));
  ASSERT_EQ(j["findings"].size(), 4u);
  const json& f = j["findings"][0];
  EXPECT_EQ(f["id"], "dind-missing-tags");
  EXPECT_EQ(f["severity"], "error");
  EXPECT_EQ(f["job"], "build");
  EXPECT_EQ(f["file"], ".gitlab-ci.yml");
  EXPECT_EQ(f["line"], 12);
  EXPECT_EQ(f["message"], "m1");
  EXPECT_EQ(f["fix"], "f1");
  EXPECT_EQ(j["findings"][2]["line"], 0);
  EXPECT_EQ(json::parse(renderCiJson({}))["findings"].size(), 0u);
}

TEST(CiRender, CodeQualityShape) {
  const json j = json::parse(renderCodeQuality(sample()));
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 4u);
  const std::vector<std::string> severities = {"major", "minor", "info", "blocker"};
  std::set<std::string> fingerprints;
  for (std::size_t i = 0; i < j.size(); ++i) {
    EXPECT_EQ(j[i]["severity"], severities[i]);
    EXPECT_TRUE(j[i]["description"].is_string());
    EXPECT_EQ(j[i]["check_name"], sample()[i].id);
    EXPECT_EQ(j[i]["location"]["path"], sample()[i].file);
    EXPECT_GE(j[i]["location"]["lines"]["begin"].get<int>(), 1);
    fingerprints.insert(j[i]["fingerprint"].get<std::string>());
  }
  EXPECT_EQ(fingerprints.size(), 4u);
  EXPECT_EQ(j[0]["location"]["lines"]["begin"], 12);
}

TEST(CiRender, FingerprintStableAcrossLineMovesButNotJobs) {
  Finding a = sample()[0];
  Finding moved = a;
  moved.line = 40;
  Finding other = a;
  other.subject = "deploy";
  EXPECT_EQ(findingFingerprint(a), findingFingerprint(moved));
  EXPECT_NE(findingFingerprint(a), findingFingerprint(other));
  EXPECT_EQ(findingFingerprint(a).size(), 32u);
}

TEST(CiRender, FormatsByName) {
  EXPECT_EQ(parseCiFormat("codequality"), CiFormat::kCodeQuality);
  EXPECT_EQ(parseCiFormat("junit"), CiFormat::kJunit);
  EXPECT_FALSE(parseCiFormat("xml").has_value());
  const std::string junit = renderCiFindings(CiFormat::kJunit, sample(), false);
  EXPECT_NE(junit.find("<testsuite name=\"garret-ci-lint\""), std::string::npos);
  EXPECT_NE(junit.find("failures=\"3\""), std::string::npos) << junit;
  const std::string text = renderCiFindings(CiFormat::kText, sample(), false);
  EXPECT_NE(text.find("dind-missing-tags  build (.gitlab-ci.yml:12)"), std::string::npos) << text;
}

}  // namespace
}  // namespace garret::ops::gitlab
