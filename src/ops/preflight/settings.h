#pragma once

// Settings of a garret deployment that preflight checks the cluster against
// (TOML, `garret preflight --settings FILE`):
//
//   namespace     = "garret"            # required
//   host          = "cache.example.org"
//   ingress_class = "nginx"             # empty: the cluster's default class
//   tls_issuer    = "letsencrypt-prod"  # a cert-manager ClusterIssuer; empty: no TLS
//   storage_class = "standard"          # empty: the cluster's default class
//   database      = "cnpg"              # or "external"
//   dns_provider  = "external-dns"      # or "cloudflare" (external-dns with its
//                                       # Cloudflare provider) or "none"
//
// Unknown keys and values of the wrong type are errors.

#include <string>
#include <string_view>

#include "core/result.h"

namespace garret::ops::preflight {

enum class Database { kCnpg, kExternal };
enum class DnsProvider { kExternalDns, kCloudflare, kNone };

struct Settings {
  std::string namespace_name;
  std::string host;
  std::string ingress_class;
  std::string tls_issuer;
  std::string storage_class;
  Database database = Database::kCnpg;
  DnsProvider dns_provider = DnsProvider::kNone;
};

// Parses the TOML text; `source` names it in errors. Never throws.
Result<Settings> parseSettings(std::string_view toml_text, std::string_view source);

}  // namespace garret::ops::preflight
