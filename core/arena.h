#pragma once
// Arena: a bump allocator for activations and scratch tensors that live for one step.
//
// alloc() hands out contiguous tensors from a block; when the block is full a new one is added, so
// earlier tensors stay valid. reset() forgets every allocation; if several blocks were needed,
// they are merged into one block of the total size, so after the first step an arena of a steady
// workload allocates nothing and addresses are stable.
#include <memory>
#include <vector>

#include "core/tensor.h"

namespace tessera::core {

class Arena {
 public:
  explicit Arena(Device device = Device::cpu, size_t initial_bytes = 0);

  Tensor alloc(const Shape& shape, DType dtype = DType::f32);
  Tensor zeros(const Shape& shape, DType dtype = DType::f32);
  // Tensors from earlier alloc() calls must no longer be used (their memory is reused).
  void reset();

  size_t used_bytes() const { return used_; }
  size_t capacity_bytes() const;

  static constexpr size_t kAlignment = 64;  // one cache line; also enough for any SIMD load

 private:
  Device device_;
  std::vector<std::shared_ptr<Storage>> blocks_;
  size_t offset_ = 0;  // within blocks_.back()
  size_t used_ = 0;    // since reset(), including alignment padding
};

}  // namespace tessera::core
