#include "core/narinfo.h"

#include <algorithm>
#include <array>
#include <charconv>

namespace garret {
namespace {

constexpr std::size_t kMaxTextSize = 1 << 20;
constexpr std::size_t kMaxReferences = 100'000;
constexpr std::string_view kUnknownDeriver = "unknown-deriver";

// A quoted, truncated copy of untrusted text for error messages.
std::string quote(std::string_view text) {
  constexpr std::size_t kMax = 60;
  std::string out = "\"";
  for (char c : text.substr(0, kMax)) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  if (text.size() > kMax) out += "...";
  return out + "\"";
}

bool hasControlChars(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

Result<std::uint64_t> parseDecimal(std::string_view text) {
  if (text.empty()) return invalid("empty number");
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return invalid("not a plain decimal number: " + quote(text));
  }
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return invalid("number out of range: " + quote(text));
  }
  return value;
}

Result<std::vector<std::string>> parseReferences(std::string_view value) {
  std::vector<std::string> refs;
  std::size_t pos = 0;
  while (pos < value.size()) {
    std::size_t end = std::min(value.find(' ', pos), value.size());
    if (end > pos) {
      if (refs.size() == kMaxReferences) return invalid("more than 100000 references");
      GARRET_ASSIGN_OR_RETURN(StorePath ref,
                              StorePath::parseBaseName(value.substr(pos, end - pos)));
      refs.push_back(ref.baseName());
    }
    pos = end + 1;
  }
  std::sort(refs.begin(), refs.end());
  refs.erase(std::unique(refs.begin(), refs.end()), refs.end());
  return refs;
}

Status checkContentAddress(std::string_view ca) {
  if (ca.starts_with("text:") || ca.starts_with("fixed:")) return okStatus();
  return invalid("content address must start with \"text:\" or \"fixed:\"");
}

using FieldParser = Status (*)(NarInfo&, std::string_view value, std::string_view store_dir);

struct Field {
  std::string_view key;
  FieldParser parse;
  bool repeatable = false;
};

constexpr std::array<Field, 12> kFields = {{
    {"StorePath",
     [](NarInfo& info, std::string_view v, std::string_view dir) -> Status {
       GARRET_ASSIGN_OR_RETURN(info.store_path, StorePath::parseFull(v, dir));
       return okStatus();
     }},
    {"URL",
     [](NarInfo& info, std::string_view v, std::string_view) -> Status {
       info.url = std::string(v);
       return okStatus();
     }},
    {"Compression",
     [](NarInfo& info, std::string_view v, std::string_view) -> Status {
       info.compression = std::string(v);
       return okStatus();
     }},
    {"FileHash",
     [](NarInfo& info, std::string_view v, std::string_view) -> Status {
       GARRET_ASSIGN_OR_RETURN(info.file_hash, Hash::parse(v));
       return okStatus();
     }},
    {"FileSize",
     [](NarInfo& info, std::string_view v, std::string_view) -> Status {
       GARRET_ASSIGN_OR_RETURN(info.file_size, parseDecimal(v));
       return okStatus();
     }},
    {"NarHash",
     [](NarInfo& info, std::string_view v, std::string_view) -> Status {
       GARRET_ASSIGN_OR_RETURN(info.nar_hash, Hash::parse(v));
       return okStatus();
     }},
    {"NarSize",
     [](NarInfo& info, std::string_view v, std::string_view) -> Status {
       GARRET_ASSIGN_OR_RETURN(info.nar_size, parseDecimal(v));
       return okStatus();
     }},
    {"References",
     [](NarInfo& info, std::string_view v, std::string_view) -> Status {
       GARRET_ASSIGN_OR_RETURN(info.references, parseReferences(v));
       return okStatus();
     }},
    {"Deriver",
     [](NarInfo& info, std::string_view v, std::string_view) -> Status {
       // Old Nix versions wrote this placeholder; Nix reads it as "no deriver".
       if (v == kUnknownDeriver) return okStatus();
       GARRET_ASSIGN_OR_RETURN(StorePath drv, StorePath::parseBaseName(v));
       info.deriver = drv.baseName();
       return okStatus();
     }},
    {"System",
     [](NarInfo& info, std::string_view v, std::string_view) -> Status {
       info.system = std::string(v);
       return okStatus();
     }},
    {"Sig",
     [](NarInfo& info, std::string_view v, std::string_view) -> Status {
       info.sigs.emplace_back(v);
       return okStatus();
     },
     true},
    {"CA",
     [](NarInfo& info, std::string_view v, std::string_view) -> Status {
       if (v.empty()) return okStatus();  // Nix reads "CA: " as no content address
       GARRET_TRY(checkContentAddress(v));
       info.ca = std::string(v);
       return okStatus();
     }},
}};

constexpr std::size_t kStorePathField = 0;
constexpr std::size_t kNarHashField = 5;
static_assert(kFields[kStorePathField].key == "StorePath" &&
              kFields[kNarHashField].key == "NarHash");

using SeenKeys = std::array<bool, kFields.size()>;

Status parseLine(NarInfo& info, std::string_view line, std::string_view store_dir, SeenKeys& seen) {
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= line.size() ||
      line[colon + 1] != ' ') {
    return invalid("expected \"Key: value\", got " + quote(line));
  }
  std::string_view key = line.substr(0, colon);
  std::string_view value = line.substr(colon + 2);
  auto field =
      std::find_if(kFields.begin(), kFields.end(), [&](const Field& f) { return f.key == key; });
  if (field == kFields.end()) return okStatus();  // unknown keys are ignored, as Nix does
  bool& seen_key = seen[field - kFields.begin()];
  if (seen_key && !field->repeatable) return invalid("duplicate key " + std::string(key));
  seen_key = true;
  Status status = field->parse(info, value, store_dir);
  if (!status.ok()) return status.error().context(std::string(key));
  return okStatus();
}

Status checkLineSafe(std::string_view what, std::string_view value) {
  if (hasControlChars(value)) return invalid(std::string(what) + " contains control characters");
  return okStatus();
}

Status validateFreeText(const NarInfo& info) {
  GARRET_TRY(checkLineSafe("URL", info.url));
  if (info.compression) GARRET_TRY(checkLineSafe("Compression", *info.compression));
  if (info.system) GARRET_TRY(checkLineSafe("System", *info.system));
  if (info.ca) GARRET_TRY(checkLineSafe("CA", *info.ca));
  for (const auto& sig : info.sigs) {
    if (sig.empty()) return invalid("Sig is empty");
    GARRET_TRY(checkLineSafe("Sig", sig));
  }
  return okStatus();
}

Status validatePaths(const NarInfo& info) {
  GARRET_TRY(StorePath::parseBaseName(info.store_path.baseName()));
  if (info.references.size() > kMaxReferences) return invalid("more than 100000 references");
  for (const auto& ref : info.references) {
    if (auto r = StorePath::parseBaseName(ref); !r.ok()) return r.error().context("References");
  }
  if (info.deriver) {
    if (auto r = StorePath::parseBaseName(*info.deriver); !r.ok())
      return r.error().context("Deriver");
  }
  return okStatus();
}

std::vector<std::string> sortedUnique(std::vector<std::string> items) {
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  return items;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += items[i];
  }
  return out;
}

void addLine(std::string& out, std::string_view key, std::string_view value) {
  out.append(key).append(": ").append(value).push_back('\n');
}

}  // namespace

Result<NarInfo> NarInfo::parse(std::string_view text, std::string_view store_dir) {
  if (text.size() > kMaxTextSize) {
    return makeError(ErrorCode::kPayloadTooLarge, "narinfo is larger than 1 MiB");
  }
  if (!isValidStoreDir(store_dir)) return invalid("invalid store dir " + quote(store_dir));
  if (text.empty() || text.back() != '\n') return invalid("narinfo: text must end with a newline");
  NarInfo info;
  SeenKeys seen{};
  std::size_t line_no = 1;
  for (std::size_t pos = 0; pos < text.size(); ++line_no) {
    std::size_t eol = text.find('\n', pos);
    Status status = parseLine(info, text.substr(pos, eol - pos), store_dir, seen);
    if (!status.ok()) return status.error().context("narinfo line " + std::to_string(line_no));
    pos = eol + 1;
  }
  if (!seen[kStorePathField]) return invalid("narinfo: missing StorePath");
  if (!seen[kNarHashField]) return invalid("narinfo: missing NarHash");
  GARRET_TRY(info.validate(store_dir));
  return info;
}

Status NarInfo::validate(std::string_view store_dir) const {
  if (!isValidStoreDir(store_dir)) return invalid("invalid store dir " + quote(store_dir));
  if (url.empty()) return invalid("narinfo: missing or empty URL");
  if (nar_size == 0) return invalid("narinfo: missing or zero NarSize");
  if (Status s = validatePaths(*this); !s.ok()) return s.error().context("narinfo");
  if (Status s = validateFreeText(*this); !s.ok()) return s.error().context("narinfo");
  return okStatus();
}

std::string NarInfo::render(std::string_view store_dir) const {
  std::string out;
  addLine(out, "StorePath", store_path.full(store_dir));
  addLine(out, "URL", url);
  if (compression) addLine(out, "Compression", *compression);
  if (file_hash) addLine(out, "FileHash", file_hash->toNix());
  if (file_size) addLine(out, "FileSize", std::to_string(*file_size));
  addLine(out, "NarHash", nar_hash.toNix());
  addLine(out, "NarSize", std::to_string(nar_size));
  addLine(out, "References", join(sortedUnique(references), " "));
  if (deriver) addLine(out, "Deriver", *deriver);
  if (system && !system->empty()) addLine(out, "System", *system);
  for (const auto& sig : sortedUnique(sigs)) addLine(out, "Sig", sig);
  if (ca) addLine(out, "CA", *ca);
  return out;
}

std::string NarInfo::fingerprint(std::string_view store_dir) const {
  std::vector<std::string> refs;
  refs.reserve(references.size());
  for (const auto& ref : sortedUnique(references)) {
    refs.push_back(std::string(store_dir) + "/" + ref);
  }
  return "1;" + store_path.full(store_dir) + ";" + nar_hash.toNix() + ";" +
         std::to_string(nar_size) + ";" + join(refs, ",");
}

std::string renderCacheInfo(std::string_view store_dir, int priority) {
  return "StoreDir: " + std::string(store_dir) +
         "\nWantMassQuery: 1\nPriority: " + std::to_string(priority) + "\n";
}

}  // namespace garret
