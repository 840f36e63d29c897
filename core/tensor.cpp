#include "core/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <sys/mman.h>

#include "core/cuda/memory.h"

namespace tessera::core {

namespace {
constexpr size_t kHugePage = size_t{2} << 20;
}  // namespace

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

std::string shape_str(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

std::shared_ptr<Storage> Storage::allocate(size_t bytes, Device device) {
  void* data = nullptr;
  if (device == Device::cpu) {
    // 64-byte alignment: a cache line and a full AVX-512 register. Large buffers (weights, optimizer
    // state, the KV cache) start on a 2 MB boundary and ask for transparent huge pages: streaming
    // them through 4 KB pages spent the time of a decode step on page walks.
    const bool huge = bytes >= kHugePage;
    const size_t align = huge ? kHugePage : 64;
    const size_t rounded = (bytes + align - 1) / align * align;
    data = std::aligned_alloc(align, rounded == 0 ? 64 : rounded);
    TESSERA_CHECK(data != nullptr, "out of host memory allocating {} bytes", bytes);
    if (huge) madvise(data, rounded, MADV_HUGEPAGE);  // a hint: where THP is off, 4 KB pages
  } else {
    data = cuda::device_malloc(bytes);
  }
  return std::shared_ptr<Storage>(new Storage(data, bytes, device));
}

Storage::~Storage() {
  if (device_ == Device::cpu) {
    std::free(data_);
  } else {
    cuda::device_free(data_);
  }
}

static Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

static void check_shape(const Shape& shape) {
  for (int64_t s : shape) TESSERA_CHECK(s >= 0, "negative dimension in shape {}", shape_str(shape));
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  check_shape(shape);
  auto storage = Storage::allocate(static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype), device);
  return view_of(std::move(storage), 0, shape, dtype);
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.zero_();
  return t;
}

Tensor Tensor::view_of(std::shared_ptr<Storage> storage, size_t byte_offset, const Shape& shape,
                       DType dtype) {
  check_shape(shape);
  const size_t esize = dtype_size(dtype);
  TESSERA_CHECK(byte_offset % esize == 0, "byte offset {} is not a multiple of the {} element size",
                byte_offset, dtype_name(dtype));
  TESSERA_CHECK(byte_offset + static_cast<size_t>(shape_numel(shape)) * esize <= storage->bytes(),
                "view {} of {} at byte {} exceeds its storage of {} bytes", shape_str(shape),
                dtype_name(dtype), byte_offset, storage->bytes());
  Tensor t;
  t.device_ = storage->device();
  t.storage_ = std::move(storage);
  t.offset_ = static_cast<int64_t>(byte_offset / esize);
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  t.dtype_ = dtype;
  return t;
}

int64_t Tensor::size(int64_t d) const {
  const int64_t n = dim();
  if (d < 0) d += n;
  TESSERA_CHECK(d >= 0 && d < n, "dimension {} out of range for shape {}", d, shape_str(shape_));
  return shape_[d];
}

bool Tensor::is_contiguous() const { return strides_ == contiguous_strides(shape_); }

void* Tensor::raw() const {
  if (!storage_) return nullptr;
  return static_cast<char*>(storage_->data()) + offset_ * static_cast<int64_t>(dtype_size(dtype_));
}

Tensor Tensor::reshape(const Shape& shape) const {
  TESSERA_CHECK(is_contiguous(), "reshape of a non-contiguous tensor {}", shape_str(shape_));
  Shape s = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      TESSERA_CHECK(infer < 0, "reshape to {}: only one dimension may be -1", shape_str(shape));
      infer = static_cast<int64_t>(i);
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0 && known > 0) s[infer] = numel() / known;
  TESSERA_CHECK(shape_numel(s) == numel(), "cannot reshape {} to {}", shape_str(shape_), shape_str(shape));
  Tensor t = *this;
  t.shape_ = s;
  t.strides_ = contiguous_strides(s);
  return t;
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t length) const {
  const int64_t n = size(d);
  if (d < 0) d += dim();
  TESSERA_CHECK(start >= 0 && length >= 0 && start + length <= n,
                "slice [{}, {}) out of range for dimension {} of size {}", start, start + length, d, n);
  Tensor t = *this;
  t.offset_ += start * strides_[d];
  t.shape_[d] = length;
  return t;
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  if (d < 0) d += dim();
  Tensor t = slice(d, index, 1);
  t.shape_.erase(t.shape_.begin() + d);
  t.strides_.erase(t.strides_.begin() + d);
  return t;
}

// Visits every element of `t` in row-major order, passing its flat storage offset.
template <typename Fn>
static void for_each_offset(const Shape& shape, const Shape& strides, int64_t base, Fn&& fn) {
  const int64_t n = shape_numel(shape);
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t off = base;
    for (size_t d = 0; d < shape.size(); ++d) off += idx[d] * strides[d];
    fn(off);
    for (size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

template <typename To, typename From>
static To convert(From v) {
  if constexpr (std::is_same_v<From, bf16> || std::is_same_v<From, f16>) {
    return convert<To>(static_cast<float>(v));
  } else if constexpr (std::is_same_v<To, bf16> || std::is_same_v<To, f16>) {
    return To(static_cast<float>(v));
  } else {
    return static_cast<To>(v);
  }
}

void Tensor::copy_from(const Tensor& src) const {
  TESSERA_CHECK(shape_ == src.shape_, "copy from shape {} into shape {}", shape_str(src.shape_),
                shape_str(shape_));
  TESSERA_CHECK(device_ == Device::cpu && src.device_ == Device::cpu,
                "Tensor::copy_from is for CPU tensors");
  std::vector<int64_t> src_offsets;
  src_offsets.reserve(static_cast<size_t>(numel()));
  for_each_offset(src.shape_, src.strides_, 0, [&](int64_t off) { src_offsets.push_back(off); });
  dispatch_any(dtype_, [&]<typename To>() {
    dispatch_any(src.dtype_, [&]<typename From>() {
      To* dst = static_cast<To*>(storage_->data()) + offset_;
      const From* s = static_cast<const From*>(src.storage_->data()) + src.offset_;
      size_t i = 0;
      for_each_offset(shape_, strides_, 0, [&](int64_t off) { dst[off] = convert<To>(s[src_offsets[i++]]); });
    });
  });
}

Tensor Tensor::clone() const { return to(dtype_); }

Tensor Tensor::to(DType dtype) const {
  Tensor t = empty(shape_, dtype, Device::cpu);
  t.copy_from(*this);
  return t;
}

void Tensor::zero_() const {
  if (device_ == Device::cuda) {
    TESSERA_CHECK(is_contiguous(), "zero_ of a non-contiguous CUDA tensor {}", shape_str(shape_));
    cuda::zero_bytes(raw(), nbytes());
    return;
  }
  fill_(0.0);
}

Tensor Tensor::to_device(Device device) const {
  TESSERA_CHECK(is_contiguous(), "to_device of a non-contiguous tensor {}", shape_str(shape_));
  Tensor t = empty(shape_, dtype_, device);
  if (device == Device::cpu && device_ == Device::cpu) {
    std::memcpy(t.raw(), raw(), nbytes());
  } else if (nbytes() > 0) {
    cuda::copy_bytes(t.raw(), raw(), nbytes());
  }
  return t;
}

void Tensor::fill_(double value) const {
  TESSERA_CHECK(device_ == Device::cpu, "Tensor::fill_ is for CPU tensors");
  const bool contiguous = is_contiguous();
  if (contiguous && value == 0.0) {
    // All-zero bits are 0 in every dtype. Large buffers (gradients, scratch gradients of a step)
    // are cleared by every thread (21 MB here: 0.63-0.87 ms on one core, 0.29-0.32 ms on two).
    char* bytes = static_cast<char*>(raw());
    const int64_t n = nbytes();
    constexpr int64_t kChunk = int64_t{1} << 20;
#pragma omp parallel for if (n >= 4 * kChunk)
    for (int64_t b = 0; b < n; b += kChunk) std::memset(bytes + b, 0, static_cast<size_t>(std::min(kChunk, n - b)));
    return;
  }
  dispatch_any(dtype_, [&]<typename T>() {
    T* p = static_cast<T*>(storage_->data()) + offset_;
    const T v = convert<T>(value);
    if (contiguous) {
      std::fill(p, p + numel(), v);
    } else {
      for_each_offset(shape_, strides_, 0, [&](int64_t off) { p[off] = v; });
    }
  });
}

int64_t Tensor::flat_offset(std::initializer_list<int64_t> index) const {
  TESSERA_CHECK(static_cast<int64_t>(index.size()) == dim(), "index of rank {} into shape {}",
                index.size(), shape_str(shape_));
  int64_t off = offset_;
  size_t d = 0;
  for (int64_t i : index) {
    TESSERA_CHECK(i >= 0 && i < shape_[d], "index {} out of range for dimension {} of {}", i, d,
                  shape_str(shape_));
    off += i * strides_[d++];
  }
  return off;
}

double Tensor::item(std::initializer_list<int64_t> index) const {
  TESSERA_CHECK(device_ == Device::cpu, "Tensor::item is for CPU tensors");
  const int64_t off = flat_offset(index);
  return dispatch_any(dtype_, [&]<typename T>() {
    return convert<double>(static_cast<const T*>(storage_->data())[off]);
  });
}

void Tensor::set(std::initializer_list<int64_t> index, double value) const {
  TESSERA_CHECK(device_ == Device::cpu, "Tensor::set is for CPU tensors");
  const int64_t off = flat_offset(index);
  dispatch_any(dtype_, [&]<typename T>() { static_cast<T*>(storage_->data())[off] = convert<T>(value); });
}

}  // namespace tessera::core
