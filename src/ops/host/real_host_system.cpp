#include <netdb.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "ops/host/system.h"

extern char** environ;

namespace garret::ops::host {

namespace {

// Closes a pipe end when it goes out of scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string readAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

class RealHostSystem final : public HostSystem {
 public:
  explicit RealHostSystem(std::string root) : root_(std::move(root)) {}

  Result<std::string> readFile(const std::string& path) override {
    std::ifstream in(root_ + path, std::ios::binary);
    if (!in) return notFound(root_ + path + ": cannot open");
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }

  Result<FsStats> fsStats(const std::string& path) override {
    struct statvfs st {};
    if (::statvfs(path.c_str(), &st) != 0) {
      int err = errno;
      return makeError(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo, path + ": " + std::strerror(err));
    }
    std::uint64_t frag = st.f_frsize != 0 ? st.f_frsize : st.f_bsize;
    return FsStats{st.f_blocks * frag, st.f_bavail * frag, st.f_bfree * frag, st.f_files, st.f_ffree};
  }

  Result<std::string> run(const std::vector<std::string>& argv) override;
  Result<std::vector<std::string>> resolve(const std::string& host) override;

  unsigned cpuCount() override {
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : n;
  }
  void sleep(std::chrono::milliseconds d) override { std::this_thread::sleep_for(d); }

 private:
  std::string root_;
};

Result<std::string> RealHostSystem::run(const std::vector<std::string>& argv) {
  if (argv.empty()) return invalid("no command");
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return makeError(ErrorCode::kIo, "pipe: " + std::string(std::strerror(errno)));
  Fd read_end{p[0]}, write_end{p[1]};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, p[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return notFound(argv[0] + ": " + std::strerror(rc));
  ::close(write_end.fd);
  write_end.fd = -1;
  std::string out = readAll(read_end.fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return makeError(ErrorCode::kIo, argv[0] + " failed (exit status " +
                                         std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
  }
  return out;
}

Result<std::vector<std::string>> RealHostSystem::resolve(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) return notFound(host + ": " + ::gai_strerror(rc));
  std::set<std::string> seen;
  std::vector<std::string> out;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {};
    const void* addr = a->ai_family == AF_INET
                           ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr)
                           : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr);
    if (::inet_ntop(a->ai_family, addr, buf, sizeof buf) != nullptr && seen.insert(buf).second) out.push_back(buf);
  }
  ::freeaddrinfo(res);
  return out;
}

}  // namespace

std::unique_ptr<HostSystem> makeRealHostSystem(std::string root) {
  return std::make_unique<RealHostSystem>(std::move(root));
}

}  // namespace garret::ops::host
