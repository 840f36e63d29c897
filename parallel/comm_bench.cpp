#include "parallel/comm_bench.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <functional>

#include "core/error.h"
#include "parallel/grad_sync.h"
#include "parallel/groups.h"
#include "parallel/mpi_check.h"

namespace tessera::parallel {

namespace {

// Mean seconds per call of op over enough iterations to fill `seconds` (decided on rank 0 after a
// warm-up and shared, so every rank runs the same count); the slowest rank's time.
double time_op(const std::function<void()>& op, double seconds) {
  op();  // warm-up: connections, buffers
  MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
  auto start = std::chrono::steady_clock::now();
  op();
  double one = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &one, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
  const int iterations = std::clamp(static_cast<int>(seconds / std::max(one, 1e-7)), 3, 10000);
  MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) op();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / iterations;
  MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &elapsed, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
  return elapsed;
}

}  // namespace

std::vector<AllreduceRow> bench_allreduce(const World& world, const std::vector<size_t>& sizes,
                                          double seconds_per_size) {
  TESSERA_CHECK(world.uses_mpi() && world.size() >= 2,
                "the all-reduce benchmark needs an MPI job of at least 2 ranks (mpirun -np 2 tessera bench allreduce)");
  ProcessGroups groups(world, Topology::make(world.size(), world.rank(), 1, 1, 1), /*timeout_s=*/300);
  MPI_Comm raw;
  MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &raw));
  const double n = world.size();
  const double bus_factor = 2.0 * (n - 1) / n;
  std::vector<AllreduceRow> rows;
  for (size_t bytes : sizes) {
    const size_t count = bytes / sizeof(float);
    std::vector<float> buffer(count, 1.0f);
    AllreduceRow row;
    row.bytes = count * sizeof(float);
    const double t = time_op(
        [&] { groups.dp().all_reduce(buffer.data(), count, core::DType::f32, ReduceOp::sum)->wait(); },
        seconds_per_size);
    const double m = time_op(
        [&] {
          MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, buffer.data(), static_cast<int>(count), MPI_FLOAT, MPI_SUM, raw));
        },
        seconds_per_size);
    row.tessera_us = t * 1e6;
    row.mpi_us = m * 1e6;
    row.tessera_busbw_gbs = static_cast<double>(row.bytes) / t * bus_factor / 1e9;
    row.mpi_busbw_gbs = static_cast<double>(row.bytes) / m * bus_factor / 1e9;
    rows.push_back(row);
  }
  MPI_Comm_free(&raw);
  return rows;
}

GradSyncResult bench_grad_sync(const World& world, int n_layer, int d_model, int vocab, size_t bucket_bytes,
                               double seconds) {
  TESSERA_CHECK(world.uses_mpi() && world.size() >= 2,
                "the gradient-sync benchmark needs an MPI job of at least 2 ranks (mpirun -np 2 tessera bench gradsync)");
  ProcessGroups groups(world, Topology::make(world.size(), world.rank(), 1, 1, 1), /*timeout_s=*/300);
  // A GPT-2 block's parameters: ln, qkv (w, b), proj (w, b), ln, fc (w, b), fc proj (w, b).
  const size_t d = static_cast<size_t>(d_model);
  std::vector<size_t> sizes = {static_cast<size_t>(vocab) * d};
  for (int l = 0; l < n_layer; ++l) {
    for (size_t s : {2 * d, 3 * d * d, 3 * d, d * d, d, 2 * d, 4 * d * d, 4 * d, 4 * d * d, d}) sizes.push_back(s);
  }
  sizes.push_back(2 * d);
  size_t total = 0;
  for (size_t s : sizes) total += s;
  std::vector<float> grads(total, 1.0f);
  GradSync sync(groups.dp(), grads.data(), sizes, bucket_bytes, GradSync::Mode::all_reduce);
  MPI_Comm raw;
  MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &raw));
  GradSyncResult result;
  result.bytes = total * sizeof(float);
  result.buckets = sync.buckets().size();
  result.sync_ms = 1e3 * time_op(
                             [&] {
                               sync.begin_sync();
                               for (size_t p = sizes.size(); p-- > 0;) sync.mark_ready(p);
                               sync.finish();
                             },
                             seconds);
  result.raw_ms = 1e3 * time_op(
                            [&] {
                              MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, grads.data(), static_cast<int>(total), MPI_FLOAT,
                                                      MPI_SUM, raw));
                            },
                            seconds);
  MPI_Comm_free(&raw);
  return result;
}

}  // namespace tessera::parallel
