#include "codec/decompressors.h"

namespace garret::codec {
namespace {

// Forwards input unchanged, enforcing only the output budget.
class NoneDecompressor final : public Sink {
 public:
  NoneDecompressor(Sink& next, std::uint64_t max_output) : next_(next), max_output_(max_output) {}

  Status write(ByteSpan data) override {
    if (!failure_.ok()) return failure_;
    if (data.size() > max_output_ - produced_) {
      failure_ = makeError(ErrorCode::kPayloadTooLarge,
                           "data exceeds " + std::to_string(max_output_) + " bytes");
      return failure_;
    }
    produced_ += data.size();
    failure_ = next_.write(data);
    return failure_;
  }

  Status finish() override {
    if (!failure_.ok()) return failure_;
    failure_ = next_.finish();
    return failure_;
  }

 private:
  Sink& next_;
  std::uint64_t max_output_;
  std::uint64_t produced_ = 0;
  Status failure_;
};

}  // namespace

Decompressor::Decompressor(Sink& next, std::uint64_t max_output)
    : next_(next), max_output_(max_output), out_(kOutputChunk) {}

Status Decompressor::write(ByteSpan data) {
  if (!failure_.ok()) return failure_;
  if (finished_) {
    failure_ = makeError(ErrorCode::kInternal, "write after finish");
    return failure_;
  }
  failure_ = decode(data);
  return failure_;
}

Status Decompressor::finish() {
  if (!failure_.ok()) return failure_;
  if (finished_) {
    failure_ = makeError(ErrorCode::kInternal, "finish called twice");
    return failure_;
  }
  finished_ = true;
  failure_ = end();
  if (failure_.ok()) failure_ = next_.finish();
  return failure_;
}

Status Decompressor::emit(std::size_t n) {
  if (n == 0) return {};
  if (n > max_output_ - produced_) {
    return makeError(ErrorCode::kPayloadTooLarge,
                     "decompressed data exceeds " + std::to_string(max_output_) + " bytes");
  }
  produced_ += n;
  return next_.write(ByteSpan(out_.data(), n));
}

std::unique_ptr<Sink> makeNoneDecompressor(Sink& next, std::uint64_t max_output) {
  return std::make_unique<NoneDecompressor>(next, max_output);
}

}  // namespace garret::codec
