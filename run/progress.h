#pragma once
// Progress of long work (prepare, train, eval): on a terminal, one line redrawn in place with the
// rate and the ETA; otherwise a plain line every `interval_s` seconds. Only the root rank prints.
#include <chrono>
#include <cstdio>
#include <string>

namespace tessera {

class Progress {
 public:
  // total <= 0 means unknown (no percentage, no ETA). `unit` names what is counted ("MB", "tok").
  Progress(std::string label, double total, std::string unit, double interval_s = 10.0);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(double amount) { update(done_ + amount); }
  // Work already done before this run (a resumed run): counted in the total, not in the rate.
  void start_at(double done) { done_ = base_ = done; }
  // Free text shown after the counts (e.g. "loss 3.21"), kept until replaced.
  void note(std::string text) { note_ = std::move(text); }
  void update(double done);
  void finish();  // prints the final line once
  // Erases the line drawn on a terminal so that a log line can be printed; the next update
  // draws it again.
  void clear();
  // One line of state: "label 42% 1.20 MB/s ETA 0:31" (used by update and by tests).
  std::string line() const;

 private:
  using Clock = std::chrono::steady_clock;
  std::string label_, unit_, note_;
  double total_, done_ = 0.0, base_ = 0.0, interval_s_;
  Clock::time_point start_, last_print_;
  bool tty_, enabled_, finished_ = false;
  FILE* out_;
};

// "1:02:03" or "2:03" for a number of seconds.
std::string format_duration(double seconds);

}  // namespace tessera
