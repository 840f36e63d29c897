#pragma once
// The tensor-parallel group of a model, as the layers see it: this rank's place in the group and
// the two blocking collectives the Megatron-style layers need, on CPU float/double buffers. core
// knows nothing of MPI: parallel/ implements this over a Communicator (parallel/tp_group.h), and a
// world of one uses SoloTpGroup, which never communicates.
//
// Collectives are called in the same order on every rank of the group: the layers issue them at
// fixed points of forward and backward, so every rank of the group must run the same forward and
// backward calls (same B and T; generation included).
#include <cstdint>
#include <type_traits>

#include "core/dtype.h"

namespace tessera::core {

enum class TpReduceOp { sum, max };

class TpGroup {
 public:
  virtual ~TpGroup() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // data (count) <- op over the group's ranks of data (count), in place; returns when done.
  // dtype is f32 or f64. Every rank receives bitwise the same result.
  virtual void all_reduce(void* data, int64_t count, DType dtype, TpReduceOp op) = 0;

  template <typename T>
  void all_reduce_sum(T* data, int64_t count) {
    all_reduce(data, count, dtype_of<T>(), TpReduceOp::sum);
  }
  template <typename T>
  void all_reduce_max(T* data, int64_t count) {
    all_reduce(data, count, dtype_of<T>(), TpReduceOp::max);
  }

 private:
  template <typename T>
  static constexpr DType dtype_of() {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "TP collectives take float or double");
    return std::is_same_v<T, float> ? DType::f32 : DType::f64;
  }
};

// A group of one: rank 0 of 1, collectives are no-ops (the data already is the result).
class SoloTpGroup final : public TpGroup {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void all_reduce(void*, int64_t, DType, TpReduceOp) override {}
};

}  // namespace tessera::core
