// server.toml text through app::parseConfig (and finalizeConfig on what it
// accepts). Nothing may throw or crash, errors are kInvalidArgument, and an
// accepted config, rendered by renderEffectiveConfig with its secrets
// cleared, parses back to a config that renders to the same text.

#include <cstdint>
#include <string>
#include <string_view>

#include "app/config.h"
#include "fuzz_util.h"

namespace {

using garret::app::ServerConfig;
using garret::fuzz::escaped;

// renderEffectiveConfig writes secrets as "<redacted>", which would not
// parse back; the round trip is checked on everything else.
ServerConfig withoutSecrets(ServerConfig c) {
  c.storage.secret_access_key.clear();
  c.jwt.rs256_secret_base64.reset();
  c.jwt.hs256_secret_base64.reset();
  return c;
}

void checkRoundTrip(const ServerConfig& config, std::string_view what, std::string_view input) {
  std::string rendered = garret::app::renderEffectiveConfig(withoutSecrets(config));
  auto again = garret::app::parseConfig(rendered, "rendered.toml");
  FUZZ_CHECK_MSG(again.ok(), std::string(what) + " config renders to text that does not parse: " +
                                 again.error().message + "\ninput:\n" + escaped(input, 2000) +
                                 "\nrendered:\n" + escaped(rendered, 4000));
  std::string rendered_again = garret::app::renderEffectiveConfig(*again);
  FUZZ_CHECK_MSG(rendered_again == rendered, std::string(what) + " config changes on re-parse:\n" +
                                                 escaped(rendered, 4000) + "\nthen\n" +
                                                 escaped(rendered_again, 4000));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = garret::fuzz::asText(data, size);
  auto config = garret::app::parseConfig(text, "fuzz.toml");
  if (!config.ok()) {
    FUZZ_CHECK_MSG(config.error().code == garret::ErrorCode::kInvalidArgument,
                   config.error().message);
    return 0;
  }
  checkRoundTrip(*config, "parsed", text);
  ServerConfig finalized = *config;
  garret::Status status = garret::app::finalizeConfig(finalized);
  if (!status.ok()) {
    FUZZ_CHECK_MSG(status.error().code == garret::ErrorCode::kInvalidArgument,
                   status.error().message);
    return 0;
  }
  checkRoundTrip(finalized, "finalized", text);
  return 0;
}
