// NarValidator against a small whole-buffer reference parser of the NAR
// grammar: both must accept exactly the same inputs. The validator must
// also give the same verdict, error message included, however the input is
// split into writes; on success it must report the input's own hash and
// size and forward it unchanged.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/hash.h"
#include "core/stream.h"
#include "fuzz_util.h"
#include "nar/nar_validator.h"

namespace {

using garret::ByteSpan;
using garret::Hash;
using garret::Status;
using garret::nar::NarLimits;
using garret::nar::NarValidator;

// The NAR grammar as Nix writes it, with the validator's limits:
//   nar  = str("nix-archive-1") node
//   node = "(" "type" ( "regular" ["executable" ""] "contents" str
//                     | "symlink" "target" str
//                     | "directory" { "entry" "(" "name" str "node" node ")" } ) ")"
//   str  = u64le(length) bytes zero-padding-to-8
class ReferenceParser {
 public:
  ReferenceParser(std::string_view in, NarLimits limits) : in_(in), limits_(limits) {}

  bool parse() { return keyword("nix-archive-1") && node(0) && pos_ == in_.size(); }

 private:
  bool str(std::string& out, std::uint64_t max) {
    if (in_.size() - pos_ < 8) return false;
    std::uint64_t len = 0;
    for (int i = 7; i >= 0; --i) len = (len << 8) | static_cast<unsigned char>(in_[pos_ + i]);
    pos_ += 8;
    if (len > max || in_.size() - pos_ < len) return false;
    out.assign(in_.substr(pos_, len));
    pos_ += len;
    std::size_t pad = (8 - len % 8) % 8;
    if (in_.size() - pos_ < pad) return false;
    for (std::size_t i = 0; i < pad; ++i) {
      if (in_[pos_ + i] != 0) return false;
    }
    pos_ += pad;
    return true;
  }

  bool keyword(std::string_view want) {
    std::string s;
    return str(s, 64) && s == want;
  }

  bool node(std::size_t depth) {
    std::string type;
    if (!keyword("(") || !keyword("type") || !str(type, 64)) return false;
    if (type == "regular") {
      std::string field, contents;
      if (!str(field, 64)) return false;
      if (field == "executable") {
        if (!keyword("") || !keyword("contents")) return false;
      } else if (field != "contents") {
        return false;
      }
      return str(contents, UINT64_MAX) && keyword(")");
    }
    if (type == "symlink") {
      std::string target;
      return keyword("target") && str(target, limits_.max_target_length) && !target.empty() &&
             target.find('\0') == std::string::npos && keyword(")");
    }
    if (type == "directory") return directory(depth);
    return false;
  }

  bool directory(std::size_t depth) {
    if (depth >= limits_.max_depth) return false;
    std::string previous;
    for (;;) {
      std::string item, name;
      if (!str(item, 64)) return false;
      if (item == ")") return true;
      if (item != "entry" || !keyword("(") || !keyword("name") ||
          !str(name, limits_.max_name_length)) {
        return false;
      }
      if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
          name.find('\0') != std::string::npos) {
        return false;
      }
      if (!previous.empty() && name <= previous) return false;
      previous = name;
      if (!keyword("node") || !node(depth + 1) || !keyword(")")) return false;
    }
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  NarLimits limits_;
};

// Records what the validator forwards.
using garret::fuzz::CollectingSink;

struct Verdict {
  bool ok = false;
  std::string message;
};

// Runs the validator over `input` written in pieces (one piece if salt is 0).
Verdict validate(std::string_view input, NarLimits limits, std::uint64_t salt) {
  CollectingSink sink;
  NarValidator validator(&sink, limits);
  std::vector<std::size_t> sizes{input.size()};
  if (salt != 0) sizes = garret::fuzz::pieceSizes(input, salt);
  std::size_t pos = 0;
  Status status;
  for (std::size_t n : sizes) {
    status = validator.write(garret::asBytes(input.substr(pos, n)));
    if (!status.ok()) break;
    pos += n;
  }
  if (status.ok()) status = validator.finish();
  if (!status.ok()) {
    FUZZ_CHECK(status.error().code == garret::ErrorCode::kInvalidArgument);
    // Errors are sticky.
    FUZZ_CHECK(!validator.write(garret::asBytes("x")).ok());
    FUZZ_CHECK(!validator.finish().ok());
    return {false, status.error().message};
  }
  FUZZ_CHECK(sink.finished);
  FUZZ_CHECK(sink.bytes == input);
  FUZZ_CHECK(validator.narSize() == input.size());
  FUZZ_CHECK(validator.narHash() == Hash::of(input));
  return {true, ""};
}

void check(std::string_view input, NarLimits limits) {
  bool expected = ReferenceParser(input, limits).parse();
  Verdict whole = validate(input, limits, 0);
  FUZZ_CHECK_MSG(whole.ok == expected,
                 std::string("reference parser says ") + (expected ? "valid" : "invalid") +
                     ", validator says " + (whole.ok ? "valid" : "invalid: " + whole.message));
  for (std::uint64_t salt : {1, 2}) {
    Verdict split = validate(input, limits, salt);
    FUZZ_CHECK_MSG(split.ok == whole.ok && split.message == whole.message,
                   "whole: \"" + whole.message + "\", in pieces: \"" + split.message + "\"");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = garret::fuzz::asText(data, size);
  check(input, NarLimits{});
  // Tight limits, so that every limit is reachable by small inputs.
  check(input, NarLimits{.max_name_length = 8, .max_target_length = 16, .max_depth = 3});
  return 0;
}
