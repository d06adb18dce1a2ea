// NarInfo::parse on arbitrary text. Whatever it accepts must pass
// validate(), and render() must parse back to an equal record (up to what
// render() documents it normalizes: Sig and References sorted and
// de-duplicated, an empty System omitted) and render to the same text again.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/narinfo.h"
#include "fuzz_util.h"

namespace {

using garret::NarInfo;

std::vector<std::string> sortedUnique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// The record as render() writes it.
NarInfo normalized(NarInfo info) {
  info.references = sortedUnique(std::move(info.references));
  info.sigs = sortedUnique(std::move(info.sigs));
  if (info.system && info.system->empty()) info.system.reset();
  return info;
}

std::string diff(const NarInfo& a, const NarInfo& b) {
  std::string out;
  auto field = [&](const char* name, bool same) {
    if (!same) out += std::string(" ") + name;
  };
  field("StorePath", a.store_path == b.store_path);
  field("URL", a.url == b.url);
  field("Compression", a.compression == b.compression);
  field("FileHash", a.file_hash == b.file_hash);
  field("FileSize", a.file_size == b.file_size);
  field("NarHash", a.nar_hash == b.nar_hash);
  field("NarSize", a.nar_size == b.nar_size);
  field("References", a.references == b.references);
  field("Deriver", a.deriver == b.deriver);
  field("System", a.system == b.system);
  field("Sig", a.sigs == b.sigs);
  field("CA", a.ca == b.ca);
  return out;
}

void check(std::string_view text, std::string_view store_dir) {
  auto parsed = NarInfo::parse(text, store_dir);
  if (!parsed.ok()) {
    auto code = parsed.error().code;
    FUZZ_CHECK(code == garret::ErrorCode::kInvalidArgument ||
               code == garret::ErrorCode::kPayloadTooLarge);
    return;
  }
  const NarInfo& info = *parsed;
  FUZZ_CHECK_MSG(info.validate(store_dir).ok(), info.validate(store_dir).error().message);

  std::string rendered = info.render(store_dir);
  auto again = NarInfo::parse(rendered, store_dir);
  FUZZ_CHECK_MSG(again.ok(), "rendered narinfo does not parse: " + again.error().message +
                                 "\nrendered:\n" + garret::fuzz::escaped(rendered, 4000));
  std::string differences = diff(normalized(info), *again);
  FUZZ_CHECK_MSG(differences.empty(), "fields changed by render/parse:" + differences +
                                          "\nrendered:\n" +
                                          garret::fuzz::escaped(rendered, 4000));
  std::string rendered_again = again->render(store_dir);
  FUZZ_CHECK_MSG(rendered_again == rendered,
                 "render is not a fixed point:\n" + garret::fuzz::escaped(rendered, 4000) +
                     "\nthen\n" + garret::fuzz::escaped(rendered_again, 4000));

  std::string fingerprint = info.fingerprint(store_dir);
  FUZZ_CHECK(fingerprint.starts_with("1;" + info.store_path.full(store_dir) + ";"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = garret::fuzz::asText(data, size);
  check(text, garret::kDefaultStoreDir);
  // Also the store dir the StorePath line names, so that mutations explore
  // store dirs too.
  constexpr std::string_view kKey = "StorePath: ";
  std::size_t key = text.starts_with(kKey) ? 0 : text.find("\n" + std::string(kKey));
  if (key != std::string_view::npos) {
    std::size_t start = key == 0 ? kKey.size() : key + 1 + kKey.size();
    std::string_view path = text.substr(start, text.find('\n', start) - start);
    std::size_t slash = path.rfind('/');
    if (slash != std::string_view::npos && slash > 0) {
      std::string_view dir = path.substr(0, slash);
      if (dir != garret::kDefaultStoreDir && garret::isValidStoreDir(dir)) check(text, dir);
    }
  }
  return 0;
}
