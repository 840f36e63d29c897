// main() of the GoogleTest executables run under mpirun: every rank runs every test, and only rank
// 0 prints; a failure on any rank makes that rank's exit status non-zero.
#include <gtest/gtest.h>

#include "tests/mpi/mpi_gtest_main.h"

namespace tessera::parallel {
namespace {

World* g_world = nullptr;

}  // namespace

World& test_world() { return *g_world; }

}  // namespace tessera::parallel

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  tessera::parallel::g_world = &tessera::parallel::World::init(&argc, &argv);
  if (!tessera::parallel::g_world->is_root()) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  return RUN_ALL_TESTS();
}
