#include <zstd.h>

#include <algorithm>
#include <vector>

#include "codec/codec.h"
#include "codec/decompressors.h"

namespace garret::codec {
namespace {

struct DCtxDeleter {
  void operator()(ZSTD_DCtx* p) const { ZSTD_freeDCtx(p); }
};
struct CCtxDeleter {
  void operator()(ZSTD_CCtx* p) const { ZSTD_freeCCtx(p); }
};

class ZstdDecompressor final : public Decompressor {
 public:
  ZstdDecompressor(Sink& next, std::uint64_t max_output)
      : Decompressor(next, max_output), ctx_(ZSTD_createDCtx()) {}

 private:
  Status decode(ByteSpan in) override {
    if (!ctx_) return makeError(ErrorCode::kInternal, "ZSTD_createDCtx failed");
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    ZSTD_outBuffer output{};
    std::size_t noted = 0;  // input bytes already offered to noteHeaderBytes
    // A full output buffer may mean more output is pending inside zstd.
    do {
      if (input.pos >= noted) {
        noteHeaderBytes(in.subspan(input.pos));
        noted = in.size();
      }
      output = ZSTD_outBuffer{out(), outSize(), 0};
      std::size_t before = input.pos;
      // libzstd decodes a frame it sees whole in one call by a stricter
      // one-shot path; giving it each frame's first byte alone keeps every
      // frame on the streaming path, so the verdict never depends on how the
      // input was split.
      ZSTD_inBuffer slice = input;
      if (frame_begin_ && slice.size - slice.pos > 1) slice.size = slice.pos + 1;
      std::size_t ret = ZSTD_decompressStream(ctx_.get(), &output, &slice);
      if (slice.pos != before) frame_begin_ = false;
      input.pos = slice.pos;
      if (ZSTD_isError(ret)) {
        return invalid(std::string("corrupt zstd data: ") + ZSTD_getErrorName(ret));
      }
      frame_output_ += output.pos;
      // Once a frame is fully decoded, zstd starts the next one on its own;
      // a call with no progress says nothing about frame boundaries.
      if (input.pos != before || output.pos != 0) frame_done_ = ret == 0;
      if (frame_done_ && (input.pos != before || output.pos != 0)) {
        GARRET_TRY(endFrame());
        noted = input.pos;  // the next frame's header starts here
      }
      GARRET_TRY(emit(output.pos));
    } while (input.pos < input.size || output.pos == output.size);
    return {};
  }

  // Streaming decompression does not check a frame's declared content size
  // the way one-shot decompression does, so the verdict would depend on how
  // the input was split. Read the size from the frame header and check it.
  void noteHeaderBytes(ByteSpan next) {
    if (header_done_) return;
    std::size_t take = std::min(next.size(), sizeof header_ - header_len_);
    std::copy_n(next.data(), take, header_ + header_len_);
    header_len_ += take;
    unsigned long long size = ZSTD_getFrameContentSize(header_, header_len_);
    if (size != ZSTD_CONTENTSIZE_ERROR || header_len_ == sizeof header_) {
      header_done_ = true;  // a bad header is reported by zstd itself
      declared_size_ = size == ZSTD_CONTENTSIZE_ERROR ? ZSTD_CONTENTSIZE_UNKNOWN : size;
    }
  }

  Status endFrame() {
    if (header_done_ && declared_size_ != ZSTD_CONTENTSIZE_UNKNOWN &&
        frame_output_ != declared_size_) {
      return invalid("corrupt zstd data: frame content size differs from its header");
    }
    header_done_ = false;
    header_len_ = 0;
    frame_output_ = 0;
    frame_begin_ = true;
    return {};
  }

  Status end() override {
    GARRET_TRY(decode({}));
    if (!frame_done_) return invalid("truncated zstd stream");
    return {};
  }

  std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx_;
  bool frame_done_ = false;
  bool frame_begin_ = true;
  std::uint8_t header_[18] = {};  // ZSTD_FRAMEHEADERSIZE_MAX
  std::size_t header_len_ = 0;
  bool header_done_ = false;
  unsigned long long declared_size_ = ZSTD_CONTENTSIZE_UNKNOWN;
  std::uint64_t frame_output_ = 0;
};

class ZstdCompressor final : public Sink {
 public:
  ZstdCompressor(Sink& next, int level)
      : next_(next), ctx_(ZSTD_createCCtx()), out_(ZSTD_CStreamOutSize()) {
    if (!ctx_) return;
    ZSTD_CCtx_setParameter(ctx_.get(), ZSTD_c_compressionLevel, std::clamp(level, 1, 19));
    ZSTD_CCtx_setParameter(ctx_.get(), ZSTD_c_checksumFlag, 1);
  }

  Status write(ByteSpan data) override {
    if (!failure_.ok()) return failure_;
    failure_ = compress(data, ZSTD_e_continue);
    return failure_;
  }

  Status finish() override {
    if (!failure_.ok()) return failure_;
    failure_ = compress({}, ZSTD_e_end);
    if (failure_.ok()) failure_ = next_.finish();
    return failure_;
  }

 private:
  Status compress(ByteSpan in, ZSTD_EndDirective mode) {
    if (!ctx_) return makeError(ErrorCode::kInternal, "ZSTD_createCCtx failed");
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    for (;;) {
      ZSTD_outBuffer output{out_.data(), out_.size(), 0};
      std::size_t ret = ZSTD_compressStream2(ctx_.get(), &output, &input, mode);
      if (ZSTD_isError(ret)) {
        return makeError(ErrorCode::kInternal,
                         std::string("zstd compression failed: ") + ZSTD_getErrorName(ret));
      }
      if (output.pos > 0) {
        GARRET_TRY(next_.write(ByteSpan(out_.data(), output.pos)));
      }
      bool done = mode == ZSTD_e_end ? ret == 0 : input.pos == input.size;
      if (done) return {};
    }
  }

  Sink& next_;
  std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctx_;
  std::vector<std::uint8_t> out_;
  Status failure_;
};

}  // namespace

std::unique_ptr<Sink> makeZstdDecompressor(Sink& next, std::uint64_t max_output) {
  return std::make_unique<ZstdDecompressor>(next, max_output);
}

std::unique_ptr<Sink> makeZstdCompressor(Sink& next, int level) {
  return std::make_unique<ZstdCompressor>(next, level);
}

Status compressZstdFrame(ByteSpan data, int level, std::vector<std::uint8_t>& out) {
  // One context per thread: creating one costs more than compressing a
  // small chunk.
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctx(ZSTD_createCCtx());
  if (!ctx) return makeError(ErrorCode::kInternal, "ZSTD_createCCtx failed");
  out.resize(ZSTD_compressBound(data.size()));
  std::size_t n = ZSTD_compressCCtx(ctx.get(), out.data(), out.size(), data.data(), data.size(),
                                    level);
  if (ZSTD_isError(n)) {
    return makeError(ErrorCode::kInternal, std::string("zstd: ") + ZSTD_getErrorName(n));
  }
  out.resize(n);
  return {};
}

Status decompressZstdFrame(ByteSpan frame, std::uint64_t expected, std::vector<std::uint8_t>& out) {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx(ZSTD_createDCtx());
  if (!ctx) return makeError(ErrorCode::kInternal, "ZSTD_createDCtx failed");
  unsigned long long declared = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (declared != expected) {
    return invalid("zstd frame declares " +
                   (declared == ZSTD_CONTENTSIZE_UNKNOWN || declared == ZSTD_CONTENTSIZE_ERROR
                        ? std::string("no valid size")
                        : std::to_string(declared) + " bytes") +
                   ", expected " + std::to_string(expected));
  }
  if (ZSTD_findFrameCompressedSize(frame.data(), frame.size()) != frame.size()) {
    return invalid("not exactly one zstd frame");
  }
  out.resize(expected);
  std::size_t n = ZSTD_decompressDCtx(ctx.get(), out.data(), out.size(), frame.data(), frame.size());
  if (ZSTD_isError(n)) return invalid(std::string("zstd: ") + ZSTD_getErrorName(n));
  if (n != expected) return invalid("zstd frame decompressed to the wrong size");
  return {};
}

}  // namespace garret::codec
