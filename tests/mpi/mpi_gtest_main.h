#pragma once
// The World of a GoogleTest executable run under mpirun; mpi_gtest_main.cpp's main() starts it
// before any test runs.
#include "parallel/world.h"

namespace tessera::parallel {

World& test_world();

}  // namespace tessera::parallel
