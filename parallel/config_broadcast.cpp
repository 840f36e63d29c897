#include "parallel/config_broadcast.h"

#include "core/error.h"

namespace tessera::parallel {

Config load_config(const World& world, const std::string& path, const std::vector<std::string>& overrides) {
  // Message: "ok\n<canonical toml>" or "error\n<what went wrong>".
  std::string message;
  if (world.is_root()) {
    try {
      message = "ok\n" + Config::load(path, overrides).to_toml();
    } catch (const Error& e) {
      message = std::string("error\n") + e.what();
    }
  }
  world.broadcast(message);
  const size_t newline = message.find('\n');
  const std::string status = message.substr(0, newline), body = message.substr(newline + 1);
  if (status != "ok") throw CollectiveError(body);
  return Config::parse(body, path);
}

}  // namespace tessera::parallel
