#pragma once

// S3BlobStore: blobs as objects of an S3 bucket (AWS, MinIO, Ceph RGW, R2,
// Garage, …) over libcurl, signed with AWS Signature V4. A key maps to the
// object <prefix><key>.
//
// Writes: create() buffers up to part_size bytes. A blob that fits is one
// PutObject at commit(); a larger one becomes a multipart upload whose parts
// go out while the next part fills (memory: about two parts per writer),
// completed at commit(). S3 shows an object only once PutObject or
// CompleteMultipartUpload succeeded, so a blob is visible whole or not at
// all; destroying an uncommitted writer aborts its multipart upload (best
// effort; a bucket lifecycle rule for incomplete uploads cleans up after
// crashes).
//
// Reads: open() is a HEAD (size and ETag); read() is a ranged GET with
// If-Match, so a reader never mixes two versions of an overwritten object
// (kConflict instead). Readers are positional and thread-safe.
//
// Requests: at most max_connections in flight per store (callers wait for
// a slot), on reused curl handles (keep-alive). Transient failures (5xx,
// 429, timeouts, dropped connections) are retried with exponential backoff
// and full jitter (RetryPolicy); bodies are replayed from memory.
//
// Errors: a missing blob is kNotFound; credentials, permissions, clock
// skew, a missing bucket or an unreachable server are kUnavailable with a
// message naming the bucket and key and what to check; see s3_retry.h.
//
// Thread-safe. The store must outlive its writers and readers.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/blob_store.h"
#include "storage/s3/s3_retry.h"

namespace garret::storage {

namespace s3 {
class S3Client;
}

enum class S3Addressing {
  kAuto,           // path-style with an endpoint; virtual-hosted for AWS unless
                   // the bucket name is not a DNS label (dots, upper case, '_')
  kPath,           // <endpoint>/<bucket>/<key>
  kVirtualHosted,  // <bucket>.<endpoint host>/<key>
};

struct S3Options {
  static constexpr std::size_t kMinPartSize = 5ull << 20;  // S3's minimum but for the last
  static constexpr std::size_t kMaxPartSize = 5ull << 30;
  static constexpr int kMaxParts = 10000;

  std::string bucket;
  std::string region;    // e.g. "us-east-1"; S3-compatible servers often accept any
  std::string endpoint;  // "http(s)://host[:port][/path]"; empty: https://s3.<region>.amazonaws.com
  S3Addressing addressing = S3Addressing::kAuto;
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials (x-amz-security-token)
  // Objects are named <prefix><key>; a prefix without a trailing '/' gets one.
  std::string prefix;
  std::size_t part_size = 8ull << 20;
  int max_connections = 16;
  // Keys per ListObjectsV2 page (S3 returns at most 1000).
  int list_page_size = 1000;
  // Sign the SHA-256 of request bodies (S3 then rejects corrupted uploads)
  // instead of UNSIGNED-PAYLOAD.
  bool sign_payload = true;
  s3::RetryPolicy retry;
  std::chrono::milliseconds connect_timeout{10000};
  // A transfer that moves no byte for this long is failed (and retried).
  std::chrono::milliseconds stall_timeout{30000};
};

class S3BlobStore final : public BlobStore {
 public:
  // Checks the options (no network access); see ping() for a probe.
  // kInvalidArgument names the bad option.
  static Result<std::unique_ptr<S3BlobStore>> open(S3Options options);
  ~S3BlobStore() override;

  Result<std::unique_ptr<BlobWriter>> create(std::string_view key) override;
  Result<std::unique_ptr<BlobReader>> open(std::string_view key) override;
  Result<bool> exists(std::string_view key) override;
  Status remove(std::string_view key) override;
  // Sorted keys under the store's prefix that start with `prefix`;
  // objects whose names are not valid blob keys are skipped.
  Result<std::vector<std::string>> list(std::string_view prefix) override;
  // A one-key ListObjectsV2: the bucket exists, and the credentials may list it.
  Status ping() override;
  bool openIsCheap() const override { return false; }

  const S3Options& options() const { return options_; }

  struct Stats {
    std::uint64_t requests = 0;  // attempts sent, retries included
    std::uint64_t retries = 0;
  };
  Stats stats() const;

 private:
  S3BlobStore(S3Options options, std::unique_ptr<s3::S3Client> client);
  std::string objectKey(std::string_view key) const { return options_.prefix + std::string(key); }

  const S3Options options_;
  std::unique_ptr<s3::S3Client> client_;
};

}  // namespace garret::storage
