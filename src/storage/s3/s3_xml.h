#pragma once

// The few S3 XML documents garret reads and writes, handled without an XML
// library: S3's responses are flat, attribute-free where we look, and
// entity-encoded. Parsers never throw and never read out of bounds; a
// response that lacks what we need is kInternal naming the document.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace garret::storage::s3 {

// Decodes &amp; &lt; &gt; &quot; &apos; and numeric references (&#38;
// &#x26;). Anything else after '&' is kept as it is.
std::string xmlDecode(std::string_view text);
// Escapes & < > " ' for element text.
std::string xmlEscape(std::string_view text);

// The decoded text of every <tag>…</tag> element (also <tag attr="…">…, and
// "" for <tag/>), in document order. Elements are not expected to nest in
// themselves.
std::vector<std::string> xmlElements(std::string_view xml, std::string_view tag);
std::optional<std::string> xmlElement(std::string_view xml, std::string_view tag);

// ListObjectsV2 (ListBucketResult).
struct ListPage {
  std::vector<std::string> keys;
  bool truncated = false;
  std::string next_token;  // NextContinuationToken when truncated
};
Result<ListPage> parseListObjectsV2(std::string_view xml);

// CreateMultipartUpload (InitiateMultipartUploadResult): the UploadId.
Result<std::string> parseUploadId(std::string_view xml);

// An <Error> document: S3's code ("NoSuchKey") and message. nullopt if the
// body is not an error document (CompleteMultipartUpload can answer 200
// with one).
struct ErrorBody {
  std::string code;
  std::string message;
};
std::optional<ErrorBody> parseErrorBody(std::string_view xml);

// The CompleteMultipartUpload request body for parts 1..n with these ETags.
std::string completeMultipartBody(const std::vector<std::string>& etags);

}  // namespace garret::storage::s3
