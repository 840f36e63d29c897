#pragma once
// HDF5 plumbing of the checkpoint files: opening with the right driver, attributes, string
// datasets, and the transfer of pieces between memory and hyperslabs of full-shape datasets.
//
// Parallel files (a World that uses MPI) are opened with the MPI-IO driver on MPI_COMM_WORLD;
// every call on them that creates or changes metadata, and every write_pieces/read_pieces, is
// collective: called in the same order on every rank, with the same arguments except the pieces.
#include <hdf5.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "checkpoint/pieces.h"
#include "core/sha256.h"
#include "core/tensor.h"
#include "h5/handle.h"
#include "parallel/world.h"

namespace tessera::checkpoint::h5io {

using h5::Handle;

// A world of one (or nullptr) opens with the POSIX (sec2) driver; an MPI world with MPI-IO.
Handle create_file(const std::string& path, const parallel::World* world);
Handle open_file(const std::string& path, bool writable, const parallel::World* world);

// A group that tracks link creation order, so that tensors list in registration order.
Handle create_group(hid_t loc, const std::string& name, const std::string& path);
Handle open_group(hid_t loc, const std::string& name, const std::string& path);
bool link_exists(hid_t loc, const std::string& name);
// Names of a group's members in creation order.
std::vector<std::string> member_names(hid_t group, const std::string& what);

// An f32 (little-endian) dataset of `shape`, space allocated at creation, never filled.
Handle create_tensor(hid_t loc, const std::string& name, const core::Shape& shape, const std::string& what);
core::Shape dataset_shape(hid_t dset, const std::string& what);
// "f32", "f64", "i64", "string" or "other".
std::string dataset_kind(hid_t dset);

// Scalar datasets. Parallel files: every rank passes the same value; rank 0 writes it.
void write_string_dataset(hid_t loc, const std::string& name, const std::string& value, const parallel::World* world,
                          const std::string& what);
void write_int_dataset(hid_t loc, const std::string& name, int64_t value, const parallel::World* world,
                       const std::string& what);
std::string read_string_dataset(hid_t loc, const std::string& name, const std::string& what);
int64_t read_int_dataset(hid_t loc, const std::string& name, const std::string& what);

bool has_attr(hid_t loc, const std::string& name);
void write_attr(hid_t loc, const std::string& name, const std::string& value, const std::string& what);
void write_attr(hid_t loc, const std::string& name, int64_t value, const std::string& what);
void write_attr(hid_t loc, const std::string& name, double value, const std::string& what);
std::string read_string_attr(hid_t loc, const std::string& name, const std::string& what);
int64_t read_int_attr(hid_t loc, const std::string& name, const std::string& what);
double read_double_attr(hid_t loc, const std::string& name, const std::string& what);

// How the ranks move a tensor's bytes. serial: one process alone. direct: a collective call in
// which each rank transfers its own selection with independent MPI-IO, for pieces that are whole
// rows (large contiguous blocks of the file). two_phase: MPI-IO collective buffering, which gathers
// strided selections (the column ranges of a tensor-parallel row split) into large requests.
enum class Io { serial, direct, two_phase };
// The transfer for a tensor's pieces at tensor-parallel degree tp; world nullptr or not MPI: serial.
Io io_for(const parallel::World* world, const core::ParamInfo& info, int tp);

// Writes (reads) this rank's pieces of one tensor dataset. Collective on parallel files: every
// rank calls it for every dataset, with the same `io` and no pieces when it holds nothing of
// that tensor.
void write_pieces(hid_t dset, const core::Shape& shape, const std::vector<Piece>& pieces, Io io, const std::string& what);
void read_pieces(hid_t dset, const core::Shape& shape, const std::vector<Piece>& pieces, Io io, const std::string& what);

// SHA-256 (hex) of a dataset's elements in row-major order, in the file's own byte order and type.
std::string dataset_sha256(hid_t dset, const std::string& what);

// Where a dataset's elements lie in the file when they are one allocated block of bytes in
// row-major order (contiguous layout, in this file): the SHA-256 of those bytes is dataset_sha256.
std::optional<ByteRange> contiguous_extent(hid_t dset, const std::string& what);

}  // namespace tessera::checkpoint::h5io
