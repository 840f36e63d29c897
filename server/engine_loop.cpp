#include "server/engine_loop.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "core/error.h"
#include "core/log.h"
#include "run/stop_signal.h"
#include "server/api_error.h"

namespace tessera::server {

namespace {
double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
}  // namespace

std::vector<Event> Ticket::take(std::chrono::milliseconds wait) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, wait, [&] { return !events_.empty() || open_ == 0; });
  std::vector<Event> out(std::make_move_iterator(events_.begin()), std::make_move_iterator(events_.end()));
  events_.clear();
  return out;
}

bool Ticket::finished() const {
  std::lock_guard lock(mutex_);
  return open_ == 0 && events_.empty();
}

void Ticket::push(Event e) {
  std::lock_guard lock(mutex_);
  if (e.error_status > 0 || e.out.finish != serve::FinishReason::none) --open_;
  events_.push_back(std::move(e));
  cv_.notify_all();
}

EngineLoop::EngineLoop(const LoopOptions& options, Metrics& metrics, const parallel::World& world)
    : options_(options), metrics_(metrics), world_(world) {}

std::shared_ptr<Ticket> EngineLoop::submit(const std::string& version, std::vector<serve::Request> choices) {
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  auto unavailable = [&](const std::string& why, double retry_s) {
    metrics_.rejected("unavailable");
    ApiError e(503, why, "server_error", "", "unavailable");
    e.retry_after_s = retry_s;
    return e;
  };
  if (!ready_) throw unavailable("the model is loading", 1);
  if (draining_) throw unavailable("the server is shutting down", 5);
  if (now < broken_until_) throw unavailable("the engine failed; it accepts requests again shortly", std::ceil(seconds(broken_until_ - now)));
  int64_t tokens = 0;
  for (const auto& r : choices) tokens += static_cast<int64_t>(r.prompt.size());
  const auto n = static_cast<int64_t>(choices.size());
  if (queued_requests_ + n > options_.max_queue || queued_tokens_ + tokens > options_.max_queued_tokens) {
    metrics_.rejected("queue_full");
    ApiError e(429, fmt::format("the server is busy ({} requests and {} prompt tokens queued): retry later",
                                queued_requests_, queued_tokens_), "rate_limit_error", "", "queue_full");
    e.retry_after_s = retry_after_locked(now);
    throw e;
  }
  auto t = std::make_shared<Ticket>();
  t->version_ = version;
  t->open_ = static_cast<int>(n);
  t->requests_ = std::move(choices);
  t->ids_.assign(static_cast<size_t>(n), -1);
  t->started_.assign(static_cast<size_t>(n), false);
  t->last_token_.assign(static_cast<size_t>(n), now);
  t->prompt_tokens_ = static_cast<int64_t>(t->requests_[0].prompt.size());
  t->arrived_ = now;
  t->deadline_ = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.timeout_s));
  queued_requests_ += n;
  queued_tokens_ += tokens;
  submitted_.push_back(t);
  cv_.notify_all();
  return t;
}

double EngineLoop::retry_after_locked(Clock::time_point now) const {
  if (computed_.empty()) return 1;
  int64_t tokens = 0;
  for (const auto& [_, n] : computed_) tokens += n;
  const double span = std::max(seconds(now - computed_.front().first), 0.1);
  const double rate = static_cast<double>(tokens) / span;  // tokens per second
  if (rate <= 0) return 60;
  return std::clamp(std::ceil(static_cast<double>(queued_tokens_) / rate), 1.0, 60.0);
}

std::shared_ptr<Version> EngineLoop::add_version(std::shared_ptr<Version> prebuilt, const VersionLoad& load) {
  std::future<std::shared_ptr<Version>> done;
  {
    std::lock_guard lock(mutex_);
    TESSERA_CHECK(ready_ && !draining_, "the server is {}", ready_ ? "shutting down" : "loading");
    admin_load_ = std::make_unique<AdminLoad>();
    admin_load_->prebuilt = std::move(prebuilt);
    admin_load_->load = load;
    done = admin_load_->done.get_future();
    cv_.notify_all();
  }
  return done.get();
}

void EngineLoop::retire(const std::string& version) {
  std::lock_guard lock(mutex_);
  retiring_.push_back(version);
  cv_.notify_all();
}

bool EngineLoop::idle() const {
  return std::all_of(versions_.begin(), versions_.end(),
                     [](const auto& v) { return !v.second->engine || v.second->engine->idle(); });
}

void EngineLoop::cancel(const std::shared_ptr<Ticket>& ticket) {
  std::lock_guard lock(mutex_);
  ticket->cancel_ = true;
  has_cancels_ = true;
  cv_.notify_all();
}

bool EngineLoop::healthy() const {
  std::lock_guard lock(mutex_);
  return ready_ && !draining_ && Clock::now() >= broken_until_;
}

std::string EngineLoop::state() const {
  std::lock_guard lock(mutex_);
  if (!ready_) return "loading";
  if (draining_) return "draining";
  return Clock::now() < broken_until_ ? "broken" : "ready";
}

void EngineLoop::stop(double grace_s) {
  std::lock_guard lock(mutex_);
  if (!draining_) {
    draining_ = true;
    drain_deadline_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(grace_s));
  }
  cv_.notify_all();
}

void EngineLoop::dequeue(Ticket& t, int choice) {
  if (t.started_[choice]) return;
  t.started_[choice] = true;
  --queued_requests_;
  queued_tokens_ -= static_cast<int64_t>(t.requests_[choice].prompt.size());
}

void EngineLoop::end_choice(Ticket& t, int choice, const std::string& reason, int status, const std::string& error) {
  dequeue(t, choice);
  if (t.ids_[choice] >= 0) live_.erase({t.version_, t.ids_[choice]});
  t.ids_[choice] = -1;
  metrics_.finished(reason, seconds(Clock::now() - t.arrived_));
  Event e;
  e.choice = choice;
  e.error_status = status;
  e.error = error;
  t.push(std::move(e));
}

bool EngineLoop::collect(StepChanges& changes, std::vector<std::shared_ptr<Ticket>>& added,
                         std::unique_ptr<AdminLoad>& admin) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, std::chrono::milliseconds(50), [&] {
    return !submitted_.empty() || has_cancels_ || !idle() || draining_ || admin_load_ || !retiring_.empty();
  });
  if (StopSignals::requested() != 0 && !draining_) {
    log::info("serve: {}: draining (at most {} s), then stopping", StopSignals::name(StopSignals::requested()),
              options_.drain_s);
    draining_ = true;
    drain_deadline_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.drain_s));
  }
  added.swap(submitted_);
  for (const auto& t : added) {
    for (const auto& r : t->requests_) changes.adds.emplace_back(t->version_, r);
  }
  // A version leaves once nothing holds it: no request in its engine, no handler (its tokenizer).
  std::erase_if(retiring_, [&](const std::string& id) {
    const auto it = versions_.find(id);
    if (it == versions_.end()) return true;
    if (it->second.use_count() > 1 || (it->second->engine && !it->second->engine->idle())) return false;
    changes.unloads.push_back(id);
    return true;
  });
  admin.swap(admin_load_);
  if (admin && !admin->prebuilt) changes.load = admin->load;
  has_cancels_ = false;
  const auto now = Clock::now();
  const bool drain_over = draining_ && now >= drain_deadline_;
  for (const auto& t : tickets_) {
    const bool timed_out = now >= t->deadline_;
    if (!t->cancel_ && !timed_out && !drain_over) continue;
    for (int i = 0; i < static_cast<int>(t->ids_.size()); ++i) {
      if (t->ids_[i] < 0) continue;
      changes.cancels.emplace_back(t->version_, t->ids_[i]);
      if (t->cancel_) {
        end_choice(*t, i, "abort", 499, "the client went away");
      } else if (timed_out) {
        end_choice(*t, i, "timeout", 408, fmt::format("the request took longer than {} s", options_.timeout_s));
      } else {
        end_choice(*t, i, "abort", 503, "the server is shutting down");
      }
    }
  }
  std::erase_if(tickets_, [](const auto& t) { return std::all_of(t->ids_.begin(), t->ids_.end(), [](int64_t id) { return id < 0; }); });
  changes.stop = draining_ && tickets_.empty() && added.empty();
  return changes.stop;
}

void EngineLoop::dispatch(const std::string& version, std::vector<serve::RequestOutput>& outputs) {
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  for (serve::RequestOutput& o : outputs) {
    auto it = live_.find({version, o.id});
    if (it == live_.end()) continue;
    Ticket& t = *it->second.ticket;
    const int i = it->second.choice;
    const auto n_tokens = static_cast<int64_t>(o.tokens.size());
    if (!t.started_[i]) {
      metrics_.first_token(seconds(now - t.arrived_));
      metrics_.tokens(static_cast<int64_t>(t.requests_[i].prompt.size()), n_tokens);
      dequeue(t, i);
    } else {
      if (n_tokens > 0) metrics_.output_token_gap(seconds(now - t.last_token_[i]) / static_cast<double>(n_tokens));
      metrics_.tokens(0, n_tokens);
    }
    t.last_token_[i] = now;
    if (o.finish != serve::FinishReason::none) {
      metrics_.finished(serve::finish_reason_name(o.finish), seconds(now - t.arrived_));
      t.ids_[i] = -1;
      live_.erase(it);
    }
    Event e;
    e.choice = i;
    e.out = std::move(o);
    t.push(std::move(e));
  }
}

void EngineLoop::fail_all(const std::string& error) {
  std::lock_guard lock(mutex_);
  for (const auto& t : tickets_) {
    for (int i = 0; i < static_cast<int>(t->ids_.size()); ++i) {
      if (t->ids_[i] >= 0) end_choice(*t, i, "error", 503, "the engine failed: " + error);
    }
  }
  tickets_.clear();
  live_.clear();
  broken_until_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.breaker_s));
}

void EngineLoop::update_load() {
  int64_t blocks = 0, free = 0, running = 0, computed = 0;
  for (const auto& [_, v] : versions_) {
    if (!v->engine) continue;
    const auto& cache = v->engine->cache();
    blocks += cache.n_blocks();
    free += cache.allocator().free_blocks();
    running += static_cast<int64_t>(v->engine->n_running());
    computed += v->engine->last_step().prompt_tokens + v->engine->last_step().decode_tokens;
  }
  const double used = blocks > 0 ? 1.0 - static_cast<double>(free) / static_cast<double>(blocks) : 0.0;
  std::lock_guard lock(mutex_);
  metrics_.set_load(running, queued_requests_, used);
  const auto now = Clock::now();
  computed_.emplace_back(now, computed);
  while (!computed_.empty() && now - computed_.front().first > std::chrono::seconds(10)) computed_.pop_front();
}

void EngineLoop::run(std::shared_ptr<Version> first, const VersionLoader& load) {
  {
    std::lock_guard lock(mutex_);
    versions_[first->id] = std::move(first);
    ready_ = true;
  }
  for (;;) {
    StepChanges changes;
    std::vector<std::shared_ptr<Ticket>> added;
    std::unique_ptr<AdminLoad> admin;
    collect(changes, added, admin);
    if (admin && admin->prebuilt) {  // loaded by the admin's thread: it takes requests from now on
      const std::string id = admin->prebuilt->id;
      versions_[id] = admin->prebuilt;
      admin->done.set_value(std::move(admin->prebuilt));
    }
    if (changes.empty() && idle()) continue;
    lead(world_, changes);
    const Applied applied = apply(world_, versions_, changes, load);
    for (const auto& id : changes.unloads) log::info("serve: version {} unloaded", id);
    if (admin && changes.load) {
      if (applied.load_error.empty()) {
        admin->done.set_value(versions_.at(changes.load->id));
      } else {
        admin->done.set_exception(std::make_exception_ptr(Error(applied.load_error)));
      }
    }
    {
      std::lock_guard lock(mutex_);
      size_t k = 0;
      for (const auto& t : added) {
        for (int i = 0; i < static_cast<int>(t->requests_.size()); ++i, ++k) {
          if (const auto* id = std::get_if<int64_t>(&applied.adds[k])) {
            t->ids_[i] = *id;
            live_[{t->version_, *id}] = {t, i};
          } else {
            end_choice(*t, i, "error", 400, std::get<std::string>(applied.adds[k]));
          }
        }
        tickets_.push_back(t);
      }
    }
    if (changes.stop) return;
    if (!idle()) {
      std::vector<std::pair<std::string, std::vector<serve::RequestOutput>>> outputs;
      try {
        TESSERA_CHECK(++steps_ != options_.fail_step_at, "step {} failed (a test fault)", steps_);
        if (options_.step_delay_s > 0) std::this_thread::sleep_for(std::chrono::duration<double>(options_.step_delay_s));
        outputs = step_all(versions_);
      } catch (const std::exception& e) {
        log::error("serve: an engine step failed: {}", e.what());
        std::vector<std::pair<std::string, int64_t>> ids;
        for (const auto& [key, _] : live_) ids.push_back(key);
        fail_all(e.what());
        if (world_.size() > 1) throw;  // the other ranks wait in the step's collectives: end the job
        for (const auto& [version, id] : ids) versions_.at(version)->engine->cancel(id);
        update_load();
        continue;
      }
      for (auto& [version, out] : outputs) dispatch(version, out);
    }
    update_load();
  }
}

}  // namespace tessera::server
