// main() of the GoogleTest executables run under mpirun: every rank runs every test. Rank 0 prints
// GoogleTest's usual output; every other rank prints only its failures, each line prefixed with
// "[rank N]", so that a failure on any rank names its rank, assertion and message (not just a
// non-zero exit status).
#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>
#include <string>

#include "tests/mpi/mpi_gtest_main.h"

namespace tessera::parallel {
namespace {

World* g_world = nullptr;

// Prints the failed assertions and failed tests of a non-root rank to stderr.
class RankFailurePrinter final : public ::testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : prefix_("[rank " + std::to_string(rank) + "] ") {}

  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (!result.failed()) return;
    std::ostringstream where;
    where << (result.file_name() ? result.file_name() : "unknown file");
    if (result.line_number() >= 0) where << ":" << result.line_number();
    print(where.str() + ": Failure\n" + result.message());
  }

  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (info.result()->Failed()) print(std::string("FAILED ") + info.test_suite_name() + "." + info.name());
  }

 private:
  // Every line of `text`, prefixed, in one write so that ranks' lines do not interleave mid-line.
  void print(const std::string& text) const {
    std::string out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) out += prefix_ + line + "\n";
    std::fputs(out.c_str(), stderr);
    std::fflush(stderr);
  }

  std::string prefix_;
};

}  // namespace

World& test_world() { return *g_world; }

}  // namespace tessera::parallel

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  tessera::parallel::g_world = &tessera::parallel::World::init(&argc, &argv);
  if (!tessera::parallel::g_world->is_root()) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new tessera::parallel::RankFailurePrinter(tessera::parallel::g_world->rank()));
  }
  return RUN_ALL_TESTS();
}
