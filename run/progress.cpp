#include "run/progress.h"

#include <unistd.h>

#include <cmath>

#include <fmt/format.h>

#include "core/log.h"

namespace tessera {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = std::lround(seconds);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

Progress::Progress(std::string label, double total, std::string unit, double interval_s)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      interval_s_(interval_s),
      start_(Clock::now()),
      last_print_(start_),
      tty_(isatty(STDERR_FILENO) != 0),
      enabled_(log::is_root()),
      out_(stderr) {}

Progress::~Progress() {
  if (tty_ && enabled_ && !finished_) std::fputc('\n', out_);
}

std::string Progress::line() const {
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  const double rate = elapsed > 0 ? (done_ - base_) / elapsed : 0.0;
  std::string s = label_;
  if (total_ > 0) s += fmt::format(" {:5.1f}%", 100.0 * done_ / total_);
  s += fmt::format(" {:.4g}{} {:.4g} {}/s elapsed {}", done_, total_ > 0 ? fmt::format("/{:.4g}", total_) : "",
                   rate, unit_, format_duration(elapsed));
  if (!note_.empty()) s += " | " + note_;
  if (total_ > 0 && !finished_) {
    s += " ETA " + (rate > 0 ? format_duration((total_ - done_) / rate) : std::string("?"));
  }
  return s;
}

void Progress::update(double done) {
  done_ = done;
  if (!enabled_ || finished_) return;
  const auto now = Clock::now();
  const double since = std::chrono::duration<double>(now - last_print_).count();
  if (since < (tty_ ? 0.1 : interval_s_)) return;
  last_print_ = now;
  if (tty_) {
    std::fprintf(out_, "\r\033[K%s", line().c_str());
  } else {
    std::fprintf(out_, "%s\n", line().c_str());
  }
  std::fflush(out_);
}

void Progress::clear() {
  if (!enabled_ || !tty_ || finished_) return;
  std::fputs("\r\033[K", out_);
  std::fflush(out_);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (!enabled_) return;
  std::fprintf(out_, tty_ ? "\r\033[K%s\n" : "%s\n", line().c_str());
  std::fflush(out_);
}

}  // namespace tessera
