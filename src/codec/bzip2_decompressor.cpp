#include <bzlib.h>

#include <algorithm>
#include <climits>

#include "codec/decompressors.h"

namespace garret::codec {
namespace {

// Owns a bz_stream set up for decompression; reset() starts a new stream,
// as bzip2 does for concatenated .bz2 files.
class BzStream {
 public:
  BzStream() { init(); }
  ~BzStream() { release(); }
  BzStream(const BzStream&) = delete;
  BzStream& operator=(const BzStream&) = delete;

  bz_stream* get() { return &strm_; }
  bool ok() const { return init_ == BZ_OK; }
  void reset() {
    release();
    init();
  }

 private:
  void init() {
    strm_ = bz_stream{};
    init_ = BZ2_bzDecompressInit(&strm_, 0, 0);
  }
  void release() {
    if (init_ == BZ_OK) BZ2_bzDecompressEnd(&strm_);
    init_ = BZ_CONFIG_ERROR;
  }

  bz_stream strm_{};
  int init_ = BZ_CONFIG_ERROR;
};

std::string describe(int ret) {
  switch (ret) {
    case BZ_DATA_ERROR_MAGIC:
      return "corrupt bzip2 data: bad stream header";
    case BZ_DATA_ERROR:
      return "corrupt bzip2 data: integrity check failed";
    case BZ_MEM_ERROR:
      return "bzip2 decoder out of memory";
    default:
      return "bzip2 decoder error " + std::to_string(ret);
  }
}

class Bzip2Decompressor final : public Decompressor {
 public:
  using Decompressor::Decompressor;

 private:
  Status decode(ByteSpan in) override {
    // avail_in is an unsigned int; feed huge pieces in slices.
    while (!in.empty()) {
      std::size_t n = std::min<std::size_t>(in.size(), 1u << 30);
      GARRET_TRY(decodeSlice(in.first(n)));
      in = in.subspan(n);
    }
    return {};
  }

  Status decodeSlice(ByteSpan in) {
    if (!strm_.ok()) return makeError(ErrorCode::kInternal, "bzip2 init failed");
    bz_stream* s = strm_.get();
    s->next_in = const_cast<char*>(reinterpret_cast<const char*>(in.data()));
    s->avail_in = static_cast<unsigned>(in.size());
    bool output_pending = false;
    while (s->avail_in > 0 || output_pending) {
      s->next_out = reinterpret_cast<char*>(out());
      s->avail_out = static_cast<unsigned>(outSize());
      int ret = BZ2_bzDecompress(s);
      if (ret != BZ_OK && ret != BZ_STREAM_END) return invalid(describe(ret));
      GARRET_TRY(emit(outSize() - s->avail_out));
      // A full output buffer may leave more output behind in the stream.
      output_pending = ret == BZ_OK && s->avail_out == 0;
      at_boundary_ = ret == BZ_STREAM_END;
      if (at_boundary_) GARRET_TRY(nextStream());
    }
    return {};
  }

  // Whatever input follows the end of a stream must be another stream.
  Status nextStream() {
    bz_stream* s = strm_.get();
    char* rest = s->next_in;
    unsigned rest_size = s->avail_in;
    strm_.reset();
    if (!strm_.ok()) return makeError(ErrorCode::kInternal, "bzip2 init failed");
    s->next_in = rest;
    s->avail_in = rest_size;
    return {};
  }

  Status end() override {
    if (!at_boundary_) return invalid("truncated bzip2 stream");
    return {};
  }

  BzStream strm_;
  bool at_boundary_ = false;  // the last stream ended, none has begun
};

}  // namespace

std::unique_ptr<Sink> makeBzip2Decompressor(Sink& next, std::uint64_t max_output) {
  return std::make_unique<Bzip2Decompressor>(next, max_output);
}

}  // namespace garret::codec
