#include "server/http_server.h"

#include <sys/socket.h>

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <optional>
#include <random>

#include <httplib.h>

#include "core/error.h"
#include "core/log.h"
#include "server/api_error.h"
#include "server/peer_socket.h"
#include "server/responses.h"

namespace tessera::server {

namespace {

using json = nlohmann::json;

void send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status;
  if (e.retry_after_s > 0) res.set_header("Retry-After", std::to_string(static_cast<int64_t>(std::ceil(e.retry_after_s))));
  res.set_content(ResponseBuilder::dump(e.body()), "application/json");
}

// Counts a response being produced for as long as it lives.
struct Writing {
  explicit Writing(std::atomic<int>& n) : n_(n) { ++n_; }
  ~Writing() { --n_; }
  std::atomic<int>& n_;
};

}  // namespace

HttpServer::HttpServer(ServerOptions options, EngineLoop& loop, Metrics& metrics, Router& router, Releases& releases)
    : options_(std::move(options)), loop_(loop), metrics_(metrics), router_(router), releases_(releases),
      http_(std::make_unique<httplib::Server>()) {}

HttpServer::~HttpServer() { stop(0); }

void HttpServer::set_ready(std::string name) {
  model_ = std::move(name);
  ready_.store(true, std::memory_order_release);
}

void HttpServer::start() {
  std::signal(SIGPIPE, SIG_IGN);  // a client gone mid-write is an error return, not the end of the process
  const int threads = options_.threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http_->set_payload_max_length(options_.max_body_bytes);
  http_->set_keep_alive_max_count(1000);
  http_->set_read_timeout(10);
  http_->set_write_timeout(10);
  routes();
  int listening = -1;  // the last socket created for listening: the one bound
  http_->set_socket_options([&listening](socket_t sock) {
    httplib::default_socket_options(sock);
    listening = sock;
  });
  port_ = options_.port == 0 ? http_->bind_to_any_port(options_.host)
                             : (http_->bind_to_port(options_.host, options_.port) ? options_.port : -1);
  http_->set_socket_options(httplib::default_socket_options);  // `listening` goes out of scope
  TESSERA_CHECK(port_ > 0, "cannot listen on {}:{} (in use, or not an address of this host)", options_.host,
                options_.port);
  // cpp-httplib listens with a backlog of 5: 16 clients connecting at once while the engine keeps
  // both cores busy overflowed it, and a dropped connection retries after a second (a TTFT of 1 s).
  // Listening again on the bound socket raises the backlog to the system's limit.
  TESSERA_CHECK(listening >= 0 && ::listen(listening, SOMAXCONN) == 0, "cannot listen on {}:{}: {}", options_.host,
                port_, std::strerror(errno));
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  log::info("serve: listening on http://{}:{}", options_.host, port_);
}

void HttpServer::stop(double wait_s) {
  if (!thread_.joinable()) return;
  const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wait_s));
  while (writing_.load() > 0 && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  http_->stop();
  thread_.join();
}

void HttpServer::routes() {
  httplib::Server& s = *http_;
  // Keys first: every route but /health needs an API key when keys are set; /admin/ needs an
  // admin key (and is absent without admin keys).
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
    const bool admin = req.path.rfind("/admin/", 0) == 0;
    if (admin && !options_.admin_keys.enabled()) {
      send_error(res, ApiError(404, "no admin routes: the server has no admin key", "invalid_request_error", "", "not_found"));
      return httplib::Server::HandlerResponse::Handled;
    }
    const ApiKeys& keys = admin ? options_.admin_keys : options_.api_keys;
    if (keys.enabled() && !keys.accepts(req.get_header_value("Authorization"))) {
      send_error(res, ApiError(401, admin ? "an admin key is needed (Authorization: Bearer KEY)"
                                          : "Incorrect API key provided (Authorization: Bearer KEY)",
                               "invalid_request_error", "", "invalid_api_key"));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string what = res.status == 404   ? "no route " + req.method + " " + req.path
                             : res.status == 413 ? "the request body is too large"
                                                 : "the request could not be read";
    send_error(res, ApiError(res.status, what, "invalid_request_error"));
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const ApiError& e) {
      send_error(res, e);
    } catch (const std::exception& e) {
      log::error("serve: a handler failed: {}", e.what());
      send_error(res, ApiError(500, "internal error", "server_error"));
    }
  });

  s.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) { completion(req, res, false); });
  s.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) { completion(req, res, true); });
  s.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    // The served name (its primary's context), then NAME@VERSION for each loaded version.
    json data = json::array();
    auto entry = [&](const std::string& id, int64_t context) {
      data.push_back({{"id", id}, {"object", "model"}, {"created", 0}, {"owned_by", "tessera"}, {"max_model_len", context}});
    };
    const auto loaded = ready_.load(std::memory_order_acquire) ? router_.loaded() : std::vector<std::shared_ptr<Version>>{};
    if (!loaded.empty()) entry(model_, loaded[0]->context);
    for (const auto& v : loaded) entry(model_ + "@" + v->id, v->context);
    res.set_content(ResponseBuilder::dump({{"object", "list"}, {"data", data}}), "application/json");
  });
  s.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    const std::string state = loop_.state();
    res.status = state == "ready" ? 200 : 503;
    if (res.status != 200) res.set_header("Retry-After", "1");
    res.set_content(json{{"status", state}}.dump(), "application/json");
  });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.render(), "text/plain; version=0.0.4");
  });
  s.Post("/admin/stop", [this](const httplib::Request&, httplib::Response& res) {
    log::info("serve: drain asked by an admin (at most {} s)", options_.drain_s);
    loop_.stop(options_.drain_s);
    res.set_content(json{{"status", "draining"}}.dump(), "application/json");
  });
  // Known paths with other methods: 405, not 404.
  auto wrong_method = [](const httplib::Request& req, httplib::Response& res) {
    send_error(res, ApiError(405, "method " + req.method + " is not allowed on " + req.path));
  };
  admin_routes();
  for (const char* p : {"/v1/completions", "/v1/chat/completions", "/admin/stop"}) {
    s.Get(p, wrong_method).Put(p, wrong_method).Delete(p, wrong_method).Patch(p, wrong_method);
  }
  for (const char* p : {"/v1/models", "/health", "/metrics"}) {
    s.Post(p, wrong_method).Put(p, wrong_method).Delete(p, wrong_method).Patch(p, wrong_method);
  }
}

void HttpServer::admin_routes() {
  httplib::Server& s = *http_;
  s.Get("/admin/versions", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(ResponseBuilder::dump(releases_.list()), "application/json");
  });
  s.Post(R"(/admin/versions/([a-z]+))", [this](const httplib::Request& req, httplib::Response& res) {
    const json after = releases_.change(req.matches[1], req.body, key_fingerprint(req.get_header_value("Authorization")));
    res.set_content(ResponseBuilder::dump(after), "application/json");
  });
}

void HttpServer::completion(const httplib::Request& req, httplib::Response& res, bool chat) {
  Writing writing(writing_);
  if (!ready_.load(std::memory_order_acquire)) {
    ApiError e(503, "the model is loading", "server_error", "", "unavailable");
    e.retry_after_s = 1;
    throw e;
  }
  Limits limits = options_.limits;
  limits.context = router_.max_context();  // checked below against the version's own
  auto request = std::make_shared<ApiRequest>(parse_request(req.body, chat, limits));
  ApiRequest& r = *request;
  // The version: NAME@VERSION pins one; else the router's pick by the route key.
  std::string pinned;
  if (r.model.rfind(model_ + "@", 0) == 0) pinned = r.model.substr(model_.size() + 1);
  const std::shared_ptr<Version> version =
      router_.pick(r.user.empty() ? req.get_header_value("X-Session-Id") : r.user, pinned);
  if ((!r.model.empty() && r.model != model_ && pinned.empty()) || !version) {
    throw ApiError(404, fmt::format("The model '{}' does not exist (this server serves '{}', or '{}@VERSION' for a "
                                    "loaded version: GET /v1/models)", r.model, model_, model_),
                   "invalid_request_error", "model", "model_not_found");
  }
  const datasets::Tokenizer* tokenizer = version->tokenizer;
  const int64_t context = version->context;
  res.set_header("X-Tessera-Version", version->id);
  std::vector<int32_t> ids = r.prompt_ids;
  if (ids.empty()) {
    for (datasets::TokenId t : tokenizer->encode(r.prompt)) ids.push_back(static_cast<int32_t>(t));
  }
  const auto n_prompt = static_cast<int64_t>(ids.size());
  const char* prompt_field = chat ? "messages" : "prompt";
  if (n_prompt == 0) throw bad_field(prompt_field, "the prompt is empty");
  const auto vocab = static_cast<int32_t>(tokenizer->vocab_size());
  for (int32_t id : ids) {
    if (id >= vocab) throw bad_field("prompt", fmt::format("token id {} is outside the vocabulary of {}", id, vocab));
  }
  if (!r.max_tokens_given) r.params.max_tokens = std::min<int64_t>(chat ? context : r.params.max_tokens, context - n_prompt);
  if (n_prompt + std::max<int64_t>(r.params.max_tokens, 1) > context) {
    throw ApiError(400, fmt::format("This model's maximum context length is {} tokens. However, you requested {} tokens "
                                    "({} in the prompt, {} in the completion).", context, n_prompt + r.params.max_tokens,
                                    n_prompt, r.params.max_tokens),
                   "invalid_request_error", prompt_field, "context_length_exceeded");
  }
  try {
    r.params.validate();
  } catch (const Error& e) {
    throw bad_field("", e.what());
  }
  // Choice i samples with seed + i; without a seed, with random ones.
  std::vector<serve::Request> choices;
  std::random_device random;
  for (int64_t i = 0; i < r.n; ++i) {
    serve::Request c{ids, r.params};
    c.params.seed = r.seed_given ? r.params.seed + static_cast<uint64_t>(i) : (uint64_t{random()} << 32 | random());
    choices.push_back(std::move(c));
  }
  std::shared_ptr<Ticket> ticket = loop_.submit(version->id, std::move(choices));
  auto builder = std::make_shared<ResponseBuilder>(r, *tokenizer, r.model.empty() ? model_ : r.model, version->id, ids);

  if (!r.stream) {
    // The client may leave while it waits: its choices are cancelled at once (slots and blocks).
    const int socket = connection_socket(req.remote_addr, req.remote_port, req.local_port);
    std::optional<ApiError> error;
    while (!ticket->finished()) {
      if (peer_closed(socket)) {
        loop_.cancel(ticket);
        send_error(res, ApiError(499, "the client went away", "invalid_request_error"));
        return;
      }
      for (const Event& e : ticket->take(std::chrono::milliseconds(100))) {
        if (e.error_status > 0 && !error) error.emplace(e.error_status, e.error, e.error_status == 408 ? "timeout_error" : "server_error");
        builder->add(e);
      }
    }
    if (error) {
      if (error->status == 503) error->retry_after_s = 1;
      send_error(res, *error);
      return;
    }
    res.set_content(ResponseBuilder::dump(builder->body()), "application/json");
    return;
  }

  ++writing_;  // until the stream's releaser runs
  auto opened = std::make_shared<bool>(false);
  res.set_header("Cache-Control", "no-cache");
  // The provider runs after this handler returns: it holds what the builder refers to (the
  // request, the version's tokenizer).
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, ticket, builder, opened, request, version](size_t, httplib::DataSink& sink) {
        std::string out;
        if (!*opened) {
          out = builder->open_stream();
          *opened = true;
        }
        for (const Event& e : ticket->take(std::chrono::milliseconds(out.empty() ? 500 : 0))) {
          if (e.error_status > 0) {
            ApiError err(e.error_status, e.error, e.error_status == 408 ? "timeout_error" : "server_error");
            out += ResponseBuilder::stream_error(err.body());
            if (!out.empty() && !sink.write(out.data(), out.size())) loop_.cancel(ticket);
            loop_.cancel(ticket);  // the other choices too
            sink.done();
            return true;
          }
          out += builder->stream_event(e);
        }
        const bool done = ticket->finished();
        if (done) out += builder->close_stream();
        if (out.empty()) out = ": waiting\n\n";  // an SSE comment: finds a client that went away
        if (!sink.write(out.data(), out.size())) {
          loop_.cancel(ticket);
          return false;
        }
        if (done) sink.done();
        return true;
      },
      [this, ticket](bool success) {
        if (!success) loop_.cancel(ticket);  // the client went away: free its slots now
        --writing_;
      });
}

}  // namespace tessera::server
