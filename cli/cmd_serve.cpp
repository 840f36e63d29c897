// tessera serve --ckpt REF [--host 127.0.0.1] [--port 8080] [--api-key-file F] [--admin-key-file F]
// [--max-queue N] [--max-queued-tokens N] [--request-timeout S] [engine options]: an
// OpenAI-compatible HTTP server on the serving engine (server/, docs/serving.md). Under mpirun the
// ranks form one tensor-parallel group; rank 0 serves HTTP and leads the engine's steps.
#include <cstdlib>

#include "cli/command.h"
#include "cli/engine_flags.h"
#include "core/error.h"
#include "serve/model_loader.h"
#include "server/serve_http.h"

namespace tessera::cli {

CLI::Option* add_server_flags(CLI::App& cmd, ServerFlags& f, const std::string& port_flag) {
  cmd.add_option("--host", f.host, "Address to listen on (default 127.0.0.1: this host only)");
  auto* port = cmd.add_option(port_flag, f.port, "TCP port (default 8080; 0: any free port, printed)");
  cmd.add_option("--api-key-file", f.api_key_file, "Keys, one a line: every route but /health then needs "
                 "'Authorization: Bearer KEY'");
  cmd.add_option("--admin-key-file", f.admin_key_file, "Admin keys, one a line: enables the admin routes (/admin/stop, "
                 "/admin/versions: load, canary, promote, rollback)");
  cmd.add_option("--audit-log", f.audit_log, "Admin changes of versions are appended here, one JSON line each "
                 "(default tessera-audit.jsonl; tessera run: RUN_DIR/audit.jsonl)");
  cmd.add_option("--max-queue", f.loop.max_queue, "Requests waiting for their first token before 429 (default 256)");
  cmd.add_option("--max-queued-tokens", f.loop.max_queued_tokens, "Prompt tokens of those before 429 (default 1048576)");
  cmd.add_option("--request-timeout", f.loop.timeout_s, "Seconds a request may take before it is cancelled (default 600)");
  cmd.add_option("--drain-timeout", f.loop.drain_s, "Seconds running requests get to finish after SIGTERM (default 30)");
  cmd.add_option("--max-n", f.max_n, "Most choices (n) per request (default 8)");
  cmd.add_option("--http-threads", f.threads, "Connections served at once (default 64)");
  cmd.add_option("--served-model-name", f.model_name, "The model's name in the API (default: the checkpoint reference)");
  return port;
}

server::ServeSettings ServerFlags::settings(const serve::EngineOptions& engine) const {
  TESSERA_CHECK(port >= 0 && port < 65536, "--port must be in [0, 65535], got {}", port);
  TESSERA_CHECK(loop.max_queue >= 1 && loop.max_queued_tokens >= 1, "--max-queue and --max-queued-tokens must be >= 1");
  TESSERA_CHECK(loop.timeout_s > 0 && loop.drain_s >= 0, "--request-timeout must be > 0 and --drain-timeout >= 0");
  TESSERA_CHECK(max_n >= 1 && threads >= 1, "--max-n and --http-threads must be >= 1");
  server::ServeSettings s;
  s.http.host = host;
  s.http.port = port;
  if (!api_key_file.empty()) s.http.api_keys = server::ApiKeys::load(api_key_file);
  if (!admin_key_file.empty()) s.http.admin_keys = server::ApiKeys::load(admin_key_file);
  s.http.limits.max_n = max_n;
  s.http.threads = threads;
  s.http.drain_s = loop.drain_s;
  s.audit_log = audit_log;
  s.loop = loop;
  // Tests only: the engine step with this number throws (the circuit breaker's path); each step
  // pauses this long (requests long enough to leave or drain mid-way).
  if (const char* at = std::getenv("TESSERA_TEST_STEP_FAULT_AT")) s.loop.fail_step_at = std::atoll(at);
  if (const char* ms = std::getenv("TESSERA_TEST_STEP_DELAY_MS")) s.loop.step_delay_s = std::atof(ms) / 1000;
  s.engine = engine;
  return s;
}

void add_serve_command(CLI::App& app, Context& ctx) {
  struct Options {
    EngineFlags engine;
    ServerFlags server;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("serve", "Serve a model over HTTP (OpenAI-compatible API)");
  add_engine_flags(*cmd, o->engine);
  add_server_flags(*cmd, o->server);
  cmd->callback([o, &ctx] {
    server::ServeSettings settings = o->server.settings(o->engine.options());
    settings.tokenizer = o->engine.source.tokenizer;
    const std::string& ckpt = o->engine.source.ckpt;
    server::serve_http(ctx.world, settings, [&] {
      auto loaded = serve::load_serving_model(ctx.world, o->engine.source);
      server::Served served;
      served.model = loaded->model.get();
      served.tokenizer = &loaded->tokenizer;
      served.name = o->server.model_name.empty() ? loaded->name : o->server.model_name;
      served.ref = loaded->name;
      if (!ckpt.empty()) served.tags = server::tags_of(ckpt);
      served.owned = std::move(loaded);
      return served;
    });
  });
}

}  // namespace tessera::cli
