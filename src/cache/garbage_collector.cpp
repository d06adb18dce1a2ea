#include "cache/garbage_collector.h"

#include <fmt/format.h>

#include <openssl/rand.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <algorithm>

#include "core/encoding.h"

#include "cache/pack_writer.h"

namespace garret::cache {

GarbageCollector::GarbageCollector(db::MetadataDb& db, storage::BlobStore& blobs,
                                   const Clock& clock, GcOptions options)
    : db_(db), blobs_(blobs), clock_(clock), options_(options) {
  char host[256] = "";
  ::gethostname(host, sizeof host - 1);
  std::uint8_t random[4];
  RAND_bytes(random, sizeof random);
  holder_ = fmt::format("{}:{}:{}", host, ::getpid(), hexEncode(ByteSpan(random, sizeof random)));
}

bool GarbageCollector::isGoneLocalHolder(std::string_view holder) const {
  // Holders are "<host>:<pid>:<random>".
  auto first = holder.find(':');
  auto last = holder.rfind(':');
  if (first == std::string_view::npos || last == first) return false;
  std::string_view ours(holder_);
  if (holder.substr(0, first) != ours.substr(0, ours.find(':'))) return false;
  std::string pid_text(holder.substr(first + 1, last - first - 1));
  char* end = nullptr;
  long pid = std::strtol(pid_text.c_str(), &end, 10);
  if (pid_text.empty() || *end != '\0' || pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

Status GarbageCollector::renewLease() {
  GARRET_ASSIGN_OR_RETURN(bool held,
                          db_.acquireGcLease(holder_, clock_.now(), options_.lease_ttl));
  if (!held) {
    return makeError(ErrorCode::kConflict,
                     "garbage collection lease lost to another collector; stopping this pass");
  }
  return {};
}

Status GarbageCollector::deleteDuePacks(const std::vector<db::PackRecord>& due, GcResult& result) {
  for (const db::PackRecord& pack : due) {
    result.pack_bytes_deleted += pack.size;
    ++result.packs_deleted;
    if (options_.dry_run) continue;
    GARRET_TRY(blobs_.remove(pack.blob_key));
    GARRET_TRY(db_.deletePack(pack.id));
  }
  return {};
}

Result<GcResult> GarbageCollector::run(const Progress& progress) {
  auto say = [&](std::string_view what) {
    if (progress) progress(what);
  };
  GcResult result;
  result.lease_holder = holder_;
  GARRET_ASSIGN_OR_RETURN(bool held,
                          db_.acquireGcLease(holder_, clock_.now(), options_.lease_ttl));
  if (!held) {
    // A collector on this machine that was killed holds the lease until it
    // expires; take it over rather than wait.
    GARRET_ASSIGN_OR_RETURN(auto other, db_.gcLeaseHolder(clock_.now()));
    if (other && isGoneLocalHolder(*other)) {
      say("taking over the lease of a garbage collector that is gone: " + *other);
      GARRET_ASSIGN_OR_RETURN(
          held, db_.acquireGcLease(holder_, clock_.now(), options_.lease_ttl, *other));
    }
  }
  if (!held) {
    say("another garbage collector is running; skipping this pass");
    result.skipped = true;
    return result;
  }
  auto outcome = pass(result, progress);
  (void)db_.releaseGcLease(holder_);
  if (!outcome.ok()) return outcome.error();
  return result;
}

Status GarbageCollector::pass(GcResult& result, const Progress& progress) {
  auto say = [&](std::string_view what) {
    if (progress) progress(what);
  };
  db::GcRequest request;
  request.now = clock_.now();
  request.default_retention_period = options_.default_retention_period;
  request.grace_period = options_.grace_period;
  request.dry_run = options_.dry_run;
  say("collecting expired objects, unreferenced NARs and chunks");
  GARRET_ASSIGN_OR_RETURN(result.db, db_.collectGarbage(request));
  GARRET_TRY(renewLease());
  say(fmt::format("deleting {} dead packs", result.db.packs.size()));
  GARRET_TRY(deleteDuePacks(result.db.packs, result));
  GARRET_TRY(renewLease());
  GARRET_TRY(rewritePacks(result, progress));
  if (!options_.dry_run && result.packs_rewritten > 0 && options_.grace_period == 0) {
    // Nothing is reading the old packs (no grace asked for): go now. They
    // died during the rewrite, after the time the pass started.
    request.now = clock_.now();
    GARRET_ASSIGN_OR_RETURN(db::GcReport sweep, db_.collectGarbage(request));
    GARRET_TRY(deleteDuePacks(sweep.packs, result));
  }
  return {};
}

namespace {

struct Candidate {
  db::PackRecord pack;
  std::uint64_t live = 0;
};

// Reads `length` bytes at `offset` of an open blob.
Status readExactly(storage::BlobReader& reader, std::uint64_t offset, std::uint8_t* out,
                   std::uint64_t length, std::string_view key) {
  std::uint64_t done = 0;
  while (done < length) {
    GARRET_ASSIGN_OR_RETURN(std::size_t n, reader.read(offset + done, out + done, length - done));
    if (n == 0) {
      return makeError(ErrorCode::kInternal,
                       "pack " + std::string(key) + " is shorter than its chunks (run garretd fsck)");
    }
    done += n;
  }
  return {};
}

}  // namespace

Status GarbageCollector::rewritePacks(GcResult& result, const Progress& progress) {
  GARRET_ASSIGN_OR_RETURN(auto usage, db_.packUsage());
  std::vector<Candidate> sparse, small;
  const std::uint64_t small_size = options_.pack_size / 4;
  for (auto& [pack, live] : usage) {
    if (live == 0) continue;  // dies in the next pass
    double fraction = pack.size == 0 ? 1.0 : static_cast<double>(live) / pack.size;
    if (fraction < options_.rewrite_threshold) {
      sparse.push_back({pack, live});
    } else if (pack.size < small_size) {
      small.push_back({pack, live});
    }
  }
  // One small pack alone gains nothing from a copy.
  if (small.size() < 2) small.clear();
  std::vector<Candidate> todo = std::move(sparse);
  todo.insert(todo.end(), small.begin(), small.end());
  if (todo.empty()) return {};
  std::sort(todo.begin(), todo.end(),
            [](const Candidate& a, const Candidate& b) { return a.pack.id < b.pack.id; });
  for (const Candidate& c : todo) result.bytes_reclaimable += c.pack.size - c.live;
  if (options_.dry_run) {
    result.packs_rewritten = todo.size();
    return {};
  }
  if (progress) progress(fmt::format("rewriting {} packs", todo.size()));

  // The output pack being filled, the moves into it and the source packs
  // whose last chunk went into it.
  std::unique_ptr<PackWriter> out;
  std::vector<db::ChunkMove> moves;
  std::vector<std::int64_t> retired;
  auto flush = [&]() -> Status {
    if (!out) return {};
    GARRET_TRY(renewLease());
    GARRET_TRY(out->finish());
    if (!out->packs().empty()) {
      GARRET_TRY(db_.relocateChunks(out->packs().front(), moves, retired, clock_.now()));
      ++result.packs_written;
    }
    out->release();
    out.reset();
    moves.clear();
    retired.clear();
    return {};
  };
  std::vector<std::uint8_t> frame;
  for (const Candidate& c : todo) {
    GARRET_ASSIGN_OR_RETURN(auto chunks, db_.packChunks(c.pack.id));
    GARRET_ASSIGN_OR_RETURN(auto reader, blobs_.open(c.pack.blob_key));
    for (const db::ChunkRecord& chunk : chunks) {
      if (out && out->bytesWritten() + chunk.length > options_.pack_size) GARRET_TRY(flush());
      if (!out) {
        // One output pack per writer: no automatic roll-over.
        out = std::make_unique<PackWriter>(db_, blobs_, clock_, UINT64_MAX);
      }
      frame.resize(chunk.length);
      GARRET_TRY(readExactly(*reader, chunk.offset, frame.data(), chunk.length, c.pack.blob_key));
      GARRET_ASSIGN_OR_RETURN(FrameLocation at, out->append(ByteSpan(frame)));
      moves.push_back(db::ChunkMove{chunk.id, c.pack.id, chunk.offset, at.offset});
      result.bytes_copied += chunk.length;
    }
    retired.push_back(c.pack.id);
    ++result.packs_rewritten;
  }
  return flush();
}

std::string summarize(const GcResult& r) {
  return fmt::format(
      "objects={} staged={} nars={} nar_bytes={} chunks={} chunk_bytes={} packs_deleted={} "
      "pack_bytes_deleted={} packs_rewritten={} packs_written={} bytes_copied={} "
      "bytes_reclaimable={}",
      r.db.objects, r.db.staged, r.db.nars, r.db.nar_bytes, r.db.chunks, r.db.chunk_bytes,
      r.packs_deleted, r.pack_bytes_deleted, r.packs_rewritten, r.packs_written, r.bytes_copied,
      r.bytes_reclaimable);
}

}  // namespace garret::cache
