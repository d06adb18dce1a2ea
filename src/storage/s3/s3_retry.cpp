#include "storage/s3/s3_retry.h"

#include <curl/curl.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "storage/s3/s3_xml.h"

namespace garret::storage::s3 {

namespace {

bool isRetryableCurlCode(int code) {
  switch (static_cast<CURLcode>(code)) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
      return true;
    default:
      return false;
  }
}

bool isRetryableS3Code(std::string_view code) {
  return code == "RequestTimeout" || code == "SlowDown" || code == "InternalError" ||
         code == "ServiceUnavailable";
}

std::string describe(const RequestContext& r) {
  std::string where = "s3://" + std::string(r.bucket);
  if (!r.key.empty()) where += "/" + std::string(r.key);
  return "S3 " + std::string(r.operation) + " " + where;
}

// A hint for errors the operator must fix, by S3 error code.
struct Hint {
  std::string_view s3_code;
  ErrorCode code;
  std::string_view text;
};

constexpr Hint kHints[] = {
    {"NoSuchKey", ErrorCode::kNotFound, ""},
    {"NoSuchBucket", ErrorCode::kUnavailable,
     "the bucket does not exist: create it or fix [storage] bucket"},
    {"SignatureDoesNotMatch", ErrorCode::kUnavailable,
     "the server computed another signature: check the secret access key "
     "([storage.credentials] or AWS_SECRET_ACCESS_KEY) and that no proxy rewrites requests"},
    {"InvalidAccessKeyId", ErrorCode::kUnavailable,
     "the server does not know this access key id: check [storage.credentials] or "
     "AWS_ACCESS_KEY_ID"},
    {"RequestTimeTooSkewed", ErrorCode::kUnavailable,
     "this machine's clock is more than 15 minutes off the server's: synchronize it (NTP)"},
    {"ExpiredToken", ErrorCode::kUnavailable,
     "the session token (AWS_SESSION_TOKEN) has expired: renew the temporary credentials"},
    {"InvalidToken", ErrorCode::kUnavailable,
     "the session token (AWS_SESSION_TOKEN) is not valid for these credentials"},
    {"AccessDenied", ErrorCode::kUnavailable,
     "the credentials lack permission: the bucket policy must allow s3:GetObject, "
     "s3:PutObject, s3:DeleteObject, s3:ListBucket and s3:AbortMultipartUpload"},
    {"AuthorizationHeaderMalformed", ErrorCode::kUnavailable,
     "the bucket may be in another region: check [storage] region"},
    {"PermanentRedirect", ErrorCode::kUnavailable,
     "the bucket is in another region or needs another endpoint: check [storage] region "
     "and endpoint"},
    {"NoSuchUpload", ErrorCode::kInternal,
     "the multipart upload is gone (aborted by another client or a lifecycle rule?)"},
    {"NotImplemented", ErrorCode::kInternal, "the S3 server does not support this request"},
};

// Codes and hints by status, when the body names no known code.
ErrorCode codeForStatus(long status) {
  if (status == 404) return ErrorCode::kNotFound;
  if (status == 301 || status == 401 || status == 403 || status == 429 || status >= 500) {
    return ErrorCode::kUnavailable;
  }
  if (status == 412) return ErrorCode::kConflict;
  return ErrorCode::kInternal;
}

std::string_view hintForStatus(long status) {
  switch (status) {
    case 301:
      return "the bucket is in another region: check [storage] region and endpoint";
    case 401:
    case 403:
      return "access denied: check the credentials ([storage.credentials] or AWS_* variables), "
             "the clock (signatures fail when it is more than 15 minutes off) and the bucket "
             "policy";
    case 412:
      return "the blob was replaced while it was being read";
    case 429:
      return "the server kept asking to slow down";
    default:
      return status >= 500 ? "the server kept failing; retries are exhausted" : "";
  }
}

}  // namespace

bool isRetryable(const Outcome& outcome) {
  if (outcome.curl_code != 0) return isRetryableCurlCode(outcome.curl_code);
  if (isRetryableS3Code(outcome.s3_code)) return true;
  return outcome.status == 429 || outcome.status >= 500;
}

std::chrono::milliseconds backoffDelay(const RetryPolicy& policy, int failures, double unit) {
  double cap = static_cast<double>(policy.max_delay.count());
  double exp = static_cast<double>(policy.base_delay.count()) *
               std::pow(2.0, std::clamp(failures - 1, 0, 30));
  double ceiling = std::min(cap, exp);
  unit = std::clamp(unit, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<std::int64_t>(ceiling * unit));
}

bool mayRetry(const RetryPolicy& policy, int failures, std::chrono::milliseconds elapsed,
              std::chrono::milliseconds delay) {
  return failures < policy.max_attempts && elapsed + delay < policy.max_total;
}

Error responseError(const RequestContext& request, long status, std::string_view body) {
  auto parsed = parseErrorBody(body);
  std::string s3_code = parsed ? parsed->code : "";
  std::string message = describe(request) + ": HTTP " + std::to_string(status);
  if (!s3_code.empty()) message += " " + s3_code;
  if (parsed && !parsed->message.empty()) {
    constexpr std::size_t kMaxMessage = 300;
    std::string detail = parsed->message.substr(0, kMaxMessage);
    if (parsed->message.size() > kMaxMessage) detail += "…";
    message += " (" + detail + ")";
  }
  if (s3_code == "PermanentRedirect" || s3_code == "AuthorizationHeaderMalformed") {
    if (auto region = xmlElement(body, "Region")) message += "; the bucket's region is " + *region;
  }
  ErrorCode code = codeForStatus(status);
  std::string_view hint = hintForStatus(status);
  for (const Hint& h : kHints) {
    if (h.s3_code == s3_code) {
      code = h.code;
      hint = h.text;
      break;
    }
  }
  if (code == ErrorCode::kNotFound && !request.key.empty()) {
    return notFound("no blob " + std::string(request.key) + " in s3://" +
                    std::string(request.bucket));
  }
  if (code == ErrorCode::kNotFound) code = ErrorCode::kUnavailable;  // a bucket-level 404
  if (!hint.empty()) message += ": " + std::string(hint);
  message += " [endpoint " + std::string(request.endpoint) + ", region " +
             std::string(request.region) + "]";
  return makeError(code, std::move(message));
}

Error transportError(const RequestContext& request, int curl_code, std::string_view detail,
                     int attempts) {
  std::string message = describe(request) + ": cannot reach " + std::string(request.endpoint) +
                        ": " + std::string(detail);
  if (attempts > 1) message += " (after " + std::to_string(attempts) + " attempts)";
  if (static_cast<CURLcode>(curl_code) == CURLE_PEER_FAILED_VERIFICATION) {
    message += "; the server's TLS certificate is not trusted";
  }
  ErrorCode code = isRetryableCurlCode(curl_code) ? ErrorCode::kUnavailable : ErrorCode::kInternal;
  if (static_cast<CURLcode>(curl_code) == CURLE_PEER_FAILED_VERIFICATION) {
    code = ErrorCode::kUnavailable;
  }
  return makeError(code, std::move(message));
}

}  // namespace garret::storage::s3
