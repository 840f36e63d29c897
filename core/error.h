#pragma once
// Errors: exceptions that carry their context (what, where), raised by one check macro.
// Libraries never exit() or abort(): one rank exiting leaves its peers hanging in a collective.
// `main` catches, reports and stops the whole job (MPI_Abort when there are peers).
#include <stdexcept>
#include <string>

namespace tessera {

// An error a user can act on: bad input, a missing file, an impossible config.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An error every rank raised alike (e.g. a bad config that rank 0 found and broadcast): the job
// can stop in order, with one message and no abort.
class CollectiveError : public Error {
 public:
  using Error::Error;
};

[[noreturn]] void throw_error(const char* file, int line, const std::string& message);

}  // namespace tessera

#if defined(__CUDACC__)
// nvcc cannot compile fmt 9's headers: CUDA sources (kernels and their launchers) format their
// messages by putting each argument, streamed, in place of the next {...}.
#include <sstream>
#include <string_view>

namespace tessera::detail {
inline void format_into(std::ostringstream& out, std::string_view text) { out << text; }
template <typename T, typename... Rest>
void format_into(std::ostringstream& out, std::string_view text, const T& first, const Rest&... rest) {
  const size_t open = text.find('{'), close = text.find('}', open);
  if (open == std::string_view::npos || close == std::string_view::npos) {
    out << text;
    return;
  }
  out << text.substr(0, open) << first;
  format_into(out, text.substr(close + 1), rest...);
}
template <typename... Args>
std::string format(std::string_view text, const Args&... args) {
  std::ostringstream out;
  format_into(out, text, args...);
  return out.str();
}
}  // namespace tessera::detail
#define TESSERA_FORMAT(...) ::tessera::detail::format(__VA_ARGS__)
#else
#include <fmt/format.h>
#define TESSERA_FORMAT(...) fmt::format(__VA_ARGS__)
#endif

// TESSERA_CHECK(cond, "format {}", args...): throws tessera::Error naming file:line when cond is false.
#define TESSERA_CHECK(cond, ...)                                                          \
  do {                                                                                    \
    if (!(cond)) ::tessera::throw_error(__FILE__, __LINE__, TESSERA_FORMAT(__VA_ARGS__)); \
  } while (0)

// TESSERA_FAIL("format {}", args...): throws unconditionally.
#define TESSERA_FAIL(...) ::tessera::throw_error(__FILE__, __LINE__, TESSERA_FORMAT(__VA_ARGS__))
