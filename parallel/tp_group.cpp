#include "parallel/tp_group.h"

#include "core/error.h"

namespace tessera::parallel {

void CommTpGroup::all_reduce(void* data, int64_t count, core::DType dtype, core::TpReduceOp op) {
  TESSERA_CHECK(dtype == core::DType::f32 || dtype == core::DType::f64,
                "tensor-parallel all-reduce takes f32 or f64, not {}", core::dtype_name(dtype));
  if (comm_.size() == 1 || count == 0) return;
  comm_.all_reduce(data, static_cast<size_t>(count), dtype, op == core::TpReduceOp::sum ? ReduceOp::sum : ReduceOp::max)
      ->wait();
}

}  // namespace tessera::parallel
