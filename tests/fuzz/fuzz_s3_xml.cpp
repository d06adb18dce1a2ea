// The S3 response parsers (storage/s3/s3_xml.h) on arbitrary bytes: what a
// broken or hostile S3-compatible server, or a proxy in front of it, could
// answer. They must never crash; entity decoding never grows text and undoes
// escaping; a truncated list page always carries a continuation token; every
// ETag put into a CompleteMultipartUpload body reads back unchanged.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "storage/s3/s3_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace garret::storage::s3;
  using garret::fuzz::escaped;
  std::string_view text = garret::fuzz::asText(data, size);

  std::string decoded = xmlDecode(text);
  FUZZ_CHECK_MSG(decoded.size() <= text.size(), escaped(text));
  FUZZ_CHECK_MSG(xmlDecode(xmlEscape(text)) == text, escaped(text));

  auto page = parseListObjectsV2(text);
  if (page.ok() && page->truncated) FUZZ_CHECK_MSG(!page->next_token.empty(), escaped(text));
  (void)parseUploadId(text);
  if (auto error = parseErrorBody(text)) {
    FUZZ_CHECK(error->code.size() <= text.size() && error->message.size() <= text.size());
  }
  for (const char* tag : {"Key", "Contents", "Error", "Code"}) {
    for (const std::string& element : xmlElements(text, tag)) {
      FUZZ_CHECK_MSG(element.size() <= text.size(), escaped(text));
    }
  }

  // Split the input into "ETags" at '|' and round-trip them.
  std::vector<std::string> etags;
  std::size_t start = 0;
  while (start <= text.size() && etags.size() < 64) {
    std::size_t bar = text.find('|', start);
    etags.emplace_back(text.substr(start, bar == std::string_view::npos ? bar : bar - start));
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  std::vector<std::string> back = xmlElements(completeMultipartBody(etags), "ETag");
  FUZZ_CHECK_MSG(back == etags, escaped(text));
  return 0;
}
