// The CUDA training step against the CPU step of the same tiny config (GPT-2 and llama families):
// one step's loss and every gradient, then several steps of AdamW (with gradient accumulation
// and clipping) tracking the CPU run. Skips without a GPU (tests/support/gpu.h).
// Tolerances: f32 differs from the CPU by summation order only: loss 1e-5 relative, gradients
// and weights 1e-4 of the largest value. bf16 rounds weights and activations to 8 significant
// bits: loss within 2% relative, the gradient within 5% relative L2 error, weights after 6 AdamW
// steps within 2 lr per step.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/cuda/ops.h"
#include "core/model/gpu_transformer.h"
#include "core/model/transformer.h"
#include "tests/support/gpu.h"
#include "tests/support/tiny_model.h"
#include "train/gpu_step.h"
#include "train/optimizer.h"

using namespace tessera;
using namespace tessera::core;

namespace {

Tensor random_tokens(int64_t B, int64_t T, int64_t V, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int32_t> d(0, static_cast<int32_t>(V - 1));
  Tensor t = Tensor::empty({B, T}, DType::i32);
  for (int64_t i = 0; i < B * T; ++i) t.data<int32_t>()[i] = d(gen);
  return t;
}

std::vector<float> host_values(const Tensor& t) {
  const Tensor h = t.device() == Device::cuda ? t.to_device(Device::cpu) : t;
  return {h.data<float>(), h.data<float>() + h.numel()};
}

// max |got - want| over max(1, max |want|).
double max_error(const std::vector<float>& got, const std::vector<float>& want) {
  double err = 0, scale = 1;
  for (size_t i = 0; i < want.size(); ++i) {
    err = std::max(err, static_cast<double>(std::abs(got[i] - want[i])));
    scale = std::max(scale, static_cast<double>(std::abs(want[i])));
  }
  return err / scale;
}

// ||got - want|| / ||want||
double relative_l2(const std::vector<float>& got, const std::vector<float>& want) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    diff += std::pow(static_cast<double>(got[i]) - want[i], 2);
    norm += std::pow(static_cast<double>(want[i]), 2);
  }
  return std::sqrt(diff / norm);
}

struct Case {
  std::string family;
  DType compute;
};

class GpuTrainStep : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    TESSERA_GPU_OR_SKIP();
    ctx = std::make_unique<cuda::GpuContext>(0);
    config.model = testing_support::tiny_model(GetParam().family, {});
    config.train.weight_decay = 0.1;
  }
  bool f32() const { return GetParam().compute == DType::f32; }
  Config config;
  std::unique_ptr<cuda::GpuContext> ctx;
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return info.param.family + (info.param.compute == DType::f32 ? "_f32" : "_bf16");
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.family << " " << dtype_name(c.compute); }

}  // namespace

TEST_P(GpuTrainStep, OneStepLossAndGradientsMatchTheCpu) {
  Transformer cpu(config.model);
  cpu.init_weights(11);
  GpuTransformer gpu(config.model, GetParam().compute, *ctx);
  gpu.load(cpu.params());
  const Tensor tokens = random_tokens(3, 16, config.model.vocab_size, 1);
  Tensor targets = random_tokens(3, 16, config.model.vocab_size, 2);
  targets.data<int32_t>()[5] = -1;  // an ignored position
  cpu.zero_grad();
  const double cpu_loss = cpu.forward(tokens, targets);
  cpu.backward();
  gpu.zero_grad();
  const double gpu_loss = gpu.forward(tokens, targets);
  gpu.backward();
  EXPECT_NEAR(gpu_loss, cpu_loss, (f32() ? 1e-5 : 2e-2) * cpu_loss);
  if (f32()) {
    for (size_t i = 0; i < cpu.grads().size(); ++i) {
      EXPECT_LE(max_error(host_values(gpu.grads().tensor(i)), host_values(cpu.grads().tensor(i))), 1e-4)
          << cpu.grads().info(i).name;
    }
  }
  EXPECT_LE(relative_l2(host_values(gpu.grads().flat()), host_values(cpu.grads().flat())), f32() ? 1e-5 : 5e-2);
}

TEST_P(GpuTrainStep, StepsWithAccumulationAndClippingTrackTheCpu) {
  config.train.grad_clip = 0.5;  // tight enough to clip in the first steps
  Transformer cpu(config.model);
  cpu.init_weights(5);
  train::AdamW cpu_opt(cpu.params(), cpu.grads(), config.train.weight_decay);
  train::GpuStep gpu(config, GetParam().compute, *ctx, nullptr);
  gpu.load(cpu.params(), &cpu_opt.m(), &cpu_opt.v());
  const int64_t accum = 2, steps = 6;
  const double lr = 3e-3;
  std::vector<double> cpu_losses, gpu_losses;
  uint32_t seed = 100;
  for (int64_t s = 0; s < steps; ++s) {
    cpu.zero_grad();
    gpu.model().zero_grad();
    double cpu_loss = 0, gpu_loss = 0;
    for (int64_t m = 0; m < accum; ++m, seed += 2) {
      const Tensor tokens = random_tokens(2, 16, config.model.vocab_size, seed);
      const Tensor targets = random_tokens(2, 16, config.model.vocab_size, seed + 1);
      cpu_loss += cpu.forward(tokens, targets);
      cpu.backward();
      gpu_loss += gpu.micro_step(tokens, targets);
    }
    train::scale(cpu.grads(), 1.0 / accum);
    const double cpu_norm = train::clip_global_norm(cpu.grads(), config.train.grad_clip);
    cpu_opt.step(lr);
    gpu.sync_grads(accum);
    const double gpu_norm = gpu.clip(config.train.grad_clip);
    gpu.adamw(lr);
    EXPECT_NEAR(gpu_norm, cpu_norm, (f32() ? 1e-4 : 5e-2) * cpu_norm) << "step " << s;
    cpu_losses.push_back(cpu_loss / accum);
    gpu_losses.push_back(gpu_loss / accum);
  }
  for (int64_t s = 0; s < steps; ++s) {
    EXPECT_NEAR(gpu_losses[s], cpu_losses[s], (f32() ? 1e-4 : 2e-2) * cpu_losses[s]) << "step " << s;
  }
  EXPECT_LT(cpu_losses.back(), cpu_losses.front());
  EXPECT_LT(gpu_losses.back(), gpu_losses.front());
  EXPECT_EQ(gpu.steps_taken(), steps);
  // The weights and moments come back in the CPU layout (checkpoints): compared element by element.
  Transformer back(config.model);
  train::AdamW back_opt(back.params(), back.grads(), config.train.weight_decay);
  gpu.store(back.params(), &back_opt.m(), &back_opt.v());
  // bf16: AdamW moves a weight by about lr per step whatever the gradient's size, so gradients that
  // rounding tips to the other sign can move weights apart by up to 2 lr per step.
  const double tol = f32() ? 1e-4 : 2.0 * lr * static_cast<double>(steps) + 1e-2;
  EXPECT_LE(max_error(host_values(back.params().flat()), host_values(cpu.params().flat())), tol);
  if (f32()) {
    EXPECT_LE(max_error(host_values(back_opt.v().flat()), host_values(cpu_opt.v().flat())), tol);
  }
}

INSTANTIATE_TEST_SUITE_P(Families, GpuTrainStep,
                         ::testing::Values(Case{"gpt2", DType::f32}, Case{"llama", DType::f32},
                                           Case{"gpt2", DType::bf16}, Case{"llama", DType::bf16}),
                         case_name);

TEST(GpuTrainStepErrors, BadBatchesAreErrorsNamingTheProblem) {
  TESSERA_GPU_OR_SKIP();
  cuda::GpuContext ctx(0);
  const ModelConfig c = testing_support::tiny_model("gpt2", {});
  GpuTransformer gpu(c, DType::f32, ctx);
  Tensor tokens = random_tokens(2, 16, c.vocab_size, 1);
  EXPECT_THROW(gpu.forward(random_tokens(2, 17, c.vocab_size, 1), random_tokens(2, 17, c.vocab_size, 2)), Error);
  tokens.data<int32_t>()[3] = static_cast<int32_t>(c.vocab_size);  // out of range
  EXPECT_THROW(gpu.forward(tokens, random_tokens(2, 16, c.vocab_size, 2)), Error);
  EXPECT_THROW(gpu.backward(), Error);  // no successful forward
}
