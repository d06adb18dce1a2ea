#pragma once

// FakeGitlab: tests/support/fake_gitlab.py (GitLab's pipelines, jobs, retry
// and CI variables API) on a free port for one test, stopped when the object
// dies. `url` is empty (and the test has failed) when it did not start.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "client/http_client.h"
#include "support/child_process.h"

namespace garret::testing {

struct FakeGitlab {
  std::unique_ptr<ChildProcess> process;
  std::string url;

  explicit FakeGitlab(std::vector<std::string> args = {}) {
    std::vector<std::string> argv = {"python3", std::string(GARRET_TEST_DATA_DIR) + "/../support/fake_gitlab.py"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string why;
    process = ChildProcess::start(argv, why);
    EXPECT_TRUE(process) << why;
    if (!process) return;
    auto port = process->waitForLine("listening ");
    EXPECT_TRUE(port) << "fake_gitlab.py did not start";
    if (port) url = "http://127.0.0.1:" + *port;
  }

  // The fake's counters and variables (GET /__state).
  nlohmann::json state() {
    auto http = client::makeCurlHttpClient();
    client::HttpRequest req;
    req.url = url + "/__state";
    auto r = http->send(req);
    EXPECT_TRUE(r.ok() && r->ok());
    return r.ok() ? nlohmann::json::parse(r->body, nullptr, false) : nlohmann::json();
  }
};

}  // namespace garret::testing
