#include "nar/nar_dump.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace garret::nar {
namespace {

namespace fs = std::filesystem;

Error ioError(std::string_view what, const fs::path& path, int err) {
  return makeError(ErrorCode::kIo,
                   std::string(what) + " " + path.string() + ": " + std::strerror(err));
}

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};

void appendU64(std::string& out, std::uint64_t n) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
}

std::size_t padding(std::uint64_t n) { return static_cast<std::size_t>((8 - n % 8) % 8); }

void appendString(std::string& out, std::string_view s) {
  appendU64(out, s.size());
  out.append(s);
  out.append(padding(s.size()), '\0');
}

const char* fileTypeName(mode_t mode) {
  if (S_ISFIFO(mode)) return "fifo";
  if (S_ISSOCK(mode)) return "socket";
  if (S_ISCHR(mode)) return "character device";
  if (S_ISBLK(mode)) return "block device";
  return "unknown";
}

// Entry names of a directory, sorted bytewise (std::string compares as
// unsigned chars), without "." and "..".
Result<std::vector<std::string>> sortedEntries(const fs::path& dir) {
  std::unique_ptr<DIR, DirCloser> handle(::opendir(dir.c_str()));
  if (!handle) return ioError("cannot open directory", dir, errno);
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(handle.get());
    if (entry == nullptr) break;
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  if (errno != 0) return ioError("cannot read directory", dir, errno);
  std::sort(names.begin(), names.end());
  return names;
}

// Tasks on the pending stack.
struct VisitTask {  // emit the node for a path
  fs::path path;
};
struct DirTask {  // emit the remaining entries of a directory
  fs::path path;
  std::vector<std::string> names;
  std::size_t next = 0;
  bool in_entry = false;  // an entry's node was emitted, its ")" not yet
};
struct FileTask {  // stream a regular file's contents
  fs::path path;
  UniqueFd fd;
  std::uint64_t size = 0;
  std::uint64_t remaining = 0;
};
using Task = std::variant<VisitTask, DirTask, FileTask>;

class NarDumpSourceImpl final : public NarDumpSource {
 public:
  explicit NarDumpSourceImpl(fs::path root) {
    appendString(pending_, "nix-archive-1");
    tasks_.emplace_back(VisitTask{std::move(root)});
  }

  Result<std::size_t> read(char* buf, std::size_t len) override {
    if (failed_) return *failed_;
    std::size_t done = 0;
    while (done < len) {
      if (pending_offset_ < pending_.size()) {
        done += drainPending(buf + done, len - done);
        continue;
      }
      if (tasks_.empty()) break;
      Result<std::size_t> n = step(buf + done, len - done);
      if (!n.ok()) {
        failed_ = n.error();
        return *failed_;
      }
      done += *n;
    }
    produced_ += done;
    return done;
  }

  std::uint64_t produced() const override { return produced_; }

 private:
  std::size_t drainPending(char* buf, std::size_t len) {
    std::size_t n = std::min(len, pending_.size() - pending_offset_);
    std::memcpy(buf, pending_.data() + pending_offset_, n);
    pending_offset_ += n;
    if (pending_offset_ == pending_.size()) {
      pending_.clear();
      pending_offset_ = 0;
    }
    return n;
  }

  // Advances the top task; returns file bytes written straight into `buf`
  // (header bytes go to pending_).
  Result<std::size_t> step(char* buf, std::size_t len) {
    Task& top = tasks_.back();
    if (auto* file = std::get_if<FileTask>(&top)) return stepFile(*file, buf, len);
    if (auto* dir = std::get_if<DirTask>(&top)) {
      GARRET_TRY(stepDir(*dir));
      return std::size_t{0};
    }
    fs::path path = std::move(std::get<VisitTask>(top).path);
    tasks_.pop_back();
    GARRET_TRY(visit(path));
    return std::size_t{0};
  }

  Status stepDir(DirTask& dir) {
    if (dir.in_entry) {
      appendString(pending_, ")");
      dir.in_entry = false;
    }
    if (dir.next == dir.names.size()) {
      appendString(pending_, ")");
      tasks_.pop_back();
      return {};
    }
    const std::string& name = dir.names[dir.next++];
    for (std::string_view token : {"entry", "(", "name"}) appendString(pending_, token);
    appendString(pending_, name);
    appendString(pending_, "node");
    dir.in_entry = true;
    fs::path child = dir.path / name;  // `dir` may move when visit() pushes
    return visit(child);
  }

  Result<std::size_t> stepFile(FileTask& file, char* buf, std::size_t len) {
    if (file.remaining == 0) {
      GARRET_TRY(checkAtEnd(file));
      pending_.append(padding(file.size), '\0');
      appendString(pending_, ")");
      tasks_.pop_back();
      return std::size_t{0};
    }
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(len, file.remaining));
    ssize_t n = ::read(file.fd.get(), buf, want);
    if (n < 0 && errno == EINTR) return std::size_t{0};
    if (n < 0) return ioError("cannot read", file.path, errno);
    if (n == 0) {
      return makeError(ErrorCode::kIo, "file " + file.path.string() + " shrank while being read");
    }
    file.remaining -= static_cast<std::uint64_t>(n);
    return static_cast<std::size_t>(n);
  }

  static Status checkAtEnd(const FileTask& file) {
    char extra;
    ssize_t n;
    do {
      n = ::read(file.fd.get(), &extra, 1);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return ioError("cannot read", file.path, errno);
    if (n > 0) {
      return makeError(ErrorCode::kIo, "file " + file.path.string() + " grew while being read");
    }
    return {};
  }

  Status visit(const fs::path& path) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return ioError("cannot stat", path, errno);
    appendString(pending_, "(");
    appendString(pending_, "type");
    if (S_ISREG(st.st_mode)) return visitRegular(path);
    if (S_ISLNK(st.st_mode)) return visitSymlink(path);
    if (S_ISDIR(st.st_mode)) {
      GARRET_ASSIGN_OR_RETURN(std::vector<std::string> names, sortedEntries(path));
      appendString(pending_, "directory");
      tasks_.emplace_back(DirTask{path, std::move(names), 0, false});
      return {};
    }
    return invalid("cannot dump " + path.string() + ": unsupported file type (" +
                   fileTypeName(st.st_mode) + ")");
  }

  Status visitRegular(const fs::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
    if (fd.get() < 0) return ioError("cannot open", path, errno);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return ioError("cannot stat", path, errno);
    if (!S_ISREG(st.st_mode)) {
      return makeError(ErrorCode::kIo, "file " + path.string() + " changed type while being read");
    }
    appendString(pending_, "regular");
    // Nix marks a file executable when the owner may execute it (S_IXUSR).
    if (st.st_mode & S_IXUSR) {
      appendString(pending_, "executable");
      appendString(pending_, "");
    }
    appendString(pending_, "contents");
    auto size = static_cast<std::uint64_t>(st.st_size);
    appendU64(pending_, size);
    tasks_.emplace_back(FileTask{path, std::move(fd), size, size});
    return {};
  }

  Status visitSymlink(const fs::path& path) {
    std::error_code ec;
    fs::path target = fs::read_symlink(path, ec);
    if (ec) return ioError("cannot read symlink", path, ec.value());
    appendString(pending_, "symlink");
    appendString(pending_, "target");
    appendString(pending_, target.native());
    appendString(pending_, ")");
    return {};
  }

  std::string pending_;
  std::size_t pending_offset_ = 0;
  std::vector<Task> tasks_;
  std::uint64_t produced_ = 0;
  std::optional<Error> failed_;
};

}  // namespace

Result<std::unique_ptr<NarDumpSource>> openNarDump(const fs::path& root) {
  struct stat st;
  if (::lstat(root.c_str(), &st) != 0) return ioError("cannot stat", root, errno);
  return std::unique_ptr<NarDumpSource>(std::make_unique<NarDumpSourceImpl>(root));
}

}  // namespace garret::nar
