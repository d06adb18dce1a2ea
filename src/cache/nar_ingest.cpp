#include "cache/nar_ingest.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>

#include "core/encoding.h"

namespace garret::cache {

// One chunk on its way through the work pool.
struct NarIngest::Slot {
  std::vector<std::uint8_t> data;  // released once hashed and compressed
  std::uint64_t size = 0;
  Hash hash;
  std::optional<db::ChunkRecord> existing;
  std::vector<std::uint8_t> frame;  // the chunk's zstd frame (new or stored)
  Status status;
  std::atomic<bool> cancelled{false};

  std::mutex mu;
  std::condition_variable cv;
  bool done = false;

  void complete() {
    {
      std::lock_guard lock(mu);
      done = true;
    }
    cv.notify_one();
  }
  void wait() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done; });
  }
};

// Packs this upload reads reused chunks from, opened once each (opening a
// remote blob costs a round trip). Shared with the tasks in flight.
class NarIngest::PackReaders {
 public:
  explicit PackReaders(storage::BlobStore& blobs) : blobs_(blobs) {}
  Result<std::shared_ptr<storage::BlobReader>> open(const std::string& key) {
    {
      std::lock_guard lock(mu_);
      if (auto it = open_.find(key); it != open_.end()) return it->second;
    }
    GARRET_ASSIGN_OR_RETURN(auto reader, blobs_.open(key));
    std::shared_ptr<storage::BlobReader> shared(std::move(reader));
    std::lock_guard lock(mu_);
    if (open_.size() >= 64) open_.clear();  // bounded: a NAR rarely spans more
    return open_.emplace(key, shared).first->second;
  }

 private:
  storage::BlobStore& blobs_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<storage::BlobReader>> open_;
};

namespace {

// Bytes queued between the network reader and the ingest stages.
constexpr std::size_t kPipelineBytes = 1 << 20;


// Reads a stored chunk's frame (the served bytes must include it).
Status readFrame(NarIngest::PackReaders& packs, const db::ChunkRecord& c,
                 std::vector<std::uint8_t>& out) {
  auto reader = packs.open(c.pack_key);
  if (!reader.ok()) {
    return reader.error().context("reading stored chunk " + c.chunk_hash.toNix() +
                                  " (run `garretd fsck`)");
  }
  out.resize(c.length);
  std::uint64_t done = 0;
  while (done < c.length) {
    auto n = (*reader)->read(c.offset + done, out.data() + done, c.length - done);
    if (!n.ok()) return n.error().context("reading stored chunk " + c.chunk_hash.toNix());
    if (*n == 0) {
      return makeError(ErrorCode::kInternal, "pack " + c.pack_key + " is shorter than chunk " +
                                                 c.chunk_hash.toNix() +
                                                 " needs (run `garretd fsck`)");
    }
    done += *n;
  }
  return {};
}

void process(IngestContext& ctx, NarIngest::PackReaders& packs, NarIngest::Slot& slot);

}  // namespace

NarIngest::NarIngest(IngestContext& ctx)
    : ctx_(ctx),
      packs_(ctx.db, ctx.blobs, ctx.clock, ctx.settings.pack_size),
      readers_(std::make_shared<PackReaders>(ctx.blobs)),
      max_in_flight_(2 * static_cast<std::size_t>(ctx.pool.size()) + 2) {}

Result<std::unique_ptr<NarIngest>> NarIngest::start(IngestContext& ctx,
                                                    codec::Compression sent_compression) {
  GARRET_TRY(ctx.settings.chunking.validate());
  std::unique_ptr<NarIngest> in(new NarIngest(ctx));
  NarIngest* self = in.get();
  in->chunker_ = std::make_unique<chunk::Chunker>(
      ctx.settings.chunking, [self](ByteSpan chunk) { return self->submit(chunk); });
  in->validator_ = std::make_unique<nar::NarValidator>(in->chunker_.get());
  in->decompressor_ =
      codec::makeDecompressor(sent_compression, *in->validator_, ctx.settings.max_nar_size);
  // Uncompressed uploads (Attic's upload-path) are the NAR itself, which the
  // validator hashes already: a second SHA-256 pass would be wasted.
  Sink* first = in->decompressor_.get();
  if (sent_compression != codec::Compression::kNone) {
    in->sent_hasher_ = std::make_unique<HashingSink>(in->decompressor_.get());
    first = in->sent_hasher_.get();
  }
  // The stages above run on their own thread while the caller reads the
  // next piece from the network.
  in->head_ = std::make_unique<PipelinedSink>(*first, kPipelineBytes);
  return in;
}

NarIngest::~NarIngest() {
  head_.reset();  // stops the pipeline thread before the stages it feeds go
  // Abandoned: the pool skips what it has not started; the slots are
  // shared, so a running task finishes on its own.
  for (auto& slot : in_flight_) slot->cancelled = true;
}

Status NarIngest::write(ByteSpan data) { return head_->write(data); }

Status NarIngest::finish() {
  GARRET_TRY(head_->finish());
  while (!in_flight_.empty()) GARRET_TRY(takeOldest());
  GARRET_TRY(packs_.finish());
  file_hash_ = file_hasher_.finish();
  return {};
}

Status NarIngest::submit(ByteSpan chunk) {
  auto slot = std::make_shared<Slot>();
  slot->data.assign(chunk.begin(), chunk.end());
  slot->size = chunk.size();
  in_flight_.push_back(slot);
  IngestContext* ctx = &ctx_;
  ctx_.pool.submit([ctx, readers = readers_, slot] {
    if (!slot->cancelled) process(*ctx, *readers, *slot);
    slot->complete();
  });
  // Bounded: wait for the oldest once enough chunks are in flight.
  while (in_flight_.size() > max_in_flight_) GARRET_TRY(takeOldest());
  return {};
}

namespace {

void process(IngestContext& ctx, NarIngest::PackReaders& packs, NarIngest::Slot& slot) {
  slot.hash = Hash::of(ByteSpan(slot.data));
  auto found = ctx.db.claimChunk(slot.hash, ctx.clock.now());
  if (!found.ok()) {
    slot.status = found.error();
    return;
  }
  if (*found) {
    slot.existing = std::move(**found);
    slot.status = readFrame(packs, *slot.existing, slot.frame);
  } else {
    slot.status = codec::compressZstdFrame(ByteSpan(slot.data), ctx.settings.zstd_level,
                                           slot.frame);
  }
  slot.data = {};
}

}  // namespace

Status NarIngest::takeOldest() {
  std::shared_ptr<Slot> slot = std::move(in_flight_.front());
  in_flight_.pop_front();
  slot->wait();
  GARRET_TRY(slot->status);
  file_hasher_.update(ByteSpan(slot->frame));
  file_size_ += slot->frame.size();
  ++stats_.chunks;
  if (slot->existing) {
    ++stats_.reused_chunks;
    stats_.reused_bytes += slot->size;
    chunks_.push_back(std::move(*slot->existing));
    return {};
  }
  std::string key = slot->hash.toHex();
  if (auto it = new_chunks_.find(key); it != new_chunks_.end()) {
    ++stats_.reused_chunks;
    stats_.reused_bytes += slot->size;
    chunks_.push_back(chunks_[it->second]);
    return {};
  }
  GARRET_ASSIGN_OR_RETURN(FrameLocation at, packs_.append(ByteSpan(slot->frame)));
  db::ChunkRecord c;
  c.chunk_hash = slot->hash;
  c.size = slot->size;
  c.compression = "zstd";
  c.pack_id = at.pack_id;
  c.offset = at.offset;
  c.length = slot->frame.size();
  stats_.stored_bytes += c.length;
  new_chunks_.emplace(std::move(key), chunks_.size());
  chunks_.push_back(std::move(c));
  return {};
}

IngestOutcome NarIngest::outcome() const {
  IngestOutcome out = stats_;
  out.sent_hash = sent_hasher_ ? sent_hasher_->hash() : validator_->narHash();
  out.sent_size = sent_hasher_ ? sent_hasher_->size() : validator_->narSize();
  out.nar_hash = validator_->narHash();
  out.nar_size = validator_->narSize();
  out.file_hash = file_hash_;
  out.file_size = file_size_;
  return out;
}

db::NarCommit NarIngest::commit() const {
  db::NarCommit c;
  c.nar.nar_hash = validator_->narHash();
  c.nar.nar_size = validator_->narSize();
  c.nar.compression = "zstd";
  c.nar.file_hash = file_hash_;
  c.nar.file_size = file_size_;
  c.nar.created_at = ctx_.clock.now();
  c.chunks = chunks_;
  c.packs = packs_.packs();
  return c;
}

void NarIngest::committed(bool nar_existed) {
  if (nar_existed) {
    packs_.discard();
  } else {
    packs_.release();
  }
}

}  // namespace garret::cache
