#pragma once
// `tessera serve` and the serve phase of `tessera run`: rank 0 starts the HTTP front (so /health
// answers 503 while the model loads), every rank loads the model (version v1), then rank 0 runs
// the engine loop and the other ranks follow its steps (server/step_sync.h), loading and
// unloading versions with it, until a drain ends (SIGTERM, SIGINT or POST /admin/stop). Returns
// when every rank has stopped.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/model/transformer.h"
#include "datasets/tokenizer.h"
#include "parallel/world.h"
#include "serve/engine.h"
#include "serve/model_loader.h"
#include "server/engine_loop.h"
#include "server/http_server.h"

namespace tessera::server {

struct ServeSettings {
  ServerOptions http;
  LoopOptions loop;
  serve::EngineOptions engine;
  std::string audit_log = "tessera-audit.jsonl";  // admin changes of versions (server/releases.h)
  std::string tokenizer;                          // --tokenizer, for versions loaded later too
};

// What a rank serves: its model (null: a rank that only follows, another data-parallel replica),
// the tokenizer and the name clients use.
struct Served {
  core::Transformer* model = nullptr;
  const datasets::Tokenizer* tokenizer = nullptr;
  std::string name;
  std::string ref;                // what was loaded (the version list shows it)
  std::vector<std::string> tags;  // the checkpoint's tags
  bool can_load = true;           // false: the world is not one tensor-parallel group (tessera run with replicas)
  std::unique_ptr<serve::ServingModel> owned;  // the model, when the server owns it (freed when v1 leaves)
};

void serve_http(const parallel::World& world, const ServeSettings& settings, const std::function<Served()>& load);

}  // namespace tessera::server
