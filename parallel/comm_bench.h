#pragma once
// Communication benchmarks, each beside raw MPI_Allreduce on the same bytes in the same run
// (nccl-tests conventions): algbw = bytes / time, busbw = algbw * 2(n-1)/n, which is what a ring
// moves per link and is comparable across rank counts. Collective over the world.
#include <cstddef>
#include <vector>

#include "parallel/world.h"

namespace tessera::parallel {

struct AllreduceRow {
  size_t bytes = 0;
  double tessera_us = 0, tessera_busbw_gbs = 0;  // per operation; GB/s = 1e9 bytes/s
  double mpi_us = 0, mpi_busbw_gbs = 0;
};

// fp32 sums of each size (bytes, multiples of 4); every rank gets the same rows (slowest rank's times).
std::vector<AllreduceRow> bench_allreduce(const World& world, const std::vector<size_t>& sizes, double seconds_per_size);

// Bucketed data-parallel gradient sync (GradSync, all-reduce mode) of parameters shaped like a
// GPT-2 model's (`n_layer` blocks of width `d_model`, vocabulary `vocab`) against one raw
// MPI_Allreduce of the same total bytes.
struct GradSyncResult {
  size_t bytes = 0, buckets = 0;
  double sync_ms = 0, raw_ms = 0;  // per step
  double ratio() const { return raw_ms / sync_ms; }  // fraction of raw bandwidth reached
};
GradSyncResult bench_grad_sync(const World& world, int n_layer, int d_model, int vocab, size_t bucket_bytes,
                               double seconds);

}  // namespace tessera::parallel
