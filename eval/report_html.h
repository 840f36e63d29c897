#pragma once
// report.html of an evaluation report directory: one self-contained page (inline CSS and SVG, no
// scripts, no fetches) with
//   - the models compared (checkpoint, step, tokens seen),
//   - per task a table: a column per model (value ± stderr), then each later model's difference
//     from the first with its standard error, paired or not, and a better/worse mark when
//     significant (compare.h); and a bar chart per metric with ±1 stderr error bars
//     (chart ids "metric-TASK-METRIC"),
//   - the training curves of every run a checkpoint comes from (RUN_DIR/metrics.jsonl when the
//     file sits in RUN_DIR/checkpoints/): training and validation loss ("loss-curves") with the
//     evaluated steps marked, training throughput ("train-throughput"), and evaluation
//     throughput per task and model ("eval-throughput").
#include <string>
#include <vector>

#include "eval/compare.h"
#include "eval/results.h"

namespace tessera::eval {

std::string report_html(const std::vector<ModelResult>& models, const std::vector<Comparison>& comparisons,
                        const std::string& created_at);

// The run directory a checkpoint file belongs to (RUN_DIR for RUN_DIR/checkpoints/FILE), or
// empty when it does not sit in one.
std::string run_dir_of(const std::string& checkpoint_file);

}  // namespace tessera::eval
