#pragma once
// Logging: only the root rank prints informational lines; warnings and errors name their rank when
// the job has several. Set the rank once at start-up (cli/main.cpp), before any thread starts.
#include <string>

#include <fmt/format.h>

namespace tessera::log {

void set_rank(int rank, int world_size);
bool is_root();

void write_info(const std::string& line);   // root only, stdout
void write_warn(const std::string& line);   // every rank, stderr, prefixed
void write_error(const std::string& line);  // every rank, stderr, prefixed

template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (is_root()) write_info(fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  write_warn(fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  write_error(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace tessera::log
