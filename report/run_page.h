#pragma once
// A run's monitoring page, RUN_DIR/report.html (`tessera report RUN_DIR`, and rewritten by the
// trainer's rank 0 at each checkpoint). Read from the run directory alone; self-contained (inline
// CSS and SVG, no scripts). Charts (ids): "loss" (training and validation loss; rollbacks,
// non-finite steps, spikes and hung steps marked), "lr", "grad-norm", "throughput" (tokens/s;
// throughput drops and hung steps marked), "mfu", "rank-step-times" (each rank's busy time per
// step, gathered every monitor.interval steps; stragglers marked). Tables: the run's summary,
// anomalies and events (step, kind, rank, message; the latest 200), checkpoints with the
// evaluation results found for their step in RUN_DIR/*/results.json.
#include <filesystem>
#include <string>

namespace tessera::report {

std::string run_page_html(const std::filesystem::path& run_dir);

// Writes RUN_DIR/report.html (through a temporary file and a rename) and returns its path.
// Throws tessera::Error naming the path when the directory is not a run or cannot be written.
std::filesystem::path write_run_page(const std::filesystem::path& run_dir);

}  // namespace tessera::report
