#include "client/push.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "support/fake_http_client.h"
#include "support/temp_dir.h"

namespace garret::client {
namespace {

using garret::testing::FakeHttpClient;
using garret::testing::jsonResponse;
using nlohmann::json;

const std::string kA = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a";
const std::string kB = "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b";
const std::string kC = "/nix/store/cccccccccccccccccccccccccccccccc-c";

// A store of regular files under a temp dir: c -> b -> a.
class FakeStore final : public LocalStore {
 public:
  explicit FakeStore(const std::filesystem::path& dir) : dir_(dir) {
    add(kA, "contents of a", {});
    add(kB, "contents of b", {kA});
    add(kC, "contents of c", {kB, kA});
  }
  void add(const std::string& path, const std::string& contents, std::vector<std::string> refs) {
    std::ofstream(physicalPath(path)) << contents;
    PathInfo info;
    info.path = path;
    info.references = std::move(refs);
    info.nar_hash = "sha256:" + std::string(64, '0');
    // NAR of a regular file: magic (24), "(" "type" "regular" "contents"
    // (4 × 16), the size (8), the padded contents, ")" (16).
    info.nar_size = 24 + 64 + 8 + ((contents.size() + 7) / 8) * 8 + 16;
    info.id = static_cast<std::int64_t>(infos_.size() + 1);
    infos_[path] = info;
  }
  PathInfo& info(const std::string& p) { return infos_.at(p); }

  Result<std::optional<PathInfo>> queryPathInfo(const std::string& path) override {
    auto it = infos_.find(path);
    if (it == infos_.end()) return std::optional<PathInfo>();
    return std::optional<PathInfo>(it->second);
  }
  Result<std::vector<PathInfo>> closure(const std::vector<std::string>&) override {
    return std::vector<PathInfo>{infos_.at(kA), infos_.at(kB), infos_.at(kC)};
  }
  Result<std::vector<PathInfo>> pathsAddedAfter(std::int64_t) override { return std::vector<PathInfo>{}; }
  Result<std::int64_t> lastPathId() override { return 3; }
  std::filesystem::path physicalPath(const std::string& path) const override {
    return dir_ / path.substr(path.rfind('/') + 1);
  }

 private:
  std::filesystem::path dir_;
  std::map<std::string, PathInfo> infos_;
};

json parse(const std::string& s) { return json::parse(s, nullptr, false); }

class PushTest : public ::testing::Test {
 protected:
  PushTest() : store_(dir_.path()) {
    options_.cache = "main";
    options_.jobs = 1;
    options_.retry.base_delay = std::chrono::milliseconds(1);
    options_.retry.max_delay = std::chrono::milliseconds(2);
  }
  PushSummary run(FakeHttpClient& http, const PushPlan& plan, PushObserver& observer) {
    auto make = [&http]() -> std::unique_ptr<HttpClient> {
      struct Forward final : HttpClient {
        explicit Forward(HttpClient& h) : h_(h) {}
        Result<HttpResponse> send(const HttpRequest& r) override { return h_.send(r); }
        HttpClient& h_;
      };
      return std::make_unique<Forward>(http);
    };
    return pushPaths(store_, make, "http://cache/", "tok", plan, options_, observer);
  }

  garret::testing::TempDir dir_;
  FakeStore store_;
  PushOptions options_;
};

TEST_F(PushTest, PlanSkipsPresentAndUpstreamSignedPaths) {
  store_.info(kA).sigs = {"cache.nixos.org-1:abc"};
  FakeHttpClient http([](const HttpRequest& r, const std::string& body) -> Result<HttpResponse> {
    if (r.url.ends_with("cache-config/main")) {
      return jsonResponse(200, R"({"upstream_cache_key_names":["cache.nixos.org-1"]})");
    }
    json req = parse(body);
    EXPECT_EQ(req["cache"], "main");
    EXPECT_EQ(req["store_path_hashes"].size(), 2u) << "a is upstream-signed, not asked about";
    return jsonResponse(200, R"({"missing_paths":["cccccccccccccccccccccccccccccccc"]})");
  });
  ApiClient api(http, "http://cache/", "tok");
  auto plan = planPush(store_, api, {kC}, "main", true);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->closure_size, 3u);
  EXPECT_EQ(plan->upstream_signed, 1u);
  EXPECT_EQ(plan->already_present, 1u);
  ASSERT_EQ(plan->to_push.size(), 1u);
  EXPECT_EQ(plan->to_push[0].path, kC);
  EXPECT_EQ(plan->bytes_to_push, store_.info(kC).nar_size);
}

TEST_F(PushTest, MissingPathsAreAskedInBatches) {
  int calls = 0;
  FakeHttpClient http([&](const HttpRequest&, const std::string& body) -> Result<HttpResponse> {
    ++calls;
    json req = parse(body);
    EXPECT_LE(req["store_path_hashes"].size(), 1000u);
    return jsonResponse(200, json{{"missing_paths", req["store_path_hashes"]}}.dump());
  });
  ApiClient api(http, "http://cache/", "");
  std::vector<std::string> hashes(2500, std::string(32, 'x'));
  auto missing = api.missingPaths("main", hashes);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->size(), 2500u);
  EXPECT_EQ(calls, 3);
}

class CountingObserver final : public PushObserver {
 public:
  void onRetry(const PathInfo&, int, const Error&, std::chrono::milliseconds) override { ++retries; }
  void onBytes(std::uint64_t n) override { bytes += n; }
  std::atomic<int> retries{0};
  std::atomic<std::uint64_t> bytes{0};
};

TEST_F(PushTest, UploadsStreamTheNarWithAtticsHeader) {
  FakeHttpClient http([](const HttpRequest&, const std::string&) -> Result<HttpResponse> {
    return jsonResponse(200, R"({"kind":"Uploaded","file_size":10,"frac_deduplicated":0.25})");
  });
  PushPlan plan;
  plan.to_push = {store_.info(kB)};
  CountingObserver obs;
  auto s = run(http, plan, obs);
  ASSERT_TRUE(s.failed.empty());
  EXPECT_EQ(s.uploaded, 1u);
  EXPECT_EQ(s.bytes_deduplicated, store_.info(kB).nar_size / 4);
  auto reqs = http.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const auto& r = reqs[0];
  EXPECT_EQ(r.request.method, "PUT");
  EXPECT_EQ(r.request.url, "http://cache/_api/v1/upload-path");
  EXPECT_EQ(r.body.size(), store_.info(kB).nar_size);
  EXPECT_EQ(r.body.substr(8, 13), "nix-archive-1");
  EXPECT_EQ(obs.bytes.load(), r.body.size());
  std::string info;
  for (const auto& h : r.request.headers) {
    if (h.name == "X-Attic-Nar-Info") info = h.value;
  }
  json j = parse(info);
  EXPECT_EQ(j["store_path"], kB);
  EXPECT_EQ(j["store_path_hash"], std::string(32, 'b'));
  EXPECT_EQ(j["references"], json::array({kA.substr(11)}));
  EXPECT_EQ(j["nar_size"], store_.info(kB).nar_size);
}

TEST_F(PushTest, LargeNarInfoGoesInAPreamble) {
  for (int i = 0; i < 100; ++i) store_.info(kB).sigs.push_back("key-" + std::to_string(i) + ":" + std::string(80, 's'));
  FakeHttpClient http([](const HttpRequest&, const std::string&) -> Result<HttpResponse> {
    return jsonResponse(200, R"({"kind":"Deduplicated"})");
  });
  PushPlan plan;
  plan.to_push = {store_.info(kB)};
  CountingObserver obs;
  auto s = run(http, plan, obs);
  EXPECT_EQ(s.deduplicated, 1u);
  auto r = http.requests().at(0);
  std::size_t preamble = 0;
  for (const auto& h : r.request.headers) {
    if (h.name == "X-Attic-Nar-Info-Preamble-Size") preamble = std::stoul(h.value);
    EXPECT_NE(h.name, "X-Attic-Nar-Info");
  }
  ASSERT_GE(preamble, 4096u);
  EXPECT_EQ(parse(r.body.substr(0, preamble))["store_path"], kB);
  EXPECT_EQ(r.body.size(), preamble + store_.info(kB).nar_size);
}

TEST_F(PushTest, TransientFailuresAreRetriedAndPermanentOnesAreNot) {
  std::atomic<int> calls{0};
  FakeHttpClient http([&](const HttpRequest&, const std::string& body) -> Result<HttpResponse> {
    int n = ++calls;
    if (body.find("contents of a") != std::string::npos) {
      return jsonResponse(400, R"({"code":400,"error":"RequestError","message":"NarHash mismatch"})");
    }
    if (n == 1) return makeError(ErrorCode::kUnavailable, "connection reset");
    if (n == 2) return jsonResponse(503, R"({"code":503,"error":"Unavailable","message":"busy"})");
    return jsonResponse(200, R"({"kind":"Uploaded"})");
  });
  PushPlan plan;
  plan.to_push = {store_.info(kB), store_.info(kA)};
  CountingObserver obs;
  auto s = run(http, plan, obs);
  EXPECT_EQ(s.uploaded, 1u);
  ASSERT_EQ(s.failed.size(), 1u);
  EXPECT_EQ(s.failed[0].first, kA);
  EXPECT_NE(s.failed[0].second.find("NarHash mismatch"), std::string::npos);
  EXPECT_EQ(obs.retries.load(), 2);
  EXPECT_EQ(calls.load(), 4) << "b: reset, 503, ok; a: one 400";
}

TEST_F(PushTest, GivesUpAfterItsAttempts) {
  FakeHttpClient http([](const HttpRequest&, const std::string&) -> Result<HttpResponse> {
    return makeError(ErrorCode::kUnavailable, "connection refused");
  });
  options_.retry.attempts = 3;
  PushPlan plan;
  plan.to_push = {store_.info(kA)};
  CountingObserver obs;
  auto s = run(http, plan, obs);
  ASSERT_EQ(s.failed.size(), 1u);
  EXPECT_EQ(http.requests().size(), 3u);
  EXPECT_EQ(s.failed[0].second, "connection refused");
}

TEST_F(PushTest, ParallelWorkersPushEverythingOnce) {
  FakeHttpClient http([](const HttpRequest&, const std::string&) -> Result<HttpResponse> {
    return jsonResponse(200, R"({"kind":"Uploaded"})");
  });
  options_.jobs = 3;
  PushPlan plan;
  plan.to_push = {store_.info(kA), store_.info(kB), store_.info(kC)};
  CountingObserver obs;
  auto s = run(http, plan, obs);
  EXPECT_EQ(s.uploaded, 3u);
  std::set<std::string> seen;
  for (const auto& r : http.requests()) seen.insert(parse(r.request.headers.back().value).value("store_path", ""));
  EXPECT_EQ(seen.size(), 3u);
}

TEST(RetryPolicyTest, ExponentialCappedWithJitter) {
  RetryPolicy p;
  p.base_delay = std::chrono::milliseconds(100);
  p.max_delay = std::chrono::milliseconds(1000);
  EXPECT_EQ(p.delayBefore(2, 0.5).count(), 100);
  EXPECT_EQ(p.delayBefore(3, 0.5).count(), 200);
  EXPECT_EQ(p.delayBefore(4, 0.5).count(), 400);
  EXPECT_EQ(p.delayBefore(10, 0.5).count(), 1000);
  EXPECT_EQ(p.delayBefore(2, 0.0).count(), 75);
  EXPECT_EQ(p.delayBefore(2, 0.999).count(), 124);
}

TEST(RetryPolicyTest, WhatIsRetryable) {
  EXPECT_TRUE(isRetryable(makeError(ErrorCode::kUnavailable, "")));
  EXPECT_FALSE(isRetryable(makeError(ErrorCode::kInvalidArgument, "")));
  EXPECT_FALSE(isRetryable(makeError(ErrorCode::kUnauthorized, "")));
  HttpResponse r;
  for (long s : {408L, 429L, 500L, 502L, 503L, 504L}) {
    r.status = s;
    EXPECT_TRUE(isTransient(Result<HttpResponse>(r))) << s;
    EXPECT_TRUE(isRetryable(responseError(r, "x"))) << s;
  }
  for (long s : {400L, 401L, 403L, 404L, 413L, 501L}) {
    r.status = s;
    EXPECT_FALSE(isTransient(Result<HttpResponse>(r))) << s;
  }
}

TEST(ApiClientTest, ErrorsCarryTheServersMessageAndAdvice) {
  HttpResponse r;
  r.status = 401;
  r.body = R"({"code":401,"error":"Unauthorized","message":"token expired"})";
  Error e = responseError(r, "GET http://c/x");
  EXPECT_EQ(e.code, ErrorCode::kUnauthorized);
  EXPECT_NE(e.message.find("Unauthorized: token expired"), std::string::npos);
  EXPECT_NE(e.message.find("garret login"), std::string::npos);
  r.status = 502;
  r.body = "<html>bad gateway</html>\n";
  EXPECT_NE(responseError(r, "x").message.find("HTTP 502 <html>bad gateway</html>"), std::string::npos);
}

}  // namespace
}  // namespace garret::client

namespace garret::client {
namespace {

TEST_F(PushTest, APathWhoseSizeDisagreesWithTheStoreFailsWithoutRetrying) {
  store_.info(kA).nar_size += 8;
  FakeHttpClient http([](const HttpRequest&, const std::string&) -> Result<HttpResponse> {
    return jsonResponse(200, R"({"kind":"Uploaded"})");
  });
  PushPlan plan;
  plan.to_push = {store_.info(kA)};
  CountingObserver obs;
  auto s = run(http, plan, obs);
  ASSERT_EQ(s.failed.size(), 1u);
  EXPECT_NE(s.failed[0].second.find("changed on disk"), std::string::npos);
  EXPECT_EQ(obs.retries.load(), 0);
}

}  // namespace
}  // namespace garret::client
