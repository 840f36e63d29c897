#pragma once
// Elementwise reductions of typed buffers: acc[i] = op(acc[i], in[i]). bf16 and f16 are reduced
// in fp32 and rounded once per pair. Used where the transport has no native reduction for a type.
#include <cstddef>

#include "core/dtype.h"
#include "parallel/communicator.h"

namespace tessera::parallel {

void reduce_into(void* acc, const void* in, size_t count, core::DType dtype, ReduceOp op);

}  // namespace tessera::parallel
