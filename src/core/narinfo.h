#pragma once

// The .narinfo text format exactly as Nix 2.8 reads and writes it: strict
// "Key: value\n" lines; StorePath, URL, NarHash and non-zero NarSize are
// required; absent Compression means bzip2. Unknown keys are ignored on parse.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/hash.h"
#include "core/result.h"
#include "core/store_path.h"

namespace garret {

struct NarInfo {
  StorePath store_path;
  std::string url;                       // e.g. "nar/<filehash>.nar.zst"
  std::optional<std::string> compression;  // as written; nullopt = absent (bzip2)
  std::optional<Hash> file_hash;
  std::optional<std::uint64_t> file_size;
  Hash nar_hash;
  std::uint64_t nar_size = 0;
  std::vector<std::string> references;   // base names "<hash>-<name>", sorted
  std::optional<std::string> deriver;    // base name
  std::optional<std::string> system;
  std::vector<std::string> sigs;         // "keyname:base64"
  std::optional<std::string> ca;

  // Validates every field (store paths, hashes, sizes, duplicate keys).
  static Result<NarInfo> parse(std::string_view text, std::string_view store_dir);
  // The checks parse() applies to the whole record, for a NarInfo built from
  // other input (e.g. an upload request) before it is rendered: valid store
  // dir, store path, references and deriver; non-empty URL; non-zero NarSize;
  // no control characters in free-text fields; non-empty signatures.
  Status validate(std::string_view store_dir) const;
  // Renders in Nix's key order: StorePath URL Compression FileHash FileSize
  // NarHash NarSize References Deriver System Sig* CA. Absent optional
  // fields are omitted, but "References: " is always written (with a trailing
  // space when empty). References and Sigs come out sorted and de-duplicated,
  // as Nix keeps them in sets. Call validate() first on untrusted fields.
  std::string render(std::string_view store_dir) const;
  // "1;<storePath>;<sha256:nix-base32>;<narSize>;<sorted full refs, comma-joined>"
  std::string fingerprint(std::string_view store_dir) const;
};

// The nix-cache-info file: "StoreDir: …\nWantMassQuery: 1\nPriority: N\n".
std::string renderCacheInfo(std::string_view store_dir, int priority);

}  // namespace garret
