// What monitoring costs a training run: the run page rank 0 rewrites at each checkpoint, for runs
// of 1k to 100k logged steps (metrics.jsonl read, six charts, tables), and the hang watchdog's
// per-step bookkeeping (a mutex and a condition-variable notify on the training thread).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "report/run_page.h"
#include "train/monitor.h"

namespace {

namespace fs = std::filesystem;

// A run directory whose metrics.jsonl has `steps` lines shaped as the trainer writes them.
fs::path make_run(int64_t steps) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("tessera_report_bench_{}", steps);
  fs::create_directories(dir);
  std::ofstream out(dir / "metrics.jsonl");
  for (int64_t s = 1; s <= steps; ++s) {
    out << fmt::format(R"({{"grad_norm":{},"loss":{},"lr":0.0003,"mfu":0.41,"step":{},"step_s":0.25,)"
                       R"("sync_wait_s":0.01,"tokens_per_s":{}{}}})",
                       1.0 + 0.001 * static_cast<double>(s % 13), 3.0 + 1.0 / static_cast<double>(s), s,
                       130000 + s % 17, s % 10 == 0 ? R"(,"rank_step_s":[0.24,0.25,0.23,0.26])" : "")
        << "\n";
  }
  return dir;
}

void BM_RunPage(benchmark::State& state) {
  const fs::path dir = make_run(state.range(0));
  size_t bytes = 0;
  for (auto _ : state) bytes = tessera::report::run_page_html(dir).size();
  state.counters["page_kB"] = static_cast<double>(bytes) / 1e3;
  fs::remove_all(dir);
}
BENCHMARK(BM_RunPage)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);

void BM_WatchdogStep(benchmark::State& state) {
  tessera::train::HangWatchdog watchdog(10, 60, 0);
  int64_t step = 0;
  for (auto _ : state) {
    watchdog.step_started(++step);
    benchmark::DoNotOptimize(watchdog.step_finished(0.25, 0.01));
  }
}
BENCHMARK(BM_WatchdogStep);

}  // namespace
BENCHMARK_MAIN();
