#pragma once
// `tessera serve` and the serve phase of `tessera run`: rank 0 starts the HTTP front (so /health
// answers 503 while the model loads), every rank loads the model, then rank 0 runs the engine
// loop and the other ranks follow its steps (server/step_sync.h) until a drain ends (SIGTERM,
// SIGINT or POST /admin/stop). Returns when every rank has stopped.
#include <functional>
#include <string>

#include "core/model/transformer.h"
#include "datasets/tokenizer.h"
#include "parallel/world.h"
#include "serve/engine.h"
#include "server/engine_loop.h"
#include "server/http_server.h"

namespace tessera::server {

struct ServeSettings {
  ServerOptions http;
  LoopOptions loop;
  serve::EngineOptions engine;
};

// What a rank serves: its model (null: a rank that only follows, another data-parallel replica),
// the tokenizer and the name clients use.
struct Served {
  core::Transformer* model = nullptr;
  const datasets::Tokenizer* tokenizer = nullptr;
  std::string name;
};

void serve_http(const parallel::World& world, const ServeSettings& settings, const std::function<Served()>& load);

}  // namespace tessera::server
