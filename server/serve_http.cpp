#include "server/serve_http.h"

#include <memory>

#include "core/error.h"
#include "core/log.h"
#include "run/stop_signal.h"
#include "server/releases.h"
#include "server/router.h"
#include "server/step_sync.h"

namespace tessera::server {

void serve_http(const parallel::World& world, const ServeSettings& settings, const std::function<Served()>& load) {
  StopSignals signals;  // every rank: mpirun forwards SIGTERM to all; rank 0 drains, the others follow it
  Metrics metrics;
  EngineLoop loop(settings.loop, metrics, world);
  Router router;
  std::unique_ptr<Releases> releases;
  std::unique_ptr<HttpServer> http;
  if (world.is_root()) {
    releases = std::make_unique<Releases>(world, loop, router,
                                          ReleaseOptions{settings.audit_log, settings.engine, settings.tokenizer});
    if (settings.http.admin_keys.enabled()) releases->check_audit_log();
    http = std::make_unique<HttpServer>(settings.http, loop, metrics, router, *releases);
    http->start();
  }
  Served served = load();
  auto first = std::make_shared<Version>();
  first->id = "v1";
  first->ref = served.ref.empty() ? served.name : served.ref;
  first->tags = served.tags;
  first->loaded_at = utc_now();
  first->tokenizer = served.tokenizer;
  first->owned = std::move(served.owned);
  if (served.model) {
    first->context = served.model->config().seq_len;
    first->engine = std::make_unique<serve::Engine>(*served.model, *served.tokenizer, settings.engine);
  }
  const VersionLoader load_more = [&](const VersionLoad& l) { return load_version(world, l.id, l.ref, settings.engine); };
  if (!world.is_root()) {
    follow(world, Versions{{first->id, first}}, load_more);
    return;
  }
  TESSERA_CHECK(first->engine != nullptr, "rank 0 must run the engine");
  if (!served.can_load) releases->refuse_loads("this server cannot load versions: its ranks are not one tensor-parallel group");
  releases->first(first);
  http->set_ready(served.name);
  log::info("serve: '{}' ready on {} rank(s): http://{}:{}/v1", served.name, world.size(), settings.http.host,
            http->port());
  loop.run(std::move(first), load_more);
  http->stop();
  log::info("serve: stopped");
}

}  // namespace tessera::server
