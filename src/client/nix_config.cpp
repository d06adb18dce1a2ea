#include "client/nix_config.h"

#include <cctype>
#include <optional>
#include <sstream>
#include <vector>

#include "core/text.h"

namespace garret::client {

namespace {

struct ConfLine {
  std::string key;     // empty for comments/blank lines
  std::vector<std::string> values;
};

std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

ConfLine parseLine(std::string_view line) {
  std::string_view body = line.substr(0, line.find('#'));
  std::size_t eq = body.find('=');
  if (eq == std::string_view::npos) return {};
  return ConfLine{std::string(trimSpace(body.substr(0, eq))), words(body.substr(eq + 1))};
}

std::vector<std::string> splitLines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    lines.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

std::string joinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

bool listed(const std::vector<std::string>& lines, std::string_view plain, std::string_view value) {
  std::string extra = "extra-" + std::string(plain);
  for (const auto& l : lines) {
    ConfLine c = parseLine(l);
    if (c.key != plain && c.key != extra) continue;
    for (const auto& v : c.values) {
      if (v == value) return true;
    }
  }
  return false;
}

std::string keyName(std::string_view key) { return std::string(key.substr(0, key.find(':'))); }

// Drops keys named like `public_key` but with another value (a rotated key).
bool dropRotatedKeys(std::vector<std::string>& lines, std::string_view public_key) {
  bool changed = false;
  std::string name = keyName(public_key);
  for (auto& l : lines) {
    ConfLine c = parseLine(l);
    if (c.key != "trusted-public-keys" && c.key != "extra-trusted-public-keys") continue;
    std::vector<std::string> kept;
    for (const auto& v : c.values) {
      if (keyName(v) == name && v != public_key) continue;
      kept.push_back(v);
    }
    if (kept.size() == c.values.size()) continue;
    std::string rebuilt = c.key + " =";
    for (const auto& v : kept) rebuilt += " " + v;
    l = rebuilt;
    changed = true;
  }
  return changed;
}

// Appends `value` to the first `extra-<key>` line, or adds such a line.
void appendValue(std::vector<std::string>& lines, std::string_view plain, std::string_view value) {
  std::string extra = "extra-" + std::string(plain);
  for (auto& l : lines) {
    if (parseLine(l).key == extra) {
      std::string_view body = l;
      std::size_t hash = body.find('#');
      std::string comment = hash == std::string_view::npos ? "" : " " + std::string(body.substr(hash));
      l = std::string(trimSpace(body.substr(0, hash))) + " " + std::string(value) + comment;
      return;
    }
  }
  lines.push_back(extra + " = " + std::string(value));
}

std::optional<std::string> settingValue(const std::vector<std::string>& lines, std::string_view key) {
  for (const auto& l : lines) {
    ConfLine c = parseLine(l);
    if (c.key == key && !c.values.empty()) return c.values.front();
  }
  return std::nullopt;
}

}  // namespace

NixConfEdit editNixConf(std::string_view text, std::string_view substituter,
                        std::string_view public_key, std::string_view netrc_file) {
  std::vector<std::string> lines = splitLines(text);
  NixConfEdit edit;
  edit.changed = dropRotatedKeys(lines, public_key);
  if (!listed(lines, "substituters", substituter)) {
    appendValue(lines, "substituters", substituter);
    edit.changed = true;
  }
  if (!public_key.empty() && !listed(lines, "trusted-public-keys", public_key)) {
    appendValue(lines, "trusted-public-keys", public_key);
    edit.changed = true;
  }
  if (auto existing = settingValue(lines, "netrc-file")) {
    edit.netrc_file = *existing;
  } else if (!netrc_file.empty()) {
    lines.push_back("netrc-file = " + std::string(netrc_file));
    edit.netrc_file = std::string(netrc_file);
    edit.changed = true;
  }
  edit.text = joinLines(lines);
  return edit;
}

NetrcEdit editNetrc(std::string_view text, std::string_view machine, std::string_view token) {
  // Token positions, so an entry spread over several lines is edited in place.
  struct Tok {
    std::size_t pos, len;
  };
  std::vector<Tok> toks;
  for (std::size_t i = 0; i < text.size();) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    std::size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) toks.push_back({start, i - start});
  }
  auto word = [&](std::size_t k) { return text.substr(toks[k].pos, toks[k].len); };
  NetrcEdit edit;
  for (std::size_t k = 0; k + 1 < toks.size(); ++k) {
    if (word(k) != "machine" || word(k + 1) != machine) continue;
    for (std::size_t j = k + 2; j < toks.size() && word(j) != "machine" && word(j) != "default"; ++j) {
      if (word(j) != "password" || j + 1 >= toks.size()) continue;
      if (word(j + 1) == token) {
        edit.text = std::string(text);
        return edit;
      }
      edit.text = std::string(text.substr(0, toks[j + 1].pos)) + std::string(token) +
                  std::string(text.substr(toks[j + 1].pos + toks[j + 1].len));
      edit.changed = true;
      return edit;
    }
    // An entry without a password: add one after the machine name.
    std::size_t at = toks[k + 1].pos + toks[k + 1].len;
    edit.text = std::string(text.substr(0, at)) + " password " + std::string(token) +
                std::string(text.substr(at));
    edit.changed = true;
    return edit;
  }
  edit.text = std::string(text);
  if (!edit.text.empty() && edit.text.back() != '\n') edit.text += '\n';
  edit.text += "machine " + std::string(machine) + " password " + std::string(token) + "\n";
  edit.changed = true;
  return edit;
}

std::string urlHost(std::string_view url) {
  std::size_t scheme = url.find("://");
  std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  rest = rest.substr(0, rest.find('/'));
  if (std::size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest.front() == '[') return std::string(rest.substr(1, rest.find(']') - 1));
  return std::string(rest.substr(0, rest.find(':')));
}

}  // namespace garret::client
