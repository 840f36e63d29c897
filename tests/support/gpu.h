#pragma once
// The GPU tests' guard: in a test body or SetUp, skips when no GPU is visible (builds without
// CUDA included), and fails instead when TESSERA_REQUIRE_GPU is set, as scripts/gpu-check.sh sets
// it on a GPU machine, where a missing GPU is a failure.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/device.h"

#define TESSERA_GPU_OR_SKIP()                                                                            \
  do {                                                                                                   \
    if (::tessera::visible_gpus().empty()) {                                                             \
      if (std::getenv("TESSERA_REQUIRE_GPU")) FAIL() << "no GPU visible, and TESSERA_REQUIRE_GPU is set"; \
      GTEST_SKIP() << "no GPU visible";                                                                  \
    }                                                                                                    \
  } while (0)
