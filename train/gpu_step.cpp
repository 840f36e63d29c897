#include "train/gpu_step.h"

#include <cmath>

#include "core/cuda/flat_ops.h"
#include "core/cuda/memory.h"
#include "core/device.h"
#include "train/optimizer.h"

namespace tessera::train {

namespace {

// dst's flat buffer <- src's (the same layout, f32), across host and device.
void copy_flat(const core::ParamRegistry& dst, const core::ParamRegistry& src, const char* what) {
  TESSERA_CHECK(dst.numel() == src.numel() && dst.dtype() == core::DType::f32 && src.dtype() == core::DType::f32,
                "{}: {} f32 elements against {} {} elements", what, dst.numel(), src.numel(), dtype_name(src.dtype()));
  core::cuda::copy_bytes(dst.flat().raw(), src.flat().raw(), dst.flat().nbytes());
}

}  // namespace

int select_gpu(int local_rank) {
  TESSERA_CHECK(built_with_cuda(), "train.device = \"cuda\", but this build has no CUDA (configure with "
                "-DTESSERA_CUDA=ON on a machine with nvcc), or set train.device = \"cpu\"");
  const auto gpus = visible_gpus();
  TESSERA_CHECK(!gpus.empty(), "train.device = \"cuda\", but no GPU is visible to this process (check nvidia-smi "
                "and CUDA_VISIBLE_DEVICES), or set train.device = \"cpu\"");
  return local_rank % static_cast<int>(gpus.size());
}

GpuStep::GpuStep(const Config& config, core::DType compute, core::cuda::GpuContext& ctx, parallel::Communicator* dp)
    : model_(config.model, compute, ctx), dp_(dp) {
  m_ = core::ParamRegistry::like(model_.params(), core::DType::f32);
  v_ = core::ParamRegistry::like(model_.params(), core::DType::f32);
  hyper_.weight_decay = config.train.weight_decay;  // beta1, beta2, eps: train::AdamW's defaults
  hyper_.step = 0;
}

GpuStep::~GpuStep() = default;

double GpuStep::micro_step(const core::Tensor& tokens, const core::Tensor& targets) {
  const double loss = model_.forward(tokens, targets);
  model_.backward();
  return loss;
}

void GpuStep::sync_grads(int64_t micro_steps) {
  const core::Tensor& g = model_.grads().flat();
  const int ranks = dp_ ? dp_->size() : 1;
  if (ranks > 1) {
    dp_->all_reduce(g.raw(), static_cast<size_t>(g.numel()), core::DType::f32, parallel::ReduceOp::sum)->wait();
  }
  const double divisor = static_cast<double>(micro_steps) * ranks;
  if (divisor != 1.0) core::cuda::scale(model_.context(), g, static_cast<float>(1.0 / divisor));
}

double GpuStep::clip(double max_norm) {
  core::cuda::GpuContext& ctx = model_.context();
  const double norm = std::sqrt(core::cuda::sum_squares(ctx, model_.grads().flat()));
  const double factor = clip_factor(norm, max_norm);
  if (factor != 1.0) core::cuda::scale(ctx, model_.grads().flat(), static_cast<float>(factor));
  return norm;
}

void GpuStep::adamw(double lr) {
  hyper_.lr = lr;
  ++hyper_.step;
  const core::ParamRegistry& p = model_.params();
  for (size_t i = 0; i < p.size(); ++i) {
    core::cuda::adamw_update(model_.context(), p.tensor(i), model_.grads().tensor(i), m_.tensor(i), v_.tensor(i),
                             hyper_, p.info(i).weight_decay);
  }
}

void GpuStep::load(const core::ParamRegistry& params, const core::ParamRegistry* m, const core::ParamRegistry* v) {
  model_.load(params);
  if (m) copy_flat(m_, *m, "AdamW m");
  if (v) copy_flat(v_, *v, "AdamW v");
}

void GpuStep::store(const core::ParamRegistry& params, const core::ParamRegistry* m,
                    const core::ParamRegistry* v) const {
  model_.store(params);
  if (m) copy_flat(*m, m_, "AdamW m");
  if (v) copy_flat(*v, v_, "AdamW v");
}

}  // namespace tessera::train
