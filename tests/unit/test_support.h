#pragma once
// Helpers shared by the unit tests: a scratch directory per test, the message of an expected
// tessera::Error, whole-file reads and writes, and running a command to see its output and exit
// status. One version of each, so that every test means the same thing by them.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>

#include "core/error.h"

namespace tessera::testing_support {

// A directory of its own for one test: unique per process and test, empty when made, and removed
// with everything in it when destroyed, also after a test took permissions away inside it.
struct TempDir {
  std::filesystem::path path;

  TempDir() {
    static std::atomic<int> count{0};
    std::string suite = "none", test = "none";
    if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
      suite = info->test_suite_name();
      test = info->name();
    }
    // Parameterized tests are named "Prefix/Suite" and "Test/0": keep the name one path segment.
    std::string name =
        "tessera_" + suite + "_" + std::to_string(::getpid()) + "_" + std::to_string(count++) + "_" + test;
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    path = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    restore_permissions(path);
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // The path of `name` inside the directory.
  std::string operator/(const std::string& name) const { return (path / name).string(); }

  // Writes `bytes` to `name` inside the directory and returns its path.
  std::string write(const std::string& name, const std::string& bytes) const {
    const std::string p = *this / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

 private:
  // Gives the owner full access to `dir` and every directory below it, so that it can be removed.
  static void restore_permissions(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code entry_ec;
      if (it->is_directory(entry_ec) && !it->is_symlink(entry_ec)) restore_permissions(it->path());
    }
  }
};

// The message of the tessera::Error that `fn` throws ("" and a test failure if none is thrown).
template <typename F>
std::string error_of(F&& fn) {
  try {
    fn();
  } catch (const tessera::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no tessera::Error was thrown";
  return "";
}

// The bytes of the file at `path` ("" when it cannot be read).
inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Replaces the file at `path` with `bytes`.
inline void spit(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

// Damages one byte of a file in place (XOR 0x5a: never a no-op).
inline void flip_byte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

struct CommandResult {
  int status;          // the exit status; -1 when the command could not start or was killed by a signal
  std::string output;  // what it wrote to stdout (and stderr, unless asked otherwise)
};

enum class Capture { StdoutAndStderr, StdoutOnly };

// Runs `command` with the shell and waits for it. StdoutOnly leaves stderr to the test's own, for
// commands whose stdout is checked byte for byte.
inline CommandResult run_command(const std::string& command, Capture capture = Capture::StdoutAndStderr) {
  const std::string line = capture == Capture::StdoutAndStderr ? command + " 2>&1" : command;
  FILE* pipe = ::popen(line.c_str(), "r");
  if (pipe == nullptr) return {-1, ""};
  CommandResult r{-1, ""};
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) r.output.append(buffer.data(), n);
  const int raw = ::pclose(pipe);
  r.status = raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

}  // namespace tessera::testing_support
