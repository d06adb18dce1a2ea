#pragma once

// S3TestServer: a real S3-compatible server for tests — s3rver (installed by
// scripts/install-deps.sh from the repo's package.json into node_modules/)
// behind tests/support/s3rver_harness.js, which verifies every SigV4
// signature, answers AbortMultipartUpload and injects faults on request.
// Started on a free port in a temp dir with one bucket, stopped (and the dir
// removed) when the object dies; the harness also exits when this process
// does, because it watches its standard input.
//
// If node or s3rver is missing, S3 tests fail with a message saying how to
// install them.
//
//   auto* server = garret::testing::sharedS3Server();   // one per process
//   GARRET_REQUIRE_S3(server);                           // fails if missing
//   auto store = storage::S3BlobStore::open(server->options("my-test/"));

#include <curl/curl.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "storage/s3/s3_blob_store.h"
#include "support/temp_dir.h"

namespace garret::testing {

class S3TestServer {
 public:
  static constexpr const char* kBucket = "garret-test";

  // Starts the harness; nullptr with `why` set if it cannot.
  static std::unique_ptr<S3TestServer> start(std::string& why) {
    namespace fs = std::filesystem;
    fs::path source = fs::path(GARRET_TEST_DATA_DIR).parent_path().parent_path();
    fs::path script = source / "tests" / "support" / "s3rver_harness.js";
    const char* node_env = std::getenv("GARRET_NODE");
    std::string node = node_env && *node_env ? node_env : "node";
    if (!fs::exists(source / "node_modules" / "s3rver" / "package.json")) {
      why = "s3rver is not installed in " + (source / "node_modules").string() +
            ": run scripts/install-deps.sh (it runs `npm ci`) "
            "the S3 tests";
      return nullptr;
    }
    std::unique_ptr<S3TestServer> server(new S3TestServer());
    if (!server->spawn(node, script, why)) return nullptr;
    return server;
  }

  ~S3TestServer() {
    if (stdin_fd_ >= 0) ::close(stdin_fd_);  // the harness exits on EOF
    if (pid_ > 0) {
      for (int i = 0; i < 100 && ::waitpid(pid_, nullptr, WNOHANG) == 0; ++i) {
        ::usleep(10000);
        if (i == 50) ::kill(pid_, SIGKILL);
      }
      ::waitpid(pid_, nullptr, WNOHANG);
    }
  }

  const std::string& endpoint() const { return endpoint_; }
  // s3rver itself, without the harness proxy (no fault injection).
  const std::string& directEndpoint() const { return direct_; }

  // Options for a store on this server with its own key prefix.
  storage::S3Options options(std::string prefix) const {
    storage::S3Options o;
    o.bucket = kBucket;
    o.region = "us-east-1";
    o.endpoint = endpoint_;
    o.access_key_id = access_key_id_;
    o.secret_access_key = secret_access_key_;
    o.prefix = std::move(prefix);
    o.part_size = storage::S3Options::kMinPartSize;
    o.retry.base_delay = std::chrono::milliseconds(5);
    o.retry.max_delay = std::chrono::milliseconds(50);
    return o;
  }

  // A prefix no other store of this process uses.
  static std::string uniquePrefix(std::string_view name) {
    static std::atomic<int> counter{0};
    return std::string(name) + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
           "/";
  }

  // Fault rules as JSON, see s3rver_harness.js; "[]" clears them.
  bool setFaults(const std::string& rules_json) {
    return control("POST", "/__harness/faults", rules_json).has_value();
  }
  bool reset() { return control("POST", "/__harness/reset", "").has_value(); }
  nlohmann::json stats() {
    auto text = control("GET", "/__harness/stats", "");
    return text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
  }
  int opCount(const std::string& op) {
    auto s = stats();
    return s.contains("ops") && s["ops"].contains(op) ? s["ops"][op].get<int>() : 0;
  }

 private:
  S3TestServer() = default;

  bool spawn(const std::string& node, const std::filesystem::path& script, std::string& why) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
      why = "pipe failed";
      return false;
    }
    std::string data = (dir_.path() / "s3").string();
    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::execlp(node.c_str(), node.c_str(), script.c_str(), data.c_str(), kBucket,
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_fd_ = in[1];
    std::string line;
    bool ok = readLine(out[0], line, std::chrono::seconds(30));
    ::close(out[0]);
    auto info = nlohmann::json::parse(line, nullptr, false);
    if (!ok || !info.is_object() || !info.contains("endpoint")) {
      why = "the S3 test server (" + node + " " + script.string() +
            ") did not start: is node installed? Run scripts/install-deps.sh. Its output: " +
            line;
      return false;
    }
    endpoint_ = info["endpoint"];
    direct_ = info["direct"];
    access_key_id_ = info["access_key_id"];
    secret_access_key_ = info["secret_access_key"];
    return true;
  }

  static bool readLine(int fd, std::string& line, std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    char c;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      ssize_t n = ::read(fd, &c, 1);
      if (n <= 0) return false;
      if (c == '\n') return true;
      line += c;
    }
    return false;
  }

  static std::size_t collect(char* data, std::size_t, std::size_t n, void* user) {
    static_cast<std::string*>(user)->append(data, n);
    return n;
  }

  std::optional<std::string> control(const char* method, const std::string& path,
                                     const std::string& body) {
    CURL* h = curl_easy_init();
    if (h == nullptr) return std::nullopt;
    std::string url = endpoint_ + path, response;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (std::string_view(method) == "POST") {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK || status != 200) return std::nullopt;
    return response;
  }

  TempDir dir_;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  std::string endpoint_, direct_, access_key_id_, secret_access_key_;
};

// The process's server, started on first use; nullptr (with the reason in
// sharedS3ServerError()) if it cannot start.
inline std::string& sharedS3ServerError() {
  static std::string why;
  return why;
}

inline S3TestServer* sharedS3Server() {
  static std::unique_ptr<S3TestServer> server = S3TestServer::start(sharedS3ServerError());
  return server.get();
}

}  // namespace garret::testing

// Fails the test with the reason the S3 server is missing.
#define GARRET_REQUIRE_S3(server)                                         \
  do {                                                                    \
    if ((server) == nullptr) FAIL() << ::garret::testing::sharedS3ServerError(); \
  } while (0)
