#include "checkpoint/h5io.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "core/sha256.h"

namespace tessera::checkpoint::h5io {

using h5::check;
using h5::checked;

namespace {

constexpr size_t kMaxStringBytes = size_t{64} << 20;    // attributes and string datasets
constexpr size_t kHashBlockBytes = size_t{16} << 20;    // read granularity of dataset_sha256

Handle file_access(const parallel::World* world) {
  auto fapl = checked(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "file access properties");
  // Superblock v2, v2 object headers, new-style groups: HDF5 checksums all of this metadata, so a
  // damaged header is reported as an error rather than misread.
  check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_LATEST), "library version bounds");
  if (world && world->uses_mpi()) {
    check(H5Pset_fapl_mpio(fapl.get(), MPI_COMM_WORLD, MPI_INFO_NULL), "MPI-IO driver");
    check(H5Pset_coll_metadata_write(fapl.get(), true), "collective metadata writes");
  }
  return fapl;
}

Handle string_type(size_t size) {
  auto type = checked(H5Tcopy(H5T_C_S1), H5Tclose, "string type");
  check(H5Tset_size(type.get(), std::max<size_t>(size, 1)), "string size");
  check(H5Tset_strpad(type.get(), H5T_STR_NULLPAD), "string padding");
  return type;
}

std::string strip_nuls(std::string s) {
  s.erase(std::find(s.begin(), s.end(), '\0'), s.end());
  return s;
}

// Hyperslab of a piece in the dataset's own rank (1-D datasets use the row coordinates only).
void select_piece(hid_t space, const Piece& p, H5S_seloper_t op) {
  const hsize_t start[2] = {static_cast<hsize_t>(p.row), static_cast<hsize_t>(p.col)};
  const hsize_t count[2] = {static_cast<hsize_t>(p.rows), static_cast<hsize_t>(p.cols)};
  check(H5Sselect_hyperslab(space, op, start, nullptr, count, nullptr), "select a hyperslab");
}

// One run of elements contiguous in the file's row-major order and in memory.
struct Run {
  int64_t row, col, count;
  float* data;
};

// A rank's pieces of one dataset as runs in the order HDF5 visits the union of their hyperslabs
// (row-major over the dataset), so that a packed buffer lines up with the file selection.
std::vector<Run> runs_in_file_order(const std::vector<Piece>& pieces, int64_t dataset_cols) {
  std::vector<Run> runs;
  for (const Piece& p : pieces) {
    if (p.cols == dataset_cols && (p.pitch == p.cols || p.rows == 1)) {
      runs.push_back({p.row, p.col, p.rows * p.cols, p.data});  // whole rows: one run
    } else {
      for (int64_t r = 0; r < p.rows; ++r) runs.push_back({p.row + r, p.col, p.cols, p.data + r * p.pitch});
    }
  }
  std::sort(runs.begin(), runs.end(), [](const Run& a, const Run& b) { return a.row != b.row ? a.row < b.row : a.col < b.col; });
  return runs;
}

// File and memory selections of a rank's pieces; `direct` when the memory is one contiguous run.
struct Transfer {
  Handle file_space, mem_space;
  std::vector<Run> runs;
  std::vector<float> staging;
  float* buffer = nullptr;
};

Transfer prepare(hid_t dset, const core::Shape& shape, const std::vector<Piece>& pieces, const std::string& what) {
  Transfer t;
  t.file_space = checked(H5Dget_space(dset), H5Sclose, what);
  const int ndims = static_cast<int>(shape.size());
  int64_t total = 0;
  for (const Piece& p : pieces) total += p.numel();
  if (total == 0) {
    check(H5Sselect_none(t.file_space.get()), what);
    const hsize_t one = 1;
    t.mem_space = checked(H5Screate_simple(1, &one, nullptr), H5Sclose, what);
    check(H5Sselect_none(t.mem_space.get()), what);
    t.staging.resize(1);
    t.buffer = t.staging.data();
    return t;
  }
  if (ndims == 0) {
    check(H5Sselect_all(t.file_space.get()), what);
  } else {
    check(H5Sselect_none(t.file_space.get()), what);
    for (const Piece& p : pieces) select_piece(t.file_space.get(), p, H5S_SELECT_OR);
  }
  const hssize_t selected = H5Sget_select_npoints(t.file_space.get());
  TESSERA_CHECK(selected == total, "{}: pieces overlap ({} elements in {} selected)", what, total, selected);
  const hsize_t n = static_cast<hsize_t>(total);
  t.mem_space = checked(H5Screate_simple(1, &n, nullptr), H5Sclose, what);
  t.runs = runs_in_file_order(pieces, dims2(shape).cols);
  if (t.runs.size() == 1) {
    t.buffer = t.runs[0].data;
  } else {
    t.staging.resize(static_cast<size_t>(total));
    t.buffer = t.staging.data();
  }
  return t;
}

Handle transfer_properties(Io io) {
  auto dxpl = checked(H5Pcreate(H5P_DATASET_XFER), H5Pclose, "transfer properties");
  if (io != Io::serial) check(H5Pset_dxpl_mpio(dxpl.get(), H5FD_MPIO_COLLECTIVE), "collective transfer");
  if (io == Io::direct) check(H5Pset_dxpl_mpio_collective_opt(dxpl.get(), H5FD_MPIO_INDIVIDUAL_IO), "independent I/O");
  return dxpl;
}

}  // namespace

Handle create_file(const std::string& path, const parallel::World* world) {
  h5::QuietErrors quiet;
  auto fapl = file_access(world);
  return checked(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose,
                 fmt::format("cannot create checkpoint file {}", path));
}

Handle open_file(const std::string& path, bool writable, const parallel::World* world) {
  h5::QuietErrors quiet;
  auto fapl = file_access(world);
  const hid_t id = H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.get());
  TESSERA_CHECK(id >= 0, "{} is not a readable HDF5 file (missing, truncated, corrupt or not HDF5)", path);
  return Handle(id, H5Fclose);
}

Handle create_group(hid_t loc, const std::string& name, const std::string& path) {
  auto gcpl = checked(H5Pcreate(H5P_GROUP_CREATE), H5Pclose, "group properties");
  check(H5Pset_link_creation_order(gcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), "creation order");
  return checked(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT), H5Gclose,
                 fmt::format("cannot create group {} in {}", name, path));
}

Handle open_group(hid_t loc, const std::string& name, const std::string& path) {
  TESSERA_CHECK(link_exists(loc, name), "{}: group {} is missing", path, name);
  return checked(H5Gopen2(loc, name.c_str(), H5P_DEFAULT), H5Gclose, fmt::format("{}: cannot open group {}", path, name));
}

bool link_exists(hid_t loc, const std::string& name) {
  // Each path component must exist before the next is asked about.
  size_t pos = 0;
  while (true) {
    pos = name.find('/', pos + 1);
    const std::string prefix = name.substr(0, pos);
    if (H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (pos == std::string::npos) return true;
  }
}

std::vector<std::string> member_names(hid_t group, const std::string& what) {
  std::vector<std::string> names;
  auto collect = [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
    static_cast<std::vector<std::string>*>(out)->emplace_back(name);
    return 0;
  };
  hsize_t idx = 0;
  if (H5Literate(group, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, collect, &names) < 0) {
    names.clear();  // a group that does not track creation order (written by another tool)
    idx = 0;
    check(H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &idx, collect, &names), what);
  }
  return names;
}

Handle create_tensor(hid_t loc, const std::string& name, const core::Shape& shape, const std::string& what) {
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  auto space = shape.empty() ? checked(H5Screate(H5S_SCALAR), H5Sclose, what)
                             : checked(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose, what);
  auto dcpl = checked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, what);
  check(H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY), what);
  check(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER), what);  // every element is written
  return checked(H5Dcreate2(loc, name.c_str(), H5T_IEEE_F32LE, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                 H5Dclose, what);
}

core::Shape dataset_shape(hid_t dset, const std::string& what) {
  auto space = checked(H5Dget_space(dset), H5Sclose, what);
  const int nd = H5Sget_simple_extent_ndims(space.get());
  TESSERA_CHECK(nd >= 0 && nd <= 8, "{}: bad dataspace", what);
  std::vector<hsize_t> dims(static_cast<size_t>(nd));
  check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), what);
  return core::Shape(dims.begin(), dims.end());
}

std::string dataset_kind(hid_t dset) {
  auto type = checked(H5Dget_type(dset), H5Tclose, "dataset type");
  const H5T_class_t cls = H5Tget_class(type.get());
  const size_t size = H5Tget_size(type.get());
  if (cls == H5T_FLOAT && size == 4) return "f32";
  if (cls == H5T_FLOAT && size == 8) return "f64";
  if (cls == H5T_INTEGER && size == 8) return "i64";
  if (cls == H5T_STRING) return "string";
  return "other";
}

void write_string_dataset(hid_t loc, const std::string& name, const std::string& value, const parallel::World* world,
                          const std::string& what) {
  auto type = string_type(value.size());
  auto space = checked(H5Screate(H5S_SCALAR), H5Sclose, what);
  auto dset = checked(H5Dcreate2(loc, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                      H5Dclose, what);
  std::string padded = value;
  padded.resize(std::max<size_t>(value.size(), 1), '\0');
  // Independent transfer: the root alone writes the bytes every rank agrees on.
  if (!world || world->is_root()) check(H5Dwrite(dset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, padded.data()), what);
}

void write_int_dataset(hid_t loc, const std::string& name, int64_t value, const parallel::World* world,
                       const std::string& what) {
  auto space = checked(H5Screate(H5S_SCALAR), H5Sclose, what);
  auto dset = checked(H5Dcreate2(loc, name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                      H5Dclose, what);
  if (!world || world->is_root()) check(H5Dwrite(dset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value), what);
}

std::string read_string_dataset(hid_t loc, const std::string& name, const std::string& what) {
  TESSERA_CHECK(link_exists(loc, name), "{}: dataset {} is missing", what, name);
  auto dset = checked(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), H5Dclose, fmt::format("{}: cannot open {}", what, name));
  auto type = checked(H5Dget_type(dset.get()), H5Tclose, what);
  TESSERA_CHECK(H5Tget_class(type.get()) == H5T_STRING && H5Tis_variable_str(type.get()) == 0,
                "{}: {} is not a fixed-length string", what, name);
  auto space = checked(H5Dget_space(dset.get()), H5Sclose, what);
  TESSERA_CHECK(H5Sget_simple_extent_type(space.get()) == H5S_SCALAR, "{}: {} is not a scalar", what, name);
  const size_t size = H5Tget_size(type.get());
  TESSERA_CHECK(size > 0 && size <= kMaxStringBytes, "{}: {} has an implausible size of {} bytes", what, name, size);
  std::string value(size, '\0');
  check(H5Dread(dset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, value.data()), fmt::format("{}: cannot read {}", what, name));
  return strip_nuls(std::move(value));
}

int64_t read_int_dataset(hid_t loc, const std::string& name, const std::string& what) {
  TESSERA_CHECK(link_exists(loc, name), "{}: dataset {} is missing", what, name);
  auto dset = checked(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), H5Dclose, fmt::format("{}: cannot open {}", what, name));
  TESSERA_CHECK(dataset_kind(dset.get()) == "i64", "{}: {} is not a 64-bit integer", what, name);
  auto space = checked(H5Dget_space(dset.get()), H5Sclose, what);
  TESSERA_CHECK(H5Sget_simple_extent_type(space.get()) == H5S_SCALAR, "{}: {} is not a scalar", what, name);
  int64_t value = 0;
  check(H5Dread(dset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value), fmt::format("{}: cannot read {}", what, name));
  return value;
}

bool has_attr(hid_t loc, const std::string& name) { return H5Aexists(loc, name.c_str()) > 0; }

void write_attr(hid_t loc, const std::string& name, const std::string& value, const std::string& what) {
  auto type = string_type(value.size());
  auto space = checked(H5Screate(H5S_SCALAR), H5Sclose, what);
  auto attr = checked(H5Acreate2(loc, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                      fmt::format("{}: cannot create attribute {}", what, name));
  std::string padded = value;
  padded.resize(std::max<size_t>(value.size(), 1), '\0');
  check(H5Awrite(attr.get(), type.get(), padded.data()), fmt::format("{}: cannot write attribute {}", what, name));
}

void write_attr(hid_t loc, const std::string& name, int64_t value, const std::string& what) {
  auto space = checked(H5Screate(H5S_SCALAR), H5Sclose, what);
  auto attr = checked(H5Acreate2(loc, name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                      fmt::format("{}: cannot create attribute {}", what, name));
  check(H5Awrite(attr.get(), H5T_NATIVE_INT64, &value), fmt::format("{}: cannot write attribute {}", what, name));
}

void write_attr(hid_t loc, const std::string& name, double value, const std::string& what) {
  auto space = checked(H5Screate(H5S_SCALAR), H5Sclose, what);
  auto attr = checked(H5Acreate2(loc, name.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                      fmt::format("{}: cannot create attribute {}", what, name));
  check(H5Awrite(attr.get(), H5T_NATIVE_DOUBLE, &value), fmt::format("{}: cannot write attribute {}", what, name));
}

namespace {
Handle open_attr(hid_t loc, const std::string& name, H5T_class_t cls, const std::string& what) {
  TESSERA_CHECK(has_attr(loc, name), "{}: attribute '{}' is missing", what, name);
  auto attr = checked(H5Aopen(loc, name.c_str(), H5P_DEFAULT), H5Aclose, fmt::format("{}: cannot open attribute {}", what, name));
  auto type = checked(H5Aget_type(attr.get()), H5Tclose, what);
  auto space = checked(H5Aget_space(attr.get()), H5Sclose, what);
  TESSERA_CHECK(H5Tget_class(type.get()) == cls && H5Sget_simple_extent_npoints(space.get()) == 1,
                "{}: attribute '{}' has the wrong type", what, name);
  return attr;
}
}  // namespace

std::string read_string_attr(hid_t loc, const std::string& name, const std::string& what) {
  auto attr = open_attr(loc, name, H5T_STRING, what);
  auto type = checked(H5Aget_type(attr.get()), H5Tclose, what);
  TESSERA_CHECK(H5Tis_variable_str(type.get()) == 0, "{}: attribute '{}' is a variable-length string", what, name);
  const size_t size = H5Tget_size(type.get());
  TESSERA_CHECK(size > 0 && size <= kMaxStringBytes, "{}: attribute '{}' has an implausible size", what, name);
  std::string value(size, '\0');
  check(H5Aread(attr.get(), type.get(), value.data()), fmt::format("{}: cannot read attribute {}", what, name));
  return strip_nuls(std::move(value));
}

int64_t read_int_attr(hid_t loc, const std::string& name, const std::string& what) {
  auto attr = open_attr(loc, name, H5T_INTEGER, what);
  int64_t value = 0;
  check(H5Aread(attr.get(), H5T_NATIVE_INT64, &value), fmt::format("{}: cannot read attribute {}", what, name));
  return value;
}

double read_double_attr(hid_t loc, const std::string& name, const std::string& what) {
  auto attr = open_attr(loc, name, H5T_FLOAT, what);
  double value = 0;
  check(H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &value), fmt::format("{}: cannot read attribute {}", what, name));
  return value;
}

Io io_for(const parallel::World* world, const core::ParamInfo& info, int tp) {
  if (!world || !world->uses_mpi()) return Io::serial;
  return info.split == core::TpSplit::row && tp > 1 ? Io::two_phase : Io::direct;
}

void write_pieces(hid_t dset, const core::Shape& shape, const std::vector<Piece>& pieces, Io io, const std::string& what) {
  Transfer t = prepare(dset, shape, pieces, what);
  if (!t.staging.empty() && !t.runs.empty()) {
    float* out = t.buffer;
    for (const Run& r : t.runs) out = std::copy_n(r.data, r.count, out);
  }
  auto dxpl = transfer_properties(io);
  check(H5Dwrite(dset, H5T_NATIVE_FLOAT, t.mem_space.get(), t.file_space.get(), dxpl.get(), t.buffer),
        fmt::format("cannot write {}", what));
}

void read_pieces(hid_t dset, const core::Shape& shape, const std::vector<Piece>& pieces, Io io, const std::string& what) {
  Transfer t = prepare(dset, shape, pieces, what);
  auto dxpl = transfer_properties(io);
  check(H5Dread(dset, H5T_NATIVE_FLOAT, t.mem_space.get(), t.file_space.get(), dxpl.get(), t.buffer),
        fmt::format("cannot read {}", what));
  if (!t.staging.empty() && !t.runs.empty()) {
    const float* in = t.buffer;
    for (const Run& r : t.runs) {
      std::copy_n(in, r.count, r.data);
      in += r.count;
    }
  }
}

std::string dataset_sha256(hid_t dset, const std::string& what) {
  auto type = checked(H5Dget_type(dset), H5Tclose, what);
  auto space = checked(H5Dget_space(dset), H5Sclose, what);
  const size_t elem = H5Tget_size(type.get());
  const hssize_t npoints = H5Sget_simple_extent_npoints(space.get());
  TESSERA_CHECK(elem > 0 && npoints >= 0, "{}: bad type or dataspace", what);
  auto file = checked(H5Iget_file_id(dset), H5Fclose, what);
  hsize_t file_size = 0;
  check(H5Fget_filesize(file.get(), &file_size), what);
  TESSERA_CHECK(static_cast<hsize_t>(npoints) * elem <= file_size, "{}: claims {} bytes in a file of {}", what,
                static_cast<hsize_t>(npoints) * elem, file_size);
  Sha256 sha;
  const int nd = H5Sget_simple_extent_ndims(space.get());
  std::vector<char> buf;
  if (nd <= 0) {
    buf.resize(elem);
    check(H5Dread(dset, type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), fmt::format("cannot read {}", what));
    sha.update(buf.data(), buf.size());
    return sha.hex_digest();
  }
  std::vector<hsize_t> dims(static_cast<size_t>(nd)), start(dims.size(), 0), count;
  check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), what);
  hsize_t row_elems = 1;
  for (size_t d = 1; d < dims.size(); ++d) row_elems *= dims[d];
  const hsize_t rows_per_block = std::max<hsize_t>(1, kHashBlockBytes / std::max<hsize_t>(1, row_elems * elem));
  for (hsize_t row = 0; row < dims[0]; row += rows_per_block) {
    count = dims;
    count[0] = std::min(rows_per_block, dims[0] - row);
    start[0] = row;
    check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), what);
    const hsize_t n = count[0] * row_elems;
    auto mem = checked(H5Screate_simple(1, &n, nullptr), H5Sclose, what);
    buf.resize(static_cast<size_t>(n) * elem);
    check(H5Dread(dset, type.get(), mem.get(), space.get(), H5P_DEFAULT, buf.data()), fmt::format("cannot read {}", what));
    sha.update(buf.data(), buf.size());
  }
  return sha.hex_digest();
}

std::optional<ByteRange> contiguous_extent(hid_t dset, const std::string& what) {
  auto dcpl = checked(H5Dget_create_plist(dset), H5Pclose, what);
  if (H5Pget_layout(dcpl.get()) != H5D_CONTIGUOUS || H5Pget_external_count(dcpl.get()) != 0) return std::nullopt;
  const haddr_t offset = H5Dget_offset(dset);
  if (offset == HADDR_UNDEF) return std::nullopt;
  auto type = checked(H5Dget_type(dset), H5Tclose, what);
  auto space = checked(H5Dget_space(dset), H5Sclose, what);
  const hssize_t npoints = H5Sget_simple_extent_npoints(space.get());
  const hsize_t stored = H5Dget_storage_size(dset);
  if (npoints < 0 || stored != static_cast<hsize_t>(npoints) * H5Tget_size(type.get())) return std::nullopt;
  return ByteRange{offset, stored};
}

}  // namespace tessera::checkpoint::h5io
