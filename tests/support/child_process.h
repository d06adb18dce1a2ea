#pragma once

// ChildProcess: a helper process for tests (a fake API server written in
// Python, say) with its stdin and stdout piped to the test. The child is
// killed when the test process dies (PR_SET_PDEATHSIG) and when the object is
// destroyed (stdin closed, then SIGTERM, then SIGKILL).
//
// Test servers print one line such as "listening 41234" once they accept
// connections; waitForLine("listening ") returns the rest of that line.
//
//   std::string why;
//   auto server = ChildProcess::start({"python3", script, "--fixture", dir}, why);
//   ASSERT_TRUE(server) << why;
//   auto port = server->waitForLine("listening ");
//   ASSERT_TRUE(port) << "server did not start";

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace garret::testing {

class ChildProcess {
 public:
  static std::unique_ptr<ChildProcess> start(const std::vector<std::string>& argv, std::string& why) {
    int in[2], out[2];
    if (argv.empty() || ::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
      why = "cannot start a child process (no command or pipe failed)";
      return nullptr;
    }
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    if (pid < 0) {
      ::close(in[1]);
      ::close(out[0]);
      why = "fork failed";
      return nullptr;
    }
    return std::unique_ptr<ChildProcess>(new ChildProcess(pid, in[1], out[0]));
  }

  ~ChildProcess() {
    ::close(stdin_fd_);
    ::close(stdout_fd_);
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 200 && ::waitpid(pid_, nullptr, WNOHANG) == 0; ++i) {
      ::usleep(10000);
      if (i == 100) ::kill(pid_, SIGKILL);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // Next stdout line that starts with `prefix` (earlier lines are skipped);
  // nullopt when the child exits or the timeout passes first.
  std::optional<std::string> waitForLine(std::string_view prefix,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      std::size_t nl;
      while ((nl = buffer_.find('\n')) != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        if (line.starts_with(prefix)) return line.substr(prefix.size());
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{stdout_fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      char chunk[4096];
      ssize_t n = ::read(stdout_fd_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

 private:
  ChildProcess(pid_t pid, int stdin_fd, int stdout_fd)
      : pid_(pid), stdin_fd_(stdin_fd), stdout_fd_(stdout_fd) {}

  pid_t pid_;
  int stdin_fd_;
  int stdout_fd_;
  std::string buffer_;
};

}  // namespace garret::testing
