#include "http/handlers.h"

#include <spdlog/spdlog.h>

#include "cache/access.h"
#include "core/narinfo.h"
#include "http/api_json.h"
#include "http/status.h"

namespace garret::http {

namespace {

using asio::awaitable;
using bhttp::verb;
using cache::CachePtr;

constexpr std::string_view kNarInfoType = "text/x-nix-narinfo";
constexpr std::string_view kCacheInfoType = "text/x-nix-cache-info";
constexpr std::string_view kNarType = "application/x-nix-nar";
constexpr std::string_view kJsonType = "application/json";

// X-Garret-Pin: 1 (or true) on a push pins the path (never collected).
bool wantsPin(Exchange& ex) {
  auto v = ex.request().find("X-Garret-Pin");
  if (v == ex.request().end()) return false;
  std::string_view s(v->value().data(), v->value().size());
  return s == "1" || s == "true" || s == "yes";
}

Error methodNotAllowed() {
  return makeError(ErrorCode::kInvalidArgument, "method not allowed on this path");
}

// Identifies the caller, loads the cache and checks `needed`. Refusals are
// logged with their reason (Nix shows a 401 on a narinfo only as a miss).
awaitable<Result<CachePtr>> authorize(HandlerContext& ctx, Exchange& ex, const std::string& name,
                                      auth::Permissions needed, bool treat_as_existing = false) {
  cache::Identity who = ctx.authenticator.identify(ex.header(bhttp::field::authorization));
  ex.log().cache = name;
  ex.log().subject = who.subject();
  CachePtr cache = ctx.service.cachedCache(name);
  if (!cache) {
    auto found = co_await ex.offload([&] { return ctx.service.findCache(name); });
    if (!found.ok()) co_return found.error();
    cache = *found;
  }
  bool exists = cache != nullptr || treat_as_existing;
  Status s = cache::checkAccess(who, name, exists, cache && cache->record.is_public, needed);
  if (!s.ok()) {
    if (s.error().code == ErrorCode::kUnauthorized || s.error().code == ErrorCode::kForbidden) {
      ctx.metrics.countAuthFailure();
      spdlog::warn("refused {} {} (subject {}): {}", ex.request().method_string(),
                   ex.request().target(), who.subject().empty() ? "anonymous" : who.subject(),
                   s.error().message);
    }
    co_return s.error();
  }
  co_return cache;
}

// The binary-cache routes: GET/HEAD need pull, PUT needs push, nothing else.
awaitable<Result<CachePtr>> authorizeCacheRoute(HandlerContext& ctx, Exchange& ex,
                                                const Route& r) {
  verb m = ex.request().method();
  if (m != verb::put && m != verb::get && m != verb::head) co_return methodNotAllowed();
  co_return co_await authorize(ctx, ex, r.cache, m == verb::put ? auth::kPush : auth::kPull);
}

std::string baseUrl(HandlerContext& ctx, Exchange& ex, bool substituter) {
  const auto& o = ctx.options;
  if (substituter && o.substituter_endpoint) return *o.substituter_endpoint;
  if (o.api_endpoint) return *o.api_endpoint;
  auto forwarded = ex.request().find("X-Forwarded-Proto");
  std::string scheme = forwarded != ex.request().end() ? std::string(forwarded->value()) : "http";
  std::string host(ex.header(bhttp::field::host).value_or("localhost"));
  return scheme + "://" + host + "/";
}

awaitable<void> handleCacheInfo(HandlerContext& ctx, Exchange& ex, const Route& r) {
  verb m = ex.request().method();
  bool put = m == verb::put;
  auto cache = co_await authorizeCacheRoute(ctx, ex, r);
  if (!cache.ok()) co_return co_await ex.respondError(cache.error());
  if (put) {  // Nix writes this when it thinks the cache is new; ours is fixed.
    auto body = co_await ex.readBody(64 * 1024);
    if (!body.ok()) co_return co_await ex.respondError(body.error());
    co_return co_await ex.respond(200, "text/plain", "");
  }
  const auto& rec = (*cache)->record;
  co_await ex.respond(200, kCacheInfoType, renderCacheInfo(rec.store_dir, rec.priority));
}

awaitable<void> putNarInfo(HandlerContext& ctx, Exchange& ex, const Route& r, CachePtr cache) {
  auto body = co_await ex.readBody(ctx.options.max_nar_info_size);
  if (!body.ok()) co_return co_await ex.respondError(body.error());
  std::string uploader = ex.log().subject;
  bool pin = wantsPin(ex);
  Status s = co_await ex.offload(
      [&] { return ctx.service.putNarInfo(*cache, r.arg, *body, uploader, pin); });
  ctx.metrics.countUpload(s.ok());
  if (!s.ok()) co_return co_await ex.respondError(s.error());
  co_await ex.respond(200, "text/plain", "");
}

awaitable<void> handleNarInfo(HandlerContext& ctx, Exchange& ex, const Route& r) {
  verb m = ex.request().method();
  bool put = m == verb::put;
  auto cache = co_await authorizeCacheRoute(ctx, ex, r);
  if (!cache.ok()) co_return co_await ex.respondError(cache.error());
  if (put) co_return co_await putNarInfo(ctx, ex, r, *cache);
  std::string text;
  cache::Lookup found = ctx.service.cachedNarInfo(**cache, r.arg, &text);
  if (found == cache::Lookup::kUnknown) {
    auto loaded = co_await ex.offload([&] { return ctx.service.narInfo(**cache, r.arg); });
    if (!loaded.ok()) co_return co_await ex.respondError(loaded.error());
    found = *loaded ? cache::Lookup::kFound : cache::Lookup::kMissing;
    if (*loaded) text = std::move(**loaded);
  }
  if (found == cache::Lookup::kMissing) {
    // The hottest error: Attic's body without a JSON library round trip
    // (cache names need no escaping).
    co_return co_await ex.respond(
        404, kJsonType,
        R"({"code":404,"error":"NotFound","message":"no such path in cache )" + r.cache + "\"}\n");
  }
  if (m == verb::get) ctx.service.recordAccess(**cache, r.arg);
  co_await ex.respond(200, kNarInfoType, std::move(text));
}

awaitable<void> putNar(HandlerContext& ctx, Exchange& ex, const Route& r, CachePtr cache) {
  auto ingest = co_await ex.offload([&] { return ctx.service.beginNarUpload(*cache, r.arg); });
  if (!ingest.ok()) co_return co_await ex.respondError(ingest.error());
  cache::NarIngest& in = **ingest;
  Status s = co_await ex.streamBody([&](ByteSpan data) -> awaitable<Status> {
    co_return co_await ex.offload([&] { return in.write(data); });
  });
  if (s.ok()) {
    s = co_await ex.offload([&]() -> Status {
      GARRET_TRY(in.finish());
      return ctx.service.completeNarUpload(*cache, r.arg, in);
    });
  }
  // Dropping an uncommitted ingest deletes its partial blob; do it off the network thread.
  co_await ex.offload([&] {
    ingest->reset();
    return 0;
  });
  ctx.metrics.countUpload(s.ok());
  if (!s.ok()) co_return co_await ex.respondError(s.error().context("rejected NAR upload"));
  co_await ex.respond(200, "text/plain", "");
}

awaitable<void> handleNar(HandlerContext& ctx, Exchange& ex, const Route& r) {
  verb m = ex.request().method();
  bool put = m == verb::put;
  auto cache = co_await authorizeCacheRoute(ctx, ex, r);
  if (!cache.ok()) co_return co_await ex.respondError(cache.error());
  if (put) co_return co_await putNar(ctx, ex, r, *cache);
  auto& svc = ctx.service;
  // The hot path (NAR and layout cached, local storage) opens inline;
  // anything that may block goes to the worker pool.
  std::optional<Result<cache::OpenNar>> opened;
  std::int64_t nar_id = 0;
  if (auto known = svc.cachedNar(**cache, r.arg)) {
    nar_id = known->id;
    opened = svc.openNarCached(*known);
  }
  bool inline_io = opened.has_value();
  if (!opened) {
    opened = co_await ex.offload([&]() -> Result<cache::OpenNar> {
      GARRET_ASSIGN_OR_RETURN(auto nar, svc.narForFile(**cache, r.arg));
      if (!nar) return notFound("no such NAR in cache " + r.cache);
      nar_id = nar->id;
      return svc.openNar(*nar);
    });
  }
  if (!opened->ok()) co_return co_await ex.respondError(opened->error());
  if (m == verb::get) svc.recordNarAccess(**cache, nar_id);
  std::vector<BlobPiece> pieces;
  for (const auto& p : (*opened)->pieces) pieces.push_back(BlobPiece{p.blob.get(), p.offset, p.length});
  co_await ex.respondPieces(pieces, (*opened)->size, kNarType);
  if (!inline_io) {  // closing may be a network call for remote stores
    co_await ex.offload([&] {
      opened.reset();
      return 0;
    });
  }
}

awaitable<void> handlePins(HandlerContext& ctx, Exchange& ex, const Route& r) {
  verb m = ex.request().method();
  bool list = m == verb::get && r.arg.empty();
  bool change = (m == verb::put || m == verb::delete_) && !r.arg.empty();
  if (!list && !change) co_return co_await ex.respondError(methodNotAllowed());
  auto cache = co_await authorize(ctx, ex, r.cache, list ? auth::kPull : auth::kPush);
  if (!cache.ok()) co_return co_await ex.respondError(cache.error());
  if (list) {
    auto pinned = co_await ex.offload([&] { return ctx.service.listPinned(**cache); });
    if (!pinned.ok()) co_return co_await ex.respondError(pinned.error());
    co_return co_await ex.respond(200, kJsonType, renderPins(*pinned));
  }
  bool pin = m == verb::put;
  Status s = co_await ex.offload([&] { return ctx.service.setPinned(**cache, r.arg, pin); });
  if (!s.ok()) co_return co_await ex.respondError(s.error());
  co_await ex.respond(200, kJsonType, "");
}

// GET /_api/v1/caches: the caches the caller may pull from (public ones for
// anonymous callers), so a client can list them without knowing names.
awaitable<void> handleListCaches(HandlerContext& ctx, Exchange& ex) {
  if (ex.request().method() != verb::get) co_return co_await ex.respondError(methodNotAllowed());
  cache::Identity who = ctx.authenticator.identify(ex.header(bhttp::field::authorization));
  ex.log().subject = who.subject();
  auto all = co_await ex.offload([&] { return ctx.service.listCaches(); });
  if (!all.ok()) co_return co_await ex.respondError(all.error());
  std::vector<CachePtr> visible;
  for (const CachePtr& c : *all) {
    if (cache::checkAccess(who, c->record.name, true, c->record.is_public, auth::kPull).ok()) {
      visible.push_back(c);
    }
  }
  co_await ex.respond(200, kJsonType, renderCacheList(visible, baseUrl(ctx, ex, true)));
}

awaitable<void> handleCacheConfig(HandlerContext& ctx, Exchange& ex, const Route& r) {
  verb m = ex.request().method();
  auto& svc = ctx.service;
  if (r.id == RouteId::kAtticCacheInfo && m != verb::get && m != verb::head) {
    co_return co_await ex.respondError(methodNotAllowed());
  }
  if (m == verb::get || m == verb::head) {
    auto cache = co_await authorize(ctx, ex, r.cache, auth::kPull);
    if (!cache.ok()) co_return co_await ex.respondError(cache.error());
    co_return co_await ex.respond(
        200, kJsonType, renderCacheConfig(**cache, baseUrl(ctx, ex, false), baseUrl(ctx, ex, true)));
  }
  // (GCC 12 miscompiles co_await inside a conditional expression.)
  Result<std::string> body = std::string();
  if (m != verb::delete_) body = co_await ex.readBody(ctx.options.max_nar_info_size);
  if (!body.ok()) co_return co_await ex.respondError(body.error());
  Status s;
  if (m == verb::post) {
    auto settings = parseCreateCacheRequest(*body);
    auto cache = co_await authorize(ctx, ex, r.cache, auth::kCreateCache, true);
    if (!cache.ok()) co_return co_await ex.respondError(cache.error());
    if (!settings.ok()) co_return co_await ex.respondError(settings.error());
    if (*cache) co_return co_await ex.respondError(makeError(ErrorCode::kAlreadyExists, "cache " + r.cache + " already exists"));
    auto created = co_await ex.offload([&] { return svc.createCache(r.cache, *settings); });
    if (!created.ok()) s = created.error();
  } else if (m == verb::patch) {
    auto settings = parseCacheConfigPatch(*body);
    auth::Permissions needed = auth::kConfigureCache;
    if (settings.ok() && settings->retention_period) needed |= auth::kConfigureRetention;
    auto cache = co_await authorize(ctx, ex, r.cache, needed);
    if (!cache.ok()) co_return co_await ex.respondError(cache.error());
    if (!settings.ok()) co_return co_await ex.respondError(settings.error());
    auto updated = co_await ex.offload([&] { return svc.updateCache(r.cache, *settings); });
    if (!updated.ok()) s = updated.error();
  } else if (m == verb::delete_) {
    auto cache = co_await authorize(ctx, ex, r.cache, auth::kDestroyCache);
    if (!cache.ok()) co_return co_await ex.respondError(cache.error());
    s = co_await ex.offload([&] { return svc.deleteCache(r.cache); });
  } else {
    co_return co_await ex.respondError(methodNotAllowed());
  }
  if (!s.ok()) co_return co_await ex.respondError(s.error());
  co_await ex.respond(200, kJsonType, "");
}

awaitable<void> handleGetMissingPaths(HandlerContext& ctx, Exchange& ex) {
  if (ex.request().method() != verb::post) co_return co_await ex.respondError(methodNotAllowed());
  auto body = co_await ex.readBody(ctx.options.max_nar_info_size);
  if (!body.ok()) co_return co_await ex.respondError(body.error());
  auto req = parseMissingPathsRequest(*body);
  if (!req.ok()) co_return co_await ex.respondError(req.error());
  auto cache = co_await authorize(ctx, ex, req->cache, auth::kPush);
  if (!cache.ok()) co_return co_await ex.respondError(cache.error());
  auto missing = co_await ex.offload(
      [&] { return ctx.service.missingPaths(**cache, req->store_path_hashes); });
  if (!missing.ok()) co_return co_await ex.respondError(missing.error());
  co_await ex.respond(200, kJsonType, renderMissingPaths(*missing));
}

// Attic's upload-path: the NAR info comes in X-Attic-Nar-Info or as the
// first X-Attic-Nar-Info-Preamble-Size bytes of the body; the rest of the
// body is the uncompressed NAR.
class PathUpload {
 public:
  PathUpload(HandlerContext& ctx, Exchange& ex) : ctx_(ctx), ex_(ex) {}

  awaitable<void> run() {
    if (ex_.request().method() != verb::put) co_return co_await ex_.respondError(methodNotAllowed());
    Status s = readInfoHeaders();
    if (s.ok() && preamble_size_ == 0) s = co_await start(header_info_);
    if (s.ok()) s = co_await ex_.streamBody([this](ByteSpan data) { return consume(data); });
    if (s.ok() && !ingest_) s = invalid("request body ended inside the NAR info preamble");
    Result<cache::PathUploadOutcome> done = s.ok() ? Result<cache::PathUploadOutcome>(cache::PathUploadOutcome{})
                                                   : Result<cache::PathUploadOutcome>(s.error());
    if (s.ok()) done = co_await finish();  // (not inside ?: — GCC 12 miscompiles that)
    if (ingest_) {
      co_await ex_.offload([&] {
        ingest_.reset();
        return 0;
      });
    }
    ctx_.metrics.countUpload(done.ok());
    if (!done.ok()) co_return co_await ex_.respondError(done.error());
    co_await ex_.respond(200, kJsonType, renderUploadPathResult(*done));
  }

 private:
  Status readInfoHeaders() {
    auto info = ex_.request().find("X-Attic-Nar-Info");
    if (info != ex_.request().end()) {
      header_info_ = std::string(info->value());
      return {};
    }
    auto size = ex_.request().find("X-Attic-Nar-Info-Preamble-Size");
    if (size == ex_.request().end()) {
      return invalid("missing X-Attic-Nar-Info or X-Attic-Nar-Info-Preamble-Size header");
    }
    std::string text(size->value());
    char* end = nullptr;
    unsigned long long n = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || n == 0) {
      return invalid("X-Attic-Nar-Info-Preamble-Size must be a positive integer");
    }
    if (n > ctx_.options.max_nar_info_size) {
      return makeError(ErrorCode::kPayloadTooLarge, "NAR info preamble exceeds max-nar-info-size");
    }
    preamble_size_ = n;
    return {};
  }

  awaitable<Status> start(const std::string& info_json) {
    auto info = parseUploadPathNarInfo(info_json);
    if (!info.ok()) co_return info.error();
    auto cache = co_await authorize(ctx_, ex_, info->cache, auth::kPush);
    if (!cache.ok()) co_return cache.error();
    cache_ = *cache;
    auto claimed = claimedNarInfo(*info, cache_->record.store_dir);
    if (!claimed.ok()) co_return claimed.error();
    claimed_ = std::move(*claimed);
    auto ingest = co_await ex_.offload([&] { return ctx_.service.beginPathUpload(*cache_); });
    if (!ingest.ok()) co_return ingest.error();
    ingest_ = std::move(*ingest);
    co_return Status();
  }

  awaitable<Status> consume(ByteSpan data) {
    if (!ingest_) {
      std::size_t take = std::min<std::size_t>(data.size(), preamble_size_ - preamble_.size());
      preamble_.append(reinterpret_cast<const char*>(data.data()), take);
      data = data.subspan(take);
      if (preamble_.size() < preamble_size_) co_return Status();
      Status s = co_await start(preamble_);
      if (!s.ok()) co_return s;
      if (data.empty()) co_return Status();
    }
    co_return co_await ex_.offload([&] { return ingest_->write(data); });
  }

  awaitable<Result<cache::PathUploadOutcome>> finish() {
    std::string uploader = ex_.log().subject;
    pin_ = wantsPin(ex_);
    co_return co_await ex_.offload([&]() -> Result<cache::PathUploadOutcome> {
      GARRET_TRY(ingest_->finish());
      return ctx_.service.completePathUpload(*cache_, claimed_, *ingest_, uploader, pin_);
    });
  }

  HandlerContext& ctx_;
  Exchange& ex_;
  std::string header_info_;
  std::size_t preamble_size_ = 0;
  std::string preamble_;
  CachePtr cache_;
  NarInfo claimed_;
  bool pin_ = false;
  std::unique_ptr<cache::NarIngest> ingest_;
};

awaitable<void> handleOps(HandlerContext& ctx, Exchange& ex, const Route& r) {
  if (r.id == RouteId::kHealth) co_return co_await ex.respond(200, "text/plain", "ok\n");
  if (r.id == RouteId::kMetrics) {
    co_return co_await ex.respond(200, "text/plain; version=0.0.4", ctx.metrics.render());
  }
  Status s = co_await ex.offload([&] { return ctx.service.ping(); });
  if (!s.ok()) {
    co_return co_await ex.respondError(makeError(ErrorCode::kUnavailable, "not ready: " + s.error().message));
  }
  co_await ex.respond(200, "text/plain", "ready\n");
}

}  // namespace

awaitable<void> handleRequest(HandlerContext& ctx, Exchange& ex) {
  auto target = ex.request().target();
  auto route = matchRoute(std::string_view(target.data(), target.size()));
  if (!route.ok()) co_return co_await ex.respondError(route.error());
  bool ops = route->id == RouteId::kHealth || route->id == RouteId::kReady ||
             route->id == RouteId::kMetrics;
  if (ctx.options.ops_only && !ops) {
    co_return co_await ex.respondError(notFound(
        "this garretd runs the garbage collector only (serve --mode gc); send API and cache "
        "requests to the API replicas"));
  }
  switch (route->id) {
    case RouteId::kHealth:
    case RouteId::kReady:
    case RouteId::kMetrics: co_return co_await handleOps(ctx, ex, *route);
    case RouteId::kGetMissingPaths: co_return co_await handleGetMissingPaths(ctx, ex);
    case RouteId::kPins: co_return co_await handlePins(ctx, ex, *route);
    case RouteId::kListCaches: co_return co_await handleListCaches(ctx, ex);
    case RouteId::kUploadPath: {
      PathUpload upload(ctx, ex);
      co_return co_await upload.run();
    }
    case RouteId::kCacheConfig:
    case RouteId::kAtticCacheInfo: co_return co_await handleCacheConfig(ctx, ex, *route);
    case RouteId::kCacheInfo: co_return co_await handleCacheInfo(ctx, ex, *route);
    case RouteId::kNarInfo: co_return co_await handleNarInfo(ctx, ex, *route);
    case RouteId::kNar: co_return co_await handleNar(ctx, ex, *route);
  }
}

}  // namespace garret::http
