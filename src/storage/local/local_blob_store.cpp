#include "storage/local/local_blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <random>
#include <system_error>
#include <utility>

#include "storage/writer_lifecycle.h"

namespace garret::storage {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kWriteBufferSize = 256 * 1024;
constexpr int kTempNameAttempts = 16;

Error errnoError(std::string_view op, const fs::path& path, int err) {
  ErrorCode code = (err == ENOENT || err == ENOTDIR) ? ErrorCode::kNotFound : ErrorCode::kIo;
  return makeError(code, std::string(op) + " " + path.string() + ": " + std::strerror(err));
}

Error ioError(std::string_view op, const fs::path& path, int err) {
  return makeError(ErrorCode::kIo,
                   std::string(op) + " " + path.string() + ": " + std::strerror(err));
}

Error fsError(std::string_view op, const fs::path& path, const std::error_code& ec) {
  return makeError(ErrorCode::kIo, std::string(op) + " " + path.string() + ": " + ec.message());
}

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  // Closes the descriptor; returns close()'s errno or 0.
  int reset(int fd = -1) {
    int err = 0;
    if (fd_ >= 0 && ::close(fd_) != 0) err = errno;
    fd_ = fd;
    return err;
  }

 private:
  int fd_ = -1;
};

Status fsyncDir(const fs::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return ioError("opening directory", dir, errno);
  if (::fsync(fd.get()) != 0) return ioError("fsync", dir, errno);
  return okStatus();
}

// Creates the directories between `root` and the blob at `target`; a new
// directory's entry is fsynced into its parent so the blob stays reachable.
Status makeParents(const fs::path& root, const fs::path& target) {
  fs::path dir = root;
  fs::path relative = target.parent_path().lexically_relative(root);
  for (const fs::path& part : relative) {
    if (part == ".") continue;
    fs::path parent = dir;
    dir /= part;
    if (::mkdir(dir.c_str(), 0755) == 0) {
      GARRET_TRY(fsyncDir(parent));
    } else if (errno != EEXIST) {
      return ioError("creating directory", dir, errno);
    }
  }
  return okStatus();
}

std::string randomName() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t bits = rng();
  std::string name(16, '0');
  for (char& c : name) {
    c = kHex[bits & 0xf];
    bits >>= 4;
  }
  return name;
}

struct TempFile {
  UniqueFd fd;
  fs::path path;
};

Result<TempFile> createTempFile(const fs::path& dir) {
  for (int attempt = 0; attempt < kTempNameAttempts; ++attempt) {
    fs::path path = dir / randomName();
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) return TempFile{UniqueFd(fd), std::move(path)};
    if (errno != EEXIST) return ioError("creating temp file", path, errno);
  }
  return makeError(ErrorCode::kIo, "no free temp file name in " + dir.string());
}

Status writeAll(int fd, const std::uint8_t* data, std::size_t size, const fs::path& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ioError("writing", path, errno);
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return okStatus();
}

class LocalBlobWriter final : public BlobWriter {
 public:
  LocalBlobWriter(fs::path root, fs::path target, TempFile temp)
      : root_(std::move(root)),
        target_(std::move(target)),
        temp_path_(std::move(temp.path)),
        fd_(std::move(temp.fd)),
        life_(target_.string(), [this] { discard(); }) {
    buffer_.reserve(kWriteBufferSize);
  }
  ~LocalBlobWriter() override {
    if (life_.state() != State::kCommitted) discard();
  }

  Status write(ByteSpan data) override {
    GARRET_TRY(life_.expect(State::kOpen, "write"));
    if (buffer_.size() + data.size() > kWriteBufferSize) {
      GARRET_TRY(flush());
      // Big pieces go straight to the file instead of through the buffer.
      if (data.size() >= kWriteBufferSize) {
        return life_.guard(writeAll(fd_.get(), data.data(), data.size(), temp_path_));
      }
    }
    buffer_.insert(buffer_.end(), data.begin(), data.end());
    return okStatus();
  }

  Status finish() override {
    GARRET_TRY(life_.expect(State::kOpen, "finish"));
    GARRET_TRY(flush());
    life_.set(State::kFinished);
    return okStatus();
  }

  Status commit() override {
    if (life_.state() == State::kOpen) GARRET_TRY(finish());
    GARRET_TRY(life_.expect(State::kFinished, "commit"));
    GARRET_TRY(life_.guard(makeDurable()));
    life_.set(State::kCommitted);
    return okStatus();
  }

 private:
  using State = WriterLifecycle::State;




  Status flush() {
    Status status = writeAll(fd_.get(), buffer_.data(), buffer_.size(), temp_path_);
    buffer_.clear();
    return life_.guard(std::move(status));
  }

  Status makeDurable() {
    if (::fsync(fd_.get()) != 0) return ioError("fsync", temp_path_, errno);
    if (int err = fd_.reset(); err != 0) return ioError("closing", temp_path_, err);
    GARRET_TRY(makeParents(root_, target_));
    if (::rename(temp_path_.c_str(), target_.c_str()) != 0) {
      return ioError("renaming temp file to", target_, errno);
    }
    return fsyncDir(target_.parent_path());
  }

  void discard() {
    fd_.reset();
    if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
    temp_path_.clear();
  }

  const fs::path root_;
  const fs::path target_;
  fs::path temp_path_;
  UniqueFd fd_;
  std::vector<std::uint8_t> buffer_;
  WriterLifecycle life_;
};

class LocalBlobReader final : public BlobReader {
 public:
  LocalBlobReader(UniqueFd fd, std::uint64_t size, fs::path path)
      : fd_(std::move(fd)), size_(size), path_(std::move(path)) {}

  std::uint64_t size() const override { return size_; }
  int nativeHandle() const override { return fd_.get(); }

  Result<std::size_t> read(std::uint64_t offset, std::uint8_t* out, std::size_t length) override {
    if (offset >= size_) return std::size_t{0};
    length = static_cast<std::size_t>(std::min<std::uint64_t>(length, size_ - offset));
    std::size_t done = 0;
    while (done < length) {
      ssize_t n = ::pread(fd_.get(), out + done, length - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ioError("reading", path_, errno);
      if (n == 0) break;
      done += static_cast<std::size_t>(n);
    }
    return done;
  }

 private:
  UniqueFd fd_;
  const std::uint64_t size_;
  const fs::path path_;
};

Status ensureDirectory(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fsError("creating directory", dir, ec);
  if (!fs::is_directory(dir, ec)) {
    return makeError(ErrorCode::kIo, dir.string() + " is not a directory");
  }
  return okStatus();
}

// True if a directory with key-relative name `dir` may hold keys that
// start with `prefix`.
bool mayHoldPrefix(const std::string& dir, std::string_view prefix) {
  std::string with_slash = dir + "/";
  return std::string_view(with_slash).starts_with(prefix) || prefix.starts_with(with_slash);
}

}  // namespace

Result<std::unique_ptr<LocalBlobStore>> LocalBlobStore::open(fs::path root) {
  return open(std::move(root), kDefaultStaleTempAge);
}

Result<std::unique_ptr<LocalBlobStore>> LocalBlobStore::open(fs::path root,
                                                             std::int64_t stale_temp_age_seconds) {
  if (root.empty()) return invalid("local blob store root is empty");
  std::error_code ec;
  fs::path absolute = fs::absolute(root, ec);
  if (ec) return fsError("resolving", root, ec);
  std::unique_ptr<LocalBlobStore> store(new LocalBlobStore(absolute.lexically_normal()));
  GARRET_TRY(ensureDirectory(store->root_));
  GARRET_TRY(ensureDirectory(store->tempDir()));
  GARRET_TRY(store->removeStaleTempFiles(stale_temp_age_seconds));
  return store;
}

Status LocalBlobStore::checkKey(std::string_view key) const {
  if (!isValidBlobKey(key)) return invalid("invalid blob key \"" + std::string(key) + "\"");
  if (key == kTempDirName || key.starts_with(std::string(kTempDirName) + "/")) {
    return invalid("blob key \"" + std::string(key) + "\" is reserved");
  }
  return okStatus();
}

Result<std::unique_ptr<BlobWriter>> LocalBlobStore::create(std::string_view key) {
  GARRET_TRY(checkKey(key));
  GARRET_ASSIGN_OR_RETURN(TempFile temp, createTempFile(tempDir()));
  return std::unique_ptr<BlobWriter>(
      std::make_unique<LocalBlobWriter>(root_, pathOf(key), std::move(temp)));
}

Result<std::unique_ptr<BlobReader>> LocalBlobStore::open(std::string_view key) {
  GARRET_TRY(checkKey(key));
  fs::path path = pathOf(key);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return errnoError("opening blob", path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ioError("stat", path, errno);
  if (!S_ISREG(st.st_mode)) return notFound("no blob " + path.string());
  return std::unique_ptr<BlobReader>(std::make_unique<LocalBlobReader>(
      std::move(fd), static_cast<std::uint64_t>(st.st_size), std::move(path)));
}

Result<bool> LocalBlobStore::exists(std::string_view key) {
  GARRET_TRY(checkKey(key));
  fs::path path = pathOf(key);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return S_ISREG(st.st_mode);
  if (errno == ENOENT || errno == ENOTDIR) return false;
  return ioError("stat", path, errno);
}

Status LocalBlobStore::remove(std::string_view key) {
  GARRET_TRY(checkKey(key));
  fs::path path = pathOf(key);
  if (::unlink(path.c_str()) == 0) return okStatus();
  // A directory is not a blob, so there is nothing to remove either.
  if (errno == ENOENT || errno == ENOTDIR || errno == EISDIR) return okStatus();
  return ioError("removing", path, errno);
}

Result<std::vector<std::string>> LocalBlobStore::list(std::string_view prefix) {
  if (!isValidBlobPrefix(prefix)) {
    return invalid("invalid blob prefix \"" + std::string(prefix) + "\"");
  }
  std::size_t slash = prefix.rfind('/');
  fs::path start = slash == std::string_view::npos ? root_ : pathOf(prefix.substr(0, slash));
  std::vector<std::string> keys;
  std::error_code ec;
  if (!fs::is_directory(start, ec)) return keys;
  fs::recursive_directory_iterator it(start, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::string key = it->path().lexically_relative(root_).generic_string();
    if (it->is_directory(ec)) {
      if (key == kTempDirName || !mayHoldPrefix(key, prefix)) it.disable_recursion_pending();
    } else if (it->is_regular_file(ec) && key.starts_with(prefix) && isValidBlobKey(key)) {
      keys.push_back(std::move(key));
    }
  }
  if (ec) return fsError("listing", start, ec);
  std::sort(keys.begin(), keys.end());
  return keys;
}

Status LocalBlobStore::ping() {
  GARRET_ASSIGN_OR_RETURN(TempFile probe, createTempFile(tempDir()));
  probe.fd.reset();
  if (::unlink(probe.path.c_str()) != 0) return ioError("removing", probe.path, errno);
  return okStatus();
}

Result<std::size_t> LocalBlobStore::removeStaleTempFiles(std::int64_t max_age_seconds) {
  std::int64_t cutoff = static_cast<std::int64_t>(std::time(nullptr)) - max_age_seconds;
  std::size_t removed = 0;
  std::error_code ec;
  fs::directory_iterator it(tempDir(), ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (static_cast<std::int64_t>(st.st_mtime) >= cutoff) continue;
    if (::unlink(it->path().c_str()) != 0 && errno != ENOENT) {
      return ioError("removing stale temp file", it->path(), errno);
    }
    ++removed;
  }
  if (ec) return fsError("listing", tempDir(), ec);
  return removed;
}

}  // namespace garret::storage
