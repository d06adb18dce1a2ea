#include "client/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>

#include "core/text.h"

namespace garret::client {

namespace {

void initCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// State of one transfer, shared with the curl callbacks.
struct Transfer {
  CURL* handle = nullptr;
  const HttpRequest* request = nullptr;
  HttpResponse* response = nullptr;
  std::size_t body_pos = 0;
  std::optional<Error> callback_error;
  bool too_large = false;
};

std::size_t onWrite(char* data, std::size_t, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (t->response->status == 0) curl_easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &t->response->status);
  std::string_view piece(data, n);
  if (t->request->body_writer && t->response->ok()) {
    Status s = t->request->body_writer(piece);
    if (!s.ok()) {
      t->callback_error = s.error();
      return 0;
    }
    return n;
  }
  if (t->response->body.size() + n > t->request->max_body) {
    t->too_large = true;
    return 0;
  }
  t->response->body.append(piece);
  return n;
}

std::size_t onHeader(char* data, std::size_t, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {  // a new response (after 100 Continue or a redirect)
    t->response->headers.clear();
    t->response->status = 0;
    return n;
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  t->response->headers.push_back(
      Header{std::string(trimSpace(line.substr(0, colon))), std::string(trimSpace(line.substr(colon + 1)))});
  return n;
}

std::size_t onRead(char* buf, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::size_t room = size * n;
  if (t->request->body_reader) {
    Result<std::size_t> r = t->request->body_reader(buf, room);
    if (!r.ok()) {
      t->callback_error = r.error();
      return CURL_READFUNC_ABORT;
    }
    return *r;
  }
  const std::string& body = t->request->body;
  std::size_t take = std::min(room, body.size() - t->body_pos);
  std::memcpy(buf, body.data() + t->body_pos, take);
  t->body_pos += take;
  return take;
}

void setBlob(CURL* h, CURLoption option, const std::string& pem) {
  curl_blob blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
  curl_easy_setopt(h, option, &blob);
}

void applyOptions(CURL* h, const HttpOptions& o) {
  curl_easy_setopt(h, CURLOPT_USERAGENT, o.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  if (!o.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, o.ca_file.c_str());
  if (!o.ca_pem.empty()) setBlob(h, CURLOPT_CAINFO_BLOB, o.ca_pem);
  if (o.insecure) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!o.client_cert_file.empty()) curl_easy_setopt(h, CURLOPT_SSLCERT, o.client_cert_file.c_str());
  if (!o.client_cert_pem.empty()) setBlob(h, CURLOPT_SSLCERT_BLOB, o.client_cert_pem);
  if (!o.client_key_file.empty()) curl_easy_setopt(h, CURLOPT_SSLKEY, o.client_key_file.c_str());
  if (!o.client_key_pem.empty()) setBlob(h, CURLOPT_SSLKEY_BLOB, o.client_key_pem);
  if (!o.unix_socket.empty()) curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, o.unix_socket.c_str());
  if (o.cert_info) curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
}

void applyMethodAndBody(CURL* h, const HttpRequest& r) {
  bool has_body = r.body_reader || !r.body.empty() || r.method == "POST" || r.method == "PUT" ||
                  r.method == "PATCH";
  if (r.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (r.method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }
  if (!has_body || r.method == "GET" || r.method == "HEAD") return;
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  // Large pieces: fewer read() calls on the NAR and fewer send() calls.
  if (r.body_reader) curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 1L << 20);
  curl_off_t size = -1;
  if (!r.body_reader) size = static_cast<curl_off_t>(r.body.size());
  else if (r.body_size) size = static_cast<curl_off_t>(*r.body_size);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, size);
}

void collectCertificates(CURL* h, HttpResponse& response) {
  curl_certinfo* info = nullptr;
  if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &info) != CURLE_OK || info == nullptr) return;
  for (int i = 0; i < info->num_of_certs; ++i) {
    std::map<std::string, std::string> fields;
    for (curl_slist* s = info->certinfo[i]; s != nullptr; s = s->next) {
      std::string_view line(s->data);
      std::size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        fields.emplace(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
      }
    }
    response.certificates.push_back(std::move(fields));
  }
}

struct SlistDeleter {
  void operator()(curl_slist* s) const { curl_slist_free_all(s); }
};

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(HttpOptions options) : options_(std::move(options)) {
    initCurlOnce();
    handle_ = curl_easy_init();
  }
  ~CurlHttpClient() override { curl_easy_cleanup(handle_); }
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  Result<HttpResponse> send(const HttpRequest& request) override {
    if (handle_ == nullptr) return makeError(ErrorCode::kInternal, "curl_easy_init failed");
    CURL* h = handle_;
    curl_easy_reset(h);
    applyOptions(h, options_);
    HttpResponse response;
    Transfer t{h, &request, &response};
    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    applyMethodAndBody(h, request);
    std::unique_ptr<curl_slist, SlistDeleter> headers;
    for (const Header& hd : request.headers) {
      std::string line = hd.name + (hd.value.empty() ? ";" : ": " + hd.value);
      headers.reset(curl_slist_append(headers.release(), line.c_str()));
    }
    // Nix-style servers answer 100-continue at once, but others may not: never wait for it.
    headers.reset(curl_slist_append(headers.release(), "Expect:"));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, onWrite);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, onRead);
    curl_easy_setopt(h, CURLOPT_READDATA, &t);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
    if (request.stall_timeout.count() > 0) {
      curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
      curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
                       std::max<long>(1, static_cast<long>(request.stall_timeout.count() / 1000)));
    }
    char error_buf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buf);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
    if (t.callback_error) return *t.callback_error;
    std::string where = request.method + " " + request.url;
    if (t.too_large) {
      return makeError(ErrorCode::kPayloadTooLarge, where + ": response body over " +
                                                        std::to_string(request.max_body) + " bytes");
    }
    if (rc != CURLE_OK) {
      std::string why = error_buf[0] != '\0' ? error_buf : curl_easy_strerror(rc);
      return makeError(ErrorCode::kUnavailable, where + ": " + why);
    }
    if (options_.cert_info) collectCertificates(h, response);
    return response;
  }

 private:
  HttpOptions options_;
  CURL* handle_ = nullptr;
};

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const Header& h : headers) {
    if (equalsIgnoreCase(h.name, name)) return h.value;
  }
  return std::nullopt;
}

std::unique_ptr<HttpClient> makeCurlHttpClient(HttpOptions options) {
  return std::make_unique<CurlHttpClient>(std::move(options));
}

std::string urlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

std::string joinUrl(std::string_view base, std::string_view path) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return std::string(base) + "/" + std::string(path);
}

bool isTransient(const Result<HttpResponse>& r) {
  if (!r.ok()) return r.error().code == ErrorCode::kUnavailable;
  long s = r->status;
  return s == 408 || s == 429 || (s >= 500 && s != 501 && s != 505);
}

}  // namespace garret::client
