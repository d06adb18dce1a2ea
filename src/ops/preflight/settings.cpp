#include "ops/preflight/settings.h"

#include <map>
#include <sstream>
#include <toml.hpp>

namespace garret::ops::preflight {

namespace {

using Table = toml::basic_value<toml::discard_comments, std::map, std::vector>;

Status setString(const std::string& key, const std::string& value, Settings& s) {
  if (key == "namespace") s.namespace_name = value;
  else if (key == "host") s.host = value;
  else if (key == "ingress_class") s.ingress_class = value;
  else if (key == "tls_issuer") s.tls_issuer = value;
  else if (key == "storage_class") s.storage_class = value;
  else if (key == "database") {
    if (value == "cnpg") s.database = Database::kCnpg;
    else if (value == "external") s.database = Database::kExternal;
    else return invalid("database must be \"cnpg\" or \"external\", not \"" + value + "\"");
  } else if (key == "dns_provider") {
    if (value == "external-dns") s.dns_provider = DnsProvider::kExternalDns;
    else if (value == "cloudflare") s.dns_provider = DnsProvider::kCloudflare;
    else if (value == "none") s.dns_provider = DnsProvider::kNone;
    else return invalid("dns_provider must be \"external-dns\", \"cloudflare\" or \"none\", not \"" + value + "\"");
  } else {
    return invalid("unknown key '" + key + "' (known: namespace, host, ingress_class, tls_issuer, "
                   "storage_class, database, dns_provider)");
  }
  return okStatus();
}

Result<Settings> fromTable(const Table& root) {
  Settings s;
  for (const auto& [key, value] : root.as_table()) {
    if (!value.is_string()) return invalid("'" + key + "' must be a string");
    GARRET_TRY(setString(key, value.as_string().str, s));
  }
  if (s.namespace_name.empty()) return invalid("'namespace' is required");
  return s;
}

}  // namespace

Result<Settings> parseSettings(std::string_view toml_text, std::string_view source) {
  try {
    std::istringstream in{std::string(toml_text)};
    Table root = toml::parse<toml::discard_comments, std::map, std::vector>(in, std::string(source));
    auto s = fromTable(root);
    if (!s.ok()) return s.error().context(std::string(source));
    return s;
  } catch (const std::exception& e) {
    return invalid(std::string(source) + ": " + e.what());
  }
}

}  // namespace garret::ops::preflight
