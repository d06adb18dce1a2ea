#pragma once

// BlobStore: where NAR bytes live. Keys are relative names made of
// [A-Za-z0-9._/-] without "." or ".." parts. put is atomic: a blob is
// visible whole or not at all. Implementations are thread-safe.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/stream.h"

namespace garret::storage {

// A blob being written. Data becomes visible under its key only when
// commit() succeeds; destroying an uncommitted writer discards the data.
class BlobWriter : public Sink {
 public:
  // finish() flushes; commit() makes the blob durable and visible.
  virtual Status commit() = 0;
};

// An open blob for reading. Reads are positional and thread-safe.
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  virtual std::uint64_t size() const = 0;
  // Reads up to `length` bytes at `offset` into `out`; returns bytes read
  // (0 only at end of blob).
  virtual Result<std::size_t> read(std::uint64_t offset, std::uint8_t* out,
                                   std::size_t length) = 0;
  // A file descriptor positioned nowhere in particular, usable with pread
  // and sendfile, or -1 if the blob is not a local file.
  virtual int nativeHandle() const { return -1; }
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  virtual Result<std::unique_ptr<BlobWriter>> create(std::string_view key) = 0;
  virtual Result<std::unique_ptr<BlobReader>> open(std::string_view key) = 0;  // kNotFound
  virtual Result<bool> exists(std::string_view key) = 0;
  virtual Status remove(std::string_view key) = 0;  // removing a missing key is ok
  virtual Result<std::vector<std::string>> list(std::string_view prefix) = 0;
  // Checks that the store is usable (for /ready).
  virtual Status ping() = 0;
  // True if open() is fast enough to call on a network thread (a local
  // open(2), no network round trip).
  virtual bool openIsCheap() const { return false; }

  // Convenience: whole-blob put through create()/commit().
  Status put(std::string_view key, ByteSpan data);
  // Convenience: whole-blob read.
  Result<std::string> get(std::string_view key);
};

bool isValidBlobKey(std::string_view key);
// A list() prefix: empty, or key characters whose part up to the last '/'
// is a valid key ("nar/", "nar/ab", "nar/ab/cd").
bool isValidBlobPrefix(std::string_view prefix);

}  // namespace garret::storage
