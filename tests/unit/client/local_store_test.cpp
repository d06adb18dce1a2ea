// NixDbLocalStore and NixCliLocalStore against a fresh chroot store made with
// the real Nix CLI (`--store DIR`), plus a hand-written database for cases
// Nix cannot produce offline (self-references, signatures).

#include "client/local_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/hash.h"
#include "nar/nar_dump.h"
#include "support/temp_dir.h"

namespace garret::client {
namespace {

namespace fs = std::filesystem;
using garret::testing::TempDir;

constexpr const char* kNixConfig =
    "build-users-group =\nsandbox = false\nsubstituters =\nexperimental-features = nix-command\n";

std::string run(const std::string& command, bool& ok) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ok = false;
    return out;
  }
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  ok = ::pclose(pipe) == 0;
  return out;
}

// Runs a command that must succeed; returns its stdout without the final newline.
std::string mustRun(const std::string& command) {
  bool ok = false;
  std::string out = run(command, ok);
  EXPECT_TRUE(ok) << "command failed: " << command;
  while (!out.empty() && (out.back() == '\n' || out.back() == '"')) out.pop_back();
  if (!out.empty() && out.front() == '"') out.erase(0, 1);
  return out;
}

void writeFile(const fs::path& path, const std::string& data) { std::ofstream(path) << data; }

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

std::vector<std::string> pathsOf(const std::vector<PathInfo>& infos) {
  std::vector<std::string> out;
  for (const PathInfo& i : infos) out.push_back(i.path);
  return out;
}

// A chroot store with: a plain file, a directory tree, a chain of
// builtins.toFile paths (c -> b -> a, c -> a) and a .drv referring to a source.
class ChrootStore {
 public:
  ChrootStore() : root_(dir_.path() / "store") {
    ::setenv("NIX_CONFIG", kNixConfig, 1);
    fs::path src = dir_.path() / "src";
    fs::create_directories(src / "tree/bin");
    fs::create_directories(src / "tree/empty");
    writeFile(src / "f.txt", "hello\n");
    writeFile(src / "tree/bin/tool", "#!/bin/sh\n");
    fs::permissions(src / "tree/bin/tool", fs::perms::owner_exec, fs::perm_options::add);
    fs::create_symlink("bin/tool", src / "tree/link");
    file_ = mustRun("nix-store --store " + q(root_) + " --add " + q(src / "f.txt"));
    tree_ = mustRun("nix-store --store " + q(root_) + " --add " + q(src / "tree"));
    c_ = mustRun("nix-instantiate --store " + q(root_) +
                 " --read-write-mode --eval -E 'let a = builtins.toFile \"a.txt\" \"x\"; "
                 "b = builtins.toFile \"b.txt\" \"ref ${a}\"; in builtins.toFile \"c.txt\" \"ref ${b} ${a}\"'");
    writeFile(src / "d.nix",
              "let dep = builtins.toFile \"dep.txt\" \"dependency\"; in builtins.derivation {"
              " name = \"tiny\"; system = builtins.currentSystem; builder = \"/bin/sh\";"
              " args = [\"-c\" \"echo ${dep} > $out\"]; }");
    drv_ = mustRun("nix-instantiate --store " + q(root_) + " " + q(src / "d.nix") + " 2>/dev/null");
  }
  const fs::path& root() const { return root_; }
  const fs::path& dir() const { return dir_.path(); }
  std::string file_, tree_, c_, drv_;

 private:
  TempDir dir_;
  fs::path root_;
};

class LocalStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    bool ok = false;
    run("nix-store --version >/dev/null 2>&1", ok);
    nix_ok_ = ok;
    if (ok) store_ = new ChrootStore();
  }
  static void TearDownTestSuite() {
    delete store_;
    store_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(nix_ok_) << "nix-store is missing: run scripts/install-deps.sh";
    ASSERT_FALSE(store_->c_.empty());
    ASSERT_FALSE(store_->drv_.empty());
    db_ = makeNixDbLocalStore(store_->root());
    cli_ = makeNixCliLocalStore(store_->root());
  }
  std::vector<std::string> allPaths() const {
    std::vector<std::string> out = {store_->file_, store_->tree_, store_->c_, store_->drv_};
    auto closure = db_->closure({store_->c_, store_->drv_});
    EXPECT_TRUE(closure.ok()) << closure.error().message;
    if (closure.ok()) {
      for (const PathInfo& i : *closure) out.push_back(i.path);
    }
    return out;
  }
  std::vector<LocalStore*> stores() { return {db_.get(), cli_.get()}; }

  static inline bool nix_ok_ = false;
  static inline ChrootStore* store_ = nullptr;
  std::unique_ptr<LocalStore> db_, cli_;
};

nlohmann::json nixPathInfo(const fs::path& root, const std::string& path) {
  std::string flag = path.ends_with(".drv") ? " --derivation" : "";
  std::string out = mustRun("nix path-info --json" + flag + " --store " + q(root) + " " + path);
  nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  EXPECT_TRUE(j.is_array() && j.size() == 1) << out;
  return j.is_array() && j.size() == 1 ? j[0] : nlohmann::json::object();
}

TEST_F(LocalStoreTest, DbInfoMatchesNixPathInfo) {
  for (const std::string& path : allPaths()) {
    SCOPED_TRACE(path);
    nlohmann::json expected = nixPathInfo(store_->root(), path);
    auto info = db_->queryPathInfo(path);
    ASSERT_TRUE(info.ok()) << info.error().message;
    ASSERT_TRUE(info->has_value());
    const PathInfo& i = **info;
    EXPECT_EQ(i.path, path);
    EXPECT_TRUE(i.nar_hash.starts_with("sha256:"));
    EXPECT_EQ(Hash::parse(i.nar_hash).value(), Hash::parse(expected["narHash"].get<std::string>()).value());
    EXPECT_EQ(i.nar_size, expected["narSize"].get<std::uint64_t>());
    EXPECT_EQ(i.references, expected["references"].get<std::vector<std::string>>());
    EXPECT_EQ(i.ca, expected.value("ca", std::string()));
    EXPECT_EQ(i.registration_time, expected["registrationTime"].get<std::int64_t>());
    EXPECT_GT(i.id, 0);
  }
}

TEST_F(LocalStoreTest, CliAgreesWithDb) {
  for (const std::string& path : allPaths()) {
    SCOPED_TRACE(path);
    auto a = db_->queryPathInfo(path);
    auto b = cli_->queryPathInfo(path);
    ASSERT_TRUE(a.ok() && b.ok()) << (a.ok() ? b.error().message : a.error().message);
    ASSERT_TRUE(a->has_value() && b->has_value());
    EXPECT_EQ((*a)->path, (*b)->path);
    EXPECT_EQ(Hash::parse((*a)->nar_hash).value(), Hash::parse((*b)->nar_hash).value());
    EXPECT_EQ((*a)->nar_size, (*b)->nar_size);
    EXPECT_EQ((*a)->references, (*b)->references);
    EXPECT_EQ((*a)->deriver, (*b)->deriver);
    EXPECT_EQ((*a)->sigs, (*b)->sigs);
    EXPECT_EQ((*a)->ca, (*b)->ca);
    EXPECT_EQ((*a)->registration_time, (*b)->registration_time);
  }
}

TEST_F(LocalStoreTest, ClosureIsTopological) {
  for (LocalStore* store : stores()) {
    auto closure = store->closure({store_->c_});
    ASSERT_TRUE(closure.ok()) << closure.error().message;
    std::vector<std::string> paths = pathsOf(*closure);
    ASSERT_EQ(paths.size(), 3u);
    EXPECT_TRUE(paths[0].ends_with("-a.txt")) << paths[0];
    EXPECT_TRUE(paths[1].ends_with("-b.txt")) << paths[1];
    EXPECT_EQ(paths[2], store_->c_);

    auto mixed = store->closure({store_->drv_, store_->c_, store_->file_, store_->c_});
    ASSERT_TRUE(mixed.ok()) << mixed.error().message;
    std::vector<std::string> seen;
    for (const PathInfo& info : *mixed) {
      for (const std::string& ref : info.references) {
        EXPECT_NE(std::find(seen.begin(), seen.end(), ref), seen.end()) << ref << " after " << info.path;
      }
      EXPECT_EQ(std::find(seen.begin(), seen.end(), info.path), seen.end()) << "twice: " << info.path;
      seen.push_back(info.path);
    }
    EXPECT_EQ(seen.size(), 6u);  // a, b, c, dep, drv, file
  }
}

TEST_F(LocalStoreTest, UnknownPaths) {
  const std::string bogus = "/nix/store/00000000000000000000000000000000-bogus";
  for (LocalStore* store : stores()) {
    auto info = store->queryPathInfo(bogus);
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_FALSE(info->has_value());
    auto drv = store->queryPathInfo(bogus + ".drv");
    ASSERT_TRUE(drv.ok()) << drv.error().message;
    EXPECT_FALSE(drv->has_value());
    auto closure = store->closure({store_->c_, bogus});
    ASSERT_FALSE(closure.ok());
    EXPECT_NE(closure.error().message.find(bogus), std::string::npos) << closure.error().message;
  }
}

TEST_F(LocalStoreTest, CliStoreHasNoIds) {
  auto after = cli_->pathsAddedAfter(0);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(after.error().message.find("database"), std::string::npos);
  auto last = cli_->lastPathId();
  ASSERT_FALSE(last.ok());
  EXPECT_EQ(last.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(LocalStoreTest, NarDumpOfPhysicalPathMatchesStoreHash) {
  for (const std::string& path : {store_->file_, store_->tree_, store_->c_, store_->drv_}) {
    SCOPED_TRACE(path);
    auto info = db_->queryPathInfo(path).value().value();
    auto source = nar::openNarDump(db_->physicalPath(path));
    ASSERT_TRUE(source.ok()) << source.error().message;
    Sha256 sha;
    char buf[333];
    for (;;) {
      auto n = (*source)->read(buf, sizeof buf);
      ASSERT_TRUE(n.ok()) << n.error().message;
      if (*n == 0) break;
      sha.update(asBytes(std::string_view(buf, *n)));
    }
    EXPECT_EQ(sha.finish(), Hash::parse(info.nar_hash).value());
    EXPECT_EQ((*source)->produced(), info.nar_size);
  }
}

TEST_F(LocalStoreTest, PhysicalPathIsUnderRoot) {
  EXPECT_EQ(db_->physicalPath(store_->file_), store_->root() / store_->file_.substr(1));
  EXPECT_EQ(cli_->physicalPath(store_->file_), store_->root() / store_->file_.substr(1));
  EXPECT_EQ(makeNixDbLocalStore("/")->physicalPath(store_->file_), fs::path(store_->file_));
  EXPECT_EQ(db_->storeDir(), "/nix/store");
}

TEST_F(LocalStoreTest, ToStorePath) {
  fs::path links = store_->dir() / "links";
  fs::create_directories(links);
  fs::path result = links / "result";
  if (!fs::is_symlink(result)) {
    fs::create_symlink(store_->tree_, result);                        // logical target
    fs::create_symlink("result/bin/tool", links / "inner");           // relative, inside
    fs::create_symlink(db_->physicalPath(store_->c_), links / "phys");  // physical target
    fs::create_symlink("inner", links / "chain");
  }
  const std::string& tree = store_->tree_;
  std::map<std::string, std::string> cases = {
      {tree, tree},
      {tree + "/bin/tool", tree},
      {tree + "/", tree},
      {result.string(), tree},
      {(links / "inner").string(), tree},
      {(links / "chain").string(), tree},
      {(links / "phys").string(), store_->c_},
      {(links / "result/bin/../link").string(), tree},
      {(db_->physicalPath(tree) / "bin/tool").string(), tree},
  };
  for (const auto& [arg, expected] : cases) {
    auto got = toStorePath(*db_, arg);
    ASSERT_TRUE(got.ok()) << arg << ": " << got.error().message;
    EXPECT_EQ(*got, expected) << arg;
  }
  for (const std::string& bad : {std::string("/etc/passwd"), std::string("/nix/store"),
                                 links.string(), std::string("/nix/store/not-a-store-path")}) {
    EXPECT_FALSE(toStorePath(*db_, bad).ok()) << bad;
  }
}

TEST_F(LocalStoreTest, OpenLocalStorePicksDatabaseThenCli) {
  auto store = openLocalStore(store_->root());
  auto last = store->lastPathId();
  ASSERT_TRUE(last.ok()) << last.error().message;  // the database store
  EXPECT_GE(*last, 7);

  TempDir empty;
  auto fallback = openLocalStore(empty.path());
  auto no_ids = fallback->lastPathId();
  ASSERT_FALSE(no_ids.ok());
  EXPECT_EQ(no_ids.error().code, ErrorCode::kInvalidArgument);  // the CLI store

  auto broken = makeNixDbLocalStore(empty.path());
  EXPECT_FALSE(broken->queryPathInfo(store_->file_).ok());
}

TEST(LocalStoreIdsTest, PathsAddedAfterFollowsNewPaths) {
  bool ok = false;
  run("nix-store --version >/dev/null 2>&1", ok);
  ASSERT_TRUE(ok) << "nix-store is missing";
  ::setenv("NIX_CONFIG", kNixConfig, 1);
  TempDir dir;
  fs::path root = dir.path() / "store";
  writeFile(dir.path() / "one", "1");
  writeFile(dir.path() / "two", "2");
  std::string one = mustRun("nix-store --store " + q(root) + " --add " + q(dir.path() / "one"));
  auto store = makeNixDbLocalStore(root);
  auto first = store->lastPathId();
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(*first, 1);
  auto all = store->pathsAddedAfter(0);
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_EQ(pathsOf(*all), std::vector<std::string>{one});

  std::string two = mustRun("nix-store --store " + q(root) + " --add " + q(dir.path() / "two"));
  auto second = store->lastPathId();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, 2);
  auto added = store->pathsAddedAfter(*first);
  ASSERT_TRUE(added.ok()) << added.error().message;
  ASSERT_EQ(pathsOf(*added), std::vector<std::string>{two});
  EXPECT_EQ((*added)[0].id, 2);
  EXPECT_TRUE(store->pathsAddedAfter(*second).value().empty());
}

// A database written by hand, with Nix's schema.
class FakeDb {
 public:
  explicit FakeDb(const fs::path& root) {
    fs::create_directories(root / "nix/var/nix/db");
    sqlite3_open((root / "nix/var/nix/db/db.sqlite").c_str(), &db_);
    exec(
        "CREATE TABLE ValidPaths (id integer primary key autoincrement not null, path text unique not null,"
        " hash text not null, registrationTime integer not null, deriver text, narSize integer,"
        " ultimate integer, sigs text, ca text);"
        "CREATE TABLE Refs (referrer integer not null, reference integer not null,"
        " primary key (referrer, reference));");
  }
  ~FakeDb() { sqlite3_close(db_); }
  void add(int id, const std::string& name, const std::string& sigs = "") {
    exec("INSERT INTO ValidPaths VALUES (" + std::to_string(id) + ", '" + path(name) +
         "', 'sha256:" + std::string(64, 'a') + "', 1700000000, NULL, 42, NULL, " +
         (sigs.empty() ? "NULL" : "'" + sigs + "'") + ", NULL)");
  }
  void ref(int from, int to) {
    exec("INSERT INTO Refs VALUES (" + std::to_string(from) + ", " + std::to_string(to) + ")");
  }
  static std::string path(const std::string& name) {
    return "/nix/store/" + std::string(32, name[0]) + "-" + name;
  }

 private:
  void exec(const std::string& sql) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
  }
  sqlite3* db_ = nullptr;
};

TEST(LocalStoreFakeDbTest, SelfReferencesAndDiamonds) {
  TempDir dir;
  {
    FakeDb db(dir.path());
    // top -> left, right; left -> base; right -> base; every path refers to itself.
    db.add(1, "base");
    db.add(2, "left");
    db.add(3, "right", "k1:c2lnMQ== k2:c2lnMg==");
    db.add(4, "top");
    for (int i = 1; i <= 4; ++i) db.ref(i, i);
    db.ref(2, 1);
    db.ref(3, 1);
    db.ref(4, 2);
    db.ref(4, 3);
  }
  auto store = makeNixDbLocalStore(dir.path());
  auto closure = store->closure({FakeDb::path("top")});
  ASSERT_TRUE(closure.ok()) << closure.error().message;
  EXPECT_EQ(pathsOf(*closure), (std::vector<std::string>{FakeDb::path("base"), FakeDb::path("left"),
                                                         FakeDb::path("right"), FakeDb::path("top")}));
  auto right = store->queryPathInfo(FakeDb::path("right")).value().value();
  EXPECT_EQ(right.sigs, (std::vector<std::string>{"k1:c2lnMQ==", "k2:c2lnMg=="}));
  EXPECT_EQ(right.references, (std::vector<std::string>{FakeDb::path("base"), FakeDb::path("right")}));
  EXPECT_EQ(right.nar_size, 42u);
  EXPECT_EQ(right.deriver, "");
  EXPECT_EQ(store->lastPathId().value(), 4);
  EXPECT_EQ(pathsOf(store->pathsAddedAfter(2).value()),
            (std::vector<std::string>{FakeDb::path("right"), FakeDb::path("top")}));
  EXPECT_TRUE(store->closure({}).value().empty());
}

TEST(LocalStoreFakeDbTest, UnknownSchemaFallsBackToCli) {
  TempDir dir;
  fs::create_directories(dir.path() / "nix/var/nix/db");
  sqlite3* db = nullptr;
  sqlite3_open((dir.path() / "nix/var/nix/db/db.sqlite").c_str(), &db);
  sqlite3_exec(db, "CREATE TABLE Other (x integer)", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto direct = makeNixDbLocalStore(dir.path());
  auto err = direct->lastPathId();
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.error().message.find("ValidPaths"), std::string::npos) << err.error().message;
  auto picked = openLocalStore(dir.path());
  auto no_ids = picked->pathsAddedAfter(0);
  ASSERT_FALSE(no_ids.ok());
  EXPECT_NE(no_ids.error().message.find("no path ids"), std::string::npos) << no_ids.error().message;
}

}  // namespace
}  // namespace garret::client
