#include "storage/s3/s3_client.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>
#include <mutex>
#include <random>
#include <thread>

#include "core/encoding.h"
#include "core/text.h"
#include "storage/s3/s3_xml.h"

namespace garret::storage::s3 {

namespace {

constexpr std::size_t kMaxResponseBody = 64u << 20;  // list pages are ~300 KiB
constexpr std::size_t kMaxErrorBody = 64u << 10;

void initCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

double unitRandom() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

// State of one curl transfer, shared with its callbacks.
struct Transfer {
  CURL* handle = nullptr;
  const S3Client::Request* request = nullptr;
  S3Client::Response* response = nullptr;
  std::size_t read_pos = 0;
  bool status_known = false;
  std::uint64_t to_skip = 0;
  bool out_full = false;
  bool too_large = false;

  bool success() const { return response->status >= 200 && response->status < 300; }
};

std::size_t onWrite(char* data, std::size_t, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (!t->status_known) {
    curl_easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &t->response->status);
    t->status_known = true;
    // A server that ignores Range answers 200 with the whole object.
    if (t->response->status == 200) t->to_skip = t->request->range_start;
  }
  std::string_view piece(data, n);
  if (!t->success() || t->request->out.empty()) {
    std::string& body = t->response->body;
    std::size_t cap = t->success() ? kMaxResponseBody : kMaxErrorBody;
    if (body.size() + piece.size() > cap) {
      if (t->success()) {
        t->too_large = true;
        return 0;
      }
      piece = piece.substr(0, cap - body.size());  // keep the start of an error document
    }
    body.append(piece);
    return n;
  }
  std::size_t skip = static_cast<std::size_t>(std::min<std::uint64_t>(t->to_skip, piece.size()));
  t->to_skip -= skip;
  piece.remove_prefix(skip);
  std::span<std::uint8_t> out = t->request->out;
  std::size_t room = out.size() - t->response->out_bytes;
  std::size_t take = std::min(room, piece.size());
  std::memcpy(out.data() + t->response->out_bytes, piece.data(), take);
  t->response->out_bytes += take;
  if (take < piece.size()) {
    t->out_full = true;  // we have what we asked for; stop the transfer
    return 0;
  }
  return n;
}

std::size_t onHeader(char* data, std::size_t, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {  // a new response (after 100 Continue, say)
    t->response->etag.clear();
    t->response->content_length.reset();
    return n;
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string_view name = line.substr(0, colon);
  std::string_view value = trimSpace(line.substr(colon + 1));
  if (equalsIgnoreCase(name, "ETag")) {
    t->response->etag = std::string(value);
  } else if (equalsIgnoreCase(name, "Content-Length")) {
    std::uint64_t length = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
    if (ec == std::errc() && end == value.data() + value.size()) {
      t->response->content_length = length;
    }
  }
  return n;
}

std::size_t onRead(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  ByteSpan body = t->request->body;
  std::size_t n = std::min(size * count, body.size() - t->read_pos);
  std::memcpy(buffer, body.data() + t->read_pos, n);
  t->read_pos += n;
  return n;
}

// curl rewinds an upload when it must resend it on a fresh connection.
int onSeek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 ||
      static_cast<std::uint64_t>(offset) > t->request->body.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  t->read_pos = static_cast<std::size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

bool isDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

// The semaphore and the handle pool in one: at most `max` handles are out,
// and idle handles keep their connections for the next request.
class S3Client::HandlePool {
 public:
  explicit HandlePool(int max) : max_(max) {}
  ~HandlePool() {
    for (CURL* handle : idle_) curl_easy_cleanup(handle);
  }

  class Lease {
   public:
    Lease(HandlePool* pool, CURL* handle) : pool_(pool), handle_(handle) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { pool_->release(handle_); }
    CURL* get() const { return handle_; }

   private:
    HandlePool* pool_;
    CURL* handle_;
  };

  Lease acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return in_use_ < max_; });
    ++in_use_;
    CURL* handle = nullptr;
    if (!idle_.empty()) {
      handle = idle_.back();
      idle_.pop_back();
    }
    lock.unlock();
    if (handle == nullptr) handle = curl_easy_init();
    return Lease(this, handle);
  }

 private:
  void release(CURL* handle) {
    std::lock_guard lock(mu_);
    if (handle != nullptr) idle_.push_back(handle);
    --in_use_;
    cv_.notify_one();
  }

  const int max_;
  std::mutex mu_;
  std::condition_variable cv_;
  int in_use_ = 0;
  std::vector<CURL*> idle_;
};

struct S3Client::Attempt {
  int curl_code = 0;
  std::string curl_error;
  Response response;
  std::string s3_code;  // of an error document
  bool error_in_body = false;

  bool succeeded() const {
    return curl_code == 0 && response.status >= 200 && response.status < 300 && !error_in_body;
  }
};

bool isDnsCompatibleBucket(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  if (bucket.front() == '-' || bucket.back() == '-') return false;
  return std::all_of(bucket.begin(), bucket.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

Result<Endpoint> resolveEndpoint(const S3Options& options) {
  Endpoint ep;
  bool virtual_default = false;
  if (options.endpoint.empty()) {
    ep.scheme = "https";
    ep.host = "s3." + options.region + ".amazonaws.com";
    virtual_default = isDnsCompatibleBucket(options.bucket);
  } else {
    std::string_view url = options.endpoint;
    std::size_t scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) {
      return invalid("S3 endpoint \"" + options.endpoint + "\" is not an http:// or https:// URL");
    }
    ep.scheme = std::string(url.substr(0, scheme_end));
    if (ep.scheme != "http" && ep.scheme != "https") {
      return invalid("S3 endpoint \"" + options.endpoint + "\" is not an http:// or https:// URL");
    }
    std::string_view rest = url.substr(scheme_end + 3);
    if (rest.find_first_of("?#@ ") != std::string_view::npos) {
      return invalid("S3 endpoint \"" + options.endpoint +
                     "\" must be scheme://host[:port][/path], without user, query or fragment");
    }
    std::size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    ep.base_path = std::string(path);
    std::size_t port_colon = authority.rfind(':');
    if (!authority.empty() && authority.front() == '[') {
      std::size_t close = authority.find(']');
      if (close == std::string_view::npos) return invalid("S3 endpoint: unterminated IPv6 address");
      port_colon = authority.find(':', close);
    }
    ep.host = std::string(authority.substr(0, port_colon));
    if (port_colon != std::string_view::npos) {
      ep.port = std::string(authority.substr(port_colon + 1));
      if (!isDigits(ep.port)) return invalid("S3 endpoint \"" + options.endpoint + "\": bad port");
    }
    if (ep.host.empty()) return invalid("S3 endpoint \"" + options.endpoint + "\" has no host");
    if ((ep.scheme == "http" && ep.port == "80") || (ep.scheme == "https" && ep.port == "443")) {
      ep.port.clear();
    }
  }
  switch (options.addressing) {
    case S3Addressing::kAuto:
      ep.virtual_hosted = virtual_default;
      break;
    case S3Addressing::kPath:
      ep.virtual_hosted = false;
      break;
    case S3Addressing::kVirtualHosted:
      ep.virtual_hosted = true;
      break;
  }
  return ep;
}

std::optional<std::string> multipartEtag(const std::vector<std::string>& part_etags) {
  std::vector<std::uint8_t> digests;
  for (std::string_view etag : part_etags) {
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
      etag = etag.substr(1, etag.size() - 2);
    }
    auto bytes = hexDecode(etag);
    if (!bytes.ok() || bytes->size() != 16) return std::nullopt;
    digests.insert(digests.end(), bytes->begin(), bytes->end());
  }
  unsigned char md5[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(digests.data(), digests.size(), md5, &len, EVP_md5(), nullptr) != 1) {
    return std::nullopt;
  }
  return "\"" + hexEncode(ByteSpan(md5, len)) + "-" + std::to_string(part_etags.size()) + "\"";
}

Result<std::unique_ptr<S3Client>> S3Client::create(const S3Options& options) {
  GARRET_ASSIGN_OR_RETURN(Endpoint endpoint, resolveEndpoint(options));
  initCurlOnce();
  return std::unique_ptr<S3Client>(new S3Client(options, std::move(endpoint)));
}

S3Client::S3Client(const S3Options& options, Endpoint endpoint)
    : options_(options),
      endpoint_(std::move(endpoint)),
      credentials_{options.access_key_id, options.secret_access_key, options.session_token},
      pool_(std::make_unique<HandlePool>(options.max_connections)) {}

S3Client::~S3Client() = default;

void S3Client::SlistFree::operator()(curl_slist* list) const { curl_slist_free_all(list); }

std::string S3Client::hostHeader() const {
  std::string host =
      endpoint_.virtual_hosted ? options_.bucket + "." + endpoint_.host : endpoint_.host;
  return endpoint_.port.empty() ? host : host + ":" + endpoint_.port;
}

std::string S3Client::urlPath(const std::string& object_key) const {
  std::string raw = endpoint_.base_path;
  if (!endpoint_.virtual_hosted) raw += "/" + options_.bucket;
  if (!object_key.empty() || endpoint_.virtual_hosted) raw += "/" + object_key;
  return canonicalUri(raw);
}

RequestContext S3Client::context(const Request& request) const {
  std::string_view endpoint = options_.endpoint;
  if (endpoint.empty()) endpoint = "AWS";
  return RequestContext{request.operation, options_.bucket, request.object_key, endpoint,
                        options_.region};
}

std::vector<Header> S3Client::signedHeaders(const Request& request, std::string_view payload_hash,
                                            std::string_view amz_date) const {
  std::vector<Header> headers = request.headers;
  headers.push_back({"Host", hostHeader()});
  headers.push_back({"x-amz-content-sha256", std::string(payload_hash)});
  headers.push_back({"x-amz-date", std::string(amz_date)});
  if (!credentials_.session_token.empty()) {
    headers.push_back({"x-amz-security-token", credentials_.session_token});
  }
  return headers;
}

S3Client::HeaderList S3Client::headerList(const Request& request, std::string& url) const {
  std::string payload_hash;
  if (request.body.empty()) {
    payload_hash = std::string(kEmptyPayloadHash);
  } else {
    payload_hash = options_.sign_payload ? sha256Hex(request.body) : std::string(kUnsignedPayload);
  }
  std::string path = urlPath(request.object_key);
  std::string query = canonicalQuery(request.query);
  // Signed anew on each attempt: a retry after minutes must not look replayed.
  std::string amz_date = amzDate(static_cast<std::int64_t>(std::time(nullptr)));
  std::vector<Header> headers = signedHeaders(request, payload_hash, amz_date);
  SigningInput input{request.method, path, query, headers, payload_hash};
  std::string auth = authorization(input, credentials_, options_.region, "s3", amz_date);
  url = endpoint_.scheme + "://" + hostHeader() + path + (query.empty() ? "" : "?" + query);

  HeaderList list;
  auto add = [&](const std::string& line) {
    curl_slist* head = curl_slist_append(list.get(), line.c_str());
    if (head != nullptr) {
      (void)list.release();
      list.reset(head);
    }
  };
  for (const Header& h : headers) add(h.name + ": " + h.value);
  add("Authorization: " + auth);
  add("Expect:");  // no 100-continue round trip
  bool has_type = std::any_of(request.headers.begin(), request.headers.end(),
                              [](const Header& h) { return equalsIgnoreCase(h.name, "Content-Type"); });
  if (!has_type && request.method == "POST") add("Content-Type: application/xml");
  return list;
}

namespace {

void setMethod(CURL* h, const S3Client::Request& request, Transfer& t) {
  if (request.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT") {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, onRead);
    curl_easy_setopt(h, CURLOPT_READDATA, &t);
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, onSeek);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, &t);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method == "POST") {
    const char* body =
        request.body.empty() ? "" : reinterpret_cast<const char*>(request.body.data());
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method != "GET") {
    std::string method(request.method);  // curl copies it
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
}

void setTransfer(CURL* h, const S3Options& options, Transfer& t, curl_slist* headers,
                 const std::string& url, char* errbuf) {
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  // One request per connection at a time: max_connections means connections.
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout.count()));
  // A transfer that moves no byte for stall_timeout fails (and is retried).
  long stall_seconds =
      std::max<long>(1, static_cast<long>((options.stall_timeout.count() + 999) / 1000));
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, stall_seconds);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, onWrite);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
}

}  // namespace

S3Client::Attempt S3Client::attempt(const Request& request) {
  Attempt a;
  auto lease = pool_->acquire();  // may wait: sign after, so the date is fresh
  CURL* h = lease.get();
  if (h == nullptr) {
    a.curl_code = CURLE_FAILED_INIT;
    a.curl_error = "curl_easy_init failed";
    return a;
  }
  std::string url;
  HeaderList headers = headerList(request, url);
  curl_easy_reset(h);  // keeps the handle's live connections
  Transfer t;
  t.handle = h;
  t.request = &request;
  t.response = &a.response;
  char errbuf[CURL_ERROR_SIZE] = {0};
  setTransfer(h, options_, t, headers.get(), url, errbuf);
  setMethod(h, request, t);
  CURLcode rc = curl_easy_perform(h);
  if (rc == CURLE_WRITE_ERROR && t.out_full) rc = CURLE_OK;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a.response.status);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  if (rc != CURLE_OK) {
    a.curl_code = rc;
    a.curl_error = t.too_large
                       ? "response larger than " + std::to_string(kMaxResponseBody) + " bytes"
                   : errbuf[0] != 0 ? std::string(errbuf)
                                    : std::string(curl_easy_strerror(rc));
    return a;
  }
  bool success = a.response.status >= 200 && a.response.status < 300;
  // CompleteMultipartUpload can fail after its 200 status line.
  if (!success || (request.method == "POST" && request.out.empty())) {
    if (auto error = parseErrorBody(a.response.body)) {
      a.s3_code = error->code;
      a.error_in_body = success;
    }
  }
  return a;
}

Result<S3Client::Response> S3Client::send(const Request& request) {
  auto start = std::chrono::steady_clock::now();
  for (int failures = 0;;) {
    Attempt a = attempt(request);
    ++requests_;
    if (a.succeeded()) return std::move(a.response);
    ++failures;
    Outcome outcome{a.curl_code, a.response.status, a.s3_code};
    if (isRetryable(outcome)) {
      auto delay = backoffDelay(options_.retry, failures, unitRandom());
      auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
      if (mayRetry(options_.retry, failures, elapsed, delay)) {
        ++retries_;
        std::this_thread::sleep_for(delay);
        continue;
      }
    }
    if (a.curl_code != 0)
      return transportError(context(request), a.curl_code, a.curl_error, failures);
    // A 200 carrying <Error> reports as the server error it is.
    long status = a.error_in_body ? 500 : a.response.status;
    return responseError(context(request), status, a.response.body);
  }
}

}  // namespace garret::storage::s3
