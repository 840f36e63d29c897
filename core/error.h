#pragma once
// Errors: exceptions that carry their context (what, where), raised by one check macro.
// Libraries never exit() or abort(): one rank exiting leaves its peers hanging in a collective.
// `main` catches, reports and stops the whole job (MPI_Abort when there are peers).
#include <stdexcept>
#include <string>

#include <fmt/format.h>

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

// TESSERA_CHECK(cond, "format {}", args...): throws tessera::Error naming file:line when cond is false.
#define TESSERA_CHECK(cond, ...)                                                   \
  do {                                                                             \
    if (!(cond)) ::tessera::throw_error(__FILE__, __LINE__, fmt::format(__VA_ARGS__)); \
  } while (0)

// TESSERA_FAIL("format {}", args...): throws unconditionally.
#define TESSERA_FAIL(...) ::tessera::throw_error(__FILE__, __LINE__, fmt::format(__VA_ARGS__))
