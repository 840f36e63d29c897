#include "server/serve_http.h"

#include <memory>

#include "core/error.h"
#include "core/log.h"
#include "run/stop_signal.h"
#include "server/step_sync.h"

namespace tessera::server {

void serve_http(const parallel::World& world, const ServeSettings& settings, const std::function<Served()>& load) {
  StopSignals signals;  // every rank: mpirun forwards SIGTERM to all; rank 0 drains, the others follow it
  Metrics metrics;
  EngineLoop loop(settings.loop, metrics, world);
  std::unique_ptr<HttpServer> http;
  if (world.is_root()) {
    http = std::make_unique<HttpServer>(settings.http, loop, metrics);
    http->start();
  }
  const Served served = load();
  std::unique_ptr<serve::Engine> engine;
  if (served.model) engine = std::make_unique<serve::Engine>(*served.model, *served.tokenizer, settings.engine);
  if (!world.is_root()) {
    follow(world, engine.get());
    return;
  }
  TESSERA_CHECK(engine != nullptr, "rank 0 must run the engine");
  http->set_model(served.name, served.tokenizer, served.model->config().seq_len);
  log::info("serve: '{}' ready on {} rank(s): http://{}:{}/v1", served.name, world.size(), settings.http.host,
            http->port());
  loop.run(*engine);
  http->stop();
  log::info("serve: stopped");
}

}  // namespace tessera::server
