#pragma once
// Tensor: a typed, strided view of shared storage on one device.
//
// - Storage is reference counted (std::shared_ptr): copies of a Tensor and views/slices of it
//   share memory; the memory is freed when the last one goes away.
// - Shape and strides are in elements, row-major by default. Views keep the storage alive.
// - Kernels take raw pointers and sizes; a Tensor is how the model and callers carry them around.
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace tessera::core {

enum class Device : uint8_t { cpu, cuda };

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape& shape);
std::string shape_str(const Shape& shape);  // "(2, 3, 4)"

// A block of bytes on a device, freed with the last reference.
class Storage {
 public:
  static std::shared_ptr<Storage> allocate(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  Storage(void* data, size_t bytes, Device device) : data_(data), bytes_(bytes), device_(device) {}
  void* data_;
  size_t bytes_;
  Device device_;
};

class Tensor {
 public:
  Tensor() = default;  // an empty tensor: defined() is false

  // Uninitialised memory, contiguous.
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu);
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu);
  // A contiguous view of `storage` starting at byte `byte_offset` (arenas hand these out).
  static Tensor view_of(std::shared_ptr<Storage> storage, size_t byte_offset, const Shape& shape,
                        DType dtype);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return storage_; }

  // Typed pointer to the first element; checks that T matches the dtype.
  template <typename T> T* data() const {
    TESSERA_CHECK(dtype_of<T>() == dtype_, "tensor of dtype {} accessed as {}", dtype_name(dtype_),
                  dtype_name(dtype_of<T>()));
    return static_cast<T*>(raw());
  }
  void* raw() const;

  // Views sharing storage.
  Tensor reshape(const Shape& shape) const;                         // contiguous only; one -1 allowed
  Tensor slice(int64_t d, int64_t start, int64_t length) const;     // [start, start+length) along d
  Tensor select(int64_t d, int64_t index) const;                    // drops dimension d

  // A Tensor is a handle: the methods below change the elements, never the handle, so they are
  // const (as data() hands out writable pointers from a const Tensor).
  // New contiguous memory (CPU).
  Tensor clone() const;
  void copy_from(const Tensor& src) const;  // same shape; converts dtype (CPU)
  Tensor to(DType dtype) const;       // converted copy (CPU)
  Tensor to_device(Device device) const;  // contiguous copy on `device` (same dtype)

  void zero_() const;  // CPU or contiguous CUDA tensors
  void fill_(double value) const;

  // Element access for tests and small tools (CPU, any layout). Slow; not for kernels.
  double item(std::initializer_list<int64_t> index) const;
  void set(std::initializer_list<int64_t> index, double value) const;

 private:
  int64_t flat_offset(std::initializer_list<int64_t> index) const;

  std::shared_ptr<Storage> storage_;
  int64_t offset_ = 0;  // elements from the start of storage
  Shape shape_, strides_;
  DType dtype_ = DType::f32;
  Device device_ = Device::cpu;
};

}  // namespace tessera::core
