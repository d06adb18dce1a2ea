#include "cache/cache_service.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include "auth/claims.h"
#include "core/narinfo.h"
#include "core/store_path.h"

namespace garret::cache {

namespace {

// "<cache_id>/<hash>", built in a per-thread buffer: the hot read path
// looks keys up without allocating.
std::string_view pathKey(std::int64_t cache_id, std::string_view hash) {
  thread_local std::string key;
  key.clear();
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, cache_id);
  (void)ec;
  key.append(digits, end);
  key.push_back('/');
  key.append(hash);
  return key;
}

// Splits "<hash>.nar<ext>" into the hash text and the compression.
struct NarFileName {
  std::string hash_text;
  codec::Compression compression;
};

Result<NarFileName> parseNarFileName(std::string_view file_name) {
  auto dot = file_name.find(".nar");
  if (dot == std::string_view::npos || dot == 0) {
    return invalid("NAR file name must look like <FileHash>.nar[.xz|.zst|.bz2]: " +
                   std::string(file_name));
  }
  auto compression = codec::compressionFromFileName(file_name);
  if (!compression) {
    return invalid("unsupported NAR compression in " + std::string(file_name) +
                   " (supported: none, xz, zstd, bzip2; push with ?compression=zstd)");
  }
  return NarFileName{std::string(file_name.substr(0, dot)), *compression};
}

constexpr std::int64_t kNeverExpires = std::numeric_limits<std::int64_t>::max();

std::string servedFileName(const db::NarRecord& nar) {
  auto c = codec::compressionFromName(nar.compression);
  std::string_view ext = c.ok() ? codec::compressionExtension(*c) : "";
  return nar.file_hash.toNixBase32() + ".nar" + std::string(ext);
}

std::uint64_t fingerprint(std::string_view hash) { return std::hash<std::string_view>{}(hash); }

}  // namespace


CacheService::CacheService(db::MetadataDb& db, storage::BlobStore& blobs, const Clock& clock,
                           ServiceOptions options)
    : db_(db),
      blobs_(blobs),
      clock_(clock),
      options_(std::move(options)),
      pool_(options_.ingest_threads),
      ingest_{db_, blobs_, clock_, pool_,
              IngestSettings{options_.chunking, options_.zstd_level, options_.max_nar_size,
                             options_.pack_size}} {}

CacheService::~CacheService() = default;

// ---- caches

Result<CachePtr> CacheService::makeView(db::CacheRecord record) const {
  GARRET_ASSIGN_OR_RETURN(SecretKey key, SecretKey::parse(record.keypair));
  auto view = std::make_shared<CacheView>(CacheView{std::move(record), key, ""});
  view->public_key = view->key.publicKey().toString();
  return CachePtr(view);
}

void CacheService::remember(const CachePtr& view) {
  std::lock_guard lock(mu_);
  caches_[view->record.name] = Timed<CachePtr>{view, clock_.now()};
}

void CacheService::forget(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = caches_.find(name);
  if (it == caches_.end()) return;
  // Rendered narinfos carry the old key and settings: drop this cache's.
  std::int64_t id = it->second.value->record.id;
  std::string prefix = std::to_string(id) + "/";
  std::erase_if(narinfos_, [&](const auto& kv) { return kv.first.starts_with(prefix); });
  std::erase_if(nars_, [&](const auto& kv) { return kv.first.starts_with(prefix); });
  path_indexes_.erase(id);
  caches_.erase(it);
}

void CacheService::forgetAll() {
  std::lock_guard lock(mu_);
  caches_.clear();
  narinfos_.clear();
  nars_.clear();
  path_indexes_.clear();
  layouts_.clear();
}

CachePtr CacheService::cachedCache(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = caches_.find(name);
  if (it == caches_.end() || !fresh(it->second.at)) return nullptr;
  return it->second.value;
}

Result<CachePtr> CacheService::findCache(std::string_view name) {
  if (auto hit = cachedCache(name)) return hit;
  if (!auth::isValidCacheName(name)) return CachePtr();
  GARRET_ASSIGN_OR_RETURN(auto record, db_.findCache(name));
  if (!record) return CachePtr();
  GARRET_ASSIGN_OR_RETURN(CachePtr view, makeView(std::move(*record)));
  remember(view);
  return view;
}

Result<std::vector<CachePtr>> CacheService::listCaches() {
  GARRET_ASSIGN_OR_RETURN(auto records, db_.listCaches());
  std::vector<CachePtr> out;
  for (auto& r : records) {
    GARRET_ASSIGN_OR_RETURN(CachePtr view, makeView(std::move(r)));
    out.push_back(std::move(view));
  }
  return out;
}

namespace {

Status applySettings(db::CacheRecord& r, const CacheSettings& s, std::string_view key_name) {
  if (s.keypair) {
    if (s.keypair->empty()) {
      GARRET_ASSIGN_OR_RETURN(SecretKey key, SecretKey::generate(key_name));
      r.keypair = key.toString();
    } else {
      GARRET_ASSIGN_OR_RETURN(SecretKey key, SecretKey::parse(*s.keypair));
      r.keypair = key.toString();
    }
  }
  if (s.is_public) r.is_public = *s.is_public;
  if (s.store_dir) {
    if (!isValidStoreDir(*s.store_dir)) return invalid("invalid store_dir: " + *s.store_dir);
    r.store_dir = *s.store_dir;
  }
  if (s.priority) r.priority = *s.priority;
  if (s.upstream_cache_key_names) r.upstream_cache_key_names = *s.upstream_cache_key_names;
  if (s.retention_period) {
    if (*s.retention_period && **s.retention_period < 0) {
      return invalid("retention_period must not be negative");
    }
    r.retention_period = *s.retention_period;
  }
  return {};
}

}  // namespace

Result<CachePtr> CacheService::createCache(std::string_view name, const CacheSettings& settings) {
  if (!auth::isValidCacheName(name)) {
    return invalid("invalid cache name \"" + std::string(name) +
                   "\": use 1-50 of A-Z a-z 0-9 - _ +, starting with a letter or digit");
  }
  db::CacheRecord record;
  record.name = std::string(name);
  CacheSettings s = settings;
  if (!s.keypair) s.keypair = "";
  GARRET_TRY(applySettings(record, s, options_.signing_key_prefix + record.name + "-1"));
  record.created_at = clock_.now();
  GARRET_ASSIGN_OR_RETURN(auto created, db_.createCache(record));
  forget(name);
  return makeView(std::move(created));
}

Result<CachePtr> CacheService::updateCache(std::string_view name, const CacheSettings& settings) {
  GARRET_ASSIGN_OR_RETURN(CachePtr current, findCache(name));
  if (!current) return notFound("no such cache: " + std::string(name));
  db::CacheRecord record = current->record;
  // A regenerated key keeps the naming scheme but bumps its generation.
  std::string key_name = options_.signing_key_prefix + record.name + "-" +
                         std::to_string(clock_.now());
  GARRET_TRY(applySettings(record, settings, key_name));
  GARRET_TRY(db_.updateCache(record));
  forget(name);
  return makeView(std::move(record));
}

Status CacheService::deleteCache(std::string_view name) {
  GARRET_ASSIGN_OR_RETURN(CachePtr current, findCache(name));
  if (!current) return notFound("no such cache: " + std::string(name));
  GARRET_TRY(db_.deleteCache(current->record.id, options_.soft_delete_caches, clock_.now()));
  forget(name);
  return {};
}

// ---- read path

Lookup CacheService::cachedNarInfo(const CacheView& cache, std::string_view hash,
                                   std::string* text) const {
  std::lock_guard lock(mu_);
  auto it = narinfos_.find(pathKey(cache.record.id, hash));
  if (it == narinfos_.end() || !fresh(it->second.at)) {
    auto index = path_indexes_.find(cache.record.id);
    if (index != path_indexes_.end() && index->second.loaded &&
        fresh(index->second.loaded_at) &&
        !index->second.fingerprints.contains(fingerprint(hash))) {
      return Lookup::kMissing;
    }
    return Lookup::kUnknown;
  }
  *text = it->second.value;
  return Lookup::kFound;
}

std::string CacheService::renderNarInfo(const CacheView& cache,
                                        const db::ObjectWithNar& found) const {
  const auto& o = found.object;
  const auto& n = found.nar;
  std::string_view store_dir = cache.record.store_dir;
  NarInfo info;
  auto path = StorePath::parseFull(o.store_path, store_dir);
  if (path.ok()) info.store_path = *path;
  info.url = "nar/" + servedFileName(n);
  info.compression = n.compression;
  info.file_hash = n.file_hash;
  info.file_size = n.file_size;
  info.nar_hash = n.nar_hash;
  info.nar_size = n.nar_size;
  info.references = o.references;
  std::sort(info.references.begin(), info.references.end());
  if (!o.deriver.empty()) info.deriver = o.deriver;
  if (!o.system.empty()) info.system = o.system;
  if (!o.ca.empty()) info.ca = o.ca;
  info.sigs.push_back(cache.key.sign(info.fingerprint(store_dir)));
  for (const auto& sig : o.sigs) {
    if (!sig.starts_with(cache.key.name() + ":")) info.sigs.push_back(sig);
  }
  return info.render(store_dir);
}

Result<std::optional<std::string>> CacheService::narInfo(const CacheView& cache,
                                                         std::string_view hash) {
  std::string text;
  switch (cachedNarInfo(cache, hash, &text)) {
    case Lookup::kFound: return std::optional<std::string>(std::move(text));
    case Lookup::kMissing: return std::optional<std::string>();
    case Lookup::kUnknown: break;
  }
  GARRET_TRY(loadPathIndex(cache.record.id));
  if (cachedNarInfo(cache, hash, &text) == Lookup::kMissing) return std::optional<std::string>();
  GARRET_ASSIGN_OR_RETURN(auto found, db_.findObject(cache.record.id, hash));
  if (!found) return std::optional<std::string>();
  std::string rendered = renderNarInfo(cache, *found);
  std::lock_guard lock(mu_);
  // Bounded: when full, start over (rendering again is one indexed lookup).
  if (narinfos_.size() >= options_.narinfo_cache_entries) narinfos_.clear();
  narinfos_.insert_or_assign(std::string(pathKey(cache.record.id, hash)),
                             Timed<std::string>{rendered, clock_.now()});
  return std::optional<std::string>(std::move(rendered));
}

Status CacheService::loadPathIndex(std::int64_t cache_id) {
  std::int64_t started = clock_.now();
  {
    std::lock_guard lock(mu_);
    PathIndex& index = path_indexes_[cache_id];
    if (index.loaded && fresh(index.loaded_at)) return {};
    ++index.loading;
  }
  auto hashes = db_.listPathHashes(cache_id);
  std::lock_guard lock(mu_);
  PathIndex& index = path_indexes_[cache_id];
  --index.loading;
  if (!hashes.ok()) return hashes.error();
  // A fresh list replaces the old one (paths deleted elsewhere go), plus
  // whatever was added here while the list was read.
  std::unordered_set<std::uint64_t> fingerprints;
  fingerprints.reserve(hashes->size() + index.recent.size());
  for (const auto& h : *hashes) fingerprints.insert(fingerprint(h));
  fingerprints.insert(index.recent.begin(), index.recent.end());
  if (index.loading == 0) index.recent.clear();
  index.fingerprints = std::move(fingerprints);
  index.loaded = true;
  index.loaded_at = started;
  return {};
}

void CacheService::notePathAdded(std::int64_t cache_id, std::string_view hash) {
  std::lock_guard lock(mu_);
  PathIndex& index = path_indexes_[cache_id];
  index.fingerprints.insert(fingerprint(hash));
  if (index.loading > 0) index.recent.push_back(fingerprint(hash));
  auto it = narinfos_.find(pathKey(cache_id, hash));
  if (it != narinfos_.end()) narinfos_.erase(it);
}

Result<std::optional<db::NarRecord>> CacheService::narForFile(const CacheView& cache,
                                                              std::string_view file_name) {
  auto parsed = parseNarFileName(file_name);
  if (!parsed.ok()) return std::optional<db::NarRecord>();
  std::optional<db::NarRecord> nar;
  auto hash = Hash::parseBare(parsed->hash_text);
  if (hash.ok()) {
    GARRET_ASSIGN_OR_RETURN(nar, db_.findNarInCache(cache.record.id, *hash));
    if (nar && servedFileName(*nar) != file_name) nar.reset();
  }
  if (!nar) {
    // The client's own name for a NAR it uploaded: Nix keeps the narinfo it
    // pushed in its local cache and later downloads by that URL.
    GARRET_ASSIGN_OR_RETURN(auto staged,
                            db_.findStaged(cache.record.id, file_name, clock_.now()));
    if (!staged) return std::optional<db::NarRecord>();
    GARRET_ASSIGN_OR_RETURN(nar, db_.findNarById(staged->nar_id));
    if (!nar) return nar;
  }
  std::lock_guard lock(mu_);
  if (nars_.size() >= options_.narinfo_cache_entries) nars_.clear();
  nars_.insert_or_assign(std::string(pathKey(cache.record.id, file_name)),
                         Timed<db::NarRecord>{*nar, clock_.now()});
  return nar;
}

std::optional<db::NarRecord> CacheService::cachedNar(const CacheView& cache,
                                                     std::string_view file_name) const {
  std::lock_guard lock(mu_);
  auto it = nars_.find(pathKey(cache.record.id, file_name));
  if (it == nars_.end() || !fresh(it->second.at)) return std::nullopt;
  return it->second.value;
}

namespace {

constexpr std::size_t kMaxLayouts = 100000;

}  // namespace

Result<std::vector<Segment>> CacheService::narLayout(std::int64_t nar_id) {
  std::int64_t now = clock_.now();
  {
    std::lock_guard lock(mu_);
    auto it = layouts_.find(nar_id);
    if (it != layouts_.end() && fresh(it->second.loaded_at)) {
      return it->second.segments;
    }
  }
  GARRET_ASSIGN_OR_RETURN(auto chunks, db_.narChunks(nar_id));
  std::vector<Segment> segments = coalesceChunks(chunks);
  std::lock_guard lock(mu_);
  if (layouts_.size() >= kMaxLayouts) layouts_.clear();
  layouts_.insert_or_assign(nar_id, CachedLayout{segments, now});
  return segments;
}

Result<OpenNar> CacheService::openSegments(const db::NarRecord& nar,
                                           const std::vector<Segment>& segments) {
  OpenNar out;
  out.size = totalLength(segments);
  if (out.size != nar.file_size) {
    return makeError(ErrorCode::kInternal,
                     "NAR " + nar.nar_hash.toNix() + " has " + std::to_string(out.size) +
                         " bytes of chunks but a FileSize of " + std::to_string(nar.file_size) +
                         " (run `garretd fsck`)");
  }
  // One reader per pack, shared by its segments.
  std::unordered_map<std::string_view, std::shared_ptr<storage::BlobReader>> open;
  for (const Segment& s : segments) {
    auto& reader = open[s.blob_key];
    if (!reader) {
      auto opened = blobs_.open(s.blob_key);
      if (!opened.ok()) {
        return opened.error().context("opening pack " + s.blob_key + " of NAR " +
                                      nar.nar_hash.toNix());
      }
      reader = std::shared_ptr<storage::BlobReader>(std::move(*opened));
    }
    out.pieces.push_back(NarPiece{reader, s.offset, s.length});
  }
  return out;
}

Result<OpenNar> CacheService::openNar(const db::NarRecord& nar) {
  GARRET_ASSIGN_OR_RETURN(auto segments, narLayout(nar.id));
  return openSegments(nar, segments);
}

std::optional<Result<OpenNar>> CacheService::openNarCached(const db::NarRecord& nar) {
  if (!blobs_.openIsCheap()) return std::nullopt;
  std::vector<Segment> segments;
  {
    std::lock_guard lock(mu_);
    auto it = layouts_.find(nar.id);
    if (it == layouts_.end() || !fresh(it->second.loaded_at)) {
      return std::nullopt;
    }
    segments = it->second.segments;
  }
  return openSegments(nar, segments);
}

void CacheService::recordNarAccess(const CacheView& cache, std::int64_t nar_id) {
  std::int64_t now = clock_.now();
  std::string key = std::to_string(cache.record.id) + "#" + std::to_string(nar_id);
  std::lock_guard lock(mu_);
  if (auto it = touches_.find(key); it != touches_.end()) {
    it->second.at = now;
  } else if (touches_.size() < 1'000'000) {
    touches_.emplace(std::move(key), db::AccessTouch{cache.record.id, "", nar_id, now});
  }
}

void CacheService::recordAccess(const CacheView& cache, std::string_view hash) {
  std::int64_t now = clock_.now();
  std::lock_guard lock(mu_);
  std::string_view key = pathKey(cache.record.id, hash);
  if (auto it = touches_.find(key); it != touches_.end()) {
    it->second.at = now;
  } else if (touches_.size() < 1'000'000) {
    touches_.emplace(std::string(key),
                     db::AccessTouch{cache.record.id, std::string(hash), 0, now});
  }
}

Status CacheService::flushAccesses() {
  std::vector<db::AccessTouch> batch;
  {
    std::lock_guard lock(mu_);
    batch.reserve(touches_.size());
    for (auto& [key, touch] : touches_) batch.push_back(std::move(touch));
    touches_.clear();
  }
  if (batch.empty()) return {};
  return db_.touchObjects(batch);
}

// ---- upload path

Result<std::unique_ptr<NarIngest>> CacheService::beginNarUpload(const CacheView&,
                                                               std::string_view file_name) {
  GARRET_ASSIGN_OR_RETURN(NarFileName parsed, parseNarFileName(file_name));
  if (!Hash::parseBare(parsed.hash_text).ok()) {
    return invalid("NAR file name must start with its sha256 FileHash: " +
                   std::string(file_name));
  }
  return NarIngest::start(ingest_, parsed.compression);
}

Status CacheService::completeNarUpload(const CacheView& cache, std::string_view file_name,
                                       NarIngest& ingest) {
  GARRET_ASSIGN_OR_RETURN(NarFileName parsed, parseNarFileName(file_name));
  GARRET_ASSIGN_OR_RETURN(Hash named, Hash::parseBare(parsed.hash_text));
  IngestOutcome out = ingest.outcome();
  if (out.sent_hash != named) {
    return invalid("uploaded bytes hash to " + out.sent_hash.toNix() + " but the file name says " +
                   named.toNix() + " (corrupted or truncated upload)");
  }
  db::NarCommit commit = ingest.commit();
  commit.staged = db::StagedUpload{cache.record.id, std::string(file_name), 0, out.sent_hash,
                                   out.sent_size, clock_.now() + options_.staged_upload_ttl, false};
  GARRET_TRY(storeNar(ingest, std::move(commit)));
  return {};
}

Result<db::CommittedNar> CacheService::storeNar(NarIngest& ingest, db::NarCommit commit) {
  auto committed = db_.commitNar(commit);
  // A failed commit leaves the packs unreferenced: the ingest deletes them.
  ingest.committed(!committed.ok() || committed->existed);
  return committed;
}

namespace {

Status checkClaim(bool ok, const std::string& what) {
  if (ok) return {};
  return invalid("narinfo " + what + " does not match the uploaded NAR");
}

}  // namespace

Status CacheService::putNarInfo(const CacheView& cache, std::string_view hash,
                                std::string_view text, std::string_view uploader, bool pin) {
  GARRET_ASSIGN_OR_RETURN(NarInfo info, NarInfo::parse(text, cache.record.store_dir));
  if (info.store_path.hash != hash) {
    return invalid("narinfo StorePath " + info.store_path.baseName() +
                   " does not match the URL hash " + std::string(hash));
  }
  if (!info.url.starts_with("nar/")) return invalid("narinfo URL must start with nar/");
  std::string file_name = info.url.substr(4);
  GARRET_ASSIGN_OR_RETURN(auto nar, db_.findNarByHash(info.nar_hash));
  GARRET_ASSIGN_OR_RETURN(auto staged, db_.findStaged(cache.record.id, file_name, clock_.now()));
  bool bound = false;
  if (staged && nar && staged->nar_id == nar->id) {
    GARRET_TRY(checkClaim(!info.file_hash || *info.file_hash == staged->client_file_hash,
                          "FileHash"));
    GARRET_TRY(checkClaim(!info.file_size || *info.file_size == staged->client_file_size,
                          "FileSize"));
    bound = true;
  } else if (nar && servedFileName(*nar) == file_name) {
    GARRET_ASSIGN_OR_RETURN(auto in_cache, db_.findNarInCache(cache.record.id, nar->file_hash));
    bound = in_cache.has_value();
  } else if (staged) {
    return invalid("narinfo NarHash " + info.nar_hash.toNix() +
                   " does not match the NAR uploaded as " + info.url);
  }
  if (!bound) {
    return invalid("narinfo refers to " + info.url + ", which was not uploaded to this cache");
  }
  GARRET_TRY(checkClaim(nar->nar_size == info.nar_size, "NarSize"));
  db::ObjectRecord object = objectFor(cache, info, uploader, pin);
  object.nar_id = nar->id;
  GARRET_TRY(db_.upsertObject(object));
  if (staged && !staged->bound) {
    // Bound: the client's name stays an alias of the NAR while the cache
    // uses it, since Nix remembers the URL it uploaded to.
    staged->bound = true;
    staged->expires_at = kNeverExpires;
    GARRET_TRY(db_.putStaged(*staged));
  }
  notePathAdded(cache.record.id, info.store_path.hash);
  return {};
}

db::ObjectRecord CacheService::objectFor(const CacheView& cache, const NarInfo& info,
                                         std::string_view uploader, bool pin) const {
  db::ObjectRecord object;
  object.cache_id = cache.record.id;
  object.store_path_hash = info.store_path.hash;
  object.store_path = info.store_path.full(cache.record.store_dir);
  object.references = info.references;
  object.deriver = info.deriver.value_or("");
  object.system = info.system.value_or("");
  object.ca = info.ca.value_or("");
  object.sigs = info.sigs;
  object.created_at = object.last_accessed_at = clock_.now();
  object.created_by = std::string(uploader);
  object.pinned = pin;
  return object;
}

Result<std::vector<std::string>> CacheService::missingPaths(
    const CacheView& cache, const std::vector<std::string>& store_path_hashes) {
  for (const auto& h : store_path_hashes) {
    if (!isValidStorePathHash(h)) return invalid("invalid store path hash: " + h);
  }
  return db_.missingPaths(cache.record.id, store_path_hashes);
}

Result<std::unique_ptr<NarIngest>> CacheService::beginPathUpload(const CacheView&) {
  return NarIngest::start(ingest_, codec::Compression::kNone);
}

Result<PathUploadOutcome> CacheService::completePathUpload(const CacheView& cache,
                                                            const NarInfo& claimed,
                                                            NarIngest& ingest,
                                                            std::string_view uploader,
                                                            bool pin) {
  GARRET_TRY(claimed.validate(cache.record.store_dir));
  IngestOutcome out = ingest.outcome();
  if (out.nar_hash != claimed.nar_hash) {
    return invalid("the NAR hashes to " + out.nar_hash.toNix() + ", not " +
                   claimed.nar_hash.toNix());
  }
  if (out.nar_size != claimed.nar_size) {
    return invalid("the NAR is " + std::to_string(out.nar_size) + " bytes, not " +
                   std::to_string(claimed.nar_size));
  }
  db::NarCommit commit = ingest.commit();
  commit.object = objectFor(cache, claimed, uploader, pin);
  GARRET_ASSIGN_OR_RETURN(db::CommittedNar stored, storeNar(ingest, std::move(commit)));
  notePathAdded(cache.record.id, claimed.store_path.hash);
  PathUploadOutcome result;
  result.deduplicated = stored.existed;
  result.file_size = stored.nar.file_size;
  result.frac_deduplicated =
      stored.existed ? 1.0
                     : static_cast<double>(out.reused_bytes) /
                           static_cast<double>(std::max<std::uint64_t>(out.nar_size, 1));
  return result;
}

Status CacheService::setPinned(const CacheView& cache, std::string_view hash, bool pinned) {
  if (!isValidStorePathHash(hash)) return invalid("invalid store path hash: " + std::string(hash));
  return db_.setPinned(cache.record.id, hash, pinned);
}

Result<std::vector<db::ObjectRecord>> CacheService::listPinned(const CacheView& cache) {
  return db_.listPinned(cache.record.id);
}

Status CacheService::ping() {
  GARRET_TRY(db_.ping());
  return blobs_.ping();
}

}  // namespace garret::cache
