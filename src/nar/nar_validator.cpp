#include "nar/nar_validator.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace garret::nar {
namespace {

// What the next string in the NAR must be. Each state accepts exactly the
// strings the canonical grammar allows there (see Impl::onString).
enum class Expect {
  kMagic,             // "nix-archive-1"
  kOpen,              // "(" starting a node
  kType,              // "type"
  kTypeValue,         // "regular" | "symlink" | "directory"
  kRegularField,      // "executable" | "contents"
  kExecutableMarker,  // ""
  kContentsKeyword,   // "contents" (after the executable marker)
  kContents,          // file data, streamed
  kTargetKeyword,     // "target"
  kTarget,            // symlink target
  kNodeClose,         // ")" ending a regular file or symlink node
  kDirItem,           // "entry" | ")" ending a directory node
  kEntryOpen,         // "("
  kNameKeyword,       // "name"
  kName,              // entry name
  kNodeKeyword,       // "node"
  kEntryClose,        // ")" ending an entry
  kDone,              // nothing more may follow
};

// Human-readable description of each state, for error messages; indexed by
// Expect.
constexpr const char* kExpectText[] = {
    "magic \"nix-archive-1\"",
    "\"(\"",
    "\"type\"",
    "file type",
    "\"executable\" or \"contents\"",
    "empty executable marker",
    "\"contents\"",
    "file contents",
    "\"target\"",
    "symlink target",
    "\")\"",
    "\"entry\" or \")\"",
    "\"(\"",
    "\"name\"",
    "entry name",
    "\"node\"",
    "\")\"",
    "end of NAR",
};

const char* expectText(Expect e) { return kExpectText[static_cast<int>(e)]; }

// Longest keyword in the grammar is "nix-archive-1" (13 bytes); any longer
// string where a keyword is expected is rejected from its length alone.
constexpr std::uint64_t kMaxKeywordLength = 16;

// States where exactly one keyword is allowed, and the state after it.
struct KeywordStep {
  Expect at;
  std::string_view keyword;
  Expect then;
};

constexpr KeywordStep kKeywordSteps[] = {
    {Expect::kOpen, "(", Expect::kType},
    {Expect::kType, "type", Expect::kTypeValue},
    {Expect::kContentsKeyword, "contents", Expect::kContents},
    {Expect::kTargetKeyword, "target", Expect::kTarget},
    {Expect::kEntryOpen, "(", Expect::kNameKeyword},
    {Expect::kNameKeyword, "name", Expect::kName},
    {Expect::kNodeKeyword, "node", Expect::kOpen},
    {Expect::kEntryClose, ")", Expect::kDirItem},
};

// Where in a string (length, bytes, padding) the parser is.
enum class Phase { kLength, kData, kPadding };

std::uint64_t decodeLength(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

bool isValidName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

}  // namespace

struct NarValidator::Impl {
  Sink* next;
  NarLimits limits;
  Sha256 sha;
  Hash hash;
  std::uint64_t offset = 0;       // bytes accepted so far
  std::uint64_t token_start = 0;  // offset of the current string
  Status failure;                 // sticky once not ok
  bool finished = false;

  Expect expect = Expect::kMagic;
  Phase phase = Phase::kLength;
  std::uint8_t length_buf[8] = {};
  std::size_t length_have = 0;
  std::uint64_t length = 0;     // of the current string
  std::uint64_t remaining = 0;  // data bytes still to come
  std::size_t padding_left = 0;
  std::string text;  // the current string, unless streamed
  // One entry per open directory: the last entry name seen in it.
  std::vector<std::string> dirs;

  Impl(Sink* n, NarLimits l) : next(n), limits(l) {}

  Error fail(std::uint64_t at, std::string_view what) {
    failure = invalid("invalid NAR at byte " + std::to_string(at) + ": " + std::string(what));
    return failure.error();
  }
  Error unexpected() { return fail(token_start, std::string("expected ") + expectText(expect)); }

  Status consume(ByteSpan data);
  std::size_t consumeLength(ByteSpan data);
  std::size_t consumeData(ByteSpan data);
  Status consumePadding(ByteSpan data, std::size_t& used);
  Status onLength();
  Status endData();
  std::uint64_t maxLength() const;
  Status onString();
  Status onTypeValue();
  Status onTarget();
  Status onName();
  Status onDirItem();
  Status endNode();
  Status keyword(std::string_view want, Expect then);
};

Status NarValidator::Impl::consume(ByteSpan data) {
  while (!data.empty()) {
    if (expect == Expect::kDone) {
      return fail(offset, "trailing bytes after the root node");
    }
    std::size_t used = 0;
    switch (phase) {
      case Phase::kLength:
        used = consumeLength(data);
        offset += used;
        if (length_have == 8) GARRET_TRY(onLength());
        break;
      case Phase::kData:
        used = consumeData(data);
        offset += used;
        if (remaining == 0) GARRET_TRY(endData());
        break;
      case Phase::kPadding:
        GARRET_TRY(consumePadding(data, used));
        break;
    }
    data = data.subspan(used);
  }
  return {};
}

std::size_t NarValidator::Impl::consumeLength(ByteSpan data) {
  if (length_have == 0) token_start = offset;
  std::size_t n = std::min(data.size(), 8 - length_have);
  std::memcpy(length_buf + length_have, data.data(), n);
  length_have += n;
  return n;
}

std::size_t NarValidator::Impl::consumeData(ByteSpan data) {
  std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(data.size(), remaining));
  // File contents are only counted (the hash covers them in write());
  // everything else is short and kept for checking.
  if (expect != Expect::kContents) {
    text.append(reinterpret_cast<const char*>(data.data()), n);
  }
  remaining -= n;
  return n;
}

Status NarValidator::Impl::consumePadding(ByteSpan data, std::size_t& used) {
  std::size_t n = std::min(data.size(), padding_left);
  for (std::size_t i = 0; i < n; ++i) {
    if (data[i] != 0) return fail(offset + i, "non-zero padding");
  }
  offset += n;
  padding_left -= n;
  used = n;
  if (padding_left == 0) return onString();
  return {};
}

std::uint64_t NarValidator::Impl::maxLength() const {
  switch (expect) {
    case Expect::kContents:
      return UINT64_MAX;
    case Expect::kName:
      return limits.max_name_length;
    case Expect::kTarget:
      return limits.max_target_length;
    default:
      return kMaxKeywordLength;
  }
}

Status NarValidator::Impl::onLength() {
  length = decodeLength(length_buf);
  length_have = 0;
  if (length > maxLength()) {
    if (expect == Expect::kName) return fail(token_start, "entry name too long");
    if (expect == Expect::kTarget) {
      return fail(token_start, "symlink target too long");
    }
    return unexpected();
  }
  text.clear();
  remaining = length;
  phase = Phase::kData;
  if (remaining == 0) return endData();
  return {};
}

Status NarValidator::Impl::endData() {
  padding_left = static_cast<std::size_t>((8 - length % 8) % 8);
  if (padding_left == 0) return onString();
  phase = Phase::kPadding;
  return {};
}

// Called once a whole string (length, bytes, padding) has been read.
Status NarValidator::Impl::onString() {
  phase = Phase::kLength;
  for (const KeywordStep& step : kKeywordSteps) {
    if (step.at == expect) return keyword(step.keyword, step.then);
  }
  switch (expect) {
    case Expect::kMagic:
      if (text != "nix-archive-1") return fail(0, "not a NAR (bad magic)");
      expect = Expect::kOpen;
      return {};
    case Expect::kTypeValue:
      return onTypeValue();
    case Expect::kRegularField:
      if (text != "executable") return keyword("contents", Expect::kContents);
      expect = Expect::kExecutableMarker;
      return {};
    case Expect::kExecutableMarker:
      if (!text.empty()) return fail(token_start, "executable marker is not empty");
      expect = Expect::kContentsKeyword;
      return {};
    case Expect::kContents:
      expect = Expect::kNodeClose;
      return {};
    case Expect::kTarget:
      return onTarget();
    case Expect::kNodeClose:
      return text == ")" ? endNode() : unexpected();
    case Expect::kDirItem:
      return onDirItem();
    case Expect::kName:
      return onName();
    default:
      return fail(token_start, "internal parser state error");
  }
}

Status NarValidator::Impl::keyword(std::string_view want, Expect then) {
  if (text != want) return unexpected();
  expect = then;
  return {};
}

Status NarValidator::Impl::onTypeValue() {
  if (text == "regular") {
    expect = Expect::kRegularField;
  } else if (text == "symlink") {
    expect = Expect::kTargetKeyword;
  } else if (text == "directory") {
    if (dirs.size() >= limits.max_depth) {
      return fail(token_start, "directories nested too deeply");
    }
    dirs.emplace_back();
    expect = Expect::kDirItem;
  } else {
    return fail(token_start, "unknown file type");
  }
  return {};
}

Status NarValidator::Impl::onTarget() {
  if (text.empty()) return fail(token_start, "empty symlink target");
  // A NUL cannot be part of a symlink on disk, so such a NAR could not be
  // restored to the bytes it hashes to.
  if (text.find('\0') != std::string::npos) {
    return fail(token_start, "symlink target contains NUL");
  }
  expect = Expect::kNodeClose;
  return {};
}

Status NarValidator::Impl::onName() {
  if (!isValidName(text)) return fail(token_start, "invalid entry name");
  std::string& previous = dirs.back();
  // std::string compares as unsigned bytes, the order Nix sorts by.
  if (!previous.empty() && text <= previous) {
    return fail(token_start, "entry names not sorted");
  }
  previous = text;
  expect = Expect::kNodeKeyword;
  return {};
}

Status NarValidator::Impl::onDirItem() {
  if (text == "entry") {
    expect = Expect::kEntryOpen;
    return {};
  }
  if (text != ")") return unexpected();
  dirs.pop_back();
  return endNode();
}

// A node is complete: either the NAR is, or the entry holding it must close.
Status NarValidator::Impl::endNode() {
  expect = dirs.empty() ? Expect::kDone : Expect::kEntryClose;
  return {};
}

NarValidator::NarValidator(Sink* next, NarLimits limits)
    : impl_(std::make_unique<Impl>(next, limits)) {}

NarValidator::~NarValidator() = default;

Status NarValidator::write(ByteSpan data) {
  Impl& s = *impl_;
  if (!s.failure.ok()) return s.failure;
  if (s.finished) return s.fail(s.offset, "write after finish");
  GARRET_TRY(s.consume(data));
  s.sha.update(data);
  if (s.next == nullptr) return {};
  Status forwarded = s.next->write(data);
  if (!forwarded.ok()) s.failure = forwarded;
  return forwarded;
}

Status NarValidator::finish() {
  Impl& s = *impl_;
  if (!s.failure.ok()) return s.failure;
  if (s.finished) return s.fail(s.offset, "finish called twice");
  s.finished = true;
  if (s.expect != Expect::kDone) {
    return s.fail(s.offset, std::string("truncated, expected ") + expectText(s.expect));
  }
  s.hash = s.sha.finish();
  if (s.next == nullptr) return {};
  Status finished = s.next->finish();
  if (!finished.ok()) s.failure = finished;
  return finished;
}

const Hash& NarValidator::narHash() const { return impl_->hash; }

std::uint64_t NarValidator::narSize() const { return impl_->offset; }

}  // namespace garret::nar
