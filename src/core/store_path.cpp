#include "core/store_path.h"

#include "core/encoding.h"

namespace garret {
namespace {

constexpr std::size_t kMaxNameLength = 211;

bool isNameChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' ||
         c == '-' || c == '.' || c == '_' || c == '?' || c == '=';
}

bool isStoreDirChar(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x20 && u != 0x7f;
}

// A quoted, truncated copy of untrusted text for error messages.
std::string quote(std::string_view text) {
  constexpr std::size_t kMax = 80;
  std::string out = "\"";
  for (char c : text.substr(0, kMax)) out.push_back(isStoreDirChar(c) ? c : '?');
  if (text.size() > kMax) out += "...";
  return out + "\"";
}

}  // namespace

bool isValidStorePathHash(std::string_view hash) {
  if (hash.size() != kStorePathHashLength) return false;
  for (char c : hash) {
    if (kNixBase32Alphabet.find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool isValidStorePathName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength || name.front() == '.') return false;
  for (char c : name) {
    if (!isNameChar(c)) return false;
  }
  return true;
}

bool isValidStoreDir(std::string_view dir) {
  if (dir.size() < 2 || dir.front() != '/' || dir.back() == '/') return false;
  for (char c : dir) {
    if (!isStoreDirChar(c)) return false;
  }
  std::size_t pos = 1;
  while (pos <= dir.size()) {
    std::size_t end = dir.find('/', pos);
    if (end == std::string_view::npos) end = dir.size();
    std::string_view part = dir.substr(pos, end - pos);
    if (part.empty() || part == "." || part == "..") return false;
    pos = end + 1;
  }
  return true;
}

Result<StorePath> StorePath::parseBaseName(std::string_view base_name) {
  if (base_name.size() < kStorePathHashLength + 2 || base_name[kStorePathHashLength] != '-') {
    return invalid("store path " + quote(base_name) + " is not of the form <hash>-<name>");
  }
  std::string_view hash = base_name.substr(0, kStorePathHashLength);
  std::string_view name = base_name.substr(kStorePathHashLength + 1);
  if (!isValidStorePathHash(hash)) {
    return invalid("store path " + quote(base_name) + " has an invalid hash part");
  }
  if (!isValidStorePathName(name)) {
    return invalid("store path " + quote(base_name) + " has an invalid name");
  }
  return StorePath{std::string(hash), std::string(name)};
}

Result<StorePath> StorePath::parseFull(std::string_view full, std::string_view store_dir) {
  if (full.size() <= store_dir.size() || !full.starts_with(store_dir) ||
      full[store_dir.size()] != '/') {
    return invalid("path " + quote(full) + " is not in the store " + quote(store_dir));
  }
  std::string_view base = full.substr(store_dir.size() + 1);
  if (base.find('/') != std::string_view::npos) {
    return invalid("path " + quote(full) + " is not a top-level store path");
  }
  return parseBaseName(base);
}

}  // namespace garret
