#pragma once

// AWS Signature Version 4 for S3, as pure functions of their inputs: URI
// encoding, the canonical request, the string to sign, the signing key and
// the Authorization header. No clock and no I/O: the caller passes the time.
// The published AWS examples are the unit tests.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/stream.h"

namespace garret::storage::s3 {

// SHA-256 of an empty payload, hex.
inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials; sent as x-amz-security-token
};

struct QueryParam {
  std::string name;   // raw, not encoded
  std::string value;  // raw; "" for flags such as "uploads"
};

struct Header {
  std::string name;
  std::string value;
};

// Percent-encodes every byte except A-Z a-z 0-9 '-' '.' '_' '~' as %XX with
// uppercase hex, as SigV4 requires. '/' is kept when `keep_slash` (object
// paths) and encoded otherwise (query names and values).
std::string uriEncode(std::string_view text, bool keep_slash = false);

// "/bucket/key" → the canonical (and sent) path: each segment encoded once.
std::string canonicalUri(std::string_view raw_path);

// Encoded name=value pairs joined by '&', sorted by encoded name, then
// value. Flags keep their '=' ("uploads="), as the canonical form wants.
std::string canonicalQuery(const std::vector<QueryParam>& params);

// What SigV4 signs of a request. `headers` are the headers to sign (any
// case, any order); all must be sent exactly as given.
struct SigningInput {
  std::string_view method;
  std::string_view canonical_uri;    // from canonicalUri()
  std::string_view canonical_query;  // from canonicalQuery()
  std::vector<Header> headers;
  std::string_view payload_hash;  // lowercase hex SHA-256, or kUnsignedPayload
};

struct CanonicalRequest {
  std::string text;
  std::string signed_headers;  // "host;range;x-amz-date"
};

// Header names lowercased, values trimmed with inner runs of spaces
// collapsed, sorted by name; repeated names joined with ','.
CanonicalRequest canonicalRequest(const SigningInput& input);

// "20130524T000000Z" for a unix time (UTC).
std::string amzDate(std::int64_t unix_seconds);

// "20130524/us-east-1/s3/aws4_request"
std::string credentialScope(std::string_view amz_date, std::string_view region,
                            std::string_view service);

std::string stringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);

std::array<std::uint8_t, 32> signingKey(std::string_view secret_access_key, std::string_view date8,
                                        std::string_view region, std::string_view service);

// Lowercase hex HMAC-SHA256 of the string to sign.
std::string signature(const std::array<std::uint8_t, 32>& key, std::string_view string_to_sign);

std::string sha256Hex(ByteSpan data);

// The whole computation: the Authorization header value for `input`, signed
// at `amz_date` (which must also be the x-amz-date header in `input`).
std::string authorization(const SigningInput& input, const Credentials& credentials,
                          std::string_view region, std::string_view service,
                          std::string_view amz_date);

}  // namespace garret::storage::s3
