// Attic's upload API bodies (http/api_json.h): parseMissingPathsRequest,
// parseUploadPathNarInfo and claimedNarInfo. Failures are kInvalidArgument.
// Whatever claimedNarInfo accepts is what the server will later serve as a
// .narinfo, so its rendering must parse back with NarInfo::parse (as Nix
// would read it) and render to the same text again.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/narinfo.h"
#include "fuzz_util.h"
#include "http/api_json.h"

namespace {

using garret::ErrorCode;
using garret::NarInfo;
using garret::fuzz::escaped;

void checkClaimed(const garret::http::UploadPathNarInfo& upload, std::string_view store_dir,
                  std::string_view body) {
  auto claimed = garret::http::claimedNarInfo(upload, store_dir);
  if (!claimed.ok()) {
    FUZZ_CHECK_MSG(claimed.error().code == ErrorCode::kInvalidArgument, claimed.error().message);
    return;
  }
  FUZZ_CHECK(claimed->store_path.hash == upload.store_path_hash);
  FUZZ_CHECK(claimed->nar_size == upload.nar_size);
  std::string rendered = claimed->render(store_dir);
  auto served = NarInfo::parse(rendered, store_dir);
  FUZZ_CHECK_MSG(served.ok(), "accepted upload renders to a narinfo that does not parse: " +
                                  served.error().message + "\nbody: " + escaped(body, 2000) +
                                  "\nnarinfo:\n" + escaped(rendered, 4000));
  std::string again = served->render(store_dir);
  FUZZ_CHECK_MSG(again == rendered, "narinfo changes when served back:\n" +
                                        escaped(rendered, 4000) + "\nthen\n" +
                                        escaped(again, 4000));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body = garret::fuzz::asText(data, size);

  auto missing = garret::http::parseMissingPathsRequest(body);
  if (!missing.ok()) FUZZ_CHECK(missing.error().code == ErrorCode::kInvalidArgument);

  auto upload = garret::http::parseUploadPathNarInfo(body);
  if (!upload.ok()) {
    FUZZ_CHECK(upload.error().code == ErrorCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(upload->nar_size > 0);
  checkClaimed(*upload, garret::kDefaultStoreDir, body);
  // The store dir the upload's own path names, as a cache with that store
  // dir would see it.
  std::string_view path = upload->store_path;
  std::size_t slash = path.rfind('/');
  if (slash != std::string_view::npos && slash > 0) {
    std::string_view dir = path.substr(0, slash);
    if (dir != garret::kDefaultStoreDir && garret::isValidStoreDir(dir)) {
      checkClaimed(*upload, dir, body);
    }
  }
  return 0;
}
