#include "core/log.h"

#include <cstdio>

namespace tessera::log {
namespace {
int g_rank = 0;
int g_world_size = 1;

std::string prefix(const char* level) {
  if (g_world_size > 1) return fmt::format("tessera: {} [rank {}]: ", level, g_rank);
  return fmt::format("tessera: {}: ", level);
}
}  // namespace

void set_rank(int rank, int world_size) {
  g_rank = rank;
  g_world_size = world_size;
}

bool is_root() { return g_rank == 0; }

void write_info(const std::string& line) {
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void write_warn(const std::string& line) {
  std::fputs((prefix("warning") + line + "\n").c_str(), stderr);
}

void write_error(const std::string& line) {
  std::fputs((prefix("error") + line + "\n").c_str(), stderr);
}

}  // namespace tessera::log
