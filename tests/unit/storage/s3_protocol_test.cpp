// Pure parts of the S3 client: retry decisions, backoff, error mapping,
// endpoints and addressing, multipart ETags.

#include <curl/curl.h>
#include <gtest/gtest.h>

#include "storage/s3/s3_client.h"
#include "storage/s3/s3_retry.h"

namespace garret::storage::s3 {
namespace {

using std::chrono::milliseconds;

TEST(S3RetryTest, WhatIsRetried) {
  struct Case {
    Outcome outcome;
    bool retry;
  };
  for (const Case& c : {
           Case{{0, 500, ""}, true},
           Case{{0, 502, ""}, true},
           Case{{0, 503, "SlowDown"}, true},
           Case{{0, 504, ""}, true},
           Case{{0, 429, ""}, true},
           Case{{0, 400, "RequestTimeout"}, true},
           Case{{0, 200, "InternalError"}, true},  // CompleteMultipartUpload's 200 + <Error>
           Case{{0, 400, "InvalidArgument"}, false},
           Case{{0, 403, "SignatureDoesNotMatch"}, false},
           Case{{0, 403, "RequestTimeTooSkewed"}, false},
           Case{{0, 404, "NoSuchKey"}, false},
           Case{{0, 404, ""}, false},
           Case{{0, 412, ""}, false},
           Case{{CURLE_OPERATION_TIMEDOUT, 0, ""}, true},
           Case{{CURLE_COULDNT_CONNECT, 0, ""}, true},
           Case{{CURLE_GOT_NOTHING, 0, ""}, true},
           Case{{CURLE_RECV_ERROR, 0, ""}, true},
           Case{{CURLE_SEND_ERROR, 0, ""}, true},
           Case{{CURLE_PARTIAL_FILE, 0, ""}, true},
           Case{{CURLE_PEER_FAILED_VERIFICATION, 0, ""}, false},
           Case{{CURLE_URL_MALFORMAT, 0, ""}, false},
           Case{{CURLE_WRITE_ERROR, 0, ""}, false},
       }) {
    EXPECT_EQ(isRetryable(c.outcome), c.retry) << "curl " << c.outcome.curl_code << " status "
                                               << c.outcome.status << " " << c.outcome.s3_code;
  }
}

TEST(S3RetryTest, FullJitterBackoffGrowsToTheCap) {
  RetryPolicy p;
  p.base_delay = milliseconds(100);
  p.max_delay = milliseconds(1000);
  // The ceiling doubles per failure: 100, 200, 400, 800, then 1000.
  EXPECT_EQ(backoffDelay(p, 1, 0.999999), milliseconds(99));
  EXPECT_EQ(backoffDelay(p, 2, 0.999999), milliseconds(199));
  EXPECT_EQ(backoffDelay(p, 3, 0.5), milliseconds(200));
  EXPECT_EQ(backoffDelay(p, 4, 0.5), milliseconds(400));
  EXPECT_EQ(backoffDelay(p, 5, 0.5), milliseconds(500));
  EXPECT_EQ(backoffDelay(p, 60, 0.5), milliseconds(500));  // no overflow
  // Full jitter reaches down to zero.
  EXPECT_EQ(backoffDelay(p, 4, 0.0), milliseconds(0));
}

TEST(S3RetryTest, AttemptsAndTotalTimeAreBounded) {
  RetryPolicy p;
  p.max_attempts = 3;
  p.max_total = milliseconds(1000);
  EXPECT_TRUE(mayRetry(p, 1, milliseconds(0), milliseconds(10)));
  EXPECT_TRUE(mayRetry(p, 2, milliseconds(0), milliseconds(10)));
  EXPECT_FALSE(mayRetry(p, 3, milliseconds(0), milliseconds(10)));
  EXPECT_FALSE(mayRetry(p, 1, milliseconds(990), milliseconds(10)));
  EXPECT_TRUE(mayRetry(p, 1, milliseconds(900), milliseconds(10)));
}

RequestContext object() {
  return {"GetObject", "bucket", "nar/x", "http://127.0.0.1:9000", "us-east-1"};
}
RequestContext bucketLevel() { return {"ListObjectsV2", "bucket", "", "AWS", "eu-west-1"}; }

std::string errorXml(std::string_view code, std::string_view message = "m") {
  return "<Error><Code>" + std::string(code) + "</Code><Message>" + std::string(message) +
         "</Message></Error>";
}

TEST(S3ErrorTest, MissingObjectIsNotFound) {
  Error e = responseError(object(), 404, errorXml("NoSuchKey"));
  EXPECT_EQ(e.code, ErrorCode::kNotFound);
  EXPECT_EQ(e.message, "no blob nar/x in s3://bucket");
  EXPECT_EQ(responseError(object(), 404, "").code, ErrorCode::kNotFound);  // HEAD has no body
}

TEST(S3ErrorTest, MissingBucketIsUnavailableAndSaysSo) {
  for (const RequestContext& r : {object(), bucketLevel()}) {
    Error e =
        responseError(r, 404, errorXml("NoSuchBucket", "The specified bucket does not exist"));
    EXPECT_EQ(e.code, ErrorCode::kUnavailable);
    EXPECT_NE(e.message.find("the bucket does not exist"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("s3://bucket"), std::string::npos) << e.message;
  }
  EXPECT_EQ(responseError(bucketLevel(), 404, "").code, ErrorCode::kUnavailable);
}

TEST(S3ErrorTest, AuthFailuresNameTheCauseAndTheObject) {
  struct Case {
    std::string_view s3_code, hint;
  };
  for (const Case& c : {
           Case{"SignatureDoesNotMatch", "secret access key"},
           Case{"InvalidAccessKeyId", "access key id"},
           Case{"RequestTimeTooSkewed", "clock"},
           Case{"AccessDenied", "s3:ListBucket"},
           Case{"ExpiredToken", "AWS_SESSION_TOKEN"},
       }) {
    Error e = responseError(object(), 403, errorXml(c.s3_code));
    EXPECT_EQ(e.code, ErrorCode::kUnavailable) << c.s3_code;
    EXPECT_NE(e.message.find(c.hint), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("S3 GetObject s3://bucket/nar/x: HTTP 403 " + std::string(c.s3_code)),
              std::string::npos)
        << e.message;
  }
  // HEAD answers 403 without a body: the hint covers every cause.
  Error head = responseError(object(), 403, "");
  EXPECT_EQ(head.code, ErrorCode::kUnavailable);
  EXPECT_NE(head.message.find("credentials"), std::string::npos);
  EXPECT_NE(head.message.find("clock"), std::string::npos);
}

TEST(S3ErrorTest, WrongRegionNamesTheRightOne) {
  Error e = responseError(bucketLevel(), 400,
                          "<Error><Code>AuthorizationHeaderMalformed</Code><Message>m</Message>"
                          "<Region>eu-central-1</Region></Error>");
  EXPECT_EQ(e.code, ErrorCode::kUnavailable);
  EXPECT_NE(e.message.find("the bucket's region is eu-central-1"), std::string::npos) << e.message;
}

TEST(S3ErrorTest, OtherStatuses) {
  EXPECT_EQ(responseError(object(), 412, "").code, ErrorCode::kConflict);
  EXPECT_EQ(responseError(object(), 503, errorXml("SlowDown")).code, ErrorCode::kUnavailable);
  EXPECT_EQ(responseError(object(), 500, "").code, ErrorCode::kUnavailable);
  EXPECT_EQ(responseError(object(), 400, errorXml("InvalidArgument")).code, ErrorCode::kInternal);
  EXPECT_EQ(responseError(object(), 405, errorXml("MethodNotAllowed")).code, ErrorCode::kInternal);
}

TEST(S3ErrorTest, TransportErrors) {
  Error e = transportError(object(), CURLE_COULDNT_CONNECT, "Connection refused", 5);
  EXPECT_EQ(e.code, ErrorCode::kUnavailable);
  EXPECT_NE(
      e.message.find("cannot reach http://127.0.0.1:9000: Connection refused (after 5 attempts)"),
      std::string::npos)
      << e.message;
  EXPECT_EQ(transportError(object(), CURLE_PEER_FAILED_VERIFICATION, "x", 1).code,
            ErrorCode::kUnavailable);
  EXPECT_EQ(transportError(object(), CURLE_URL_MALFORMAT, "x", 1).code, ErrorCode::kInternal);
}

S3Options withEndpoint(std::string endpoint, std::string bucket = "bucket") {
  S3Options o;
  o.bucket = std::move(bucket);
  o.region = "eu-west-1";
  o.endpoint = std::move(endpoint);
  return o;
}

TEST(S3EndpointTest, AwsDefaultsToVirtualHosted) {
  auto ep = resolveEndpoint(withEndpoint(""));
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->scheme, "https");
  EXPECT_EQ(ep->host, "s3.eu-west-1.amazonaws.com");
  EXPECT_TRUE(ep->virtual_hosted);
  // Dotted bucket names break TLS wildcard matching: path-style.
  EXPECT_FALSE(resolveEndpoint(withEndpoint("", "my.bucket"))->virtual_hosted);
  S3Options forced = withEndpoint("", "my.bucket");
  forced.addressing = S3Addressing::kVirtualHosted;
  EXPECT_TRUE(resolveEndpoint(forced)->virtual_hosted);
}

TEST(S3EndpointTest, CustomEndpointsDefaultToPathStyle) {
  auto ep = resolveEndpoint(withEndpoint("http://127.0.0.1:9000/"));
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->scheme, "http");
  EXPECT_EQ(ep->host, "127.0.0.1");
  EXPECT_EQ(ep->port, "9000");
  EXPECT_EQ(ep->base_path, "");
  EXPECT_FALSE(ep->virtual_hosted);
  S3Options vh = withEndpoint("https://s3.example.org:443/base/");
  vh.addressing = S3Addressing::kVirtualHosted;
  ep = resolveEndpoint(vh);
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->port, "");  // the default port is not written
  EXPECT_EQ(ep->base_path, "/base");
  EXPECT_TRUE(ep->virtual_hosted);
  ep = resolveEndpoint(withEndpoint("http://[::1]:9000"));
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->host, "[::1]");
  EXPECT_EQ(ep->port, "9000");
}

TEST(S3EndpointTest, RejectsBadEndpoints) {
  for (const char* bad : {"minio:9000", "ftp://x", "http://", "http://h:port", "http://u@h",
                          "http://h/?q", "http://[::1"}) {
    auto ep = resolveEndpoint(withEndpoint(bad));
    ASSERT_FALSE(ep.ok()) << bad;
    EXPECT_EQ(ep.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(S3EndpointTest, DnsCompatibleBuckets) {
  EXPECT_TRUE(isDnsCompatibleBucket("garret-cache-1"));
  EXPECT_FALSE(isDnsCompatibleBucket("ab"));
  EXPECT_FALSE(isDnsCompatibleBucket("Upper"));
  EXPECT_FALSE(isDnsCompatibleBucket("a.b.c"));
  EXPECT_FALSE(isDnsCompatibleBucket("-abc"));
  EXPECT_FALSE(isDnsCompatibleBucket("under_score"));
}

TEST(S3MultipartTest, EtagOfACompletedUpload) {
  // md5("") = d41d8cd98f00b204e9800998ecf8427e; S3's ETag of an object
  // completed from parts is md5(concatenated binary part MD5s)-<parts>.
  auto one = multipartEtag({"\"d41d8cd98f00b204e9800998ecf8427e\""});
  ASSERT_TRUE(one.has_value());
  // md5 of the 16 bytes of md5("") is 59adb24ef3cdbe0297f05b395827453f.
  EXPECT_EQ(*one, "\"59adb24ef3cdbe0297f05b395827453f-1\"");
  EXPECT_FALSE(multipartEtag({"\"not-md5\""}).has_value());
  EXPECT_FALSE(multipartEtag({"\"abcd\""}).has_value());
}

}  // namespace
}  // namespace garret::storage::s3
