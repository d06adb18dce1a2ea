#include "storage/s3/s3_xml.h"

#include <charconv>
#include <cstdint>

namespace garret::storage::s3 {

namespace {

void appendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// Decodes the entity `name` (between '&' and ';'); false if unknown.
bool decodeEntity(std::string_view name, std::string& out) {
  struct Named {
    std::string_view name;
    char c;
  };
  static constexpr Named kNamed[] = {
      {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
  for (const Named& n : kNamed) {
    if (name == n.name) {
      out += n.c;
      return true;
    }
  }
  if (name.size() < 2 || name[0] != '#') return false;
  bool hex = name[1] == 'x' || name[1] == 'X';
  std::string_view digits = name.substr(hex ? 2 : 1);
  std::uint32_t cp = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || cp == 0 ||
      cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    return false;
  }
  appendUtf8(out, cp);
  return true;
}

// Position just past the open tag of the next <tag …> at or after `from`,
// with `empty` set for <tag/>; npos if none.
std::size_t findOpenTag(std::string_view xml, std::string_view tag, std::size_t from, bool& empty) {
  std::string open = "<" + std::string(tag);
  for (std::size_t at = xml.find(open, from); at != std::string_view::npos;
       at = xml.find(open, at + 1)) {
    std::size_t after = at + open.size();
    if (after >= xml.size()) return std::string_view::npos;
    char c = xml[after];
    if (c != '>' && c != '/' && c != ' ' && c != '\t' && c != '\n' && c != '\r') continue;
    std::size_t close = xml.find('>', after);
    if (close == std::string_view::npos) return std::string_view::npos;
    empty = xml[close - 1] == '/';
    return close + 1;
  }
  return std::string_view::npos;
}

Error missing(std::string_view what, std::string_view document) {
  return makeError(ErrorCode::kInternal, "S3 " + std::string(document) + " response has no " +
                                             std::string(what) + " (not an S3 server?)");
}

}  // namespace

std::string xmlDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '&') {
      std::size_t semi = text.find(';', i + 1);
      if (semi != std::string_view::npos && semi - i <= 12 &&
          decodeEntity(text.substr(i + 1, semi - i - 1), out)) {
        i = semi;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

std::string xmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::vector<std::string> xmlElements(std::string_view xml, std::string_view tag) {
  std::vector<std::string> out;
  std::string close = "</" + std::string(tag) + ">";
  std::size_t pos = 0;
  while (true) {
    bool empty = false;
    std::size_t start = findOpenTag(xml, tag, pos, empty);
    if (start == std::string_view::npos) break;
    if (empty) {
      out.emplace_back();
      pos = start;
      continue;
    }
    std::size_t end = xml.find(close, start);
    if (end == std::string_view::npos) break;
    out.push_back(xmlDecode(xml.substr(start, end - start)));
    pos = end + close.size();
  }
  return out;
}

std::optional<std::string> xmlElement(std::string_view xml, std::string_view tag) {
  auto all = xmlElements(xml, tag);
  if (all.empty()) return std::nullopt;
  return std::move(all.front());
}

Result<ListPage> parseListObjectsV2(std::string_view xml) {
  if (xml.find("<ListBucketResult") == std::string_view::npos) {
    return missing("ListBucketResult", "ListObjectsV2");
  }
  ListPage page;
  // Keys only appear inside <Contents>; <Prefix>, <StartAfter> are other tags.
  for (const std::string& contents : xmlElements(xml, "Contents")) {
    if (auto key = xmlElement(contents, "Key")) page.keys.push_back(std::move(*key));
  }
  auto truncated = xmlElement(xml, "IsTruncated");
  page.truncated = truncated && *truncated == "true";
  if (page.truncated) {
    auto token = xmlElement(xml, "NextContinuationToken");
    if (!token || token->empty()) return missing("NextContinuationToken", "ListObjectsV2");
    page.next_token = std::move(*token);
  }
  return page;
}

Result<std::string> parseUploadId(std::string_view xml) {
  auto id = xmlElement(xml, "UploadId");
  if (!id || id->empty()) return missing("UploadId", "CreateMultipartUpload");
  return std::move(*id);
}

std::optional<ErrorBody> parseErrorBody(std::string_view xml) {
  // The root element must be <Error>; skip the XML declaration and space.
  std::size_t at = xml.find('<');
  if (at != std::string_view::npos && xml.substr(at).starts_with("<?")) {
    std::size_t decl_end = xml.find("?>", at);
    at = decl_end == std::string_view::npos ? decl_end : xml.find('<', decl_end);
  }
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view root = xml.substr(at);
  if (!root.starts_with("<Error>") && !root.starts_with("<Error ")) return std::nullopt;
  ErrorBody body;
  body.code = xmlElement(root, "Code").value_or("");
  body.message = xmlElement(root, "Message").value_or("");
  return body;
}

std::string completeMultipartBody(const std::vector<std::string>& etags) {
  std::string out = "<CompleteMultipartUpload>";
  for (std::size_t i = 0; i < etags.size(); ++i) {
    out += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
           xmlEscape(etags[i]) + "</ETag></Part>";
  }
  return out + "</CompleteMultipartUpload>";
}

}  // namespace garret::storage::s3
