// train.device: the setting is validated, and choosing "cuda" where it cannot run is an error that
// names the setting (a CPU-only build, or no GPU visible), never a crash.
#include <gtest/gtest.h>

#include "run/config.h"
#include "core/device.h"
#include "train/gpu_step.h"

using namespace tessera;

TEST(TrainDevice, OnlyCpuAndCudaAreAccepted) {
  Config c;
  EXPECT_EQ(c.train.device, "cpu");
  c.train.device = "cuda";
  EXPECT_NO_THROW(c.validate("test"));
  c.train.device = "tpu";
  try {
    c.validate("test");
    FAIL() << "train.device = \"tpu\" was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("train.device"), std::string::npos) << e.what();
  }
}

TEST(TrainDevice, CudaWithoutAGpuIsAClearError) {
  if (!visible_gpus().empty()) {
    EXPECT_EQ(train::select_gpu(0), 0);
    EXPECT_EQ(train::select_gpu(static_cast<int>(visible_gpus().size())), 0);  // wraps around
    return;
  }
  try {
    train::select_gpu(0);
    FAIL() << "select_gpu succeeded with no GPU visible";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("train.device"), std::string::npos) << what;
    EXPECT_NE(what.find(built_with_cuda() ? "no GPU is visible" : "no CUDA"), std::string::npos) << what;
  }
}
