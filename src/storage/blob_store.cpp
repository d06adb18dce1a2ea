#include "storage/blob_store.h"

#include <algorithm>

namespace garret::storage {

namespace {

constexpr std::size_t kMaxKeyLength = 1024;
constexpr std::size_t kReadPiece = 1 << 20;

bool isKeyChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '/' || c == '-';
}

bool isValidSegment(std::string_view segment) {
  return !segment.empty() && segment != "." && segment != "..";
}

}  // namespace

Status BlobStore::put(std::string_view key, ByteSpan data) {
  GARRET_ASSIGN_OR_RETURN(auto writer, create(key));
  GARRET_TRY(writer->write(data));
  GARRET_TRY(writer->finish());
  return writer->commit();
}

Result<std::string> BlobStore::get(std::string_view key) {
  GARRET_ASSIGN_OR_RETURN(auto reader, open(key));
  std::string out;
  out.resize(static_cast<std::size_t>(reader->size()));
  std::size_t filled = 0;
  while (filled < out.size()) {
    std::size_t want = std::min(kReadPiece, out.size() - filled);
    auto* dest = reinterpret_cast<std::uint8_t*>(out.data() + filled);
    GARRET_ASSIGN_OR_RETURN(std::size_t n, reader->read(filled, dest, want));
    if (n == 0) {
      return makeError(ErrorCode::kIo, "blob " + std::string(key) + " ended early");
    }
    filled += n;
  }
  return out;
}

bool isValidBlobKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyLength) return false;
  if (!std::all_of(key.begin(), key.end(), isKeyChar)) return false;
  std::size_t start = 0;
  while (true) {
    std::size_t slash = key.find('/', start);
    std::string_view segment =
        key.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!isValidSegment(segment)) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

bool isValidBlobPrefix(std::string_view prefix) {
  if (prefix.size() > kMaxKeyLength) return false;
  if (!std::all_of(prefix.begin(), prefix.end(), isKeyChar)) return false;
  std::size_t last_slash = prefix.rfind('/');
  if (last_slash == std::string_view::npos) return true;
  return isValidBlobKey(prefix.substr(0, last_slash));
}

}  // namespace garret::storage
