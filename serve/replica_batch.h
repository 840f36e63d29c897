#pragma once
// An offline JSONL batch served by every data-parallel replica of an MPI job (`tessera run`'s
// serve phase, the weights still at their training layout): replica r (its tensor-parallel group
// running the forward) answers the input lines i with (i - 1) % dp == r (serve/batch_file.h's
// BatchShare); replicas that finish first sleep (World::idle_barrier); the results and bad lines
// are then gathered to rank 0, which appends the results in input order. Requests are
// batch-invariant, so the file equals, byte for byte, what one replica writes for the same input.
// Resumable as run_batch_file: custom_ids already in the output are skipped (answers are written
// when the whole batch is done).
#include <string>

#include "parallel/topology.h"
#include "parallel/world.h"
#include "serve/batch_file.h"

namespace tessera::serve {

// Called on every rank of the world; `engine` serves this rank's replica. Returns the whole
// batch's report on rank 0 (errors in input order), this replica's on the others.
BatchReport run_batch_replicas(const parallel::World& world, const parallel::Topology& topo, Engine& engine,
                               const datasets::Tokenizer& tokenizer, const std::string& input_path,
                               const std::string& output_path, const SamplingParams& defaults);

}  // namespace tessera::serve
