#include "h5/handle.h"

namespace tessera::h5 {

QuietErrors::QuietErrors() {
  H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

QuietErrors::~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

Handle checked(hid_t id, Handle::Closer closer, const std::string& what) {
  TESSERA_CHECK(id >= 0, "HDF5: {}", what);
  return Handle(id, closer);
}

void check(herr_t status, const std::string& what) { TESSERA_CHECK(status >= 0, "HDF5: {}", what); }

}  // namespace tessera::h5
