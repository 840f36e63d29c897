#pragma once
// The OpenAI-compatible HTTP front (cpp-httplib): POST /v1/completions, /v1/chat/completions,
// GET /v1/models, /health, /metrics, and the admin routes (admin key): POST /admin/stop (a
// drain), GET /admin/versions, POST /admin/versions/{load,canary,promote,rollback}
// (server/releases.h). Handler threads parse and check requests, pick the version that serves
// each (server/router.h), submit them to the engine loop and write its events back, whole or as
// server-sent events; every response names its version (system_fingerprint, X-Tessera-Version).
// Every client mistake is a 4xx with an OpenAI error object; a client that goes away, mid-stream
// or while waiting for a whole response, has its requests cancelled at once.
#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "datasets/tokenizer.h"
#include "server/api_keys.h"
#include "server/engine_loop.h"
#include "server/metrics.h"
#include "server/protocol.h"
#include "server/releases.h"
#include "server/router.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}

namespace tessera::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (port() says which)
  ApiKeys api_keys, admin_keys;
  Limits limits;
  size_t max_body_bytes = size_t{1} << 20;
  int threads = 64;            // connections served at once (each stream holds one)
  double drain_s = 30;         // grace of POST /admin/stop
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, EngineLoop& loop, Metrics& metrics, Router& router, Releases& releases);
  ~HttpServer();
  // Binds and serves on a thread of its own; /health answers 503 until set_ready. Throws
  // tessera::Error when the address can not be bound.
  void start();
  // The first version is loaded (the router has it): the name clients use.
  void set_ready(std::string name);
  // Waits (at most wait_s) for responses still being written, then stops listening and joins.
  void stop(double wait_s = 5);
  int port() const { return port_; }

 private:
  void routes();
  void admin_routes();
  // POST /v1/completions (chat false) and /v1/chat/completions.
  void completion(const httplib::Request& req, httplib::Response& res, bool chat);

  ServerOptions options_;
  EngineLoop& loop_;
  Metrics& metrics_;
  Router& router_;
  Releases& releases_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
  std::string model_;
  std::atomic<bool> ready_{false};  // set last: model_ is set
  std::atomic<int> writing_{0};  // responses being produced
};

}  // namespace tessera::server
