#include "ops/gitlab/ci_config.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string_view>

namespace garret::ops::gitlab {
namespace {

// Alias expansion and !reference can multiply a small file into a huge tree
// ("billion laughs"); every node the resolver creates counts against this.
constexpr long kMaxNodes = 200'000;
constexpr std::size_t kMaxProblems = 1000;

constexpr std::array<std::string_view, 11> kGlobalKeywords = {
    "default", "include", "stages", "types", "variables", "workflow",
    // Deprecated globals, they act as defaults.
    "image", "services", "cache", "before_script", "after_script"};

constexpr std::array<std::string_view, 5> kDeprecatedDefaults = {"image", "services", "cache",
                                                                 "before_script", "after_script"};

constexpr std::array<std::string_view, 12> kDefaultableKeys = {
    "after_script", "artifacts",     "before_script", "cache",    "hooks", "id_tokens",
    "image",        "interruptible", "retry",         "services", "tags",  "timeout"};

constexpr std::array<std::string_view, 4> kUnresolvedIncludeKinds = {"remote", "project",
                                                                     "template", "component"};

template <class Array>
bool contains(const Array& array, std::string_view s) {
  return std::find(array.begin(), array.end(), s) != array.end();
}

int lineOf(const YAML::Node& n) {
  const YAML::Mark mark = n.Mark();
  return mark.line >= 0 ? mark.line + 1 : 0;
}

bool hasKey(const YAML::Node& map, const std::string& key) {
  if (!map.IsMap()) return false;
  for (const auto& kv : map) {
    if (kv.first.IsScalar() && kv.first.Scalar() == key) return true;
  }
  return false;
}

YAML::Node getKey(const YAML::Node& map, const std::string& key) {
  if (map.IsMap()) {
    for (const auto& kv : map) {
      if (kv.first.IsScalar() && kv.first.Scalar() == key) return kv.second;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

// A plain `<<` key (a quoted "<<" is an ordinary string key).
bool isMergeKey(const YAML::Node& key) {
  return key.IsScalar() && key.Scalar() == "<<" &&
         (key.Tag() == "?" || key.Tag() == "tag:yaml.org,2002:merge");
}

YAML::Node withTag(YAML::Node n, const std::string& tag) {
  if (!tag.empty()) n.SetTag(tag);
  return n;
}

// A fresh copy sharing no storage with `n` (yaml-cpp nodes are references).
YAML::Node cloneTree(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar:
      return withTag(YAML::Node(n.Scalar()), n.Tag());
    case YAML::NodeType::Sequence: {
      YAML::Node out(YAML::NodeType::Sequence);
      for (const auto& e : n) out.push_back(cloneTree(e));
      return withTag(out, n.Tag());
    }
    case YAML::NodeType::Map: {
      YAML::Node out(YAML::NodeType::Map);
      for (const auto& kv : n) out.force_insert(cloneTree(kv.first), cloneTree(kv.second));
      return withTag(out, n.Tag());
    }
    case YAML::NodeType::Null:
      return YAML::Node(YAML::NodeType::Null);
    default:
      return YAML::Node();
  }
}

// Sets map[key] = value, replacing an existing scalar key of that name.
void setKey(YAML::Node& map, const YAML::Node& key, const YAML::Node& value) {
  if (key.IsScalar()) {
    for (auto kv : map) {
      if (kv.first.IsScalar() && kv.first.Scalar() == key.Scalar()) {
        kv.second = value;
        return;
      }
    }
  }
  map.force_insert(key, value);
}

YAML::Node withoutKey(const YAML::Node& map, const std::string& drop) {
  YAML::Node out(YAML::NodeType::Map);
  for (const auto& kv : map) {
    if (kv.first.IsScalar() && kv.first.Scalar() == drop) continue;
    out.force_insert(cloneTree(kv.first), cloneTree(kv.second));
  }
  return out;
}

bool isScriptKey(const std::string& key) {
  return key == "script" || key == "before_script" || key == "after_script";
}

// GitLab flattens nested arrays in scripts (what !reference produces).
void flattenInto(const YAML::Node& seq, YAML::Node& out, int depth) {
  for (const auto& e : seq) {
    if (e.IsSequence() && depth < kMaxReferenceDepth) {
      flattenInto(e, out, depth + 1);
    } else {
      out.push_back(e);
    }
  }
}

std::string joinPath(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

// The configuration document of a file. A `spec:` header document (inputs of
// a component or of the pipeline) before `---` is skipped; `$[[ inputs ]]`
// are not interpolated.
//
// Not YAML::LoadAll: yaml-cpp 0.7's LoadAll loops forever (allocating) on some
// malformed input. YAML::Load reads one document; the second is found by its
// `---` line.
YAML::Node parseDocument(const std::string& text) {
  YAML::Node first = YAML::Load(text);
  if (!first.IsMap() || first.size() != 1 || !hasKey(first, "spec")) return first;
  std::size_t from = text.rfind("---", 0) == 0 ? 3 : 0;
  for (std::size_t at = text.find("\n---", from); at != std::string::npos;
       at = text.find("\n---", at + 1)) {
    const std::size_t end = at + 4;
    if (end == text.size() || text[end] == '\n' || text[end] == ' ' || text[end] == '\r' ||
        text[end] == '\t') {
      // Blank lines in front keep the line numbers of the whole file.
      const auto lines = std::count(text.begin(), text.begin() + static_cast<long>(at + 1), '\n');
      return YAML::Load(std::string(static_cast<std::size_t>(lines), '\n') + text.substr(at + 1));
    }
  }
  return first;
}

// Whether the text has anything besides blank lines, comments and document
// markers (an empty or comment-only file is a valid, empty configuration).
bool hasContent(const std::string& text) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    const std::size_t first = line.find_first_not_of(" \t\r");
    if (first != std::string_view::npos) {
      line.remove_prefix(first);
      if (!line.starts_with('#') && !line.starts_with("---") && !line.starts_with("...") &&
          line != "~" && line != "null") {
        return true;
      }
    }
    start = end + 1;
  }
  return false;
}

// Records a problem; past kMaxProblems, one last problem says so and the rest
// are dropped (a hostile file can otherwise produce millions).
void addProblem(CiConfig& out, Problem p) {
  if (out.problems.size() > kMaxProblems) return;
  if (out.problems.size() == kMaxProblems) {
    p = Problem{"yaml-error", "", p.file, 0,
                "more than " + std::to_string(kMaxProblems) + " problems; the rest are not shown"};
  }
  out.problems.push_back(std::move(p));
}

struct Location {
  std::string file;
  int line = 0;
};

class Resolver {
 public:
  Resolver(const FileReader& read, CiConfig& out) : read_(read), out_(out) {}

  // Parses and copies one file, applies merge keys, then its includes.
  YAML::Node loadFile(const std::string& file, const std::string& text, int depth);

  CiConfig& out() { return out_; }
  const std::map<std::string, Location>& locations() const { return locations_; }

 private:
  YAML::Node copyWithMerges(const YAML::Node& n, const std::string& file, int depth);
  YAML::Node copyMap(const YAML::Node& n, const std::string& file, int depth);
  YAML::Node applyIncludes(const YAML::Node& original, const std::string& file, int depth);
  YAML::Node includeOne(const YAML::Node& entry, const std::string& file, int depth);
  void problem(std::string id, std::string job, std::string file, int line, std::string msg) {
    addProblem(out_, Problem{std::move(id), std::move(job), std::move(file), line, std::move(msg)});
  }

  const FileReader& read_;
  CiConfig& out_;
  std::map<std::string, Location> locations_;
  std::set<std::string> loaded_;
  int include_count_ = 0;
  long nodes_ = 0;
  bool budget_reported_ = false;
};

YAML::Node Resolver::copyWithMerges(const YAML::Node& n, const std::string& file, int depth) {
  // Deep nodes cost more: yaml-cpp copies a subtree's node set into every
  // enclosing map's memory pool, so memory grows with nodes x depth.
  nodes_ += 1 + depth / 4;
  if (depth > kMaxYamlDepth || nodes_ > kMaxNodes) {
    if (!budget_reported_) {
      budget_reported_ = true;
      problem("yaml-error", "", file, lineOf(n), "document too deeply nested or too large");
    }
    return YAML::Node(YAML::NodeType::Null);
  }
  switch (n.Type()) {
    case YAML::NodeType::Sequence: {
      YAML::Node out(YAML::NodeType::Sequence);
      for (const auto& e : n) {
        if (nodes_ > kMaxNodes) break;  // out of budget: stop, do not walk the rest
        out.push_back(copyWithMerges(e, file, depth + 1));
      }
      return withTag(out, n.Tag());
    }
    case YAML::NodeType::Map:
      return copyMap(n, file, depth);
    default:
      return cloneTree(n);
  }
}

// Merge keys (YAML 1.1): explicit keys win; among merged maps the earlier wins,
// across several `<<` keys of one mapping as within one `<<: [*a, *b]` list.
YAML::Node Resolver::copyMap(const YAML::Node& n, const std::string& file, int depth) {
  YAML::Node out(YAML::NodeType::Map);
  std::vector<YAML::Node> sources;
  for (const auto& kv : n) {
    if (nodes_ > kMaxNodes) break;  // out of budget (reported once already)
    if (!isMergeKey(kv.first)) {
      setKey(out, cloneTree(kv.first), copyWithMerges(kv.second, file, depth + 1));
      continue;
    }
    YAML::Node merged = copyWithMerges(kv.second, file, depth + 1);
    if (merged.IsMap()) {
      sources.push_back(merged);
    } else if (merged.IsSequence()) {
      for (const auto& e : merged) {
        if (e.IsMap())
          sources.push_back(e);
        else
          problem("yaml-error", "", file, lineOf(kv.first), "merge key '<<' needs mappings");
      }
    } else {
      problem("yaml-error", "", file, lineOf(kv.first), "merge key '<<' needs a mapping");
    }
  }
  for (const auto& src : sources) {
    for (const auto& kv : src) {
      if (kv.first.IsScalar() && hasKey(out, kv.first.Scalar())) continue;
      out.force_insert(cloneTree(kv.first), cloneTree(kv.second));
    }
  }
  return withTag(out, n.Tag() == "?" ? "" : n.Tag());
}

YAML::Node Resolver::loadFile(const std::string& file, const std::string& text, int depth) {
  loaded_.insert(file);
  YAML::Node doc;
  try {
    doc = parseDocument(text);
  } catch (const YAML::Exception& e) {
    problem("yaml-error", "", file, e.mark.line >= 0 ? e.mark.line + 1 : 0, e.msg);
    return YAML::Node(YAML::NodeType::Map);
  }
  if (doc.IsNull() || !doc.IsDefined()) {
    // yaml-cpp reads some malformed text as an empty document; GitLab does not.
    if (hasContent(text)) problem("yaml-error", "", file, 1, "no YAML mapping could be read from this file");
    return YAML::Node(YAML::NodeType::Map);
  }
  if (!doc.IsMap()) {
    problem("yaml-error", "", file, lineOf(doc), "the configuration must be a mapping");
    return YAML::Node(YAML::NodeType::Map);
  }
  YAML::Node self = copyWithMerges(doc, file, 0);
  YAML::Node merged = applyIncludes(doc, file, depth);
  // Recorded after the included files', so the winning definition's place stays.
  for (const auto& kv : doc) {
    if (kv.first.IsScalar()) locations_[kv.first.Scalar()] = Location{file, lineOf(kv.first)};
  }
  return deepMerge(merged, depth > 0 ? withoutKey(self, "include") : self);
}

YAML::Node Resolver::applyIncludes(const YAML::Node& original, const std::string& file, int depth) {
  YAML::Node merged(YAML::NodeType::Map);
  const YAML::Node include = getKey(original, "include");
  if (!include.IsDefined() || include.IsNull()) return merged;
  std::vector<YAML::Node> entries;
  if (include.IsSequence()) {
    for (const auto& e : include) entries.push_back(e);
  } else {
    entries.push_back(include);
  }
  for (const auto& entry : entries) {
    merged.reset(deepMerge(merged, includeOne(entry, file, depth)));
  }
  return merged;
}

YAML::Node Resolver::includeOne(const YAML::Node& entry, const std::string& file, int depth) {
  const YAML::Node empty(YAML::NodeType::Map);
  const int line = lineOf(entry);
  std::string path;
  if (entry.IsScalar()) {
    path = entry.Scalar();
    if (path.rfind("http://", 0) == 0 || path.rfind("https://", 0) == 0) {
      problem("include-unresolved", "", file, line, "remote include not resolved: " + path);
      return empty;
    }
  } else if (entry.IsMap() && getKey(entry, "local").IsScalar()) {
    path = getKey(entry, "local").Scalar();
  } else {
    for (auto kind : kUnresolvedIncludeKinds) {
      if (hasKey(entry, std::string(kind))) {
        problem("include-unresolved", "", file, line, std::string(kind) + " include not resolved");
        return empty;
      }
    }
    problem("include-unresolved", "", file, line, "unrecognised include entry");
    return empty;
  }
  if (++include_count_ > kMaxIncludes) {
    if (include_count_ > kMaxIncludes + 1) return empty;
    problem("include-limit", "", file, line,
            "more than " + std::to_string(kMaxIncludes) + " includes");
    return empty;
  }
  while (path.rfind("./", 0) == 0) path.erase(0, 2);
  while (!path.empty() && path[0] == '/') path.erase(0, 1);
  if (path.find_first_of("*$") != std::string::npos) {
    problem("include-unresolved", "", file, line,
            "local include with wildcards or variables not resolved: " + path);
    return empty;
  }
  if (loaded_.count(path) > 0) return empty;  // GitLab ignores duplicate includes
  std::optional<std::string> text = read_(path);
  if (!text) {
    problem("include-unresolved", "", file, line, "local file not found: " + path);
    return empty;
  }
  return loadFile(path, *text, depth + 1);
}

// extends, !reference and default over the include-merged configuration.
class JobResolver {
 public:
  JobResolver(const YAML::Node& config, Resolver& r) : config_(config), r_(r) {}

  YAML::Node resolveExtends(const std::string& name, std::vector<std::string>& stack);
  YAML::Node resolveRefs(const YAML::Node& n, const std::string& job, int depth,
                         std::vector<std::string>& stack);
  void setExtended(YAML::Node extended) { extended_ = std::move(extended); }

 private:
  std::vector<std::string> parentsOf(const std::string& name, const YAML::Node& job);
  YAML::Node resolveReference(const YAML::Node& n, const std::string& job, int depth,
                              std::vector<std::string>& stack);
  void problem(const std::string& id, const std::string& job, const std::string& msg) {
    auto it = r_.locations().find(job);
    Location loc = it != r_.locations().end() ? it->second : Location{};
    addProblem(r_.out(), Problem{id, job, loc.file, loc.line, msg});
  }

  YAML::Node config_;
  YAML::Node extended_;
  Resolver& r_;
  std::map<std::string, YAML::Node> done_;
  std::map<std::string, int> height_;  // extends edges below a memoised job
  std::set<std::string> too_deep_;     // jobs already reported as too deep
  long nodes_ = 0;
};

std::vector<std::string> JobResolver::parentsOf(const std::string& name, const YAML::Node& job) {
  std::vector<std::string> parents;
  const YAML::Node ext = getKey(job, "extends");
  if (ext.IsScalar()) {
    parents.push_back(ext.Scalar());
  } else if (ext.IsSequence()) {
    for (const auto& e : ext) {
      if (e.IsScalar())
        parents.push_back(e.Scalar());
      else
        problem("extends-missing", name, "extends entries must be job names");
    }
  } else if (ext.IsDefined() && !ext.IsNull()) {
    problem("extends-missing", name, "extends must be a job name or a list of them");
  }
  return parents;
}

YAML::Node JobResolver::resolveExtends(const std::string& name, std::vector<std::string>& stack) {
  if (auto it = done_.find(name); it != done_.end()) {
    // Memoised from a shorter path: the chain through here may still be too deep.
    const int edges = static_cast<int>(stack.size()) + height_[name];
    if (!stack.empty() && edges > kMaxExtendsDepth && too_deep_.insert(stack.front()).second) {
      problem("extends-too-deep", stack.front(),
              "extends nested deeper than " + std::to_string(kMaxExtendsDepth) + " levels");
    }
    return it->second;
  }
  const YAML::Node job = getKey(config_, name);
  const std::vector<std::string> parents = parentsOf(name, job);
  YAML::Node own = withoutKey(job, "extends");
  if (parents.empty()) return done_[name] = own;
  if (static_cast<int>(stack.size()) >= kMaxExtendsDepth) {
    problem("extends-too-deep", name,
            "extends nested deeper than " + std::to_string(kMaxExtendsDepth) + " levels");
    return own;  // not memoised: a shallower path may resolve it fully
  }
  stack.push_back(name);
  YAML::Node base(YAML::NodeType::Map);
  int height = 0;
  for (const auto& parent : parents) {
    if (std::find(stack.begin(), stack.end(), parent) != stack.end()) {
      std::vector<std::string> cycle(std::find(stack.begin(), stack.end(), parent), stack.end());
      cycle.push_back(parent);
      problem("extends-cycle", name, "extends cycle: " + joinPath(cycle, " -> "));
      continue;
    }
    if (!getKey(config_, parent).IsMap()) {
      problem("extends-missing", name, "extends unknown job '" + parent + "'");
      continue;
    }
    base.reset(deepMerge(base, resolveExtends(parent, stack)));
    height = std::max(height, 1 + height_[parent]);
  }
  stack.pop_back();
  height_[name] = height;
  return done_[name] = deepMerge(base, own);
}

YAML::Node JobResolver::resolveReference(const YAML::Node& n, const std::string& job, int depth,
                                         std::vector<std::string>& stack) {
  std::vector<std::string> path;
  for (const auto& e : n) {
    if (!e.IsScalar()) {
      problem("reference-invalid", job, "!reference needs a list of names");
      return YAML::Node(YAML::NodeType::Null);
    }
    path.push_back(e.Scalar());
  }
  const std::string key = joinPath(path, ".");
  if (path.empty() || depth >= kMaxReferenceDepth) {
    problem("reference-invalid", job,
            path.empty() ? "empty !reference" : "!reference nested too deeply: " + key);
    return YAML::Node(YAML::NodeType::Null);
  }
  if (std::find(stack.begin(), stack.end(), key) != stack.end()) {
    stack.push_back(key);
    problem("reference-cycle", job, "!reference cycle: " + joinPath(stack, " -> "));
    stack.pop_back();
    return YAML::Node(YAML::NodeType::Null);
  }
  // Node::operator= writes through to the referenced node; reset() rebinds.
  YAML::Node target(extended_);
  for (const auto& part : path) {
    target.reset(getKey(target, part));
    if (!target.IsDefined()) {
      problem("reference-invalid", job, "!reference to unknown key: " + key);
      return YAML::Node(YAML::NodeType::Null);
    }
  }
  stack.push_back(key);
  YAML::Node resolved = resolveRefs(target, job, depth + 1, stack);
  stack.pop_back();
  return resolved;
}

YAML::Node JobResolver::resolveRefs(const YAML::Node& n, const std::string& job, int depth,
                                    std::vector<std::string>& stack) {
  if (++nodes_ > kMaxNodes || depth > kMaxYamlDepth + kMaxReferenceDepth) {
    if (nodes_ == kMaxNodes + 1) problem("reference-invalid", job, "!reference expands too much");
    return YAML::Node(YAML::NodeType::Null);
  }
  if (n.IsSequence() && n.Tag() == "!reference") return resolveReference(n, job, depth, stack);
  if (n.IsSequence()) {
    YAML::Node out(YAML::NodeType::Sequence);
    for (const auto& e : n) out.push_back(resolveRefs(e, job, depth, stack));
    return withTag(out, n.Tag());
  }
  if (!n.IsMap()) return cloneTree(n);
  YAML::Node out(YAML::NodeType::Map);
  for (const auto& kv : n) {
    YAML::Node value = resolveRefs(kv.second, job, depth, stack);
    if (kv.first.IsScalar() && isScriptKey(kv.first.Scalar()) && value.IsSequence()) {
      YAML::Node flat(YAML::NodeType::Sequence);
      flattenInto(value, flat, 0);
      value.reset(flat);
    }
    out.force_insert(cloneTree(kv.first), value);
  }
  return withTag(out, n.Tag());
}

// Which default keys a job inherits: all, none, or a listed subset.
bool inheritsDefault(const YAML::Node& job, const std::string& key) {
  const YAML::Node setting = getKey(getKey(job, "inherit"), "default");
  if (setting.IsScalar()) return setting.Scalar() != "false";
  if (setting.IsSequence()) {
    for (const auto& e : setting) {
      if (e.IsScalar() && e.Scalar() == key) return true;
    }
    return false;
  }
  return true;
}

YAML::Node effectiveDefaults(const YAML::Node& config) {
  YAML::Node defaults(YAML::NodeType::Map);
  const YAML::Node def = getKey(config, "default");
  for (const auto& kv : def.IsMap() ? def : YAML::Node(YAML::NodeType::Map)) {
    if (kv.first.IsScalar() && contains(kDefaultableKeys, kv.first.Scalar())) {
      defaults.force_insert(cloneTree(kv.first), cloneTree(kv.second));
    }
  }
  for (auto key : kDeprecatedDefaults) {
    const std::string k(key);
    const YAML::Node v = getKey(config, k);
    if (v.IsDefined() && !hasKey(defaults, k)) defaults.force_insert(k, cloneTree(v));
  }
  return defaults;
}

YAML::Node applyDefaults(const YAML::Node& job, const YAML::Node& defaults) {
  YAML::Node out = cloneTree(job);
  for (const auto& kv : defaults) {
    const std::string& key = kv.first.Scalar();
    if (!hasKey(out, key) && inheritsDefault(job, key)) {
      out.force_insert(key, cloneTree(kv.second));
    }
  }
  return out;
}

bool isHidden(const std::string& name) { return !name.empty() && name[0] == '.'; }

// extends, then !reference, over every job including hidden ones.
YAML::Node resolveExtendsAndReferences(const YAML::Node& config, Resolver& resolver) {
  JobResolver jobs(config, resolver);
  YAML::Node extended(YAML::NodeType::Map);
  for (const auto& kv : config) {
    if (!kv.first.IsScalar()) continue;
    const std::string name = kv.first.Scalar();
    if (!isGlobalKeyword(name) && kv.second.IsMap()) {
      std::vector<std::string> stack;
      extended.force_insert(name, jobs.resolveExtends(name, stack));
    } else {
      extended.force_insert(name, cloneTree(kv.second));
    }
  }
  jobs.setExtended(extended);
  YAML::Node resolved(YAML::NodeType::Map);
  for (const auto& kv : extended) {
    std::vector<std::string> stack;
    resolved.force_insert(cloneTree(kv.first),
                          jobs.resolveRefs(kv.second, kv.first.Scalar(), 0, stack));
  }
  return resolved;
}

// default, and the split of globals from visible jobs.
void resolveJobs(const YAML::Node& config, Resolver& resolver) {
  CiConfig& out = resolver.out();
  const YAML::Node resolved = resolveExtendsAndReferences(config, resolver);
  const YAML::Node defaults = effectiveDefaults(resolved);
  out.globals = YAML::Node(YAML::NodeType::Map);
  for (const auto& kv : resolved) {
    const std::string name = kv.first.Scalar();
    if (isGlobalKeyword(name)) {
      out.globals.force_insert(name, kv.second);
      continue;
    }
    if (isHidden(name)) continue;
    auto loc = resolver.locations().find(name);
    Location where = loc != resolver.locations().end() ? loc->second : Location{};
    if (!kv.second.IsMap()) {
      addProblem(out, Problem{"job-invalid", name, where.file, where.line, "a job must be a mapping"});
      continue;
    }
    out.jobs.push_back(
        ResolvedJob{name, where.file, where.line, applyDefaults(kv.second, defaults)});
  }
}

}  // namespace

bool isGlobalKeyword(const std::string& key) { return contains(kGlobalKeywords, key); }

YAML::Node deepMerge(const YAML::Node& base, const YAML::Node& over) {
  if (!base.IsMap() || !over.IsMap()) return cloneTree(over);
  YAML::Node out = cloneTree(base);
  for (const auto& kv : over) {
    if (!kv.first.IsScalar()) {
      out.force_insert(cloneTree(kv.first), cloneTree(kv.second));
      continue;
    }
    const YAML::Node existing = getKey(out, kv.first.Scalar());
    if (existing.IsMap() && kv.second.IsMap()) {
      setKey(out, kv.first, deepMerge(existing, kv.second));
    } else {
      setKey(out, cloneTree(kv.first), cloneTree(kv.second));
    }
  }
  return out;
}

CiConfig resolveCiConfig(const std::string& root_file, const std::string& root_text,
                         const FileReader& read) {
  CiConfig out;
  try {
    Resolver resolver(read, out);
    const YAML::Node config = resolver.loadFile(root_file, root_text, 0);
    resolveJobs(config, resolver);
  } catch (const YAML::Exception& e) {
    // yaml-cpp throws on some conversions; never let it escape.
    out.problems.push_back(Problem{"yaml-error", "", root_file, 0, e.what()});
  }
  if (!out.globals.IsDefined() || out.globals.IsNull()) {
    out.globals = YAML::Node(YAML::NodeType::Map);
  }
  return out;
}

Result<CiConfig> loadCiConfig(const std::string& root_file, const FileReader& read) {
  std::optional<std::string> text = read(root_file);
  if (!text) return notFound("CI configuration not found: " + root_file);
  return resolveCiConfig(root_file, *text, read);
}

}  // namespace garret::ops::gitlab
