#pragma once
// The engine thread and the HTTP handler threads meet here. Handlers submit a ticket (one HTTP
// request: n engine requests, its choices, for one version) and read its events (text deltas,
// tokens, log-probabilities, the finish) from the ticket's own channel; the engine thread alone
// touches the engines: between steps it adds submitted requests, drops cancelled ones, loads and
// unloads versions (telling the other ranks first, server/step_sync.h), then steps every version
// with work and sends each output to its ticket.
//
// Versions: add_version makes a loaded version take requests (a process without MPI loads it on the
// admin's thread while the engines keep stepping; under tensor parallelism every rank loads it
// between two steps); retire unloads one once no request and no handler holds it, so a version
// leaves without failing a request.
//
// Admission: requests that have not produced their first token count as queued; beyond
// max_queue requests or max_queued_tokens prompt tokens a submit is refused (429, Retry-After the
// queued prompt tokens over the tokens computed per second in the last 10 s, in [1, 60]). A ticket past
// its deadline is cancelled (its blocks freed at once) and ends with a timeout error. When a step
// throws, every live ticket ends with an error, the breaker opens (submits refused with 503) for
// breaker_s, then closes again; under tensor parallelism the error ends the job instead. stop()
// starts a drain: submits are refused, live tickets get grace_s to finish, then are cancelled.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "parallel/world.h"
#include "serve/engine.h"
#include "server/metrics.h"
#include "server/step_sync.h"

namespace tessera::server {

using Clock = std::chrono::steady_clock;

struct Event {
  int choice = 0;
  serve::RequestOutput out;  // tokens, text, logprobs; out.finish != none: the choice is done
  int error_status = 0;      // > 0: the choice ended with this error (408 timeout, 503 engine failure, 400)
  std::string error;
};

class Ticket {
 public:
  // Waits up to `wait` for events and takes them (none on timeout).
  std::vector<Event> take(std::chrono::milliseconds wait);
  // Every choice has ended (and take() will return nothing more once drained).
  bool finished() const;
  int64_t prompt_tokens() const { return prompt_tokens_; }
  const std::string& version() const { return version_; }

 private:
  friend class EngineLoop;
  void push(Event e);

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Event> events_;
  int open_ = 0;  // choices not yet ended
  // Engine side (engine thread only):
  std::string version_;
  std::vector<serve::Request> requests_;
  std::vector<int64_t> ids_;       // per choice, its engine id (-1: not added or ended)
  std::vector<bool> started_;      // per choice: produced its first token
  std::vector<Clock::time_point> last_token_;
  int64_t prompt_tokens_ = 0;
  Clock::time_point arrived_, deadline_;
  bool cancel_ = false;            // asked by the handler (client gone)
};

struct LoopOptions {
  int64_t max_queue = 256;              // requests waiting for their first token
  int64_t max_queued_tokens = 1 << 20;  // prompt tokens of those
  double timeout_s = 600;               // per request, from arrival
  double breaker_s = 10;                // refusal time after a failed step
  double drain_s = 30;                  // grace of a drain started by a stop signal
  int64_t fail_step_at = -1;            // tests: the step with this number throws (-1: none)
  double step_delay_s = 0;              // tests: a pause before each step (a slower model)
};

class EngineLoop {
 public:
  EngineLoop(const LoopOptions& options, Metrics& metrics, const parallel::World& world);

  // Handler threads. Throws ApiError: 429 (queue full), 503 (loading, draining, breaker open).
  std::shared_ptr<Ticket> submit(const std::string& version, std::vector<serve::Request> choices);
  void cancel(const std::shared_ptr<Ticket>& ticket);  // the client went away
  // Ready (the engine runs) and neither draining nor broken: what /health reports.
  bool healthy() const;
  std::string state() const;  // loading, ready, draining, broken

  // Admin threads, one at a time. The version takes requests when this returns: `prebuilt` (a
  // process without MPI: loaded by the caller), else `load` is loaded by every rank between two steps.
  // Throws tessera::Error when the load fails.
  std::shared_ptr<Version> add_version(std::shared_ptr<Version> prebuilt, const VersionLoad& load);
  void retire(const std::string& version);  // unloaded once nothing holds it

  // The engine thread: runs until a drain ends (stop() or a stop signal, run/stop_signal.h).
  // `load`: how every rank loads a version between steps (tensor parallelism).
  void run(std::shared_ptr<Version> first, const VersionLoader& load);
  void stop(double grace_s);

 private:
  struct Live {
    std::shared_ptr<Ticket> ticket;
    int choice;
  };
  struct AdminLoad {
    std::shared_ptr<Version> prebuilt;
    VersionLoad load;
    std::promise<std::shared_ptr<Version>> done;
  };
  // One exchange's worth of changes: takes submitted tickets, cancellations and the admin's load,
  // expires deadlines, retires idle versions, ends the drain; returns whether the loop should
  // stop after this exchange.
  bool collect(StepChanges& changes, std::vector<std::shared_ptr<Ticket>>& added, std::unique_ptr<AdminLoad>& admin);
  bool idle() const;  // no engine has work
  // A choice leaves without finishing: cancelled, timed out, refused or failed (loop lock held).
  void end_choice(Ticket& t, int choice, const std::string& reason, int status, const std::string& error);
  void dequeue(Ticket& t, int choice);  // its first token came or it ended (loop lock held)
  void dispatch(const std::string& version, std::vector<serve::RequestOutput>& outputs);
  void fail_all(const std::string& error);
  void update_load();
  double retry_after_locked(Clock::time_point now) const;

  LoopOptions options_;
  Metrics& metrics_;
  const parallel::World& world_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Ticket>> submitted_;
  bool has_cancels_ = false;
  int64_t queued_requests_ = 0, queued_tokens_ = 0;
  std::deque<std::pair<Clock::time_point, int64_t>> computed_;  // tokens computed per step, last 10 s
  std::unique_ptr<AdminLoad> admin_load_;
  std::vector<std::string> retiring_;
  bool ready_ = false, draining_ = false;
  Clock::time_point drain_deadline_, broken_until_;
  // Engine thread only:
  Versions versions_;
  std::map<std::pair<std::string, int64_t>, Live> live_;  // (version, engine id) -> its ticket and choice
  std::vector<std::shared_ptr<Ticket>> tickets_;  // tickets with choices in the engine
  int64_t steps_ = 0;
};

}  // namespace tessera::server
