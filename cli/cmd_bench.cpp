// tessera bench <what>: measurements of hot paths, each a ratio taken in one run.
//   bench allreduce: the communicator's all-reduce bus bandwidth beside raw MPI_Allreduce.
//   bench gradsync:  bucketed gradient sync beside one raw MPI_Allreduce of the same bytes.
//   bench train:     training steps of a config: tokens/s, GFLOP/s and the fraction of the sgemm
//                    peak measured in the same process; with train.precision=bf16 also the fp32
//                    step of the same config in alternating runs (the speed-up of the medians)
//                    and the bf16 GEMM peak; with
//                    train.device = "cuda", tokens/s and MFU against the GPU's stated peak (--peak-tflops).
//   bench overlap:   data-parallel training steps with the gradient sync overlapped with backward
//                    and not, alternating in one run: step times and how much of the sync is hidden.
//   bench decode:    the serving engine's prompt and decode tokens/s (cmd_bench_decode.cpp).
#include <algorithm>

#include "cli/command.h"
#include "core/error.h"
#include "core/log.h"
#include "core/cpu/gemm.h"
#include "core/cpu/gemm_bf16.h"
#include "parallel/comm_bench.h"
#include "parallel/config_broadcast.h"
#include "train/trainer.h"

namespace tessera::cli {

namespace {

void add_allreduce(CLI::App& bench, Context& ctx) {
  struct Options {
    size_t min_bytes = 4 << 10, max_bytes = 256 << 20;
    double seconds = 0.3;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = bench.add_subcommand("allreduce", "All-reduce bus bandwidth (fp32 sum) beside raw MPI_Allreduce");
  cmd->add_option("--min-bytes", opts->min_bytes, "Smallest message (default 4 KiB)");
  cmd->add_option("--max-bytes", opts->max_bytes, "Largest message (default 256 MiB)");
  cmd->add_option("--seconds", opts->seconds, "Time spent per size and implementation (default 0.3)");
  cmd->callback([&ctx, opts] {
    TESSERA_CHECK(opts->min_bytes >= 4 && opts->min_bytes <= opts->max_bytes, "need 4 <= --min-bytes <= --max-bytes");
    std::vector<size_t> sizes;
    for (size_t b = opts->min_bytes; b <= opts->max_bytes; b *= 4) sizes.push_back(b);
    const auto rows = parallel::bench_allreduce(ctx.world, sizes, opts->seconds);
    log::info("# all-reduce, fp32 sum, {} ranks; busbw = bytes/time * 2(n-1)/n (GB/s)", ctx.world.size());
    log::info("{:>12} {:>12} {:>10} {:>12} {:>10} {:>8}", "bytes", "tessera_us", "busbw", "mpi_us", "busbw", "ratio");
    double sum_ratio = 0;
    for (const auto& r : rows) {
      const double ratio = r.tessera_busbw_gbs / r.mpi_busbw_gbs;
      sum_ratio += ratio;
      log::info("{:>12} {:>12.1f} {:>10.3f} {:>12.1f} {:>10.3f} {:>8.3f}", r.bytes, r.tessera_us, r.tessera_busbw_gbs,
                r.mpi_us, r.mpi_busbw_gbs, ratio);
    }
    log::info("ranks={} mean_ratio={:.3f} max_busbw={:.3f}", ctx.world.size(), sum_ratio / static_cast<double>(rows.size()),
              rows.back().tessera_busbw_gbs);
  });
}

void add_gradsync(CLI::App& bench, Context& ctx) {
  struct Options {
    int n_layer = 12, d_model = 768, vocab = 50257;
    double bucket_mb = 1.0, seconds = 2.0;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = bench.add_subcommand("gradsync", "Bucketed gradient sync beside one raw MPI_Allreduce of the same bytes");
  cmd->add_option("--layers", opts->n_layer, "GPT-2 blocks (default 12)");
  cmd->add_option("--d-model", opts->d_model, "Width (default 768)");
  cmd->add_option("--vocab", opts->vocab, "Vocabulary (default 50257)");
  cmd->add_option("--bucket-mb", opts->bucket_mb, "Bucket size in MiB (default 1)");
  cmd->add_option("--seconds", opts->seconds, "Time spent per implementation (default 2)");
  cmd->callback([&ctx, opts] {
    const auto r = parallel::bench_grad_sync(ctx.world, opts->n_layer, opts->d_model, opts->vocab,
                                             static_cast<size_t>(opts->bucket_mb * (1 << 20)), opts->seconds);
    log::info("gradient sync of {:.1f} MiB in {} buckets of {} MiB, {} ranks", static_cast<double>(r.bytes) / (1 << 20),
              r.buckets, opts->bucket_mb, ctx.world.size());
    log::info("bucketed: {:.2f} ms/step   raw MPI_Allreduce: {:.2f} ms/step", r.sync_ms, r.raw_ms);
    log::info("ranks={} bucket_mb={} sync_ms={:.3f} raw_ms={:.3f} ratio={:.3f}", ctx.world.size(), opts->bucket_mb,
              r.sync_ms, r.raw_ms, r.ratio());
  });
}

// A timed training run: the config with `extra` overrides after the user's, `steps` steps, no
// evaluation, nothing printed by the trainer.
struct TimedRun {
  Config config;
  train::TrainResult result;
};
TimedRun timed_run(Context& ctx, const std::string& path, std::vector<std::string> overrides, int64_t steps,
                   const std::vector<std::string>& extra = {}) {
  overrides.push_back(fmt::format("train.steps={}", steps));
  overrides.push_back("train.eval_interval=0");
  overrides.insert(overrides.end(), extra.begin(), extra.end());
  TimedRun run{parallel::load_config(ctx.world, path, overrides), {}};
  train::TrainOptions options;
  options.quiet = true;
  options.samples = false;
  run.result = train::train(run.config, ctx.world, options);
  return run;
}

// The upper median of a non-empty list.
double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

void add_train(CLI::App& bench, Context& ctx) {
  struct Options {
    std::string config;
    std::vector<std::string> overrides;
    int64_t steps = 10;
    int rounds = 3;
    double peak_tflops = 989;  // H100 / H200 SXM, dense bf16
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = bench.add_subcommand("train", "Training-step speed of a config beside the sgemm peak of this process");
  add_config_options(*cmd, opts->config, opts->overrides, "TOML config file (random tokens unless it names data)");
  cmd->add_option("--steps", opts->steps, "Training steps to time (default 10; the median step counts)");
  cmd->add_option("--rounds", opts->rounds,
                  "train.precision=bf16: pairs of bf16 and fp32 runs, alternating (default 3; the medians count)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--peak-tflops", opts->peak_tflops,
                  "train.device = \"cuda\": one GPU's peak for MFU (default 989, H100/H200 dense bf16)");
  cmd->callback([&ctx, opts] {
    const auto [config, r] = timed_run(ctx, opts->config, opts->overrides, opts->steps);
    const double gflops = r.step_tokens_per_s * r.flops_per_token / 1e9;
    if (config.train.device == "cuda") {
      log::info("{} family, {} layers, d_model {}, T {}, B {} x {} GPU(s), vocab {}, {}; median of {} steps",
                config.model.family, config.model.n_layer, config.model.d_model, config.model.seq_len,
                config.train.batch_size, ctx.world.size(), config.model.vocab_size, config.train.precision, r.steps);
      log::info("tokens/s={:.1f} tflops={:.2f} mfu={:.4f} peak_tflops={}", r.step_tokens_per_s, gflops / 1e3,
                gflops / 1e3 / (opts->peak_tflops * ctx.world.size()), opts->peak_tflops);
      return;
    }
    const double peak = core::cpu::sgemm_peak_gflops();
    // Peak per rank x ranks: each rank measured the peak with its own threads.
    const double peak_total = peak * ctx.world.size();
    log::info("{} family, {} layers, d_model {}, T {}, B {} x {} rank(s), vocab {}; median of {} steps",
              config.model.family, config.model.n_layer, config.model.d_model, config.model.seq_len,
              config.train.batch_size, ctx.world.size(), config.model.vocab_size, r.steps);
    log::info("sgemm peak {:.1f} GFLOP/s per rank ({})", peak, core::cpu::gemm_backend());
    log::info("tokens/s={:.1f} gflops={:.2f} peak_fraction={:.3f}", r.step_tokens_per_s, gflops, gflops / peak_total);
    if (config.train.precision != "bf16") return;
    // bf16 beside fp32 of the same config, in alternating runs (a noisy node moves both alike), and
    // the bf16 GEMM peak as its ceiling.
    const double bf16_peak = core::cpu::bf16_gemm_peak_gflops();
    auto step_ms = [&](const std::vector<std::string>& extra) {
      return timed_run(ctx, opts->config, opts->overrides, opts->steps, extra).result.step_seconds * 1e3;
    };
    std::vector<double> bf16_ms{r.step_seconds * 1e3}, fp32_ms;
    for (int round = 0; round < opts->rounds; ++round) {
      if (round > 0) bf16_ms.push_back(step_ms({}));
      fp32_ms.push_back(step_ms({"train.precision=fp32"}));
      log::info("round {}: step fp32 {:.1f} ms, bf16 {:.1f} ms ({:.3f}x)", round + 1, fp32_ms.back(), bf16_ms.back(),
                fp32_ms.back() / bf16_ms.back());
    }
    const double bf16_step = median(bf16_ms), fp32_step = median(fp32_ms);
    log::info("bf16 GEMM peak {:.1f} GFLOP/s per rank ({}); median step fp32 {:.1f} ms, bf16 {:.1f} ms", bf16_peak,
              core::cpu::bf16_gemm_isa(), fp32_step, bf16_step);
    const double step_tokens = r.step_tokens_per_s * r.step_seconds;  // all ranks together
    const double bf16_gflops = step_tokens * r.flops_per_token / (bf16_step * 1e-3) / 1e9;
    log::info("bf16_speedup={:.3f} bf16_peak_fraction={:.3f} bf16_peak_over_sgemm_peak={:.3f}", fp32_step / bf16_step,
              bf16_gflops / (bf16_peak * ctx.world.size()), bf16_peak / peak);
  });
}

// The communication a step did not hide: the gradient sync completes at about the same moment on
// every rank, so the rank that finished backward last waits only for what is left of it, while the
// others also wait for that rank. Per step the least wait over the ranks, then the median step.
double exposed_sync_ms(const parallel::World& world, const std::vector<double>& waits) {
  const std::string mine(reinterpret_cast<const char*>(waits.data()), waits.size() * sizeof(double));
  std::vector<double> least = waits;
  for (const std::string& bytes : world.all_gather(mine)) {
    TESSERA_CHECK(bytes.size() == mine.size(), "ranks timed different numbers of steps");
    const auto* theirs = reinterpret_cast<const double*>(bytes.data());
    for (size_t i = 0; i < least.size(); ++i) least[i] = std::min(least[i], theirs[i]);
  }
  return median(least) * 1e3;
}

// Rounds of runs alternating overlap off and on. Not overlapped, the exposed sync is all of it;
// overlapped, what backward did not hide. The hidden fraction compares the two medians.
void add_overlap(CLI::App& bench, Context& ctx) {
  struct Options {
    std::string config;
    std::vector<std::string> overrides;
    int64_t steps = 6;
    int rounds = 3;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = bench.add_subcommand("overlap", "Data-parallel steps with and without overlapping the gradient sync");
  add_config_options(*cmd, opts->config, opts->overrides, "TOML config file (random tokens unless it names data)");
  cmd->add_option("--steps", opts->steps, "Training steps per run (default 6; the median step counts)");
  cmd->add_option("--rounds", opts->rounds, "Pairs of runs, overlap off then on (default 3)");
  cmd->callback([&ctx, opts] {
    TESSERA_CHECK(opts->rounds >= 1 && opts->steps >= 2, "need --rounds >= 1 and --steps >= 2");
    const Config config = parallel::load_config(ctx.world, opts->config, opts->overrides);
    TESSERA_CHECK(ctx.world.size() / config.parallel.tp > 1, "bench overlap needs data parallelism: run it "
                  "under mpirun with more ranks than parallel.tp");
    std::vector<double> step[2], wait[2];
    for (int round = 0; round < opts->rounds; ++round) {
      for (int on = 0; on < 2; ++on) {
        const train::TrainResult r = timed_run(ctx, opts->config, opts->overrides, opts->steps,
                                               {fmt::format("parallel.overlap={}", on ? "true" : "false")})
                                         .result;
        step[on].push_back(r.step_seconds * 1e3);
        wait[on].push_back(exposed_sync_ms(ctx.world, r.sync_waits));
        log::info("round {} overlap {:>3}: step {:8.1f} ms, exposed sync {:7.2f} ms", round + 1, on ? "on" : "off",
                  step[on].back(), wait[on].back());
      }
    }
    const double step_off = median(step[0]), step_on = median(step[1]);
    const double wait_off = median(wait[0]), wait_on = median(wait[1]);
    const auto sync = parallel::bench_grad_sync(ctx.world, static_cast<int>(config.model.n_layer),
                                                static_cast<int>(config.model.d_model),
                                                static_cast<int>(config.model.vocab_size),
                                                static_cast<size_t>(config.parallel.bucket_mb * (1 << 20)), 1.0);
    log::info("gradient sync alone: {:.1f} MiB in {} buckets, {:.2f} ms", static_cast<double>(sync.bytes) / (1 << 20),
              sync.buckets, sync.sync_ms);
    log::info("ranks={} step_off_ms={:.1f} step_on_ms={:.1f} step_ratio={:.3f} exposed_off_ms={:.2f} "
              "exposed_on_ms={:.2f} sync_alone_ms={:.2f} hidden_fraction={:.3f}", ctx.world.size(), step_off, step_on,
              step_on / step_off, wait_off, wait_on, sync.sync_ms, wait_off > 0 ? 1.0 - wait_on / wait_off : 0.0);
  });
}

}  // namespace

void add_bench_command(CLI::App& app, Context& ctx) {
  auto* bench = app.add_subcommand("bench", "Measure hot paths (ratios taken in one run)");
  bench->require_subcommand(1);
  add_allreduce(*bench, ctx);
  add_gradsync(*bench, ctx);
  add_train(*bench, ctx);
  add_overlap(*bench, ctx);
  add_bench_decode(*bench, ctx);
  add_bench_serve(*bench, ctx);
}

}  // namespace tessera::cli
