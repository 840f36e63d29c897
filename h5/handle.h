#pragma once
// Small RAII helpers over the HDF5 C API, shared by the token shards (datasets/) and the
// checkpoints (checkpoint/): an owning handle per object and a guard that silences HDF5's own error
// printing while a call's failure is turned into a tessera::Error with context instead.
#include <hdf5.h>

#include <string>

#include "core/error.h"

namespace tessera::h5 {

// Owns one HDF5 identifier and closes it with the matching H5*close function.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept : id_(other.id_), closer_(other.closer_) { other.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = other.id_;
      closer_ = other.closer_;
      other.id_ = H5I_INVALID_HID;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Gives up ownership: the caller closes the id (and can check the close status).
  hid_t release() {
    const hid_t id = id_;
    id_ = H5I_INVALID_HID;
    return id;
  }
  void reset() {
    if (id_ >= 0 && closer_) closer_(id_);
    id_ = H5I_INVALID_HID;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

// Turns off HDF5's automatic error-stack printing for its lifetime (restored afterwards), so a
// failure reaches the user once, as a tessera::Error naming the file.
class QuietErrors {
 public:
  QuietErrors();
  ~QuietErrors();
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

// A handle from a creating/opening call, or an error saying what failed on which file.
Handle checked(hid_t id, Handle::Closer closer, const std::string& what);
// A failed status is an error saying what failed.
void check(herr_t status, const std::string& what);

}  // namespace tessera::h5
