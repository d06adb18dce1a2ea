#include "chunk/fastcdc.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <string>
#include <utility>

namespace garret::chunk {
namespace {

constexpr std::uint32_t kMaxSetting = 1u << 28;
constexpr std::uint32_t kMinSize = 64;

// The hash shifts left once per byte, so after 64 bytes nothing of earlier
// bytes is left in it: every cut decision depends on the last 64 bytes only.
constexpr std::size_t kWindow = 64;

constexpr std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Every cut point, and so the identity of every stored chunk, follows from
// this table and the masks below. Changing the seed, the generator or the
// masks re-chunks every NAR and loses dedup against chunks already stored;
// tests/unit/chunk/fastcdc_test.cpp pins known cut points to catch that.
// The seed is "garret-1" in ASCII.
constexpr std::array<std::uint64_t, 256> makeGear() {
  std::array<std::uint64_t, 256> gear{};
  std::uint64_t state = 0x6761727265742d31ULL;
  for (auto& g : gear) g = splitmix64(state);
  return gear;
}
constexpr std::array<std::uint64_t, 256> kGear = makeGear();

// `bits` one-bits spread evenly from bit 63 down. Bit k of the hash depends
// on the last k+1 bytes, so a mask confined to the low bits would look at a
// few bytes only; reaching bit 63 makes the whole 64-byte window count.
constexpr std::uint64_t spreadMask(int bits) {
  std::uint64_t mask = 0;
  for (int i = 0; i < bits; ++i) mask |= std::uint64_t{1} << (63 - i * 64 / bits);
  return mask;
}

constexpr std::array<std::uint64_t, 65> makeMasks() {
  std::array<std::uint64_t, 65> masks{};
  for (int bits = 1; bits <= 64; ++bits) masks[bits] = spreadMask(bits);
  return masks;
}
constexpr std::array<std::uint64_t, 65> kMasks = makeMasks();

constexpr bool masksHaveTheirBitCounts() {
  for (int bits = 0; bits <= 64; ++bits) {
    if (std::popcount(kMasks[bits]) != bits) return false;
  }
  return true;
}
static_assert(masksHaveTheirBitCounts());

// Where the phases of a chunk begin, as offsets of bytes in the chunk. The
// byte at offset i is hashed if i >= hash_from; the cut after it (a chunk of
// i+1 bytes) is tested with mask_s if test_from <= i < large_from and with
// mask_l from large_from on; a chunk of `max` bytes is cut regardless.
struct Plan {
  std::size_t hash_from;
  std::size_t test_from;
  std::size_t large_from;
  std::size_t max;
  std::uint64_t mask_s;
  std::uint64_t mask_l;
};

// Normalized chunking, level 2: a cut is 4x less likely than 1/avg before
// avg and 4x more likely after it, which narrows the size distribution
// around avg without giving up content-defined cut points.
Plan cdcPlan(const ChunkingParams& params) {
  assert(params.min_size >= 1 && params.min_size <= params.avg_size &&
         params.avg_size <= params.max_size && std::has_single_bit(params.avg_size) &&
         params.avg_size >= kMinSize);
  const int avg_bits = std::countr_zero(params.avg_size);
  const std::size_t test_from = params.min_size - 1;
  // Hashing starts a window before the first test so that even the first
  // tested hash covers 64 bytes: whether a cut may fall after a byte then
  // depends only on the 64 bytes ending there, never on where the chunk
  // started (min, avg and max still do).
  return Plan{
      .hash_from = test_from >= kWindow - 1 ? test_from - (kWindow - 1) : 0,
      .test_from = test_from,
      .large_from = params.avg_size - 1u,
      .max = params.max_size,
      .mask_s = kMasks[avg_bits + 2],
      .mask_l = kMasks[avg_bits - 2],
  };
}

// Fixed-size pieces of max bytes: nothing is hashed or tested.
Plan fixedPlan(const ChunkingParams& params) {
  const std::size_t max = params.max_size;
  return Plan{
      .hash_from = max, .test_from = max, .large_from = max, .max = max, .mask_s = 0, .mask_l = 0};
}

Plan chunkerPlan(const ChunkingParams& params) {
  return params.nar_size_threshold == 0 ? fixedPlan(params) : cdcPlan(params);
}

// The search for the end of the current chunk.
struct ScanState {
  std::size_t pos = 0;  // bytes of the chunk seen so far
  std::uint64_t hash = 0;
};

// Hashes p[from, to); returns the index just past the first byte after
// which no bit of `mask` is set in the hash, or 0 if there is none. This is
// the hot loop: one table load, one shift-add and one test per byte. (Manual
// unrolling and two-bytes-at-a-time variants measured within 10% of it.)
inline std::size_t findMatch(std::uint64_t& hash, const std::uint8_t* p, std::size_t from,
                             std::size_t to, std::uint64_t mask) {
  std::uint64_t h = hash;
  for (std::size_t i = from; i < to; ++i) {
    h = (h << 1) + kGear[p[i]];
    if ((h & mask) == 0) [[unlikely]] {
      return i + 1;
    }
  }
  hash = h;
  return 0;
}

// Feeds p[0, n), the next bytes of the current chunk. If the chunk ends
// within them, returns how many of them belong to it and resets `s` for the
// next chunk; otherwise returns 0 and remembers them in `s`.
std::size_t scan(const Plan& plan, ScanState& s, const std::uint8_t* p, std::size_t n) {
  const std::size_t pos = s.pos;
  // Where the chunk's offset `at` falls in p, clamped to [0, n].
  auto local = [&](std::size_t at) { return at <= pos ? 0 : std::min(n, at - pos); };
  std::uint64_t h = s.hash;
  std::size_t i = local(plan.hash_from);
  for (const std::size_t end = local(plan.test_from); i < end; ++i) {
    h = (h << 1) + kGear[p[i]];
  }
  std::size_t cut = findMatch(h, p, i, local(plan.large_from), plan.mask_s);
  if (cut == 0) {
    cut = findMatch(h, p, std::max(i, local(plan.large_from)), local(plan.max), plan.mask_l);
  }
  if (cut == 0 && pos + n >= plan.max) cut = plan.max - pos;
  if (cut != 0) {
    s = ScanState{};
    return cut;
  }
  s.pos = pos + n;
  s.hash = h;
  return 0;
}

Error badKey(const char* key, std::uint32_t value, const std::string& what) {
  return invalid(std::string("[chunking] ") + key + " = " + std::to_string(value) + " " + what);
}

}  // namespace

Status ChunkingParams::validate() const {
  const std::string limit = std::to_string(kMaxSetting);
  if (min_size < kMinSize) {
    return badKey("min-size", min_size, "is below 64; set it to at least 64 (default 16384)");
  }
  if (avg_size < kMinSize || avg_size > kMaxSetting) {
    return badKey("avg-size", avg_size,
                  "is out of range; use a power of two from 64 to " + limit + " (default 65536)");
  }
  if (!std::has_single_bit(avg_size)) {
    return badKey("avg-size", avg_size,
                  "is not a power of two; use " + std::to_string(std::bit_floor(avg_size)) +
                      " or " + std::to_string(std::bit_ceil(avg_size)));
  }
  if (max_size > kMaxSetting) {
    return badKey("max-size", max_size, "is above " + limit + " (256 MiB); lower it");
  }
  if (nar_size_threshold > kMaxSetting) {
    return badKey("nar-size-threshold", nar_size_threshold,
                  "is above " + limit + " (256 MiB); lower it (0 cuts every max-size bytes)");
  }
  if (min_size > avg_size) {
    return badKey(
        "min-size", min_size,
        "is above avg-size = " + std::to_string(avg_size) + "; lower min-size or raise avg-size");
  }
  if (avg_size > max_size) {
    return badKey(
        "max-size", max_size,
        "is below avg-size = " + std::to_string(avg_size) + "; raise max-size or lower avg-size");
  }
  return okStatus();
}

std::size_t findCut(const ChunkingParams& params, const std::uint8_t* data, std::size_t n) {
  ScanState s;
  const std::size_t cut = scan(cdcPlan(params), s, data, n);
  return cut != 0 ? cut : n;
}

Chunker::Chunker(const ChunkingParams& params, Emit emit)
    : params_(params), emit_(std::move(emit)) {
  assert(params_.validate().ok());
}

bool Chunker::holdingBack() const {
  return params_.nar_size_threshold > 0 && total_ < params_.nar_size_threshold;
}

Status Chunker::write(ByteSpan data) {
  if (error_) return *error_;
  if (holdingBack()) {
    const std::size_t take =
        std::min<std::uint64_t>(params_.nar_size_threshold - total_, data.size());
    stash(data.first(take));
    total_ += take;
    data = data.subspan(take);
    if (holdingBack()) return okStatus();
    // The stream reached the threshold, so it is chunked from byte 0 like any
    // other: cut what was held back in place, keeping the unfinished chunk.
    GARRET_ASSIGN_OR_RETURN(const std::size_t done, emitComplete(buffer_));
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(done));
  }
  total_ += data.size();
  return cutSpan(data);
}

Status Chunker::finish() {
  if (error_) return *error_;
  // Still holding back: the stream is shorter than the threshold and is one
  // chunk. Otherwise buffer_ is the last chunk, cut short by the stream's end.
  if (!buffer_.empty()) {
    GARRET_TRY(emitChunk(buffer_));
  }
  buffer_ = {};
  hash_ = 0;
  return okStatus();
}

// Cuts `data` (past the threshold) into chunks. Only a chunk that spans
// writes is copied, and only its own bytes: the others go to emit straight
// from the caller's span.
Status Chunker::cutSpan(ByteSpan data) {
  if (!buffer_.empty()) {
    ScanState s{buffer_.size(), hash_};
    const std::size_t cut = scan(chunkerPlan(params_), s, data.data(), data.size());
    if (cut == 0) {
      stash(data);
      hash_ = s.hash;
      return okStatus();
    }
    stash(data.first(cut));
    GARRET_TRY(emitChunk(buffer_));
    buffer_.clear();
    hash_ = 0;
    data = data.subspan(cut);
  }
  GARRET_ASSIGN_OR_RETURN(const std::size_t done, emitComplete(data));
  stash(data.subspan(done));
  return okStatus();
}

// Emits every complete chunk of `data`, which starts at a chunk boundary;
// returns the bytes they cover. The rest has been scanned into hash_.
Result<std::size_t> Chunker::emitComplete(ByteSpan data) {
  const Plan plan = chunkerPlan(params_);
  ScanState s;
  std::size_t done = 0;
  while (const std::size_t cut = scan(plan, s, data.data() + done, data.size() - done)) {
    GARRET_TRY(emitChunk(data.subspan(done, cut)));
    done += cut;
  }
  hash_ = s.hash;
  return done;
}

Status Chunker::emitChunk(ByteSpan chunk) {
  Status s = emit_(chunk);
  if (!s.ok()) {
    error_ = s.error();
    return s;
  }
  ++chunks_;
  return s;
}

// Appends to buffer_ without letting its capacity pass the bound promised in
// the header (vector's doubling alone could reach twice that).
void Chunker::stash(ByteSpan data) {
  if (data.empty()) return;
  const std::size_t need = buffer_.size() + data.size();
  const std::size_t limit = std::max(params_.max_size, params_.nar_size_threshold);
  assert(need <= limit);
  if (need > buffer_.capacity()) {
    buffer_.reserve(std::max(need, std::min(2 * buffer_.capacity(), limit)));
  }
  buffer_.insert(buffer_.end(), data.begin(), data.end());
}

}  // namespace garret::chunk
