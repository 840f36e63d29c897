#include "core/arena.h"

#include <algorithm>

namespace tessera::core {

Arena::Arena(Device device, size_t initial_bytes) : device_(device) {
  if (initial_bytes > 0) blocks_.push_back(Storage::allocate(initial_bytes, device));
}

size_t Arena::capacity_bytes() const {
  size_t total = 0;
  for (const auto& b : blocks_) total += b->bytes();
  return total;
}

Tensor Arena::alloc(const Shape& shape, DType dtype) {
  const size_t bytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  const size_t padded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  if (blocks_.empty() || offset_ + padded > blocks_.back()->bytes()) {
    // A new block: at least twice the previous one so that a growing workload needs few blocks.
    const size_t previous = blocks_.empty() ? 0 : blocks_.back()->bytes();
    blocks_.push_back(Storage::allocate(std::max({padded, 2 * previous, size_t{1} << 20}), device_));
    offset_ = 0;
  }
  Tensor t = Tensor::view_of(blocks_.back(), offset_, shape, dtype);
  offset_ += padded;
  used_ += padded;
  return t;
}

Tensor Arena::zeros(const Shape& shape, DType dtype) {
  Tensor t = alloc(shape, dtype);
  t.zero_();
  return t;
}

void Arena::reset() {
  if (blocks_.size() > 1) {
    // Tensors still held elsewhere keep their old blocks alive; the arena moves on to one block.
    const size_t total = capacity_bytes();
    blocks_.clear();
    blocks_.push_back(Storage::allocate(total, device_));
  }
  offset_ = 0;
  used_ = 0;
}

}  // namespace tessera::core
