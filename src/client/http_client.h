#pragma once

// HTTP client used by garret's commands (cache API, Kubernetes, Docker,
// GitLab). One interface, one libcurl implementation, one fake for tests
// (tests/support/fake_http_client.h).
//
// Contract: send() never throws. A transfer that got an HTTP response returns
// it whatever its status (callers map statuses); transport failures (DNS,
// refused connection, TLS, timeout, reset) return an Error with code
// kUnavailable and a message naming the URL and the cause. Bodies are kept in
// memory unless the request has a body_writer; upload bodies stream from a
// body_reader so memory stays bounded whatever the size.
//
// Thread-safety: one HttpClient is used by one thread at a time; make one per
// worker (handles keep their connections alive between requests).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace garret::client {

struct Header {
  std::string name;
  std::string value;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // http(s)://host[:port]/path?query (with unix sockets the host is ignored)
  std::vector<Header> headers;
  std::string body;  // sent when body_reader is empty (and method is not GET/HEAD)

  // Streaming request body: fills up to `len` bytes, returns the count (0 at
  // the end) or an error that aborts the transfer.
  std::function<Result<std::size_t>(char* buf, std::size_t len)> body_reader;
  std::optional<std::uint64_t> body_size;  // Content-Length of a streamed body; chunked if absent

  // Streaming response body: called with each piece of a 2xx response; an
  // error aborts the transfer. Non-2xx bodies are still collected in `body`.
  std::function<Status(std::string_view)> body_writer;

  std::chrono::milliseconds timeout{std::chrono::minutes(2)};  // whole request; 0 = none
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  // Abort when fewer than 1 byte/s moves for this long (stalled peers); 0 = never.
  std::chrono::milliseconds stall_timeout{std::chrono::seconds(60)};
  std::size_t max_body = 64u << 20;  // in-memory response body limit
};

struct HttpResponse {
  long status = 0;
  std::vector<Header> headers;
  std::string body;
  // Peer certificate chain (leaf first) as libcurl reports it ("Subject",
  // "Issuer", "Expire date", ...) when HttpOptions::cert_info is set.
  std::vector<std::map<std::string, std::string>> certificates;

  // First header with this name (case-insensitive).
  std::optional<std::string> header(std::string_view name) const;
  bool ok() const { return status >= 200 && status < 300; }
};

struct HttpOptions {
  std::string ca_file;  // PEM bundle; empty = system store
  std::string ca_pem;   // PEM data (e.g. kubeconfig certificate-authority-data)
  bool insecure = false;  // skip certificate and host name verification
  std::string client_cert_file, client_cert_pem;
  std::string client_key_file, client_key_pem;
  std::string unix_socket;  // talk HTTP over this Unix socket (Docker)
  std::string user_agent = "garret/0.1";
  bool cert_info = false;  // fill HttpResponse::certificates
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
};

std::unique_ptr<HttpClient> makeCurlHttpClient(HttpOptions options = {});

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string urlEncode(std::string_view s);
// base + "/" + path with exactly one slash between them.
std::string joinUrl(std::string_view base, std::string_view path);
// Whether a failure is worth retrying: transport errors (kUnavailable), 408,
// 429 and 5xx other than 501/505.
bool isTransient(const Result<HttpResponse>& r);

}  // namespace garret::client
