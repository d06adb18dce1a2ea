// NixCliLocalStore: path metadata from `nix path-info --json` and closures
// from `nix-store --query --requisites`, run with fork/exec (no shell).

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "client/local_store.h"
#include "client/local_store_detail.h"
#include "core/hash.h"
#include "core/store_path.h"

namespace garret::client {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

struct ProcessOutput {
  int status = 0;  // exit code, or 128 + signal
  std::string out;
  std::string err;
};

// Reads stdout and stderr together so neither pipe fills up and blocks the child.
Status drainPipes(Fd& out_fd, Fd& err_fd, ProcessOutput& result) {
  while (out_fd.get() >= 0 || err_fd.get() >= 0) {
    pollfd fds[2] = {{out_fd.get(), POLLIN, 0}, {err_fd.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return makeError(ErrorCode::kIo, std::string("poll: ") + std::strerror(errno));
    }
    Fd* fd_of[2] = {&out_fd, &err_fd};
    std::string* sink_of[2] = {&result.out, &result.err};
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[65536];
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) sink_of[i]->append(buf, static_cast<std::size_t>(n));
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) fd_of[i]->reset();
    }
  }
  return {};
}

Result<ProcessOutput> runProcess(const std::vector<std::string>& argv) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return makeError(ErrorCode::kIo, "pipe failed");
  Fd out_r(out_pipe[0]), out_w(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return makeError(ErrorCode::kIo, "pipe failed");
  Fd err_r(err_pipe[0]), err_w(err_pipe[1]);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return makeError(ErrorCode::kIo, std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(out_w.get(), 1);
    ::dup2(err_w.get(), 2);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  out_w.reset();
  err_w.reset();
  ProcessOutput result;
  Status drained = drainPipes(out_r, err_r, result);
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  GARRET_TRY(drained);
  result.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  if (result.status == 127 && result.out.empty()) {
    return makeError(ErrorCode::kUnavailable, "cannot run " + argv[0] + " (is Nix installed?)");
  }
  return result;
}

std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    if (nl > start) lines.push_back(text.substr(start, nl - start));
  }
  return lines;
}

std::string firstLine(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  return line.empty() ? "(no error output)" : line;
}

// The text of a string member, or "" when absent or not a string.
std::string stringField(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

template <class T>
T numberField(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<T>() : T{0};
}

std::vector<std::string> stringArray(const json& obj, const char* key) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_array()) return out;
  for (const json& item : *it) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

// One element of `nix path-info --json`; nullopt for {"valid": false}.
Result<std::optional<PathInfo>> infoFromJson(const json& obj) {
  if (!obj.is_object()) return invalid("nix path-info: unexpected JSON (not an object)");
  auto valid = obj.find("valid");
  if (valid != obj.end() && valid->is_boolean() && !valid->get<bool>()) return std::optional<PathInfo>();
  PathInfo info;
  info.path = stringField(obj, "path");
  // Nix prints SRI hashes; keep the narinfo spelling "sha256:<nix-base32>".
  auto hash = Hash::parse(stringField(obj, "narHash"));
  if (!hash.ok()) return invalid("nix path-info: bad narHash for " + info.path);
  info.nar_hash = hash->toNix();
  info.nar_size = numberField<std::uint64_t>(obj, "narSize");
  info.references = stringArray(obj, "references");
  std::sort(info.references.begin(), info.references.end());
  info.deriver = stringField(obj, "deriver");
  info.sigs = stringArray(obj, "signatures");
  info.ca = stringField(obj, "ca");
  info.registration_time = numberField<std::int64_t>(obj, "registrationTime");
  return std::optional<PathInfo>(std::move(info));
}

using InfoMap = std::map<std::string, std::optional<PathInfo>>;

class NixCliLocalStore final : public LocalStore {
 public:
  explicit NixCliLocalStore(fs::path root) : root_(std::move(root)) {}

  Result<std::optional<PathInfo>> queryPathInfo(const std::string& path) override {
    GARRET_ASSIGN_OR_RETURN(InfoMap infos, queryInfos({path}));
    return infos[path];
  }

  Result<std::vector<PathInfo>> closure(const std::vector<std::string>& paths) override {
    if (paths.empty()) return std::vector<PathInfo>();
    GARRET_ASSIGN_OR_RETURN(InfoMap roots, queryInfos(paths));
    std::string missing;
    for (const std::string& p : paths) {
      if (!roots[p]) missing += (missing.empty() ? "'" : ", '") + p + "'";
    }
    if (!missing.empty()) return notFound("not valid in the local store: " + missing);
    GARRET_ASSIGN_OR_RETURN(std::vector<std::string> all, requisites(paths));
    GARRET_ASSIGN_OR_RETURN(InfoMap infos, queryInfos(all));
    return detail::closureInTopologicalOrder(
        paths, [&infos](const std::string& p) -> Result<std::optional<PathInfo>> { return infos[p]; });
  }

  Result<std::vector<PathInfo>> pathsAddedAfter(std::int64_t) override { return noIds(); }
  Result<std::int64_t> lastPathId() override { return noIds(); }

  fs::path physicalPath(const std::string& path) const override {
    return root_ / fs::path(path).relative_path();
  }

 private:
  static Error noIds() {
    return invalid(
        "the nix CLI local store has no path ids (watching for new paths needs read access "
        "to the Nix database, nix/var/nix/db/db.sqlite)");
  }

  std::vector<std::string> storeArgs() const {
    if (root_ == "/" || root_.empty()) return {};
    return {"--store", root_.string()};
  }

  Result<std::string> run(std::vector<std::string> argv, const std::vector<std::string>& paths) {
    std::vector<std::string> store = storeArgs();
    argv.insert(argv.begin() + 1, store.begin(), store.end());
    argv.insert(argv.end(), paths.begin(), paths.end());
    GARRET_ASSIGN_OR_RETURN(ProcessOutput out, runProcess(argv));
    if (out.status != 0) {
      return makeError(ErrorCode::kIo, argv[0] + " " + argv[1 + store.size()] + " failed (exit " +
                                           std::to_string(out.status) + "): " + firstLine(out.err));
    }
    return std::move(out.out);
  }

  Result<std::vector<std::string>> requisites(const std::vector<std::string>& paths) {
    GARRET_ASSIGN_OR_RETURN(std::string out, run({"nix-store", "--query", "--requisites"}, paths));
    return splitLines(out);
  }

  // Store paths that are not valid map to nullopt. Derivations need
  // --derivation (else Nix would look at their outputs) and make that
  // command fail when invalid, so their validity is checked first.
  Result<InfoMap> queryInfos(const std::vector<std::string>& paths) {
    InfoMap infos;
    std::vector<std::string> plain, drvs;
    for (const std::string& p : paths) {
      infos[p] = std::nullopt;
      if (!StorePath::parseFull(p, store_dir_).ok()) continue;
      (p.ends_with(".drv") ? drvs : plain).push_back(p);
    }
    GARRET_TRY(pathInfo(plain, {}, infos));
    GARRET_ASSIGN_OR_RETURN(std::set<std::string> invalid_drvs, invalidPaths(drvs));
    std::erase_if(drvs, [&](const std::string& p) { return invalid_drvs.count(p) > 0; });
    GARRET_TRY(pathInfo(drvs, {"--derivation"}, infos));
    return infos;
  }

  Status pathInfo(const std::vector<std::string>& paths, const std::vector<std::string>& flags,
                  InfoMap& infos) {
    if (paths.empty()) return {};
    std::vector<std::string> argv = {"nix", "--extra-experimental-features", "nix-command",
                                     "path-info", "--json"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    GARRET_ASSIGN_OR_RETURN(std::string out, run(argv, paths));
    json parsed = json::parse(out, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded() || !parsed.is_array()) return invalid("nix path-info: output is not a JSON array");
    for (const json& item : parsed) {
      GARRET_ASSIGN_OR_RETURN(std::optional<PathInfo> info, infoFromJson(item));
      if (info) infos[info->path] = std::move(info);
    }
    return {};
  }

  Result<std::set<std::string>> invalidPaths(const std::vector<std::string>& paths) {
    if (paths.empty()) return std::set<std::string>();
    std::vector<std::string> argv = {"nix-store", "--check-validity", "--print-invalid"};
    GARRET_ASSIGN_OR_RETURN(std::string out, run(argv, paths));
    std::vector<std::string> lines = splitLines(out);
    return std::set<std::string>(lines.begin(), lines.end());
  }

  fs::path root_;
};

}  // namespace

std::unique_ptr<LocalStore> makeNixCliLocalStore(const fs::path& root) {
  return std::make_unique<NixCliLocalStore>(root);
}

}  // namespace garret::client
