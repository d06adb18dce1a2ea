#include "ops/gitlab/ci_config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <map>
#include <string>
#include <vector>

namespace garret::ops::gitlab {
namespace {

// Canonical one-line form of a node: maps with sorted keys, so comparisons
// do not depend on key order. Tags other than plain ones are shown.
std::string canon(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return "~";
    case YAML::NodeType::Scalar:
      return "'" + n.Scalar() + "'";
    case YAML::NodeType::Sequence: {
      std::string out = "[";
      for (const auto& e : n) out += (out.size() > 1 ? ", " : "") + canon(e);
      return out + "]";
    }
    case YAML::NodeType::Map: {
      std::map<std::string, std::string> sorted;
      for (const auto& kv : n) sorted[canon(kv.first)] = canon(kv.second);
      std::string out = "{";
      for (const auto& [k, v] : sorted) out += (out.size() > 1 ? ", " : "") + k + ": " + v;
      return out + "}";
    }
    default:
      return "<undefined>";
  }
}

std::string canonYaml(const std::string& yaml) { return canon(YAML::Load(yaml)); }

using Files = std::map<std::string, std::string>;

FileReader readerFor(const Files& files) {
  return [files](const std::string& path) -> std::optional<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return std::nullopt;
    return it->second;
  };
}

CiConfig load(const std::string& root, const Files& others = {}) {
  Files files = others;
  files[".gitlab-ci.yml"] = root;
  Result<CiConfig> r = loadCiConfig(".gitlab-ci.yml", readerFor(files));
  EXPECT_TRUE(r.ok());
  return r.ok() ? std::move(r).value() : CiConfig{};
}

const ResolvedJob* findJob(const CiConfig& c, const std::string& name) {
  for (const auto& j : c.jobs) {
    if (j.name == name) return &j;
  }
  return nullptr;
}

std::string jobCanon(const CiConfig& c, const std::string& name) {
  const ResolvedJob* j = findJob(c, name);
  return j ? canon(j->node) : "<no job " + name + ">";
}

std::vector<std::string> jobNames(const CiConfig& c) {
  std::vector<std::string> names;
  for (const auto& j : c.jobs) names.push_back(j.name);
  return names;
}

std::vector<std::string> problemIds(const CiConfig& c) {
  std::vector<std::string> ids;
  for (const auto& p : c.problems) ids.push_back(p.id);
  return ids;
}

const Problem* findProblem(const CiConfig& c, const std::string& id) {
  for (const auto& p : c.problems) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

// ---- anchors and merge keys ------------------------------------------------

TEST(CiConfigAnchors, AliasCopiesAnchoredValue) {
  CiConfig c = load(
      ".tags: &tags [dind, x86_64]\n"
      "build:\n  script: [make]\n  tags: *tags\n");
  EXPECT_TRUE(c.problems.empty());
  EXPECT_EQ(jobCanon(c, "build"), canonYaml("{script: [make], tags: [dind, x86_64]}"));
}

TEST(CiConfigAnchors, MergeKeyExplicitKeysWin) {
  CiConfig c = load(
      ".base: &base {image: alpine, stage: test}\n"
      "job:\n  <<: *base\n  stage: build\n  script: [x]\n");
  EXPECT_EQ(jobCanon(c, "job"), canonYaml("{image: alpine, stage: build, script: [x]}"));
}

TEST(CiConfigAnchors, ExplicitKeyBeforeMergeKeyStillWins) {
  CiConfig c = load(
      ".base: &base {stage: test}\n"
      "job:\n  stage: build\n  <<: *base\n  script: [x]\n");
  EXPECT_EQ(jobCanon(c, "job"), canonYaml("{stage: build, script: [x]}"));
}

TEST(CiConfigAnchors, MergeKeyListEarlierMapWins) {
  CiConfig c = load(
      ".a: &a {x: a, y: a}\n"
      ".b: &b {x: b, z: b}\n"
      "job:\n  <<: [*a, *b]\n  script: [s]\n");
  EXPECT_EQ(jobCanon(c, "job"), canonYaml("{x: a, y: a, z: b, script: [s]}"));
}

TEST(CiConfigAnchors, SeveralMergeKeysInOneMapping) {
  CiConfig c = load(
      ".a: &a {x: a, y: a}\n"
      ".b: &b {x: b, z: b}\n"
      ".c: &c {w: c}\n"
      "job:\n  <<: *a\n  <<: [*b, *c]\n  y: own\n  script: [s]\n");
  EXPECT_EQ(jobCanon(c, "job"), canonYaml("{x: a, y: own, z: b, w: c, script: [s]}"));
}

TEST(CiConfigAnchors, MergeIsShallow) {
  CiConfig c = load(
      ".a: &a {variables: {A: '1', B: '2'}}\n"
      "job:\n  <<: *a\n  variables: {C: '3'}\n  script: [s]\n");
  EXPECT_EQ(jobCanon(c, "job"), canonYaml("{variables: {C: '3'}, script: [s]}"));
}

TEST(CiConfigAnchors, QuotedMergeKeyIsAPlainKey) {
  CiConfig c = load(
      ".a: &a {x: 1}\n"
      "job:\n  '<<': *a\n  script: [s]\n");
  EXPECT_EQ(jobCanon(c, "job"), canonYaml("{'<<': {x: 1}, script: [s]}"));
}

TEST(CiConfigAnchors, MergeOfScalarIsProblem) {
  CiConfig c = load("job:\n  <<: 3\n  script: [s]\n");
  EXPECT_EQ(problemIds(c), std::vector<std::string>{"yaml-error"});
}

TEST(CiConfigAnchors, ModifyingMergedJobDoesNotLeakIntoAnchor) {
  CiConfig c = load(
      ".base: &base {image: alpine}\n"
      "a:\n  <<: *base\n  script: [a]\n"
      "b:\n  <<: *base\n  image: debian\n  script: [b]\n"
      "c:\n  <<: *base\n  script: [c]\n");
  EXPECT_EQ(jobCanon(c, "a"), canonYaml("{image: alpine, script: [a]}"));
  EXPECT_EQ(jobCanon(c, "c"), canonYaml("{image: alpine, script: [c]}"));
}

// ---- include ----------------------------------------------------------------

TEST(CiConfigInclude, StringLocalAndListForms) {
  CiConfig c = load(
      "include:\n  - ci/a.yml\n  - local: /ci/b.yml\n"
      "main: {script: [m]}\n",
      {{"ci/a.yml", "a: {script: [a]}\n"}, {"ci/b.yml", "b: {script: [b]}\n"}});
  EXPECT_TRUE(c.problems.empty());
  EXPECT_EQ(jobNames(c), (std::vector<std::string>{"a", "b", "main"}));
}

TEST(CiConfigInclude, SingleStringAndSingleMap) {
  CiConfig c1 =
      load("include: ci/a.yml\nmain: {script: [m]}\n", {{"ci/a.yml", "a: {script: [a]}\n"}});
  EXPECT_NE(findJob(c1, "a"), nullptr);
  CiConfig c2 = load("include: {local: ci/a.yml}\nmain: {script: [m]}\n",
                     {{"ci/a.yml", "a: {script: [a]}\n"}});
  EXPECT_NE(findJob(c2, "a"), nullptr);
}

TEST(CiConfigInclude, MainFileWinsAndDeepMerges) {
  CiConfig c = load(
      "include: ci/a.yml\n"
      "job:\n  variables: {B: main}\n  script: [main]\n",
      {{"ci/a.yml", "job:\n  variables: {A: inc, B: inc}\n  script: [inc]\n  tags: [t]\n"}});
  EXPECT_EQ(jobCanon(c, "job"),
            canonYaml("{variables: {A: inc, B: main}, script: [main], tags: [t]}"));
  const ResolvedJob* j = findJob(c, "job");
  ASSERT_NE(j, nullptr);
  EXPECT_EQ(j->file, ".gitlab-ci.yml");
  EXPECT_EQ(j->line, 2);
}

TEST(CiConfigInclude, LaterIncludeWinsOverEarlier) {
  CiConfig c = load("include: [a.yml, b.yml]\n", {{"a.yml", "job: {script: [a], stage: x}\n"},
                                                  {"b.yml", "job: {script: [b]}\n"}});
  EXPECT_EQ(jobCanon(c, "job"), canonYaml("{script: [b], stage: x}"));
  EXPECT_EQ(findJob(c, "job")->file, "b.yml");
}

TEST(CiConfigInclude, NestedIncludeAndDuplicateIgnored) {
  CiConfig c = load("include: [a.yml, b.yml]\n", {{"a.yml", "include: b.yml\na: {script: [a]}\n"},
                                                  {"b.yml", "include: a.yml\nb: {script: [b]}\n"}});
  EXPECT_TRUE(c.problems.empty());
  EXPECT_EQ(jobNames(c), (std::vector<std::string>{"b", "a"}));
}

TEST(CiConfigInclude, MissingLocalFileIsUnresolved) {
  CiConfig c = load("include:\n  - local: nope.yml\njob: {script: [s]}\n");
  ASSERT_EQ(problemIds(c), std::vector<std::string>{"include-unresolved"});
  EXPECT_EQ(c.problems[0].file, ".gitlab-ci.yml");
  EXPECT_EQ(c.problems[0].line, 2);
  EXPECT_NE(c.problems[0].message.find("nope.yml"), std::string::npos);
  EXPECT_EQ(jobNames(c), std::vector<std::string>{"job"});
}

TEST(CiConfigInclude, RemoteProjectTemplateComponentAreUnresolved) {
  CiConfig c = load(
      "include:\n"
      "  - https://example.com/ci.yml\n"
      "  - remote: https://example.com/x.yml\n"
      "  - project: group/proj\n    file: ci.yml\n"
      "  - template: Auto-DevOps.gitlab-ci.yml\n"
      "  - component: gitlab.com/org/comp@1.0\n"
      "job: {script: [s]}\n");
  ASSERT_EQ(c.problems.size(), 5u);
  const std::vector<std::string> kinds = {"remote", "remote", "project", "template", "component"};
  for (size_t i = 0; i < kinds.size(); ++i) {
    EXPECT_EQ(c.problems[i].id, "include-unresolved");
    EXPECT_NE(c.problems[i].message.find(kinds[i]), std::string::npos) << i;
  }
  EXPECT_NE(findJob(c, "job"), nullptr);
}

TEST(CiConfigInclude, WildcardUnresolved) {
  CiConfig c = load("include: 'ci/*.yml'\n", {{"ci/a.yml", "a: {script: [a]}\n"}});
  EXPECT_EQ(problemIds(c), std::vector<std::string>{"include-unresolved"});
  EXPECT_TRUE(c.jobs.empty());
}

TEST(CiConfigInclude, SyntaxErrorInIncludedFileHasItsFileAndLine) {
  CiConfig c = load("include: bad.yml\njob: {script: [s]}\n",
                    {{"bad.yml", "ok: {script: [x]}\nbroken: [\n"}});
  const Problem* p = findProblem(c, "yaml-error");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->file, "bad.yml");
  EXPECT_GE(p->line, 2);
  EXPECT_NE(findJob(c, "job"), nullptr);
}

TEST(CiConfigInclude, IncludeLimit) {
  Files files;
  std::string root = "include:\n";
  for (int i = 0; i < kMaxIncludes + 5; ++i) {
    const std::string name = "f" + std::to_string(i) + ".yml";
    root += "  - " + name + "\n";
    files[name] = "j" + std::to_string(i) + ": {script: [s]}\n";
  }
  CiConfig c = load(root, files);
  EXPECT_EQ(problemIds(c), std::vector<std::string>{"include-limit"});
  EXPECT_EQ(c.jobs.size(), static_cast<size_t>(kMaxIncludes));
}

TEST(CiConfigInclude, MissingRootIsNotFound) {
  Result<CiConfig> r = loadCiConfig(".gitlab-ci.yml", readerFor({}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

// ---- default and inherit ----------------------------------------------------

TEST(CiConfigDefault, FillsOnlyMissingDefaultableKeys) {
  CiConfig c = load(
      "default:\n  image: ruby:3\n  tags: [shared]\n  retry: 2\n  stage: nope\n"
      "a: {script: [a]}\n"
      "b: {script: [b], tags: [own]}\n");
  EXPECT_EQ(jobCanon(c, "a"),
            canonYaml("{script: [a], image: 'ruby:3', tags: [shared], retry: 2}"));
  EXPECT_EQ(jobCanon(c, "b"), canonYaml("{script: [b], image: 'ruby:3', tags: [own], retry: 2}"));
}

TEST(CiConfigDefault, InheritFalse) {
  CiConfig c = load(
      "default: {image: ruby, tags: [t]}\n"
      "a:\n  script: [a]\n  inherit: {default: false}\n");
  EXPECT_EQ(jobCanon(c, "a"), canonYaml("{script: [a], inherit: {default: false}}"));
}

TEST(CiConfigDefault, InheritList) {
  CiConfig c = load(
      "default: {image: ruby, tags: [t], retry: 1}\n"
      "a:\n  script: [a]\n  inherit: {default: [tags, retry]}\n");
  EXPECT_EQ(jobCanon(c, "a"),
            canonYaml("{script: [a], tags: [t], retry: 1, inherit: {default: [tags, retry]}}"));
}

TEST(CiConfigDefault, DeprecatedGlobalsActAsDefaults) {
  CiConfig c = load(
      "image: alpine\nbefore_script: [setup]\n"
      "default: {image: debian}\n"
      "a: {script: [a]}\n");
  EXPECT_EQ(jobCanon(c, "a"), canonYaml("{script: [a], image: debian, before_script: [setup]}"));
}

TEST(CiConfigDefault, NotAppliedBeforeExtends) {
  // The job's parent sets tags; default must not override what extends gave.
  CiConfig c = load(
      "default: {tags: [default]}\n"
      ".p: {tags: [parent]}\n"
      "a: {extends: .p, script: [a]}\n");
  EXPECT_EQ(jobCanon(c, "a"), canonYaml("{script: [a], tags: [parent]}"));
}

// ---- extends ----------------------------------------------------------------

TEST(CiConfigExtends, StringForm) {
  CiConfig c = load(
      ".base: {image: alpine, script: [base]}\n"
      "job: {extends: .base, script: [own]}\n");
  EXPECT_TRUE(c.problems.empty());
  EXPECT_EQ(jobCanon(c, "job"), canonYaml("{image: alpine, script: [own]}"));
}

TEST(CiConfigExtends, ListLaterParentWins) {
  CiConfig c = load(
      ".a: {image: a, stage: a, variables: {X: a, Y: a}}\n"
      ".b: {image: b, variables: {X: b}}\n"
      "job: {extends: [.a, .b], script: [s]}\n");
  EXPECT_EQ(jobCanon(c, "job"),
            canonYaml("{image: b, stage: a, variables: {X: b, Y: a}, script: [s]}"));
}

TEST(CiConfigExtends, ChainAndDeepMerge) {
  CiConfig c = load(
      ".a: {variables: {A: '1', B: '1'}, rules: [{if: a}], cache: {key: k, paths: [p]}}\n"
      ".b: {extends: .a, variables: {B: '2', C: '2'}}\n"
      "job:\n  extends: .b\n  variables: {C: '3'}\n  rules: [{if: own}]\n"
      "  cache: {paths: [q]}\n  script: [s]\n");
  EXPECT_EQ(jobCanon(c, "job"),
            canonYaml("{variables: {A: '1', B: '2', C: '3'}, rules: [{if: own}],"
                      " cache: {key: k, paths: [q]}, script: [s]}"));
}

TEST(CiConfigExtends, ArraysAndScalarsReplaced) {
  CiConfig c = load(
      ".a: {tags: [x, y], script: [one, two], timeout: 1h}\n"
      "job: {extends: .a, tags: [z], timeout: 2h}\n");
  EXPECT_EQ(jobCanon(c, "job"), canonYaml("{tags: [z], script: [one, two], timeout: 2h}"));
}

TEST(CiConfigExtends, VisibleJobAsParent) {
  CiConfig c = load(
      "a: {script: [a], stage: test}\n"
      "b: {extends: a, script: [b]}\n");
  EXPECT_EQ(jobCanon(c, "a"), canonYaml("{script: [a], stage: test}"));
  EXPECT_EQ(jobCanon(c, "b"), canonYaml("{script: [b], stage: test}"));
}

TEST(CiConfigExtends, ParentFromIncludedFile) {
  CiConfig c = load("include: t.yml\njob: {extends: .t, script: [s]}\n",
                    {{"t.yml", ".t: {image: from-include}\n"}});
  EXPECT_EQ(jobCanon(c, "job"), canonYaml("{image: from-include, script: [s]}"));
}

TEST(CiConfigExtends, MissingParent) {
  CiConfig c = load("job: {extends: .nope, script: [s]}\n");
  ASSERT_EQ(problemIds(c), std::vector<std::string>{"extends-missing"});
  EXPECT_EQ(c.problems[0].job, "job");
  EXPECT_EQ(c.problems[0].line, 1);
  EXPECT_NE(c.problems[0].message.find(".nope"), std::string::npos);
  EXPECT_EQ(jobCanon(c, "job"), canonYaml("{script: [s]}"));
}

TEST(CiConfigExtends, CycleReportedWithPath) {
  CiConfig c = load(
      ".a: {extends: .b, image: a}\n"
      ".b: {extends: .a, stage: b}\n"
      "job: {extends: .a, script: [s]}\n");
  ASSERT_EQ(problemIds(c), std::vector<std::string>{"extends-cycle"});
  EXPECT_NE(c.problems[0].message.find(".a -> .b -> .a"), std::string::npos)
      << c.problems[0].message;
  EXPECT_EQ(jobCanon(c, "job"), canonYaml("{image: a, stage: b, script: [s]}"));
}

TEST(CiConfigExtends, SelfCycle) {
  CiConfig c = load("job: {extends: job, script: [s]}\n");
  ASSERT_EQ(problemIds(c), std::vector<std::string>{"extends-cycle"});
  EXPECT_NE(c.problems[0].message.find("job -> job"), std::string::npos);
}

std::string chain(int levels) {
  // j0 extends j1 ... extends j<levels>; `levels` levels of inheritance.
  std::string yaml;
  for (int i = 0; i < levels; ++i) {
    yaml += (i == 0 ? std::string("j0") : ".j" + std::to_string(i)) + ": {extends: .j" +
            std::to_string(i + 1) + ", v" + std::to_string(i) + ": x}\n";
  }
  yaml += ".j" + std::to_string(levels) + ": {script: [deep]}\n";
  return yaml;
}

TEST(CiConfigExtends, ElevenLevelsAllowed) {
  CiConfig c = load(chain(kMaxExtendsDepth));
  EXPECT_TRUE(c.problems.empty()) << c.problems[0].message;
  const ResolvedJob* j = findJob(c, "j0");
  ASSERT_NE(j, nullptr);
  EXPECT_EQ(canon(j->node["script"]), canonYaml("[deep]"));
}

TEST(CiConfigExtends, TwelveLevelsTooDeep) {
  CiConfig c = load(chain(kMaxExtendsDepth + 1));
  EXPECT_NE(findProblem(c, "extends-too-deep"), nullptr);
}

// Parents defined (and so memoised) before the deep job must not hide the depth.
TEST(CiConfigExtends, TooDeepWhenParentsComeFirst) {
  std::string yaml = ".j12: {script: [deep]}\n";
  for (int i = 11; i >= 1; --i) {
    yaml += ".j" + std::to_string(i) + ": {extends: .j" + std::to_string(i + 1) + "}\n";
  }
  CiConfig ok = load(yaml + "j0: {extends: .j2}\n");
  EXPECT_EQ(findProblem(ok, "extends-too-deep"), nullptr);
  CiConfig deep = load(yaml + "j0: {extends: .j1}\n");
  const Problem* p = findProblem(deep, "extends-too-deep");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->job, "j0");
  EXPECT_EQ(problemIds(deep), std::vector<std::string>{"extends-too-deep"});
}

// ---- !reference ---------------------------------------------------------------

TEST(CiConfigReference, Simple) {
  CiConfig c = load(
      ".setup: {script: [a, b], variables: {X: '1'}}\n"
      "job:\n  script: !reference [.setup, script]\n"
      "  variables: {Y: !reference [.setup, variables, X]}\n");
  EXPECT_TRUE(c.problems.empty()) << c.problems[0].message;
  EXPECT_EQ(jobCanon(c, "job"), canonYaml("{script: [a, b], variables: {Y: '1'}}"));
}

TEST(CiConfigReference, InScriptListIsFlattened) {
  CiConfig c = load(
      ".setup: {script: [a, b]}\n"
      "job:\n  script:\n    - !reference [.setup, script]\n    - c\n");
  EXPECT_EQ(jobCanon(c, "job"), canonYaml("{script: [a, b, c]}"));
}

TEST(CiConfigReference, Nested) {
  CiConfig c = load(
      ".one: {script: [one]}\n"
      ".two: {script: [!reference [.one, script], two]}\n"
      "job: {script: [!reference [.two, script], three]}\n");
  EXPECT_TRUE(c.problems.empty());
  EXPECT_EQ(jobCanon(c, "job"), canonYaml("{script: [one, two, three]}"));
}

TEST(CiConfigReference, SeesExtendedJob) {
  CiConfig c = load(
      ".base: {script: [base]}\n"
      ".mid: {extends: .base}\n"
      "job: {script: !reference [.mid, script]}\n");
  EXPECT_EQ(jobCanon(c, "job"), canonYaml("{script: [base]}"));
}

TEST(CiConfigReference, Cycle) {
  CiConfig c = load(
      ".a: {script: !reference [.b, script]}\n"
      ".b: {script: !reference [.a, script]}\n"
      "job: {script: !reference [.a, script]}\n");
  // Every site on the cycle is reported; the job's own one names the full path.
  const Problem* p = nullptr;
  for (const auto& q : c.problems) {
    if (q.job == "job") p = &q;
  }
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->id, "reference-cycle");
  EXPECT_NE(p->message.find(".a.script -> .b.script -> .a.script"), std::string::npos)
      << p->message;
  EXPECT_EQ(p->line, 3);
  for (const auto& q : c.problems) EXPECT_EQ(q.id, "reference-cycle");
}

TEST(CiConfigReference, MissingTarget) {
  CiConfig c = load("job: {script: !reference [.nope, script]}\n");
  ASSERT_NE(findProblem(c, "reference-invalid"), nullptr);
  EXPECT_EQ(findProblem(c, "reference-invalid")->job, "job");
}

TEST(CiConfigReference, DepthLimit) {
  std::string yaml;
  const int n = kMaxReferenceDepth + 2;
  for (int i = 0; i < n; ++i) {
    yaml += ".r" + std::to_string(i) + ": {s: !reference [.r" + std::to_string(i + 1) + ", s]}\n";
  }
  yaml += ".r" + std::to_string(n) + ": {s: end}\njob: {script: [x], s: !reference [.r0, s]}\n";
  CiConfig c = load(yaml);
  EXPECT_NE(findProblem(c, "reference-invalid"), nullptr);
}

TEST(CiConfigReference, WithinDepthLimit) {
  std::string yaml;
  const int n = kMaxReferenceDepth - 1;
  for (int i = 0; i < n; ++i) {
    yaml += ".r" + std::to_string(i) + ": {s: !reference [.r" + std::to_string(i + 1) + ", s]}\n";
  }
  yaml += ".r" + std::to_string(n) + ": {s: end}\njob: {s: !reference [.r0, s]}\n";
  CiConfig c = load(yaml);
  EXPECT_EQ(findProblem(c, "reference-invalid"), nullptr);
  EXPECT_EQ(jobCanon(c, "job"), canonYaml("{s: end}"));
}

// ---- jobs, globals, lines, errors ---------------------------------------------

TEST(CiConfigJobs, HiddenJobsAndGlobalsAreNotJobs) {
  CiConfig c = load(
      "stages: [build, test]\n"
      "variables: {A: '1'}\n"
      "workflow: {rules: [{when: always}]}\n"
      "default: {image: x}\n"
      "image: y\nservices: [docker:dind]\ncache: {key: k}\n"
      "before_script: [b]\nafter_script: [a]\n"
      ".hidden: {script: [h]}\n"
      "build: {stage: build, script: [b]}\n"
      "pages: {script: [p]}\n");
  EXPECT_EQ(jobNames(c), (std::vector<std::string>{"build", "pages"}));
  EXPECT_EQ(canon(c.globals["stages"]), canonYaml("[build, test]"));
  EXPECT_TRUE(c.globals["workflow"].IsMap());
  EXPECT_FALSE(c.globals[".hidden"].IsDefined());
}

TEST(CiConfigJobs, NonMappingJobIsProblem) {
  CiConfig c = load("job: just a string\n.hidden_scalar: fine\n");
  EXPECT_EQ(problemIds(c), std::vector<std::string>{"job-invalid"});
  EXPECT_TRUE(c.jobs.empty());
}

TEST(CiConfigJobs, LineNumbers) {
  CiConfig c = load(
      "# comment\n"
      "stages: [a]\n"
      "\n"
      "first:\n"
      "  script: [x]\n"
      "second: {script: [y]}\n",
      {});
  ASSERT_EQ(c.jobs.size(), 2u);
  EXPECT_EQ(c.jobs[0].line, 4);
  EXPECT_EQ(c.jobs[1].line, 6);
  EXPECT_EQ(c.jobs[0].file, ".gitlab-ci.yml");
}

TEST(CiConfigJobs, SyntaxErrorIsProblemWithLine) {
  CiConfig c = load("job:\n  script: [a\n  tags: [b]\nother: x: y\n");
  ASSERT_EQ(problemIds(c), std::vector<std::string>{"yaml-error"});
  EXPECT_EQ(c.problems[0].file, ".gitlab-ci.yml");
  EXPECT_GT(c.problems[0].line, 0);
  EXPECT_TRUE(c.jobs.empty());
}

// yaml-cpp 0.7's LoadAll never returns on this input (found by fuzz_ci_yaml).
TEST(CiConfigJobs, MalformedInputThatHangsLoadAll) {
  std::ifstream in(std::string(GARRET_TEST_DATA_DIR) + "/../fuzz/corpus/ci_yaml/regress_loadall_loop.yml");
  ASSERT_TRUE(in);
  std::stringstream text;
  text << in.rdbuf();
  CiConfig c = load(text.str());
  EXPECT_EQ(problemIds(c), std::vector<std::string>{"yaml-error"});
}

// A self-referencing anchor merged into itself at every level (found by
// fuzz_ci_yaml): bounded work, memory and problem count.
TEST(CiConfigJobs, RecursiveMergeIsBounded) {
  std::ifstream in(std::string(GARRET_TEST_DATA_DIR) +
                   "/../fuzz/corpus/ci_yaml/regress_recursive_merge.yml");
  ASSERT_TRUE(in);
  std::stringstream text;
  text << in.rdbuf();
  CiConfig c = load(text.str());
  ASSERT_FALSE(c.problems.empty());
  EXPECT_LE(c.problems.size(), 1001u);
  EXPECT_EQ(c.problems[0].id, "yaml-error");
}

TEST(CiConfigJobs, SpecHeaderDocumentSkipped) {
  CiConfig c = load("spec:\n  inputs: {stage: {default: test}}\n---\njob: {script: [s]}\n");
  EXPECT_TRUE(c.problems.empty());
  EXPECT_EQ(jobNames(c), std::vector<std::string>{"job"});
  EXPECT_EQ(c.jobs[0].line, 4);
  EXPECT_FALSE(c.globals["spec"].IsDefined());
}

TEST(CiConfigJobs, EmptyAndNonMappingRoot) {
  EXPECT_TRUE(load("").problems.empty());
  EXPECT_EQ(problemIds(load("- a\n- b\n")), std::vector<std::string>{"yaml-error"});
}

TEST(CiConfigJobs, AliasBombIsBounded) {
  std::string yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) yaml += (k ? ", *a" : "*a") + std::to_string(i - 1);
    yaml += "]\n";
  }
  yaml += "job: {script: *a8}\n";
  CiConfig c = load(yaml);
  EXPECT_NE(findProblem(c, "yaml-error"), nullptr);
}

TEST(CiConfigMerge, DeepMergeDoesNotModifyInputs) {
  YAML::Node base = YAML::Load("{a: {x: 1}, l: [1]}");
  YAML::Node over = YAML::Load("{a: {y: 2}, l: [2]}");
  YAML::Node merged = deepMerge(base, over);
  EXPECT_EQ(canon(merged), canonYaml("{a: {x: 1, y: 2}, l: [2]}"));
  EXPECT_EQ(canon(base), canonYaml("{a: {x: 1}, l: [1]}"));
}

}  // namespace
}  // namespace garret::ops::gitlab
