#pragma once

// Pure editing of Nix's nix.conf and of netrc files for `garret use`: add
// what is missing, keep every other line as it was, never duplicate. Running
// the same edit twice changes nothing the second time.

#include <string>
#include <string_view>

namespace garret::client {

struct NixConfEdit {
  std::string text;         // the new file contents
  bool changed = false;
  std::string netrc_file;   // the netrc file Nix will read (existing setting wins)
};

// Makes nix.conf substitute from `substituter` trusting `public_key`
// ("name:base64"): adds them to `extra-substituters` /
// `extra-trusted-public-keys` unless a (extra-)substituters or
// (extra-)trusted-public-keys line already lists them. A key with the same
// name but another value (a rotated key) is replaced. When `netrc_file` is
// not empty and nix.conf has no netrc-file line, adds one.
NixConfEdit editNixConf(std::string_view text, std::string_view substituter,
                        std::string_view public_key, std::string_view netrc_file);

struct NetrcEdit {
  std::string text;
  bool changed = false;
};

// Sets the password of `machine` (a host name) to `token`: rewrites the
// existing entry's password in place, or appends "machine H password T".
NetrcEdit editNetrc(std::string_view text, std::string_view machine, std::string_view token);

// Host part of an http(s) URL ("https://cache.example.org:8443/x" →
// "cache.example.org"), which is what curl matches netrc entries against.
std::string urlHost(std::string_view url);

}  // namespace garret::client
