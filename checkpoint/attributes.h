#pragma once
// The attributes of a checkpoint file: the root's metadata (Meta, guarded by attributes_sha256)
// and each tensor's dtype and tensor-parallel split. Writes on parallel files are collective:
// every rank passes the same values.
#include <hdf5.h>

#include <string>

#include "checkpoint/format.h"
#include "core/model/params.h"

namespace tessera::checkpoint::attributes {

void write_meta(hid_t file, const Meta& meta, const std::string& path);
// Throws tessera::Error naming `path` when an attribute is missing or wrong, or when the
// attributes no longer match attributes_sha256.
Meta read_meta(hid_t file, const std::string& path);

void write_tensor(hid_t dset, const core::ParamInfo& info, const std::string& what);
// The ParamInfo a tensor dataset describes (name and shape given; split, segments, unit, decay read).
core::ParamInfo read_tensor(hid_t dset, const std::string& name, const core::Shape& shape, const std::string& what);

}  // namespace tessera::checkpoint::attributes
