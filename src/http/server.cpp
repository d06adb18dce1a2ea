#include "http/server.h"

#include <sys/sendfile.h>

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "http/exchange.h"
#include "http/handlers.h"
#include "http/range.h"
#include "http/status.h"

namespace garret::http {

using tcp = asio::ip::tcp;
using asio::use_awaitable;
using std::chrono::seconds;

// ---- Exchange I/O

asio::awaitable<Status> Exchange::sendContinue() {
  auto expect = header(bhttp::field::expect);
  if (!expect || !beast::iequals(*expect, "100-continue")) co_return Status();
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  beast::error_code ec;
  armDeadline();
  co_await asio::async_write(io_.socket, asio::buffer(kContinue.data(), kContinue.size()),
                             asio::redirect_error(use_awaitable, ec));
  if (ec) co_return makeError(ErrorCode::kIo, "writing 100 Continue: " + ec.message());
  co_return Status();
}

namespace {

Error readError(const beast::error_code& ec) {
  if (ec == bhttp::error::body_limit) {
    return makeError(ErrorCode::kPayloadTooLarge, "request body exceeds the size limit");
  }
  if (ec == asio::error::operation_aborted) {
    return makeError(ErrorCode::kInvalidArgument, "timed out reading the request body");
  }
  return makeError(ErrorCode::kInvalidArgument, "reading request body: " + ec.message());
}

}  // namespace

asio::awaitable<Result<std::string>> Exchange::readBody(std::size_t limit) {
  if (req_->has_content_length() && io_.parser.content_length() &&
      *io_.parser.content_length() > limit) {
    keep_alive_ = false;
    co_return makeError(ErrorCode::kPayloadTooLarge, "request body exceeds the size limit");
  }
  Status cont = co_await sendContinue();
  if (!cont.ok()) co_return cont.error();
  keepHeader();
  bhttp::request_parser<bhttp::string_body> p(std::move(io_.parser));
  p.body_limit(limit);
  beast::error_code ec;
  armDeadline();
  co_await bhttp::async_read(io_.socket, io_.buffer, p, asio::redirect_error(use_awaitable, ec));
  body_read_ = true;
  if (ec) {
    keep_alive_ = false;
    co_return readError(ec);
  }
  log_.bytes_in += p.get().body().size();
  co_return std::move(p.get().body());
}

asio::awaitable<Status> Exchange::streamBody(
    const std::function<asio::awaitable<Status>(ByteSpan)>& consume) {
  if (io_.parser.content_length() && *io_.parser.content_length() > max_body_) {
    keep_alive_ = false;
    co_return makeError(ErrorCode::kPayloadTooLarge, "request body exceeds the size limit");
  }
  Status cont = co_await sendContinue();
  if (!cont.ok()) co_return cont;
  keepHeader();
  bhttp::request_parser<bhttp::buffer_body> p(std::move(io_.parser));
  p.body_limit(max_body_);
  std::vector<std::uint8_t> buf(256 * 1024);
  body_read_ = true;
  while (!p.is_done()) {
    p.get().body().data = buf.data();
    p.get().body().size = buf.size();
    beast::error_code ec;
    armDeadline();
    co_await bhttp::async_read(io_.socket, io_.buffer, p, asio::redirect_error(use_awaitable, ec));
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      keep_alive_ = false;
      co_return readError(ec);
    }
    std::size_t n = buf.size() - p.get().body().size;
    log_.bytes_in += n;
    if (n == 0) continue;
    Status s = co_await consume(ByteSpan(buf.data(), n));
    if (!s.ok()) {
      keep_alive_ = false;
      co_return s;
    }
  }
  co_return Status();
}

namespace {

bool requestHasBody(const RequestHeader& req) {
  if (req.chunked()) return true;
  auto it = req.find(bhttp::field::content_length);
  return it != req.end() && it->value() != "0";
}

}  // namespace

asio::awaitable<void> Exchange::writeHead(int status, std::string_view content_type,
                                          std::uint64_t content_length,
                                          std::string_view extra_headers, std::string_view body,
                                          bool more_follows) {
  if (!body_read_ && requestHasBody(*req_)) keep_alive_ = false;  // unread body: cannot reuse
  keep_alive_ = keep_alive_ && req_->keep_alive();
  log_.status = status;
  std::string head;
  head.reserve(192 + extra_headers.size());
  head += req_->version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  head += std::to_string(status);
  head += ' ';
  auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  head.append(reason.data(), reason.size());
  head += "\r\nServer: garret\r\n";
  if (!content_type.empty()) {
    head += "Content-Type: ";
    head += content_type;
    head += "\r\n";
  }
  head += "Content-Length: ";
  head += std::to_string(content_length);
  head += "\r\n";
  head += extra_headers;
  if (!keep_alive_) {
    head += "Connection: close\r\n";
  } else if (req_->version() == 10) {
    head += "Connection: keep-alive\r\n";
  }
  head += "\r\n";
  std::array<asio::const_buffer, 2> buffers = {asio::buffer(head),
                                               asio::buffer(body.data(), body.size())};
  // Try the send right away (the socket is non-blocking): most responses
  // fit the socket buffer, and then no reactor round trip is needed. With
  // more_follows the kernel holds the head back for the sendfile() data.
  beast::error_code ec;
  std::size_t total = head.size() + body.size();
  std::size_t sent = io_.socket.send(buffers, more_follows ? MSG_MORE : 0, ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    ec = {};
    sent = 0;
  }
  if (!ec && sent < total) {
    beast::buffers_suffix<std::array<asio::const_buffer, 2>> rest(buffers);
    rest.consume(sent);
    armDeadline();
    co_await asio::async_write(io_.socket, rest, asio::redirect_error(use_awaitable, ec));
  }
  if (ec) keep_alive_ = false;
  log_.bytes_out += body.size();
}

asio::awaitable<void> Exchange::respond(int status, std::string_view content_type,
                                        std::string body) {
  std::string_view sent = isHead() ? std::string_view() : std::string_view(body);
  co_await writeHead(status, content_type, body.size(), "", sent);
}

asio::awaitable<void> Exchange::respondError(const Error& error) {
  int status = httpStatus(error.code);
  if (status >= 500) spdlog::error("{} {}: {}", req_->method_string(), req_->target(), error.message);
  co_await respond(status, "application/json", errorBody(error));
}

asio::awaitable<void> Exchange::respondPieces(std::span<const BlobPiece> pieces,
                                              std::uint64_t size, std::string_view content_type) {
  RangeDecision d = decideRange(header(bhttp::field::range), size);
  if (d.kind == RangeKind::kUnsatisfiable) {
    co_return co_await writeHead(416, "", 0, "Content-Range: bytes */" + std::to_string(size) + "\r\n", "");
  }
  ByteRange r = d.kind == RangeKind::kPartial ? d.range : ByteRange{0, size};
  std::string extra = "Accept-Ranges: bytes\r\n";
  if (d.kind == RangeKind::kPartial) {
    extra += "Content-Range: bytes " + std::to_string(r.start) + "-" +
             std::to_string(r.start + r.length - 1) + "/" + std::to_string(size) + "\r\n";
  }
  co_await writeHead(d.kind == RangeKind::kPartial ? 206 : 200, content_type, r.length, extra, "",
                     !isHead() && r.length > 0);
  if (isHead() || r.length == 0 || log_.status == 0) co_return;
  std::vector<std::uint64_t> lengths;
  lengths.reserve(pieces.size());
  for (const BlobPiece& p : pieces) lengths.push_back(p.length);
  Status s;
  std::uint64_t left = r.length;
  for (const PieceSlice& slice : slicePieces(lengths, r)) {
    const BlobPiece& p = pieces[slice.index];
    s = co_await sendRange(*p.blob, p.offset + slice.offset, slice.length);
    if (!s.ok()) break;
    left -= slice.length;
  }
  if (s.ok() && left != 0) s = makeError(ErrorCode::kIo, "NAR pieces shorter than its size");
  if (!s.ok()) {
    keep_alive_ = false;
    spdlog::warn("{} {}: sending body: {}", req_->method_string(), req_->target(), s.error().message);
  }
}

asio::awaitable<Status> Exchange::sendRange(storage::BlobReader& blob, std::uint64_t offset,
                                            std::uint64_t length) {
  auto& sock = io_.socket;
  int fd = blob.nativeHandle();
  if (fd >= 0) {
    // Zero-copy from the page cache; wait for writability when the socket
    // buffer is full, giving up after io_timeout_ without progress.
    sock.native_non_blocking(true);
    off_t off = static_cast<off_t>(offset);
    while (length > 0) {
      ssize_t n = ::sendfile(sock.native_handle(), fd, &off, std::min<std::uint64_t>(length, 1 << 30));
      if (n > 0) {
        length -= n;
        log_.bytes_out += n;
        continue;
      }
      if (n == 0) co_return makeError(ErrorCode::kIo, "blob shorter than its recorded size");
      if (errno == EINTR) continue;
      if (errno != EAGAIN) co_return makeError(ErrorCode::kIo, std::strerror(errno));
      armDeadline();
      beast::error_code ec;
      co_await sock.async_wait(tcp::socket::wait_write, asio::redirect_error(use_awaitable, ec));
      if (ec) co_return makeError(ErrorCode::kIo, "client stopped reading: " + ec.message());
    }
    co_return Status();
  }
  std::vector<std::uint8_t> buf(256 * 1024);
  while (length > 0) {
    std::size_t want = std::min<std::uint64_t>(length, buf.size());
    auto n = co_await offload([&] { return blob.read(offset, buf.data(), want); });
    if (!n.ok()) co_return n.error();
    if (*n == 0) co_return makeError(ErrorCode::kIo, "blob shorter than its recorded size");
    beast::error_code ec;
    armDeadline();
    co_await asio::async_write(io_.socket, asio::buffer(buf.data(), *n),
                               asio::redirect_error(use_awaitable, ec));
    if (ec) co_return makeError(ErrorCode::kIo, "client stopped reading: " + ec.message());
    offset += *n;
    length -= *n;
    log_.bytes_out += *n;
  }
  co_return Status();
}

// ---- Server

struct Server::Impl {
  Impl(ServerOptions o, cache::CacheService& s, const cache::Authenticator& a, Metrics& m)
      : options(std::move(o)),
        service(s),
        metrics(m),
        pool(static_cast<std::size_t>(options.worker_threads)),
        acceptor(ioc),
        ctx{options, s, a, m} {}

  class Connection;
  asio::awaitable<void> acceptLoop();
  asio::awaitable<void> flushLoop();
  asio::awaitable<void> sweepLoop();
  asio::awaitable<void> drain();
  void doStop();

  ServerOptions options;
  cache::CacheService& service;
  Metrics& metrics;
  asio::io_context ioc;
  asio::thread_pool pool;
  tcp::acceptor acceptor;
  HandlerContext ctx;
  asio::steady_timer flush_timer{ioc};
  asio::signal_set signals{ioc};
  std::atomic<bool> stopping{false};
  std::mutex conns_mu;
  std::set<std::shared_ptr<Connection>> conns;
};

class Server::Impl::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Impl& server, tcp::socket socket) : s_(server), socket_(std::move(socket)) {}

  asio::awaitable<void> run();
  tcp::socket::executor_type executor() { return socket_.get_executor(); }
  // Closes the connection if it is waiting for a next request.
  void closeIfIdle() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      if (self->idle_) self->socket_.cancel();
    });
  }
  // Cancels the pending operation if its deadline has passed.
  void sweep(std::chrono::steady_clock::time_point now) {
    asio::post(socket_.get_executor(), [self = shared_from_this(), now] {
      if (now > self->deadline_) self->socket_.cancel();
    });
  }

 private:
  asio::awaitable<bool> serveOne();

  Impl& s_;
  tcp::socket socket_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  beast::flat_buffer buffer_;
  bool idle_ = false;
  std::string peer_;
};

asio::awaitable<bool> Server::Impl::Connection::serveOne() {
  bhttp::request_parser<bhttp::empty_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(s_.options.max_header_size));
  parser.body_limit(s_.options.max_body_size);
  idle_ = true;
  if (s_.stopping) co_return false;
  deadline_ = std::chrono::steady_clock::now() + seconds(s_.options.idle_timeout_seconds);
  beast::error_code ec;
  co_await bhttp::async_read_header(socket_, buffer_, parser,
                                    asio::redirect_error(use_awaitable, ec));
  idle_ = false;
  if (ec == bhttp::error::header_limit) {
    bhttp::response<bhttp::string_body> res{bhttp::status::request_header_fields_too_large, 11};
    res.body() = errorBody(makeError(ErrorCode::kPayloadTooLarge, "request header too large"));
    res.prepare_payload();
    res.keep_alive(false);
    co_await bhttp::async_write(socket_, res, asio::redirect_error(use_awaitable, ec));
    co_return false;
  }
  if (ec) co_return false;
  auto start = std::chrono::steady_clock::now();
  Exchange::Io io{socket_, buffer_, parser, deadline_};
  Exchange ex(io, parser.get(), s_.pool, s_.options.io_timeout_seconds, s_.options.max_body_size);
  co_await handleRequest(s_.ctx, ex);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto& log = ex.log();
  const auto& req = ex.request();
  auto route = matchRoute(std::string_view(req.target().data(), req.target().size()));
  s_.metrics.observeRequest(route.ok() ? routeName(route->id) : "unmatched", log.status, secs,
                            log.bytes_in, log.bytes_out);
  if (spdlog::should_log(spdlog::level::info)) {
    spdlog::info("request method={} path={} status={} ms={:.2f} in={} out={} cache={} sub={} peer={}",
                 req.method_string(), req.target(), log.status, secs * 1000, log.bytes_in,
                 log.bytes_out, log.cache.empty() ? "-" : log.cache,
                 log.subject.empty() ? "-" : log.subject, peer_);
  }
  co_return ex.keepAlive() && !s_.stopping;
}

asio::awaitable<void> Server::Impl::Connection::run() {
  auto self = shared_from_this();
  s_.metrics.connectionOpened();
  beast::error_code ignored;
  auto ep = socket_.remote_endpoint(ignored);
  peer_ = ep.address().to_string();
  socket_.non_blocking(true, ignored);
  try {
    while (co_await serveOne()) {
    }
  } catch (const std::exception& e) {
    spdlog::error("connection from {} failed: {}", peer_, e.what());
  }
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  socket_.close(ignored);
  s_.metrics.connectionClosed();
  std::lock_guard lock(s_.conns_mu);
  s_.conns.erase(self);
}

asio::awaitable<void> Server::Impl::acceptLoop() {
  while (!stopping) {
    beast::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(
        asio::make_strand(ioc), asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (stopping || ec == asio::error::operation_aborted) break;
      spdlog::warn("accept failed: {}", ec.message());
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto conn = std::make_shared<Connection>(*this, std::move(socket));
    {
      std::lock_guard lock(conns_mu);
      conns.insert(conn);
    }
    asio::co_spawn(conn->executor(), conn->run(), asio::detached);
  }
}

asio::awaitable<void> Server::Impl::flushLoop() {
  auto& timer = flush_timer;
  while (!stopping) {
    timer.expires_after(seconds(options.access_flush_seconds));
    beast::error_code ec;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
    Status s = co_await asio::co_spawn(
        pool, [this]() -> asio::awaitable<Status> { co_return service.flushAccesses(); },
        use_awaitable);
    if (!s.ok()) spdlog::warn("recording accesses failed: {}", s.error().message);
  }
}

// Enforces I/O deadlines: one coarse timer for all connections instead of
// a timer armed and cancelled around every socket operation.
asio::awaitable<void> Server::Impl::sweepLoop() {
  asio::steady_timer timer(ioc);
  while (!stopping) {
    timer.expires_after(std::chrono::milliseconds(500));
    beast::error_code ec;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(conns_mu);
    for (const auto& c : conns) c->sweep(now);
  }
}

// Waits for connections to finish, at most the grace period.
asio::awaitable<void> Server::Impl::drain() {
  asio::steady_timer timer(ioc);
  auto deadline = std::chrono::steady_clock::now() + seconds(options.shutdown_grace_seconds);
  for (;;) {
    {
      std::lock_guard lock(conns_mu);
      if (conns.empty()) co_return;
      for (const auto& c : conns) c->closeIfIdle();
    }
    if (std::chrono::steady_clock::now() > deadline) {
      spdlog::warn("shutdown grace period over; closing remaining connections");
      ioc.stop();
      co_return;
    }
    timer.expires_after(std::chrono::milliseconds(50));
    co_await timer.async_wait(use_awaitable);
  }
}

void Server::Impl::doStop() {
  if (stopping.exchange(true)) return;
  spdlog::info("stopping: finishing requests in flight");
  beast::error_code ec;
  acceptor.close(ec);
  flush_timer.cancel();
  signals.cancel();
  asio::co_spawn(ioc, drain(), asio::detached);
}

Server::Server(ServerOptions options, cache::CacheService& service,
               const cache::Authenticator& authenticator, Metrics& metrics) {
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (options.threads <= 0) options.threads = static_cast<int>(cores);
  if (options.worker_threads <= 0) options.worker_threads = static_cast<int>(std::max(4u, 2 * cores));
  impl_ = std::make_unique<Impl>(std::move(options), service, authenticator, metrics);
}

Server::~Server() = default;

namespace {

Result<tcp::endpoint> parseListen(std::string_view listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string_view::npos) return invalid("listen must be host:port: " + std::string(listen));
  std::string host(listen.substr(0, colon));
  std::string port_text(listen.substr(colon + 1));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return invalid("listen: invalid address \"" + host + "\"");
  char* end = nullptr;
  long port = std::strtol(port_text.c_str(), &end, 10);
  if (port_text.empty() || *end != '\0' || port < 0 || port > 65535) {
    return invalid("listen: invalid port \"" + port_text + "\"");
  }
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

}  // namespace

Result<std::uint16_t> Server::bind() {
  GARRET_ASSIGN_OR_RETURN(tcp::endpoint endpoint, parseListen(impl_->options.listen));
  auto& acceptor = impl_->acceptor;
  beast::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return makeError(ErrorCode::kIo, "cannot listen on " + impl_->options.listen + ": " +
                                         ec.message() +
                                         " (choose another address with --listen or GARRET_LISTEN)");
  }
  return acceptor.local_endpoint().port();
}

void Server::run(bool handle_signals) {
  Impl& s = *impl_;
  if (handle_signals) {
    s.signals.add(SIGINT);
    s.signals.add(SIGTERM);
    s.signals.async_wait([this](const beast::error_code& ec, int) {
      if (!ec) impl_->doStop();
    });
  }
  asio::co_spawn(s.ioc, s.acceptLoop(), asio::detached);
  asio::co_spawn(s.ioc, s.flushLoop(), asio::detached);
  asio::co_spawn(s.ioc, s.sweepLoop(), asio::detached);
  std::vector<std::thread> threads;
  for (int i = 1; i < s.options.threads; ++i) threads.emplace_back([&s] { s.ioc.run(); });
  s.ioc.run();
  for (auto& t : threads) t.join();
  s.pool.join();
  Status flushed = s.service.flushAccesses();
  if (!flushed.ok()) spdlog::warn("recording accesses failed: {}", flushed.error().message);
  spdlog::info("stopped");
}

void Server::stop() {
  asio::post(impl_->ioc, [this] { impl_->doStop(); });
}

}  // namespace garret::http
