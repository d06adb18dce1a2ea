// NixDbLocalStore, toStorePath, openLocalStore and the closure ordering shared
// with NixCliLocalStore (local_store_cli.cpp).

#include "client/local_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "client/local_store_detail.h"
#include "core/store_path.h"

namespace garret::client {

namespace detail {

Result<std::vector<PathInfo>> closureInTopologicalOrder(const std::vector<std::string>& roots,
                                                        const PathInfoLookup& lookup) {
  enum class State { kOpen, kDone };
  std::map<std::string, State> state;
  std::map<std::string, PathInfo> infos;
  std::vector<PathInfo> out;
  std::vector<std::pair<std::string, bool>> stack;  // (path, references pushed)
  for (auto it = roots.rbegin(); it != roots.rend(); ++it) stack.emplace_back(*it, false);
  while (!stack.empty()) {
    auto [path, expanded] = stack.back();
    stack.pop_back();
    auto st = state.find(path);
    if (expanded) {
      if (st->second == State::kOpen) out.push_back(std::move(infos.at(path)));
      st->second = State::kDone;
      continue;
    }
    if (st != state.end()) continue;
    GARRET_ASSIGN_OR_RETURN(std::optional<PathInfo> info, lookup(path));
    if (!info) return notFound("path '" + path + "' is not valid in the local store");
    state.emplace(path, State::kOpen);
    stack.emplace_back(path, true);
    for (auto ref = info->references.rbegin(); ref != info->references.rend(); ++ref) {
      if (*ref != path && !state.count(*ref)) stack.emplace_back(*ref, false);
    }
    infos.emplace(path, std::move(*info));
  }
  return out;
}

}  // namespace detail

namespace {

namespace fs = std::filesystem;

constexpr int kBusyTimeoutMs = 10000;
constexpr int kMaxSymlinks = 40;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

Error sqliteError(sqlite3* db, int rc, std::string_view what) {
  ErrorCode code = (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ? ErrorCode::kUnavailable : ErrorCode::kIo;
  std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return makeError(code, "Nix database: " + std::string(what) + ": " + detail);
}

std::string columnText(sqlite3_stmt* stmt, int col) {
  const unsigned char* text = sqlite3_column_text(stmt, col);
  return text ? reinterpret_cast<const char*>(text) : "";
}

std::vector<std::string> splitSpaces(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

constexpr const char* kInfoColumns =
    "SELECT id, path, hash, registrationTime, deriver, narSize, sigs, ca FROM ValidPaths ";

PathInfo infoFromRow(sqlite3_stmt* stmt) {
  PathInfo info;
  info.id = sqlite3_column_int64(stmt, 0);
  info.path = columnText(stmt, 1);
  info.nar_hash = columnText(stmt, 2);
  info.registration_time = sqlite3_column_int64(stmt, 3);
  info.deriver = columnText(stmt, 4);
  std::int64_t size = sqlite3_column_int64(stmt, 5);
  info.nar_size = size > 0 ? static_cast<std::uint64_t>(size) : 0;
  info.sigs = splitSpaces(columnText(stmt, 6));
  info.ca = columnText(stmt, 7);
  return info;
}

// Resets a cached statement when a query is done with it.
class StmtUse {
 public:
  explicit StmtUse(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~StmtUse() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  StmtUse(const StmtUse&) = delete;
  StmtUse& operator=(const StmtUse&) = delete;
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
};

class NixDbLocalStore final : public LocalStore {
 public:
  explicit NixDbLocalStore(fs::path root) : root_(std::move(root)) {
    open_status_ = open(root_ / "nix/var/nix/db/db.sqlite");
  }

  const Status& openStatus() const { return open_status_; }

  Result<std::optional<PathInfo>> queryPathInfo(const std::string& path) override {
    GARRET_TRY(open_status_);
    ReadTransaction txn(db_.get());
    return lookup(path);
  }

  Result<std::vector<PathInfo>> closure(const std::vector<std::string>& paths) override {
    GARRET_TRY(open_status_);
    ReadTransaction txn(db_.get());  // one snapshot for the whole walk
    GARRET_TRY(checkAllValid(paths));
    return detail::closureInTopologicalOrder(
        paths, [this](const std::string& p) { return lookup(p); });
  }

  Result<std::vector<PathInfo>> pathsAddedAfter(std::int64_t after_id) override {
    GARRET_TRY(open_status_);
    ReadTransaction txn(db_.get());
    StmtUse use(after_stmt_.get());
    sqlite3_bind_int64(use.get(), 1, after_id);
    std::vector<PathInfo> out;
    int rc;
    while ((rc = sqlite3_step(use.get())) == SQLITE_ROW) out.push_back(infoFromRow(use.get()));
    if (rc != SQLITE_DONE) return sqliteError(db_.get(), rc, "listing new paths");
    for (PathInfo& info : out) GARRET_TRY(loadReferences(info));
    return out;
  }

  Result<std::int64_t> lastPathId() override {
    GARRET_TRY(open_status_);
    StmtUse use(last_id_stmt_.get());
    int rc = sqlite3_step(use.get());
    if (rc != SQLITE_ROW) return sqliteError(db_.get(), rc, "reading the last path id");
    return static_cast<std::int64_t>(sqlite3_column_int64(use.get(), 0));
  }

  fs::path physicalPath(const std::string& path) const override {
    return root_ / fs::path(path).relative_path();
  }

 private:
  // BEGIN/COMMIT around reads so they see one snapshot; best effort (a
  // failed BEGIN just leaves each statement in autocommit).
  class ReadTransaction {
   public:
    explicit ReadTransaction(sqlite3* db) : db_(db) {
      active_ = sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK;
    }
    ~ReadTransaction() {
      if (active_) sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    }
    ReadTransaction(const ReadTransaction&) = delete;
    ReadTransaction& operator=(const ReadTransaction&) = delete;

   private:
    sqlite3* db_;
    bool active_ = false;
  };

  Status open(const fs::path& file) {
    struct stat st;
    if (::stat(file.c_str(), &st) != 0) {
      return makeError(ErrorCode::kNotFound, "Nix database " + file.string() + " does not exist");
    }
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    db_.reset(raw);
    if (rc != SQLITE_OK) return sqliteError(db_.get(), rc, "opening " + file.string());
    sqlite3_busy_timeout(db_.get(), kBusyTimeoutMs);
    GARRET_TRY(checkSchema());
    GARRET_TRY(prepare(info_stmt_, std::string(kInfoColumns) + "WHERE path = ?"));
    GARRET_TRY(prepare(after_stmt_, std::string(kInfoColumns) + "WHERE id > ? ORDER BY id"));
    GARRET_TRY(prepare(last_id_stmt_, "SELECT COALESCE(MAX(id), 0) FROM ValidPaths"));
    return prepare(refs_stmt_,
                   "SELECT v.path FROM Refs r JOIN ValidPaths v ON v.id = r.reference "
                   "WHERE r.referrer = ? ORDER BY v.path");
  }

  Status checkSchema() {
    StmtPtr stmt;
    GARRET_TRY(prepare(stmt,
                       "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                       "AND name IN ('ValidPaths', 'Refs')"));
    int rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_ROW) return sqliteError(db_.get(), rc, "reading the schema");
    if (sqlite3_column_int(stmt.get(), 0) != 2) {
      return invalid("Nix database has no ValidPaths/Refs tables (unknown schema)");
    }
    return {};
  }

  Status prepare(StmtPtr& stmt, const std::string& sql) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &raw, nullptr);
    stmt.reset(raw);
    if (rc != SQLITE_OK) return sqliteError(db_.get(), rc, "preparing a query");
    return {};
  }

  Result<std::optional<PathInfo>> lookup(const std::string& path) {
    std::optional<PathInfo> info;
    {
      StmtUse use(info_stmt_.get());
      sqlite3_bind_text(use.get(), 1, path.c_str(), -1, SQLITE_TRANSIENT);
      int rc = sqlite3_step(use.get());
      if (rc == SQLITE_DONE) return std::optional<PathInfo>();
      if (rc != SQLITE_ROW) return sqliteError(db_.get(), rc, "querying " + path);
      info = infoFromRow(use.get());
    }
    GARRET_TRY(loadReferences(*info));
    return info;
  }

  Status loadReferences(PathInfo& info) {
    StmtUse use(refs_stmt_.get());
    sqlite3_bind_int64(use.get(), 1, info.id);
    int rc;
    while ((rc = sqlite3_step(use.get())) == SQLITE_ROW) {
      info.references.push_back(columnText(use.get(), 0));
    }
    if (rc != SQLITE_DONE) return sqliteError(db_.get(), rc, "querying references of " + info.path);
    return {};
  }

  Status checkAllValid(const std::vector<std::string>& paths) {
    std::string missing;
    for (const std::string& path : paths) {
      GARRET_ASSIGN_OR_RETURN(std::optional<PathInfo> info, lookup(path));
      if (!info) missing += (missing.empty() ? "'" : ", '") + path + "'";
    }
    if (!missing.empty()) return notFound("not valid in the local store: " + missing);
    return {};
  }

  fs::path root_;
  std::unique_ptr<sqlite3, DbCloser> db_;
  StmtPtr info_stmt_, refs_stmt_, after_stmt_, last_id_stmt_;
  Status open_status_;
};

// If `p` (lexically normal, absolute) is a store path or lies inside one,
// the store path; logical paths and, for a chroot root, physical ones count.
std::optional<std::string> storePathPrefix(const fs::path& p, const fs::path& physical_store,
                                           const std::string& store_dir) {
  for (const fs::path& dir : {fs::path(store_dir), physical_store}) {
    fs::path rel = p.lexically_relative(dir);
    if (rel.empty() || *rel.begin() == ".." || *rel.begin() == ".") continue;
    return store_dir + "/" + rel.begin()->string();
  }
  return std::nullopt;
}

// Follows symlinks one component at a time until the path enters the store.
// Links are resolved by hand because their targets are logical store paths,
// which for a chroot store do not exist on the host.
Result<std::optional<std::string>> resolveIntoStore(const LocalStore& store, fs::path target) {
  fs::path physical_store = store.physicalPath(store.storeDir());
  std::vector<fs::path> todo(target.begin(), target.end());
  std::reverse(todo.begin(), todo.end());
  fs::path cur = "/";
  for (int links = 0; !todo.empty();) {
    if (auto sp = storePathPrefix(cur, physical_store, store.storeDir())) return sp;
    fs::path comp = todo.back();
    todo.pop_back();
    if (comp.empty() || comp == "/" || comp == ".") continue;
    if (comp == "..") {
      cur = cur.parent_path();
      continue;
    }
    fs::path next = cur / comp;
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(next, ec))) {
      cur = next;
      continue;
    }
    if (++links > kMaxSymlinks) return invalid("too many symlinks resolving " + target.string());
    fs::path link = fs::read_symlink(next, ec);
    if (ec) return makeError(ErrorCode::kIo, "cannot read symlink " + next.string() + ": " + ec.message());
    for (auto it = link.end(); it != link.begin();) todo.push_back(*--it);
    if (link.is_absolute()) cur = "/";
  }
  return storePathPrefix(cur, physical_store, store.storeDir());
}

}  // namespace

Result<std::string> toStorePath(const LocalStore& store, const std::string& arg) {
  if (arg.empty()) return invalid("empty path");
  std::error_code ec;
  fs::path abs = fs::absolute(arg, ec);
  if (ec) return invalid("cannot make " + arg + " absolute: " + ec.message());
  GARRET_ASSIGN_OR_RETURN(std::optional<std::string> sp, resolveIntoStore(store, abs.lexically_normal()));
  if (!sp) return invalid("'" + arg + "' is not in the Nix store " + store.storeDir());
  auto parsed = StorePath::parseFull(*sp, store.storeDir());
  if (!parsed.ok()) return invalid("'" + arg + "' resolves to '" + *sp + "', not a store path");
  return *sp;
}

std::unique_ptr<LocalStore> makeNixDbLocalStore(const fs::path& root) {
  return std::make_unique<NixDbLocalStore>(root);
}

std::unique_ptr<LocalStore> openLocalStore(const fs::path& root) {
  auto db = std::make_unique<NixDbLocalStore>(root);
  if (db->openStatus().ok()) return db;
  return makeNixCliLocalStore(root);
}

}  // namespace garret::client
