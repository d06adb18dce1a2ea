#include "cache/fsck.h"

#include <fmt/format.h>

#include <unordered_set>

#include "codec/codec.h"

namespace garret::cache {

namespace {

// Checks every chunk of an existing pack; appends the damaged ones.
Status checkPack(db::MetadataDb& db, storage::BlobStore& blobs, const db::PackRecord& pack,
                 FsckReport& report) {
  GARRET_ASSIGN_OR_RETURN(auto chunks, db.packChunks(pack.id));
  GARRET_ASSIGN_OR_RETURN(auto reader, blobs.open(pack.blob_key));
  std::vector<std::uint8_t> frame;
  for (const db::ChunkRecord& c : chunks) {
    ++report.chunks_checked;
    auto damaged = [&](const std::string& why) {
      report.damaged_chunks.push_back(c.id);
      report.problems.push_back(fmt::format("chunk {} in {} at {}: {}", c.chunk_hash.toNix(),
                                            pack.blob_key, c.offset, why));
    };
    if (c.offset + c.length > reader->size()) {
      damaged("extends past the end of the pack");
      continue;
    }
    frame.resize(c.length);
    std::uint64_t done = 0;
    bool short_read = false;
    while (done < c.length) {
      GARRET_ASSIGN_OR_RETURN(std::size_t n,
                              reader->read(c.offset + done, frame.data() + done, c.length - done));
      if (n == 0) {
        short_read = true;
        break;
      }
      done += n;
    }
    report.bytes_checked += done;
    if (short_read) {
      damaged("pack ends early");
      continue;
    }
    // Streaming decompression: chunks migrated from the first layout are
    // whole NARs compressed as a stream (no size in the frame header).
    HashingSink hasher;
    auto decompressor = codec::makeDecompressor(codec::Compression::kZstd, hasher, c.size);
    Status s = decompressor->write(ByteSpan(frame));
    if (s.ok()) s = decompressor->finish();
    if (!s.ok()) {
      damaged(s.error().message);
      continue;
    }
    if (hasher.size() != c.size) {
      damaged(fmt::format("decompresses to {} bytes, not {}", hasher.size(), c.size));
    } else if (hasher.hash() != c.chunk_hash) {
      damaged("bytes do not hash to the chunk's key");
    }
  }
  return {};
}

}  // namespace

Result<FsckReport> runFsck(db::MetadataDb& db, storage::BlobStore& blobs,
                           const FsckOptions& options, const FsckProgress& progress) {
  auto say = [&](std::string_view what) {
    if (progress) progress(what);
  };
  FsckReport report;
  GARRET_ASSIGN_OR_RETURN(auto packs, db.listPacks());
  std::unordered_set<std::string> known;
  for (const auto& p : packs) known.insert(p.blob_key);

  // Orphans: blobs under the layouts' prefixes that no pack row names.
  for (std::string_view prefix : {"pack/", "nar/"}) {
    GARRET_ASSIGN_OR_RETURN(auto keys, blobs.list(prefix));
    for (auto& key : keys) {
      if (known.contains(key)) continue;
      report.problems.push_back("orphan blob " + key + " (no pack row refers to it)");
      report.orphan_blobs.push_back(std::move(key));
    }
  }

  std::size_t n = 0;
  for (const db::PackRecord& pack : packs) {
    ++n;
    // Writing packs belong to uploads in flight; dead ones are going.
    if (pack.state != db::PackState::kLive) continue;
    ++report.packs_checked;
    GARRET_ASSIGN_OR_RETURN(bool exists, blobs.exists(pack.blob_key));
    if (!exists) {
      report.missing_packs.push_back(pack.blob_key);
      report.problems.push_back("missing pack " + pack.blob_key);
      GARRET_ASSIGN_OR_RETURN(auto chunks, db.packChunks(pack.id));
      for (const auto& c : chunks) report.damaged_chunks.push_back(c.id);
      continue;
    }
    if (options.verify_chunks) {
      say(fmt::format("checking pack {}/{} {}", n, packs.size(), pack.blob_key));
      GARRET_TRY(checkPack(db, blobs, pack, report));
    }
  }

  GARRET_ASSIGN_OR_RETURN(report.damaged_nars,
                          db.dropDamagedChunks(report.damaged_chunks, !options.repair));
  if (options.repair && !report.clean()) {
    for (const auto& key : report.orphan_blobs) GARRET_TRY(blobs.remove(key));
    report.repaired = true;
  }
  return report;
}

std::string summarize(const FsckReport& r) {
  return fmt::format(
      "packs_checked={} chunks_checked={} bytes_checked={} missing_packs={} orphan_blobs={} "
      "damaged_chunks={} damaged_nars={} repaired={}",
      r.packs_checked, r.chunks_checked, r.bytes_checked, r.missing_packs.size(),
      r.orphan_blobs.size(), r.damaged_chunks.size(), r.damaged_nars, r.repaired ? "yes" : "no");
}

}  // namespace garret::cache
