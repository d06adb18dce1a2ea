// The decompressors of codec/codec.h (xz, zstd, bzip2, none), alone and in
// front of a NarValidator as on the upload path. The codec is the one the
// input's magic names; inputs without a known magic go through "none" and
// zstd, and must be refused cleanly by xz and bzip2.
//
// Invariants: the verdict and output do not depend on how the input is
// split into writes; a stream that decodes to S bytes passes with a budget
// of S and fails with kPayloadTooLarge below it; other failures are
// kInvalidArgument; decompressing into a NarValidator accepts exactly when
// the decompressed bytes are a valid NAR.

#include <cstdint>
#include <string>
#include <string_view>

#include "codec/codec.h"
#include "core/stream.h"
#include "fuzz_util.h"
#include "nar/nar_validator.h"

namespace {

using garret::ByteSpan;
using garret::ErrorCode;
using garret::Status;
using garret::codec::Compression;

// Output beyond this is treated as a bomb and not examined further.
constexpr std::uint64_t kBudget = 1 << 20;

using garret::fuzz::CollectingSink;

struct Outcome {
  Status status;
  std::string output;
};

// Feeds `input` to `sink` in pieces chosen by `salt` (0: one write).
Status feed(garret::Sink& sink, std::string_view input, std::uint64_t salt) {
  std::vector<std::size_t> sizes{input.size()};
  if (salt != 0) sizes = garret::fuzz::pieceSizes(input, salt);
  std::size_t pos = 0;
  for (std::size_t n : sizes) {
    Status s = sink.write(garret::asBytes(input.substr(pos, n)));
    if (!s.ok()) return s;
    pos += n;
  }
  return sink.finish();
}

Outcome decompress(Compression c, std::string_view input, std::uint64_t budget,
                   std::uint64_t salt) {
  CollectingSink out(kBudget);
  auto decoder = garret::codec::makeDecompressor(c, out, budget);
  Status status = feed(*decoder, input, salt);
  if (status.ok()) {
    FUZZ_CHECK(out.finished);
  } else {
    // Errors are sticky.
    FUZZ_CHECK(!decoder->write(garret::asBytes("x")).ok());
    FUZZ_CHECK(!decoder->finish().ok());
  }
  FUZZ_CHECK(out.bytes.size() <= budget);
  return {status, std::move(out.bytes)};
}

std::string describe(const Outcome& o) {
  return o.status.ok() ? "ok, " + std::to_string(o.output.size()) + " bytes"
                       : std::string(garret::errorCodeName(o.status.error().code)) + ": " +
                             o.status.error().message;
}

bool isValidNar(std::string_view bytes) {
  garret::nar::NarValidator validator;
  return validator.write(garret::asBytes(bytes)).ok() && validator.finish().ok();
}

void checkCodec(Compression c, std::string_view input) {
  Outcome whole = decompress(c, input, kBudget, 0);
  if (!whole.status.ok()) {
    ErrorCode code = whole.status.error().code;
    FUZZ_CHECK_MSG(code == ErrorCode::kInvalidArgument || code == ErrorCode::kPayloadTooLarge,
                   describe(whole));
  }
  bool bomb = !whole.status.ok() && whole.status.error().code == ErrorCode::kPayloadTooLarge;

  Outcome split = decompress(c, input, kBudget, 1);
  FUZZ_CHECK_MSG(split.status.ok() == whole.status.ok(),
                 "whole: " + describe(whole) + "; in pieces: " + describe(split));
  if (whole.status.ok()) FUZZ_CHECK(split.output == whole.output);
  if (!whole.status.ok()) {
    FUZZ_CHECK_MSG(split.status.error().code == whole.status.error().code,
                   "whole: " + describe(whole) + "; in pieces: " + describe(split));
  }

  if (whole.status.ok()) {
    std::uint64_t size = whole.output.size();
    Outcome exact = decompress(c, input, size, 1);
    FUZZ_CHECK_MSG(exact.status.ok() && exact.output == whole.output, describe(exact));
    if (size > 0) {
      for (std::uint64_t budget : {size - 1, size / 3}) {
        Outcome small = decompress(c, input, budget, 2);
        FUZZ_CHECK_MSG(!small.status.ok() &&
                           small.status.error().code == ErrorCode::kPayloadTooLarge,
                       "budget " + std::to_string(budget) + " of " + std::to_string(size) +
                           ": " + describe(small));
      }
    }
  }

  if (bomb) return;
  // Upload path: decompress straight into the NAR validator.
  garret::nar::NarValidator validator;
  auto decoder = garret::codec::makeDecompressor(c, validator, kBudget);
  Status piped = feed(*decoder, input, 3);
  bool expected = whole.status.ok() && isValidNar(whole.output);
  FUZZ_CHECK_MSG(piped.ok() == expected,
                 std::string("piped: ") + (piped.ok() ? "ok" : piped.error().message) +
                     "; decompressed: " + describe(whole));
  if (piped.ok()) FUZZ_CHECK(validator.narSize() == whole.output.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = garret::fuzz::asText(data, size);
  auto detected = garret::codec::detectCompression(garret::asBytes(input));
  if (detected) {
    checkCodec(*detected, input);
    return 0;
  }
  checkCodec(Compression::kNone, input);
  // zstd also reads skippable frames (and maybe legacy formats), which have
  // other magic numbers; xz and bzip2 have no such alternatives.
  checkCodec(Compression::kZstd, input);
  for (Compression c : {Compression::kXz, Compression::kBzip2}) {
    Outcome o = decompress(c, input, kBudget, 0);
    FUZZ_CHECK_MSG(!o.status.ok() && o.status.error().code == ErrorCode::kInvalidArgument,
                   "no magic, yet " + describe(o));
  }
  return 0;
}
