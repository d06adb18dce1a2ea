#pragma once

// When an S3 request is tried again, how long to wait first, and what a
// final failure means in our error codes. Pure functions; the client that
// sleeps and the random source live in s3_client.cpp.
//
// Retried: transport failures that may be transient (timeouts, refused or
// dropped connections), HTTP 429, 5xx, and S3's RequestTimeout/SlowDown/
// InternalError codes (which can also arrive inside a 200 response to
// CompleteMultipartUpload). Never retried: other 4xx, TLS certificate
// failures, malformed URLs.

#include <chrono>
#include <string_view>

#include "core/result.h"

namespace garret::storage::s3 {

struct RetryPolicy {
  int max_attempts = 5;                        // attempts in all, the first included
  std::chrono::milliseconds base_delay{100};   // before the first retry, at most
  std::chrono::milliseconds max_delay{5000};   // cap of one wait
  std::chrono::milliseconds max_total{60000};  // no retry once this much time has passed
};

// How one attempt ended.
struct Outcome {
  int curl_code = 0;         // CURLcode; 0 when a response arrived
  long status = 0;           // HTTP status of the response
  std::string_view s3_code;  // <Code> of an error body, "" if none
};

bool isRetryable(const Outcome& outcome);

// Full jitter: uniform in [0, min(max_delay, base_delay * 2^(failures-1))],
// `unit` being a uniform random number in [0, 1).
std::chrono::milliseconds backoffDelay(const RetryPolicy& policy, int failures, double unit);

// Whether another attempt may start after `failures` failed attempts,
// `elapsed` since the first one started and a wait of `delay`.
bool mayRetry(const RetryPolicy& policy, int failures, std::chrono::milliseconds elapsed,
              std::chrono::milliseconds delay);

// What a request was, for error messages.
struct RequestContext {
  std::string_view operation;  // "GetObject"
  std::string_view bucket;
  std::string_view key;  // object key in the bucket; "" for bucket requests
  std::string_view endpoint;
  std::string_view region;
};

// The error for a final non-2xx response (or a 200 carrying <Error>).
//  404 NoSuchKey, or 404 without a body (HEAD)  → kNotFound
//  404 NoSuchBucket, 301/400 wrong region,
//  401/403 (credentials, clock skew, policy)    → kUnavailable, with a hint
//  412 (object replaced while being read)       → kConflict
//  429, 5xx (retries exhausted)                 → kUnavailable
//  anything else                                → kInternal
Error responseError(const RequestContext& request, long status, std::string_view body);

// The error after a transport failure (kUnavailable, or kInternal for
// failures no retry can fix). `attempts` is how many were made.
Error transportError(const RequestContext& request, int curl_code, std::string_view detail,
                     int attempts);

}  // namespace garret::storage::s3
