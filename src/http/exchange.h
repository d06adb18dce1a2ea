#pragma once

// Internal to the http layer: one request/response exchange on a
// connection, as handlers see it. Only server.cpp and handlers.cpp include
// this (it pulls in Beast).

#include <utility>  // before Asio's coroutine headers (Boost 1.74 + g++ 12)

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/stream.h"
#include "http/router.h"
#include "storage/blob_store.h"

namespace garret::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

using RequestHeader = bhttp::request<bhttp::empty_body>;

// A byte range of a blob; a response body may be several, back to back.
struct BlobPiece {
  storage::BlobReader* blob = nullptr;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

struct ExchangeLog {
  std::string cache;
  std::string subject;
  int status = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
};

class Exchange {
 public:
  struct Io;  // the connection's stream, buffer and parser
  Exchange(Io& io, const RequestHeader& req, asio::thread_pool& pool, int io_timeout,
           std::uint64_t max_body)
      : io_(io), req_(&req), pool_(pool), io_timeout_(io_timeout), max_body_(max_body) {}

  const RequestHeader& request() const { return *req_; }
  std::optional<std::string_view> header(bhttp::field f) const {
    auto it = req_->find(f);
    if (it == req_->end()) return std::nullopt;
    return std::string_view(it->value().data(), it->value().size());
  }
  bool isHead() const { return req_->method() == bhttp::verb::head; }

  // Reads the whole body (at most `limit` bytes, else kPayloadTooLarge).
  asio::awaitable<Result<std::string>> readBody(std::size_t limit);
  // Streams the body in pieces to `consume` (each call may offload work);
  // stops at the first error.
  asio::awaitable<Status> streamBody(
      const std::function<asio::awaitable<Status>(ByteSpan)>& consume);

  asio::awaitable<void> respond(int status, std::string_view content_type, std::string body);
  asio::awaitable<void> respondError(const Error& error);
  // Serves the concatenation of `pieces` (`size` bytes in all) honouring
  // Range; HEAD sends headers only.
  asio::awaitable<void> respondPieces(std::span<const BlobPiece> pieces, std::uint64_t size,
                                      std::string_view content_type);

  // Runs blocking `f` on the worker pool and resumes here with its result.
  template <class F>
  asio::awaitable<std::invoke_result_t<F&>> offload(F f) {
    std::optional<std::invoke_result_t<F&>> out;
    co_await asio::co_spawn(
        pool_,
        [&]() -> asio::awaitable<void> {
          out.emplace(f());
          co_return;
        },
        asio::use_awaitable);
    co_return std::move(*out);
  }

  ExchangeLog& log() { return log_; }
  bool keepAlive() const { return keep_alive_; }
  bool responded() const { return log_.status != 0; }

 private:
  asio::awaitable<Status> sendContinue();
  void keepHeader() {
    saved_.emplace(*req_);
    req_ = &*saved_;
  }
  // Writes the status line and headers (and `body` unless HEAD) in one write.
  asio::awaitable<void> writeHead(int status, std::string_view content_type,
                                  std::uint64_t content_length, std::string_view extra_headers,
                                  std::string_view body, bool more_follows = false);
  void armDeadline();
  asio::awaitable<Status> sendRange(storage::BlobReader& blob, std::uint64_t offset,
                                    std::uint64_t length);

  Io& io_;
  // The parser's header until the parser is converted to read the body,
  // then the copy in saved_.
  const RequestHeader* req_;
  std::optional<RequestHeader> saved_;
  asio::thread_pool& pool_;
  int io_timeout_;
  std::uint64_t max_body_;
  ExchangeLog log_;
  bool keep_alive_ = true;
  bool body_read_ = false;
};

}  // namespace garret::http

namespace garret::http {

// The connection as an exchange sees it. Timeouts are deadlines: before each
// socket operation the exchange moves `deadline`; the server's sweeper
// cancels the socket's operations once a deadline has passed.
struct Exchange::Io {
  asio::ip::tcp::socket& socket;
  beast::flat_buffer& buffer;
  bhttp::request_parser<bhttp::empty_body>& parser;
  std::chrono::steady_clock::time_point& deadline;
};

inline void Exchange::armDeadline() {
  io_.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(io_timeout_);
}

}  // namespace garret::http
