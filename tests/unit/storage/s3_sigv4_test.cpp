// SigV4 against the values AWS publishes: the S3 examples of "Signature
// Calculations for the Authorization Header (Transferring Payload in a
// Single Chunk)", the signing-key derivation example, and get-vanilla of the
// SigV4 test suite.

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "storage/s3/sigv4.h"

namespace garret::storage::s3 {
namespace {

constexpr std::string_view kS3Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kS3Date = "20130524T000000Z";
constexpr std::string_view kS3Host = "examplebucket.s3.amazonaws.com";

Credentials s3Credentials() { return {"AKIAIOSFODNN7EXAMPLE", std::string(kS3Secret), ""}; }

std::string signatureOf(const std::string& auth) { return auth.substr(auth.rfind('=') + 1); }

TEST(SigV4Test, SigningKeyDerivationExample) {
  auto key = signingKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam");
  EXPECT_EQ(hexEncode(key), "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(SigV4Test, S3GetObjectExample) {
  std::string uri = canonicalUri("/test.txt");
  SigningInput input{"GET",
                     uri,
                     "",
                     {{"Host", std::string(kS3Host)},
                      {"Range", "bytes=0-9"},
                      {"x-amz-content-sha256", std::string(kEmptyPayloadHash)},
                      {"x-amz-date", std::string(kS3Date)}},
                     kEmptyPayloadHash};
  CanonicalRequest canonical = canonicalRequest(input);
  EXPECT_EQ(
      canonical.text,
      "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  std::string scope = credentialScope(kS3Date, "us-east-1", "s3");
  EXPECT_EQ(scope, "20130524/us-east-1/s3/aws4_request");
  EXPECT_EQ(stringToSign(kS3Date, scope, canonical.text),
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(authorization(input, s3Credentials(), "us-east-1", "s3", kS3Date),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4Test, S3PutObjectExample) {
  std::string payload = sha256Hex(asBytes("Welcome to Amazon S3."));
  EXPECT_EQ(payload, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  std::string uri = canonicalUri("/test$file.text");
  EXPECT_EQ(uri, "/test%24file.text");
  SigningInput input{"PUT",
                     uri,
                     "",
                     {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                      {"Host", std::string(kS3Host)},
                      {"x-amz-content-sha256", payload},
                      {"x-amz-date", std::string(kS3Date)},
                      {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                     payload};
  std::string auth = authorization(input, s3Credentials(), "us-east-1", "s3", kS3Date);
  EXPECT_NE(
      auth.find("SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"),
      std::string::npos);
  EXPECT_EQ(signatureOf(auth), "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

// The list examples differ only in the query; headers in any order and case.
std::string signGetBucket(const std::vector<QueryParam>& query) {
  std::string uri = canonicalUri("");
  SigningInput input{"GET",
                     uri,
                     "",
                     {{"X-Amz-Date", std::string(kS3Date)},
                      {"x-amz-content-sha256", std::string(kEmptyPayloadHash)},
                      {"host", std::string(kS3Host)}},
                     kEmptyPayloadHash};
  std::string q = canonicalQuery(query);
  input.canonical_query = q;
  return signatureOf(authorization(input, s3Credentials(), "us-east-1", "s3", kS3Date));
}

TEST(SigV4Test, S3GetBucketLifecycleExample) {
  EXPECT_EQ(signGetBucket({{"lifecycle", ""}}),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4Test, S3ListObjectsExampleSortsTheQuery) {
  EXPECT_EQ(signGetBucket({{"prefix", "J"}, {"max-keys", "2"}}),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4Test, TestSuiteGetVanilla) {
  SigningInput input{"GET",
                     "/",
                     "",
                     {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}},
                     kEmptyPayloadHash};
  Credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  EXPECT_EQ(authorization(input, creds, "us-east-1", "service", "20150830T123600Z"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,"
            "SignedHeaders=host;x-amz-date,"
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4Test, UriEncoding) {
  struct Case {
    std::string_view in;
    bool keep_slash;
    std::string_view out;
  };
  for (const Case& c : {
           Case{"AZaz09-._~", false, "AZaz09-._~"},
           Case{"a b", false, "a%20b"},
           Case{"a+b=c&d", false, "a%2Bb%3Dc%26d"},
           Case{"a/b", false, "a%2Fb"},
           Case{"a/b", true, "a/b"},
           Case{"*'()!$", false, "%2A%27%28%29%21%24"},
           Case{"\xc3\xa9", false, "%C3%A9"},
           Case{"%", false, "%25"},
           Case{"", false, ""},
       }) {
    EXPECT_EQ(uriEncode(c.in, c.keep_slash), c.out) << c.in;
  }
}

TEST(SigV4Test, CanonicalUriEncodesEachSegmentOnce) {
  EXPECT_EQ(canonicalUri(""), "/");
  EXPECT_EQ(canonicalUri("/bucket/nar/ab/x.nar.zst"), "/bucket/nar/ab/x.nar.zst");
  EXPECT_EQ(canonicalUri("/b/a b/%41"), "/b/a%20b/%2541");
  EXPECT_EQ(canonicalUri("key"), "/key");
}

TEST(SigV4Test, CanonicalQuerySortsAndEncodes) {
  EXPECT_EQ(canonicalQuery({}), "");
  EXPECT_EQ(canonicalQuery({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(
      canonicalQuery({{"prefix", "nar/a b"}, {"list-type", "2"}, {"continuation-token", "1/+x=="}}),
      "continuation-token=1%2F%2Bx%3D%3D&list-type=2&prefix=nar%2Fa%20b");
  // Sorted by encoded name: uppercase before lowercase, then by value.
  EXPECT_EQ(canonicalQuery({{"b", "2"}, {"B", "1"}, {"a", "y"}, {"a", "x"}}), "B=1&a=x&a=y&b=2");
}

TEST(SigV4Test, CanonicalHeadersTrimCollapseAndJoin) {
  SigningInput input{"GET",
                     "/",
                     "",
                     {{"X-Amz-Meta-A", "  one   two  "}, {"x-amz-meta-a", "three"}, {"Host", "h"}},
                     kUnsignedPayload};
  CanonicalRequest c = canonicalRequest(input);
  EXPECT_EQ(c.signed_headers, "host;x-amz-meta-a");
  EXPECT_EQ(c.text,
            "GET\n/\n\nhost:h\nx-amz-meta-a:one two,three\n\nhost;x-amz-meta-a\nUNSIGNED-PAYLOAD");
}

TEST(SigV4Test, AmzDate) {
  EXPECT_EQ(amzDate(1369353600), "20130524T000000Z");
  EXPECT_EQ(amzDate(1440938160), "20150830T123600Z");
  EXPECT_EQ(amzDate(0), "19700101T000000Z");
}

TEST(SigV4Test, SessionTokenIsJustASignedHeader) {
  // The token changes the signature only through the header it adds.
  SigningInput without{
      "GET", "/", "", {{"Host", "h"}, {"x-amz-date", "20150830T123600Z"}}, kEmptyPayloadHash};
  SigningInput with = without;
  with.headers.push_back({"X-Amz-Security-Token", "token"});
  Credentials creds{"AK", "SK", "token"};
  std::string a = authorization(without, creds, "r", "s3", "20150830T123600Z");
  std::string b = authorization(with, creds, "r", "s3", "20150830T123600Z");
  EXPECT_NE(signatureOf(a), signatureOf(b));
  EXPECT_NE(b.find("SignedHeaders=host;x-amz-date;x-amz-security-token,"), std::string::npos);
}

}  // namespace
}  // namespace garret::storage::s3
