#pragma once

// Internal to the http layer: request dispatch over the route table.

#include "cache/authenticator.h"
#include "cache/cache_service.h"
#include "http/exchange.h"
#include "http/metrics.h"
#include "http/server.h"

namespace garret::http {

struct HandlerContext {
  const ServerOptions& options;
  cache::CacheService& service;
  const cache::Authenticator& authenticator;
  Metrics& metrics;
};

// Answers one request; never throws for bad input.
asio::awaitable<void> handleRequest(HandlerContext& ctx, Exchange& ex);

}  // namespace garret::http
