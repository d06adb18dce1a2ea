#pragma once

// S3Client: signed S3 requests over a bounded pool of reused curl handles,
// with retries. Used by S3BlobStore; not a public interface of the storage
// layer. Thread-safe.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/stream.h"
#include "storage/s3/s3_blob_store.h"
#include "storage/s3/sigv4.h"

struct curl_slist;

namespace garret::storage::s3 {

// Where requests go, derived from S3Options.
struct Endpoint {
  std::string scheme;     // "http" or "https"
  std::string host;       // "s3.example.org", "127.0.0.1", "[::1]"
  std::string port;       // "" when the scheme's default
  std::string base_path;  // "" or "/path" (no trailing '/')
  bool virtual_hosted = false;
};

// Parses options.endpoint (or the AWS endpoint of options.region) and
// decides the addressing style.
Result<Endpoint> resolveEndpoint(const S3Options& options);

// True if `bucket` can be a DNS label for virtual-hosted addressing
// (lower case letters, digits, '-'; 3-63 characters).
bool isDnsCompatibleBucket(std::string_view bucket);

// The ETag S3 gives an object completed from parts with these ETags:
// hex MD5 of the concatenated binary MD5s, "-", part count; quoted.
// nullopt if a part ETag is not a hex MD5 (e.g. SSE-KMS).
std::optional<std::string> multipartEtag(const std::vector<std::string>& part_etags);

class S3Client {
 public:
  struct Request {
    std::string_view operation;  // "GetObject", for error messages
    std::string_view method;     // GET HEAD PUT POST DELETE
    std::string object_key;      // full object name; "" for bucket requests
    std::vector<QueryParam> query;
    std::vector<Header> headers;  // extra headers, all signed (Range, If-Match, …)
    ByteSpan body;                // sent again on each attempt
    // A 2xx body goes here when set (GetObject ranges), else to Response::body.
    std::span<std::uint8_t> out;
    std::uint64_t range_start = 0;  // to skip if a server ignores Range (200)
  };
  struct Response {
    long status = 0;
    std::string body;
    std::size_t out_bytes = 0;
    std::string etag;
    std::optional<std::uint64_t> content_length;
  };

  static Result<std::unique_ptr<S3Client>> create(const S3Options& options);
  ~S3Client();

  // Sends with retries. A final non-2xx response (or a 2xx POST response
  // carrying <Error>) is returned as responseError(); transport failures as
  // transportError().
  Result<Response> send(const Request& request);

  std::uint64_t requestCount() const { return requests_.load(); }
  std::uint64_t retryCount() const { return retries_.load(); }

 private:
  struct Attempt;
  class HandlePool;

  struct SlistFree {
    void operator()(curl_slist* list) const;
  };
  using HeaderList = std::unique_ptr<curl_slist, SlistFree>;

  S3Client(const S3Options& options, Endpoint endpoint);
  // The signed headers of one attempt, and its URL.
  HeaderList headerList(const Request& request, std::string& url) const;
  std::string hostHeader() const;
  std::string urlPath(const std::string& object_key) const;
  std::vector<Header> signedHeaders(const Request& request, std::string_view payload_hash,
                                    std::string_view amz_date) const;
  Attempt attempt(const Request& request);
  RequestContext context(const Request& request) const;

  const S3Options options_;
  const Endpoint endpoint_;
  const Credentials credentials_;
  std::unique_ptr<HandlePool> pool_;
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> retries_{0};
};

}  // namespace garret::storage::s3
