#include <lzma.h>

#include "codec/decompressors.h"

namespace garret::codec {
namespace {

// xz -9 needs 65 MiB; anything demanding far more is refused rather than
// letting a crafted header allocate gigabytes.
constexpr std::uint64_t kXzMemoryLimit = 256ull << 20;

// Owns an lzma_stream.
class LzmaStream {
 public:
  LzmaStream() = default;
  ~LzmaStream() { lzma_end(&strm_); }
  LzmaStream(const LzmaStream&) = delete;
  LzmaStream& operator=(const LzmaStream&) = delete;
  lzma_stream* get() { return &strm_; }

 private:
  lzma_stream strm_ = LZMA_STREAM_INIT;
};

std::string describe(lzma_ret ret) {
  switch (ret) {
    case LZMA_FORMAT_ERROR:
      return "corrupt xz data: not in xz format";
    case LZMA_DATA_ERROR:
      return "corrupt xz data: compressed data is corrupt";
    case LZMA_OPTIONS_ERROR:
      return "corrupt xz data: unsupported options";
    case LZMA_BUF_ERROR:
      return "truncated xz stream";
    case LZMA_MEM_ERROR:
      return "xz decoder out of memory";
    case LZMA_MEMLIMIT_ERROR:
      return "xz data needs too much memory to decode";
    default:
      return "xz decoder error " + std::to_string(ret);
  }
}

class XzDecompressor final : public Decompressor {
 public:
  XzDecompressor(Sink& next, std::uint64_t max_output) : Decompressor(next, max_output) {
    init_ = lzma_stream_decoder(strm_.get(), kXzMemoryLimit, LZMA_CONCATENATED);
  }

 private:
  Status decode(ByteSpan in) override {
    // liblzma reports a second call without progress as an error.
    if (in.empty()) return {};
    return run(in, LZMA_RUN);
  }
  Status end() override { return run({}, LZMA_FINISH); }

  Status run(ByteSpan in, lzma_action action) {
    if (init_ != LZMA_OK) return makeError(ErrorCode::kInternal, describe(init_));
    lzma_stream* s = strm_.get();
    s->next_in = in.data();
    s->avail_in = in.size();
    for (;;) {
      s->next_out = out();
      s->avail_out = outSize();
      lzma_ret ret = lzma_code(s, action);
      GARRET_TRY(emit(outSize() - s->avail_out));
      if (ret == LZMA_STREAM_END) return {};
      if (ret != LZMA_OK) return invalid(describe(ret));
      if (s->avail_in == 0 && s->avail_out != 0 && action == LZMA_RUN) {
        return {};
      }
    }
  }

  LzmaStream strm_;
  lzma_ret init_;
};

}  // namespace

std::unique_ptr<Sink> makeXzDecompressor(Sink& next, std::uint64_t max_output) {
  return std::make_unique<XzDecompressor>(next, max_output);
}

}  // namespace garret::codec
