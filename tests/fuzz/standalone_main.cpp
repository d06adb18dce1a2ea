// A small stand-in for libFuzzer's driver, linked into every fuzz target
// when the compiler has no -fsanitize=fuzzer. It runs each input of the
// given corpus directories or files, then seeded random mutations of them,
// and exits 0 if the target never crashed. It reads the subset of
// libFuzzer's flags that makes sense without coverage feedback, so one
// command line drives both builds:
//
//   fuzz_narinfo [-runs=N] [-max_total_time=S] [-seed=N] [-max_len=N]
//                [-dict=FILE] [-artifact_prefix=DIR/] CORPUS_DIR_OR_FILE...
//
// -runs counts mutations (the corpus always runs in full); the defaults are
// 5000 runs, 5 seconds and seed 1. GARRET_FUZZ_RUNS, GARRET_FUZZ_SECONDS and
// GARRET_FUZZ_SEED, when set, override both the defaults and the flags.
// Other "-flag=value" arguments are ignored.
// With only files and no -runs, the files are run once each (reproducing a
// crash). On a crash the current input is written to
// "<artifact_prefix>crash-<fnv64>" and its base64 printed to stderr.

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) __attribute__((weak));
extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

namespace {

namespace fs = std::filesystem;
using Bytes = std::string;

// ---------------------------------------------------------------------------
// Crash reporting: the input being run is kept where a signal handler or a
// sanitizer's death callback can write it out.

const char* g_artifact_prefix = "./";
const Bytes* g_current = nullptr;
char g_artifact_path[4096];

std::uint64_t fnv64(std::string_view data) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Async-signal-safe output helpers (no allocation, no stdio).
void writeAll(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n <= 0) return;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}
void writeStr(int fd, const char* s) { writeAll(fd, s, std::strlen(s)); }

void writeBase64(int fd, const Bytes& data) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char buf[4];
  for (std::size_t i = 0; i < data.size(); i += 3) {
    std::uint32_t v = static_cast<std::uint8_t>(data[i]) << 16;
    std::size_t n = std::min<std::size_t>(3, data.size() - i);
    if (n > 1) v |= static_cast<std::uint8_t>(data[i + 1]) << 8;
    if (n > 2) v |= static_cast<std::uint8_t>(data[i + 2]);
    for (int k = 0; k < 4; ++k) {
      buf[k] = k <= static_cast<int>(n) ? kAlphabet[(v >> (18 - 6 * k)) & 63] : '=';
    }
    writeAll(fd, buf, 4);
  }
}

void dumpCurrentInput() {
  const Bytes* input = g_current;
  if (input == nullptr) return;
  g_current = nullptr;  // once
  writeStr(2, "\n==fuzz== crashing input (");
  char num[32];
  std::snprintf(num, sizeof num, "%zu", input->size());
  writeStr(2, num);
  writeStr(2, " bytes), base64: ");
  writeBase64(2, *input);
  writeStr(2, "\n");
  int fd = ::open(g_artifact_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    writeAll(fd, input->data(), input->size());
    ::close(fd);
    writeStr(2, "==fuzz== written to ");
    writeStr(2, g_artifact_path);
    writeStr(2, "\n");
  }
}

extern "C" void onFatalSignal(int sig) {
  dumpCurrentInput();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void installCrashHandlers() {
  if (__sanitizer_set_death_callback != nullptr) __sanitizer_set_death_callback(dumpCurrentInput);
  // Sanitizers install their own SEGV/BUS/FPE handlers; only claim SIGABRT
  // (assert) and whatever they left at the default.
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) {
    struct sigaction old {};
    ::sigaction(sig, nullptr, &old);
    if (sig == SIGABRT || old.sa_handler == SIG_DFL) ::signal(sig, onFatalSignal);
  }
}

void runOne(const Bytes& input) {
  g_current = &input;
  std::snprintf(g_artifact_path, sizeof g_artifact_path, "%scrash-%016llx", g_artifact_prefix,
                static_cast<unsigned long long>(fnv64(input)));
  // A copy in a buffer of exactly the input's size, so that reads past the
  // end are caught by ASan as they would be under libFuzzer.
  std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[input.size() + (input.empty() ? 1 : 0)]);
  std::memcpy(copy.get(), input.data(), input.size());
  LLVMFuzzerTestOneInput(input.empty() ? nullptr : copy.get(), input.size());
  g_current = nullptr;
}

// ---------------------------------------------------------------------------
// Options.

struct Options {
  std::uint64_t runs = 5000;
  bool runs_given = false;
  double seconds = 5;
  std::uint64_t seed = 1;
  std::size_t max_len = 0;  // 0: derived from the corpus
  std::vector<std::string> dicts;
  std::vector<std::string> inputs;
};

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

bool flag(std::string_view arg, std::string_view name, std::string& value) {
  if (!arg.starts_with(name) || arg.size() <= name.size() || arg[name.size()] != '=') return false;
  value = std::string(arg.substr(name.size() + 1));
  return true;
}

Options parseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string value;
    if (flag(arg, "-runs", value)) {
      o.runs = std::strtoull(value.c_str(), nullptr, 10);
      o.runs_given = true;
    } else if (flag(arg, "-max_total_time", value)) {
      o.seconds = std::strtod(value.c_str(), nullptr);
    } else if (flag(arg, "-seed", value)) {
      o.seed = std::strtoull(value.c_str(), nullptr, 10);
    } else if (flag(arg, "-max_len", value)) {
      o.max_len = std::strtoull(value.c_str(), nullptr, 10);
    } else if (flag(arg, "-dict", value)) {
      o.dicts.push_back(value);
    } else if (flag(arg, "-artifact_prefix", value)) {
      static std::string prefix;
      prefix = value;
      g_artifact_prefix = prefix.c_str();
    } else if (arg.starts_with("-")) {
      std::fprintf(stderr, "fuzz: ignoring option %s\n", argv[i]);
    } else {
      o.inputs.emplace_back(arg);
    }
  }
  // The environment wins over flags, so that a CTest command line can be
  // lengthened without editing it: GARRET_FUZZ_SECONDS=600 ctest -L fuzz.
  if (auto v = env("GARRET_FUZZ_RUNS")) {
    o.runs = std::strtoull(v->c_str(), nullptr, 10);
    o.runs_given = true;
  }
  if (auto v = env("GARRET_FUZZ_SECONDS")) o.seconds = std::strtod(v->c_str(), nullptr);
  if (auto v = env("GARRET_FUZZ_SEED")) o.seed = std::strtoull(v->c_str(), nullptr, 10);
  return o;
}

Bytes readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Corpus files in name order, so runs are reproducible.
std::vector<Bytes> loadCorpus(const std::vector<std::string>& inputs, bool& only_files) {
  std::vector<Bytes> corpus;
  only_files = !inputs.empty();
  for (const auto& input : inputs) {
    std::error_code ec;
    if (fs::is_directory(input, ec)) {
      only_files = false;
      std::vector<fs::path> files;
      for (const auto& entry : fs::recursive_directory_iterator(input, ec)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) corpus.push_back(readFile(f));
    } else if (fs::is_regular_file(input, ec)) {
      corpus.push_back(readFile(input));
    } else {
      std::fprintf(stderr, "fuzz: no such file or directory: %s\n", input.c_str());
      std::exit(2);
    }
  }
  return corpus;
}

// AFL/libFuzzer dictionary: one `name="value"` or `"value"` per line, with
// \\, \" and \xNN escapes; '#' starts a comment line.
std::vector<Bytes> loadDictionary(const std::string& path) {
  std::vector<Bytes> words;
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "fuzz: cannot read dictionary %s\n", path.c_str());
    std::exit(2);
  }
  for (std::string line; std::getline(in, line);) {
    auto open = line.find('"');
    auto close = line.rfind('"');
    if (line.empty() || line[0] == '#' || open == std::string::npos || close <= open) continue;
    Bytes word;
    for (std::size_t i = open + 1; i < close; ++i) {
      if (line[i] != '\\' || i + 1 >= close) {
        word += line[i];
      } else if (line[i + 1] == 'x' && i + 3 < close) {
        word += static_cast<char>(std::strtoul(line.substr(i + 2, 2).c_str(), nullptr, 16));
        i += 3;
      } else {
        word += line[++i];
      }
    }
    words.push_back(word);
  }
  return words;
}

// ---------------------------------------------------------------------------
// Mutations.

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {  // splitmix64
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); n > 0.
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  bool chance(unsigned one_in) { return below(one_in) == 0; }

 private:
  std::uint64_t state_;
};

class Mutator {
 public:
  Mutator(const std::vector<Bytes>& corpus, const std::vector<Bytes>& dict, std::size_t max_len,
          std::uint64_t seed)
      : corpus_(corpus), dict_(dict), max_len_(max_len), rng_(seed) {}

  Bytes next() {
    Bytes data = corpus_.empty() ? Bytes() : corpus_[rng_.below(corpus_.size())];
    // Mostly few mutations (small steps from valid input), sometimes many.
    std::size_t count = rng_.chance(4) ? 1 + rng_.below(32) : 1 + rng_.below(4);
    for (std::size_t i = 0; i < count; ++i) mutateOnce(data);
    if (data.size() > max_len_) data.resize(max_len_);
    return data;
  }

 private:
  void mutateOnce(Bytes& d) {
    switch (rng_.below(12)) {
      case 0:  // flip a bit
        if (!d.empty()) d[rng_.below(d.size())] ^= static_cast<char>(1u << rng_.below(8));
        break;
      case 1:  // set a byte
        if (!d.empty()) d[rng_.below(d.size())] = interestingByte();
        break;
      case 2:  // insert bytes
        d.insert(rng_.below(d.size() + 1), 1 + rng_.below(4), interestingByte());
        break;
      case 3:  // delete a range
        if (!d.empty()) {
          std::size_t at = rng_.below(d.size());
          d.erase(at, 1 + rng_.below(std::min<std::size_t>(d.size() - at, 16)));
        }
        break;
      case 4:  // truncate
        if (!d.empty()) d.resize(rng_.below(d.size()));
        break;
      case 5:  // splice with another corpus entry
        splice(d);
        break;
      case 6:  // repeat a chunk several times
        repeatChunk(d);
        break;
      case 7:  // copy a chunk over another place
        if (d.size() > 1) {
          std::size_t from = rng_.below(d.size());
          std::size_t len = 1 + rng_.below(std::min<std::size_t>(d.size() - from, 64));
          Bytes chunk = d.substr(from, len);
          std::size_t to = rng_.below(d.size());
          d.replace(to, std::min(len, d.size() - to), chunk);
        }
        break;
      case 8:  // a little-endian 64-bit integer (NAR lengths, sizes)
        insertInteger(d);
        break;
      case 9:
      case 10:  // a dictionary word, inserted or overwriting
        if (!dict_.empty()) {
          const Bytes& w = dict_[rng_.below(dict_.size())];
          std::size_t at = rng_.below(d.size() + 1);
          if (rng_.chance(2)) {
            d.insert(at, w);
          } else {
            d.replace(at, std::min(w.size(), d.size() - at), w);
          }
        }
        break;
      case 11:  // an ASCII decimal number (text formats)
        insertDecimal(d);
        break;
    }
  }

  char interestingByte() {
    static constexpr unsigned char kBytes[] = {0,   1,   0x7f, 0x80, 0xff, '\n', '\r', ' ',
                                               '/', '.', ':',  '"',  '\\', '=',  '[',  '{',
                                               '-', '0', '9',  'a',  'z',  '%',  '*',  '\t'};
    if (rng_.chance(2)) return static_cast<char>(rng_.below(256));
    return static_cast<char>(kBytes[rng_.below(sizeof kBytes)]);
  }

  void splice(Bytes& d) {
    if (corpus_.empty()) return;
    const Bytes& other = corpus_[rng_.below(corpus_.size())];
    if (other.empty()) return;
    std::size_t from = rng_.below(other.size());
    std::size_t len = 1 + rng_.below(other.size() - from);
    std::size_t at = rng_.below(d.size() + 1);
    if (rng_.chance(2)) {
      d = d.substr(0, at) + other.substr(from);  // crossover
    } else {
      d.insert(at, other.substr(from, len));
    }
  }

  void repeatChunk(Bytes& d) {
    if (d.empty()) return;
    std::size_t from = rng_.below(d.size());
    std::size_t len = 1 + rng_.below(std::min<std::size_t>(d.size() - from, 32));
    Bytes chunk = d.substr(from, len);
    std::size_t times = 1 + rng_.below(rng_.chance(8) ? 2000 : 16);
    Bytes repeated;
    for (std::size_t i = 0; i < times && repeated.size() < max_len_; ++i) repeated += chunk;
    d.insert(from, repeated);
  }

  void insertInteger(Bytes& d) {
    static constexpr std::uint64_t kValues[] = {0, 1, 2, 7, 8, 13, 255, 256, 4096, 65536,
                                                0x7fffffffffffffffull, 0xffffffffffffffffull};
    std::uint64_t v = rng_.chance(2) ? kValues[rng_.below(std::size(kValues))] : rng_.next();
    char bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(v >> (8 * i));
    std::size_t at = rng_.below(d.size() + 1);
    if (rng_.chance(2) && at + 8 <= d.size()) {
      d.replace(at, 8, bytes, 8);
    } else {
      d.insert(at, bytes, 8);
    }
  }

  void insertDecimal(Bytes& d) {
    static constexpr const char* kNumbers[] = {"0",   "1",   "-1",  "65535", "65536",
                                               "2147483648", "9223372036854775807",
                                               "9223372036854775808", "18446744073709551615",
                                               "18446744073709551616", "1e400", "0x10"};
    std::string n = rng_.chance(2) ? kNumbers[rng_.below(std::size(kNumbers))]
                                   : std::to_string(rng_.next() >> rng_.below(64));
    std::size_t at = rng_.below(d.size() + 1);
    // Replace a run of digits if there is one here, else insert.
    std::size_t end = at;
    while (end < d.size() && d[end] >= '0' && d[end] <= '9') ++end;
    d.replace(at, end - at, n);
  }

  const std::vector<Bytes>& corpus_;
  const std::vector<Bytes>& dict_;
  std::size_t max_len_;
  Rng rng_;
};

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  Options o = parseOptions(argc, argv);
  installCrashHandlers();

  bool only_files = false;
  std::vector<Bytes> corpus = loadCorpus(o.inputs, only_files);
  std::vector<Bytes> dict;
  for (const auto& d : o.dicts) {
    auto words = loadDictionary(d);
    dict.insert(dict.end(), words.begin(), words.end());
  }
  if (o.max_len == 0) {
    std::size_t largest = 0;
    for (const auto& c : corpus) largest = std::max(largest, c.size());
    o.max_len = std::max<std::size_t>(4096, 2 * largest);
  }

  auto start = std::chrono::steady_clock::now();
  runOne(Bytes());
  for (const auto& input : corpus) runOne(input);
  std::fprintf(stderr, "fuzz: ran %zu corpus inputs\n", corpus.size());
  if (only_files && !o.runs_given) return 0;

  Mutator mutator(corpus, dict, o.max_len, o.seed);
  std::uint64_t done = 0;
  for (; done < o.runs; ++done) {
    if ((done & 15) == 0) {
      std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
      if (o.seconds > 0 && elapsed.count() >= o.seconds) break;
    }
    runOne(mutator.next());
  }
  std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  std::fprintf(stderr, "fuzz: %llu mutated inputs in %.1f s (seed %llu), no crash\n",
               static_cast<unsigned long long>(done), elapsed.count(),
               static_cast<unsigned long long>(o.seed));
  return 0;
}
