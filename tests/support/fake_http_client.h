#pragma once

// FakeHttpClient: an HttpClient that answers from a handler function and
// records every request (streamed bodies are read to the end, so uploads are
// observable). Thread-safe.
//
//   FakeHttpClient http([](const HttpRequest& r, const std::string& body) {
//     return HttpResponse{200, {}, "{}"};
//   });

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "client/http_client.h"

namespace garret::testing {

class FakeHttpClient final : public client::HttpClient {
 public:
  struct Recorded {
    client::HttpRequest request;  // without its body callbacks
    std::string body;             // the whole body, streamed or not
  };
  using Handler = std::function<Result<client::HttpResponse>(const client::HttpRequest&, const std::string& body)>;

  explicit FakeHttpClient(Handler handler) : handler_(std::move(handler)) {}

  Result<client::HttpResponse> send(const client::HttpRequest& request) override {
    std::string body = request.body;
    if (request.body_reader) {
      body.clear();
      char buf[4096];
      for (;;) {
        auto n = request.body_reader(buf, sizeof buf);
        if (!n.ok()) return n.error();
        if (*n == 0) break;
        body.append(buf, *n);
      }
    }
    Recorded rec{request, body};
    rec.request.body_reader = nullptr;
    rec.request.body_writer = nullptr;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(rec);
    }
    auto resp = handler_(request, body);
    if (resp.ok() && request.body_writer && resp->ok()) {
      Status s = request.body_writer(resp->body);
      if (!s.ok()) return s.error();
      resp->body.clear();
    }
    return resp;
  }

  std::vector<Recorded> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  Handler handler_;
  mutable std::mutex mu_;
  std::vector<Recorded> requests_;
};

inline client::HttpResponse jsonResponse(long status, std::string body) {
  client::HttpResponse r;
  r.status = status;
  r.headers.push_back({"Content-Type", "application/json"});
  r.body = std::move(body);
  return r;
}

}  // namespace garret::testing
