#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "checkpoint/checkpoint.h"
#include "checkpoint/commit.h"
#include "core/cpu/gemm_bf16.h"
#include "core/error.h"
#include "core/log.h"
#include "core/model/transformer.h"
#include "core/memory.h"
#include "run/progress.h"
#include "run/run_dir.h"
#include "run/run_progress.h"
#include "core/sha256.h"
#include "run/stop_signal.h"
#include "datasets/manifest.h"
#include "datasets/token_stats.h"
#include "datasets/tokenizer.h"
#include "parallel/grad_sync.h"
#include "parallel/nccl_communicator.h"
#include "parallel/groups.h"
#include "parallel/section_deadline.h"
#include "parallel/stragglers.h"
#include "parallel/tp_group.h"
#include "report/run_page.h"
#include "train/batches.h"
#include "train/gpu_step.h"
#include "train/lr_schedule.h"
#include "train/optimizer.h"
#include "train/run_monitor.h"
#include "train/sampler.h"
#include "train/spike_detector.h"
#include "train/zero_adamw.h"

namespace tessera::train {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The upper median of a non-empty list.
double median(std::vector<double> values) {
  std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
  return values[values.size() / 2];
}

// The (B, T) int32 tensors of a batch.
void to_tensors(const datasets::Batch& batch, core::Tensor& inputs, core::Tensor& targets) {
  const int64_t B = static_cast<int64_t>(batch.batch_size), T = static_cast<int64_t>(batch.seq_len);
  inputs = core::Tensor::empty({B, T}, core::DType::i32);
  targets = core::Tensor::empty({B, T}, core::DType::i32);
  std::memcpy(inputs.data<int32_t>(), batch.inputs.data(), batch.inputs.size() * sizeof(int32_t));
  std::memcpy(targets.data<int32_t>(), batch.targets.data(), batch.targets.size() * sizeof(int32_t));
}

// The mean of a per-rank value over a communicator's ranks.
double mean_over(parallel::Communicator& comm, double value) {
  comm.all_reduce(&value, 1, core::DType::f64, parallel::ReduceOp::sum)->wait();
  return value / comm.size();
}

struct Data {
  std::string dir;              // absolute
  std::string manifest_sha256;
  std::optional<datasets::Tokenizer> tokenizer;
  std::vector<std::string> val_shards;
  std::vector<std::string> lineage;  // SHA-256 of every input of the prepared data
};

Data open_data(const Config& config) {
  Data data;
  data.dir = config.data.dir;
  if (data.dir.empty()) return data;
  data.manifest_sha256 = sha256_file((std::filesystem::path(data.dir) / datasets::kManifestFile).string());
  const datasets::Manifest manifest = datasets::load_manifest(data.dir);
  TESSERA_CHECK(manifest.vocab_size <= static_cast<uint64_t>(config.model.vocab_size),
                "the data in '{}' has a vocabulary of {} tokens, more than model.vocab_size = {}", data.dir,
                manifest.vocab_size, config.model.vocab_size);
  data.tokenizer = datasets::Tokenizer::load((std::filesystem::path(data.dir) / datasets::kTokenizerFile).string());
  data.val_shards = manifest.shard_paths(data.dir, "val");
  for (const auto& input : manifest.inputs) data.lineage.push_back(input.sha256);
  return data;
}

// The config with data.dir absolute: checkpoints and the run directory name the data from any
// working directory.
Config with_absolute_data_dir(Config config) {
  if (!config.data.dir.empty()) config.data.dir = std::filesystem::absolute(config.data.dir).lexically_normal().string();
  return config;
}

}  // namespace

class Loop {
 public:
  Loop(const Config& config, const parallel::World& world, const TrainOptions& options)
      : config_(with_absolute_data_dir(config)),
        options_(options),
        world_(world),
        topology_(parallel::Topology::make(world.size(), world.rank(), static_cast<int>(config.parallel.tp),
                                           static_cast<int>(config.model.n_head),
                                           static_cast<int>(config.model.kv_heads()))),
        groups_(world, topology_, config.parallel.timeout_s),
        tp_group_(groups_.tp()),
        data_(open_data(config_)),
        model_(config.model, core::DType::f32, &tp_group_) {
    model_.init_weights(config.train.seed);
    if (config.train.precision == "bf16") {
      model_.set_precision(core::Precision::bf16);
      if (!core::cpu::bf16_gemm_native() && world.is_root()) {
        log::warn("train.precision = \"bf16\": this CPU has no bf16 dot-product units (oneDNN ISA {}): the bf16 "
                  "products are emulated, with bf16 results but slower than fp32; set train.precision = \"fp32\" "
                  "for speed", core::cpu::bf16_gemm_isa());
      }
    }
    // Gradient buckets over this rank's shards: every dp group holds one tp rank's shards.
    std::vector<size_t> sizes;
    for (size_t i = 0; i < model_.grads().size(); ++i) {
      sizes.push_back(static_cast<size_t>(model_.grads().tensor(i).numel()));
    }
    on_grad_ready_ = [this](size_t p) { mark_ready(p); };
    const bool zero = config.parallel.zero;
    grad_sync_ = std::make_unique<parallel::GradSync>(
        groups_.dp(), model_.grads().flat().data<float>(), sizes,
        static_cast<size_t>(config.parallel.bucket_mb * (1 << 20)),
        zero ? parallel::GradSync::Mode::reduce_scatter : parallel::GradSync::Mode::all_reduce,
        config.parallel.sync_precision == "bf16" ? core::DType::bf16 : core::DType::f32);
    if (zero) {
      optimizer_ = std::make_unique<ZeroAdamW>(model_.params(), *grad_sync_, groups_.dp(), config.train.weight_decay,
                                               &groups_.tp());
    } else {
      optimizer_ = std::make_unique<AdamW>(model_.params(), model_.grads(), config.train.weight_decay, &groups_.tp());
    }
    train_batches_ = batches("train", /*shuffle=*/true);
    claim_run_dir();
    bool resumed = false;
    if (options.run_dir && options.resume) {
      const checkpoint::Resumable found = checkpoint::find_resumable(world, *options.run_dir);
      if (found.file) {
        resume_from(found.file->string());
        resumed = true;
      } else {
        refuse_unresumable(found);
      }
    }
    if (!resumed && options.init_from) {
      const checkpoint::Meta meta = checkpoint::read_weights(world, topology_, *options.init_from, config_,
                                                             model_.params().infos(), weights());
      log::info("initialised from {} (step {}): weights only, a new optimizer", *options.init_from, meta.step);
    }
    model_.refresh_compute_weights();  // after a resume or init_from
    if (run_dir_) {
      metrics_.emplace(resumed ? MetricsLog::resumed(run_dir_->metrics_path(), start_step_)
                               : MetricsLog::fresh(run_dir_->metrics_path()));
      record_run_files();
    }
    if (config_.train.device == "cuda") start_gpu();
    if (!options.quiet && world.is_root() && data_.dir.empty()) {
      log::warn("data.dir is not set: training on random tokens (a smoke test; `tessera prepare` makes data)");
    }
    if (!options.quiet && world.is_root() && !options.run_dir) {
      log::warn("no --run-dir: this run saves nothing (no checkpoints, no metrics)");
    }
  }

  core::Transformer& model() { return model_; }
  const parallel::Topology& topology() const { return topology_; }
  const std::optional<datasets::Tokenizer>& tokenizer() const { return data_.tokenizer; }
  const Config& config() const { return config_; }
  parallel::Communicator& dp() { return groups_.dp(); }

  TrainResult run() {
    const TrainConfig& tc = config_.train;
    const double tokens_per_step = static_cast<double>(tc.batch_size * config_.model.seq_len * tc.grad_accum *
                                                       topology_.dp);
    TrainResult result;
    if (start_step_ >= tc.steps) {
      if (!options_.quiet) {
        log::info("nothing to train: {} is at step {} of train.steps = {} (raise train.steps to train on)",
                  options_.run_dir ? options_.run_dir->string() : "the run", start_step_, tc.steps);
      }
      return result;
    }
    if (!options_.quiet) {
      log::info("model: {} family, {} layers, d_model {}, {} heads, {:.2f}M parameters; {} rank(s): dp {} x tp {}",
                config_.model.family, config_.model.n_layer, config_.model.d_model, config_.model.n_head,
                static_cast<double>(model_.num_params()) / 1e6, world_.size(), topology_.dp, topology_.tp);
      log::info("training {} steps of {:.0f} tokens ({} x {} sequences of {} tokens, x{} accumulation)", tc.steps,
                tokens_per_step, topology_.dp, tc.batch_size, config_.model.seq_len, tc.grad_accum);
    }
    if (run_dir_) std::filesystem::remove(run_dir_->path() / kCompleteMarker);  // steps remain: not complete
    if (run_dir_ && !options_.quiet) {
      log::info("monitoring: {} (rewritten at each checkpoint; `tessera report {}`), Prometheus textfile {}",
                (run_dir_->path() / "report.html").string(), run_dir_->path().string(),
                (run_dir_->path() / "metrics.prom").string());
    }
    RunMonitor monitor(config_.monitor, groups_.world(), world_.rank());
    const double flops_per_token = model_.train_flops_per_token(config_.model.seq_len);
    const StopSignals signals;
    Progress progress("train", static_cast<double>(tc.steps), "steps");
    progress.start_at(static_cast<double>(start_step_));
    const auto start = Clock::now();
    std::vector<double> step_seconds;
    int64_t bad_in_a_row = 0, rollbacks = 0;
    SpikeDetector spikes(tc.spike_zscore, tc.spike_window);
    for (int64_t step = start_step_; step < tc.steps; ++step) {
      const auto t0 = Clock::now();
      monitor.step_started(step + 1);
      std::vector<Anomaly> anomalies;  // found in this step, written with its metrics line
      double loss = train_step(step);
      if (options_.spike_at == step + 1 && !spike_injected_) {
        loss *= 100;  // the test hook: seen by the detector and the log, not by the gradients
        spike_injected_ = true;
      }
      const double lr = learning_rate(tc, step);
      const double grad_norm = gpu_ ? gpu_->clip(tc.grad_clip) : optimizer_->clip_gradients(tc.grad_clip);
      const bool finite = std::isfinite(loss) && std::isfinite(grad_norm);
      const StepVerdict verdict = agree_on_step(finite, finite && spikes.is_spike(loss));
      if (verdict.spike) {
        if (++rollbacks > tc.max_bad_steps) {
          throw CollectiveError(fmt::format("stopping at step {}: {} loss spikes rolled back in this run "
                                            "(train.max_bad_steps); lower train.lr", step + 1, rollbacks - 1));
        }
        const auto to = roll_back(step + 1, loss, spikes);  // logs it, and writes a rollback event
        monitor.step_finished(seconds_since(t0), sync_wait_s_);
        if (!to) {
          anomalies.push_back({step + 1, "loss_spike", -1,
                               fmt::format("loss {:.4f}: no checkpoint to roll back to, step left out", loss)});
        } else {
          monitor.count("loss_spike");
          monitor.count("rollback");
          step = *to - 1;  // the loop's ++step continues after the checkpoint
          progress.start_at(static_cast<double>(*to));
          continue;
        }
      }
      if (verdict.finite && !verdict.spike) {
        spikes.record(loss);
        if (gpu_) {
          gpu_->adamw(lr);
        } else {
          optimizer_->step(lr);
          model_.refresh_compute_weights();
        }
        bad_in_a_row = 0;
      } else if (verdict.spike) {
        ++result.skipped_steps;  // no checkpoint to roll back to: the step is left out
      } else {
        ++result.skipped_steps;
        ++bad_in_a_row;
        anomalies.push_back({step + 1, "nonfinite", -1, fmt::format("loss {}, gradient norm {}: step skipped", loss,
                                                                    grad_norm)});
        if (!options_.quiet && world_.is_root()) {
          progress.clear();
          log::warn("step {}: loss {}, gradient norm {}: step skipped, weights unchanged ({} of train.max_bad_steps = {} "
                    "in a row)", step + 1, loss, grad_norm, bad_in_a_row, tc.max_bad_steps);
        }
      }
      const double seconds = seconds_since(t0);
      if (!verdict.spike) monitor.step_finished(seconds, sync_wait_s_);  // a spike's step is counted above
      step_seconds.push_back(seconds);
      result.sync_waits.push_back(sync_wait_s_);
      result.losses.push_back(loss);
      if (verdict.finite) result.last_loss = loss;

      nlohmann::json record = {{"step", step + 1}, {"loss", loss}, {"lr", lr}, {"grad_norm", grad_norm},
                               {"tokens_per_s", tokens_per_step / seconds}, {"step_s", seconds},
                               {"sync_wait_s", sync_wait_s_}};
      const double step_mfu = mfu(flops_per_token, tokens_per_step / seconds, world_.size(), config_.monitor.peak_tflops);
      if (std::isfinite(step_mfu)) record["mfu"] = step_mfu;
      if (!verdict.finite || verdict.spike) {
        record["skipped"] = true;
        monitor.count("skipped_step");
      }
      if (bad_in_a_row >= tc.max_bad_steps) {
        record["anomalies"] = report_anomalies(monitor, anomalies);
        if (metrics_) metrics_->write(record);
        throw CollectiveError(fmt::format(
            "stopping at step {}: the last {} steps had a non-finite loss or gradient norm (train.max_bad_steps); no "
            "checkpoint written, the newest good one is kept{}. Lower train.lr or set train.grad_clip", step + 1,
            bad_in_a_row, options_.run_dir ? " in " + (*options_.run_dir / "checkpoints").string() : ""));
      }
      result.stop_signal = verdict.stop_signal;
      const bool stopping = (options_.stop_after && step + 1 - start_step_ == *options_.stop_after) ||
                            verdict.stop_signal != 0;
      const bool last = step + 1 == tc.steps || stopping;
      const bool interval_ends = monitor.interval_due(step + 1, last);
      if (interval_ends) {
        for (Anomaly& a : monitor.end_interval(step + 1, tokens_per_step, record)) anomalies.push_back(std::move(a));
      }
      std::optional<double> val_loss;
      if (!data_.dir.empty() && ((tc.eval_interval > 0 && (step + 1) % tc.eval_interval == 0) || last)) {
        gpu_to_host();  // evaluation and samples run on the CPU model
        val_loss = result.last_val_loss = validation_loss();
        record["val_loss"] = result.last_val_loss;
        if (!options_.quiet) {
          progress.clear();
          log::info("step {}: loss {:.4f}, val loss {:.4f}, lr {:.2e}, {:.0f} tokens/s{}", step + 1, loss,
                    result.last_val_loss, lr, tokens_per_step / seconds,
                    monitor.last_times() ? "; " + monitor.last_times()->summary() : "");
          if (options_.samples && verdict.finite) print_samples(step + 1);
        }
      }
      if (!anomalies.empty()) record["anomalies"] = report_anomalies(monitor, anomalies);
      if (metrics_) metrics_->write(record);
      monitor.remember(record);
      if (run_dir_ && interval_ends) monitor.write_prometheus(run_dir_->path());
      if (verdict.stop_signal != 0 && !options_.quiet) {
        progress.clear();
        log::info("{} received: stopping after step {}{}", StopSignals::name(verdict.stop_signal), step + 1,
                  options_.run_dir ? " with a checkpoint (the same command resumes)" : " (no --run-dir: nothing saved)");
      }
      if (options_.run_dir && (checkpoint_due(step + 1) || last)) {
        save(step + 1, static_cast<uint64_t>(tokens_per_step) * static_cast<uint64_t>(step + 1), val_loss);
        last_save_ = Clock::now();
        if (run_dir_ && step + 1 == tc.steps) mark_complete(step + 1);
        write_run_page();
      }
      result.steps = step + 1 - start_step_;
      if (!options_.quiet) {
        progress.note(fmt::format("loss {:.4f} | {:.0f} tok/s", loss, tokens_per_step / seconds));
        progress.update(static_cast<double>(step + 1));
      }
      if (stopping) break;
    }
    if (!options_.quiet) progress.finish();
    gpu_to_host();  // the trained weights stay in model() (tessera run serves them)
    result.tokens_per_s = tokens_per_step * static_cast<double>(result.steps) / seconds_since(start);
    if (!step_seconds.empty()) {
      result.step_seconds = median(step_seconds);
      result.step_tokens_per_s = tokens_per_step / result.step_seconds;
    }
    result.flops_per_token = flops_per_token;
    if (!data_.val_shards.empty()) result.unigram_entropy = datasets::unigram_entropy(data_.val_shards);
    return result;
  }

 private:
  // Anomalies are counted on every rank and logged by rank 0 (non-finite steps and spikes are
  // logged where they are found); returns them as the "anomalies" of the step's metrics line.
  nlohmann::json report_anomalies(RunMonitor& monitor, const std::vector<Anomaly>& anomalies) {
    nlohmann::json out = nlohmann::json::array();
    for (const Anomaly& a : anomalies) {
      monitor.count(a.kind);
      if (world_.is_root() && !options_.quiet && a.kind != "nonfinite" && a.kind != "loss_spike") {
        log::warn("anomaly at step {}{}: {}: {}", a.step, a.rank >= 0 ? fmt::format(" on rank {}", a.rank) : "", a.kind,
                  a.message);
      }
      out.push_back({{"step", a.step}, {"kind", a.kind}, {"rank", a.rank}, {"message", a.message}});
    }
    return out;
  }

  // Rank 0 rewrites the run's monitoring page; a failure is a warning, never the run's end.
  void write_run_page() {
    if (!run_dir_ || !world_.is_root()) return;
    try {
      report::write_run_page(run_dir_->path());
    } catch (const std::exception& e) {
      log::warn("the monitoring page was not written: {}", e.what());
    }
  }

  // Rank 0 takes the run directory for this run: an earlier run's files there are resumed from,
  // or with resume off refused, or with overwrite moved aside. Collective: every rank learns the
  // verdict.
  void claim_run_dir() {
    if (!options_.run_dir) return;
    std::string error;
    if (world_.is_root()) {
      try {
        run_dir_.emplace(*options_.run_dir);
        const std::string earlier = run_dir_->earlier_run();
        if (!earlier.empty() && !options_.resume) {
          if (!options_.overwrite) {
            error = fmt::format("{} already holds a run ({}): resume it (leave out --no-resume), or pass --overwrite "
                                "to move its files aside and start afresh", options_.run_dir->string(), earlier);
          } else {
            const auto moved = run_dir_->set_aside();
            log::info("moved the earlier run in {} ({}) to {}", options_.run_dir->string(), earlier, moved.string());
          }
        }
      } catch (const Error& e) {
        error = e.what();
      }
    }
    world_.broadcast(error);
    if (!error.empty()) throw CollectiveError(error);
  }

  // A run directory whose checkpoints all failed verification is not started again from step 0:
  // that would bury the earlier run under a new one.
  void refuse_unresumable(const checkpoint::Resumable& found) {
    int32_t quarantined = run_dir_ ? static_cast<int32_t>(run_dir_->quarantined()) : 0;
    groups_.world().broadcast(&quarantined, 1, core::DType::i32, 0)->wait();
    if (quarantined == 0) return;
    std::vector<std::string> moved;
    for (const auto& q : found.quarantined) moved.push_back(q.string());
    throw CollectiveError(fmt::format(
        "{}: no checkpoint there verifies ({} file(s) in checkpoints/quarantine/{}); nothing was trained. Start a new "
        "run there with --overwrite, or point --init-from at a good copy", options_.run_dir->string(), quarantined,
        moved.empty() ? "" : fmt::format(", just moved: {}", fmt::join(moved, ", "))));
  }

  // Rank 0 makes the run directory self-contained: the resolved config, where the data came from
  // (run.json), and copies of its tokenizer and manifest.
  void record_run_files() {
    std::ofstream(run_dir_->config_path()) << config_.to_toml();
    if (data_.dir.empty()) return;
    nlohmann::ordered_json info = {{"data_dir", data_.dir},
                                   {"manifest_sha256", data_.manifest_sha256},
                                   {"tokenizer_hash", data_.tokenizer ? data_.tokenizer->hash() : ""},
                                   {"lineage", data_.lineage}};
    std::ofstream(run_dir_->run_info_path()) << info.dump(2) << "\n";
    const std::filesystem::path data(data_.dir);
    for (const auto& [from, to] : {std::pair{data / datasets::kTokenizerFile, run_dir_->tokenizer_path()},
                                   std::pair{data / datasets::kManifestFile, run_dir_->data_manifest_path()}}) {
      std::error_code ec;
      std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing, ec);
      TESSERA_CHECK(!ec, "cannot copy {} into {}: {}", from.string(), run_dir_->path().string(), ec.message());
    }
  }

  struct StepVerdict {
    bool finite = true;   // every rank's loss and gradient norm
    bool spike = false;   // a loss spike on any rank
    int stop_signal = 0;  // a stop signal any rank received
  };
  // One small all-reduce per step: whether to apply the step, roll back, or stop after it.
  StepVerdict agree_on_step(bool finite, bool spike) {
    int32_t flags[3] = {finite ? 0 : 1, spike ? 1 : 0, StopSignals::requested()};
    groups_.world().all_reduce(flags, 3, core::DType::i32, parallel::ReduceOp::max)->wait();
    return {flags[0] == 0, flags[1] != 0, flags[2]};
  }

  // A loss spike at step `spike_step`: back to the newest checkpoint that verifies (weights,
  // optimizer, data position), then past the data of the steps from there to the spike; the
  // steps are trained again on the data that follows. Returns the step training continues from,
  // or nothing without a checkpoint (the step is then only left out). Collective.
  std::optional<int64_t> roll_back(int64_t spike_step, double loss, SpikeDetector& spikes) {
    const auto found = options_.run_dir ? checkpoint::find_resumable(world_, *options_.run_dir).file : std::nullopt;
    if (!found) {
      if (world_.is_root()) {
        log::warn("step {}: loss spike ({:.4f} against {:.4f} +- {:.4f}); no checkpoint to roll back to: step left out",
                  spike_step, loss, spikes.mean(), spikes.stddev());
      }
      return std::nullopt;
    }
    const double mean = spikes.mean(), sd = spikes.stddev();
    resume_from(found->string());
    const int64_t skipped = spike_step - start_step_;
    for (int64_t i = 0; i < skipped * config_.train.grad_accum; ++i) train_batches_->next(batch_);
    spikes.reset();
    if (world_.is_root()) {
      log::warn("step {}: loss spike ({:.4f} against {:.4f} +- {:.4f} over the last {} steps): rolled back to step {} "
                "and skipped the data of {} step(s)", spike_step, loss, mean, sd, config_.train.spike_window,
                start_step_, skipped);
    }
    if (metrics_) {
      metrics_.emplace(MetricsLog::resumed(run_dir_->metrics_path(), start_step_));
      metrics_->write({{"step", start_step_}, {"event", "rollback"}, {"spike_step", spike_step}, {"spike_loss", loss},
                       {"skipped_data_steps", skipped}});
    }
    return start_step_;
  }

  // Rank 0 marks the run complete once its final checkpoint is committed (run_progress.h).
  void mark_complete(int64_t step) {
    const nlohmann::json marker = {{"step", step}, {"finished_at", checkpoint::utc_now_iso8601()}};
    checkpoint::write_file_durably(run_dir_->path() / kCompleteMarker, marker.dump() + "\n");
  }

  // Every rank agrees whether all ranks' weights are finite (a checkpoint is never written from
  // weights that are not).
  bool weights_finite() {
    const float* w = model_.params().flat().data<float>();
    const int64_t n = model_.params().numel();
    int32_t bad = 0;
#pragma omp parallel for reduction(max : bad)
    for (int64_t i = 0; i < n; ++i) bad = std::isfinite(w[i]) ? bad : 1;
    groups_.world().all_reduce(&bad, 1, core::DType::i32, parallel::ReduceOp::max)->wait();
    return bad == 0;
  }

  // This rank's weights (its tensor-parallel shards, one flat buffer) for checkpoints.
  checkpoint::Holding weights() {
    return checkpoint::Holding::whole(model_.params().flat().data<float>(), model_.params().numel());
  }

  // AdamW's moments as this rank holds them: whole registries, or ZeRO-1's bucket shards.
  std::pair<checkpoint::Holding, checkpoint::Holding> moments() {
    checkpoint::Holding m{{}, optimizer_->partitioned_over_dp()}, v = m;
    for (const MomentSpan& s : optimizer_->moments()) {
      m.spans.push_back({s.flat_begin, s.count, s.m});
      v.spans.push_back({s.flat_begin, s.count, s.v});
    }
    return {m, v};
  }

  // An atomic checkpoint of the whole training state after `step` steps (collective); refused
  // when the weights are not finite, so that the newest checkpoint stays a good one.
  void save(int64_t step, uint64_t tokens_seen, std::optional<double> val_loss) {
    gpu_to_host();
    if (!weights_finite()) {
      throw CollectiveError(fmt::format("the weights are not finite at step {}: no checkpoint written (the newest "
                                        "good one stays in {}); lower train.lr or set train.grad_clip", step,
                                        (*options_.run_dir / "checkpoints").string()));
    }
    checkpoint::SaveRequest request;
    request.infos = model_.params().infos();
    request.params = weights();
    std::tie(request.m, request.v) = moments();
    request.optim_step = optimizer_->steps_taken();
    request.loader = train_batches_->position();
    request.rng = {{"seed", config_.train.seed}, {"step", step}};
    request.meta.config_json = config_.to_json();
    request.meta.config_toml = config_.to_toml();
    request.meta.step = step;
    request.meta.tokens_seen = tokens_seen;
    request.meta.tokenizer_hash = data_.tokenizer ? data_.tokenizer->hash() : "";
    request.meta.lineage = data_.lineage;
    request.meta.data_manifest_sha256 = data_.manifest_sha256;
    if (val_loss && std::isfinite(*val_loss)) request.meta.val_loss = val_loss;
    checkpoint::SaveOptions options;
    options.keep = config_.checkpoint.keep;
    options.validity = &validity_;
    // A peer that dies or hangs during the collective write would stall it for ever.
    const auto start = Clock::now();
    std::filesystem::path file;
    {
      parallel::SectionDeadline deadline(world_, fmt::format("the checkpoint at step {}", step),
                                         config_.parallel.timeout_s + 2 * longest_save_s_);
      file = checkpoint::save_checkpoint(world_, topology_, *options_.run_dir / "checkpoints", request, options);
    }
    longest_save_s_ = std::max(longest_save_s_, std::chrono::duration<double>(Clock::now() - start).count());
    log::info("checkpoint: {}", file.string());
  }

  // Weights, AdamW state, step and data position from a checkpoint (collective).
  void resume_from(const std::string& file) {
    checkpoint::LoadRequest request;
    request.infos = model_.params().infos();
    request.params = weights();
    std::tie(request.m, request.v) = moments();
    const checkpoint::TrainingState state = checkpoint::load_training_state(world_, topology_, file, config_, request);
    optimizer_->set_steps_taken(state.optim_step);
    const bool same_data = data_.dir.empty() || state.meta.lineage == data_.lineage;
    if (!same_data && world_.is_root()) {
      log::warn("the data in {} is not the data {} was trained on (their inputs' SHA-256 differ): resuming on it",
                data_.dir, file);
    }
    try {
      train_batches_->restore(state.loader);
    } catch (const Error& e) {
      throw CollectiveError(fmt::format("cannot resume {} on the data in {}{}: {}", file,
                                        data_.dir.empty() ? "random tokens" : data_.dir,
                                        same_data ? "" : " (not the data it was trained on)", e.what()));
    }
    start_step_ = state.meta.step;
    model_.refresh_compute_weights();
    if (gpu_) gpu_->load(model_.params(), &replicated_adamw().m(), &replicated_adamw().v());  // a rollback
    if (gpu_) gpu_->set_steps_taken(optimizer_->steps_taken());
    log::info("resuming from {} at step {}", file, start_step_);
  }

  std::unique_ptr<BatchSource> batches(const std::string& split, bool shuffle) const {
    datasets::LoaderOptions o;
    o.batch_size = static_cast<size_t>(config_.train.batch_size);
    o.seq_len = static_cast<size_t>(config_.model.seq_len);
    o.seed = config_.train.seed;
    o.shuffle = shuffle;
    o.dp_rank = topology_.dp_rank;
    o.dp_size = topology_.dp;
    o.grad_accum = shuffle ? static_cast<size_t>(config_.train.grad_accum) : 1;
    if (data_.dir.empty()) return random_batches(config_.model.vocab_size, o);
    return shard_batches(data_.dir, split, o);
  }

  // A periodic checkpoint after `steps` steps: every checkpoint.every steps, or once
  // checkpoint.every_minutes have passed since the last save (or the start) on rank 0's clock,
  // whose verdict every rank receives, since saving is collective.
  bool checkpoint_due(int64_t steps) {
    const CheckpointConfig& c = config_.checkpoint;
    if (c.every > 0 && steps % c.every == 0) return true;
    if (c.every_minutes <= 0) return false;
    int32_t due = world_.is_root() && seconds_since(last_save_) >= c.every_minutes * 60 ? 1 : 0;
    groups_.world().broadcast(&due, 1, core::DType::i32, 0)->wait();
    return due != 0;
  }

  // Forward and backward of every micro-step, then gradients averaged over micro-steps and ranks.
  // The last micro-step's backward hands each parameter to the gradient sync as soon as its
  // gradient is final (parallel.overlap), so buckets are all-reduced while backward goes on.
  // Returns the step's mean loss over all ranks (the same on tp peers).
  double train_step(int64_t step) {
    const int64_t accum = config_.train.grad_accum;
    if (const auto& slow = options_.slow; slow && slow->rank == world_.rank() && step + 1 >= slow->first &&
                                          step + 1 <= slow->last) {
      std::this_thread::sleep_for(std::chrono::duration<double>(slow->seconds));  // the test hook: a slow rank or step
    }
    if (gpu_) return gpu_train_step();
    model_.zero_grad();
    double loss = 0;
    for (int64_t micro = 0; micro < accum; ++micro) {
      train_batches_->next(batch_);
      core::Tensor inputs, targets;
      to_tensors(batch_, inputs, targets);
      loss += model_.forward(inputs, targets);
      const bool last = micro + 1 == accum;
      if (last) {
        grad_sync_->begin_sync();
        marked_.assign(model_.grads().size(), false);
      }
      model_.backward(last && config_.parallel.overlap ? on_grad_ready_ : core::GradReadyFn{});
    }
    // Parameters backward did not hand over (overlap off) are final now; last ones first.
    for (size_t p = model_.grads().size(); p-- > 0;) {
      if (!marked_[p]) mark_ready(p);
    }
    const auto wait_start = Clock::now();
    grad_sync_->finish();
    sync_wait_s_ = seconds_since(wait_start);
    return mean_over(groups_.dp(), loss / static_cast<double>(accum));
  }

  // train.device = "cuda": this rank's GPU takes the weights and AdamW state of the CPU model and
  // optimizer (initialised or resumed) and runs every step; the CPU copies are refreshed from it
  // for evaluation, samples, checkpoints and the end of the run. Data parallelism over NCCL.
  void start_gpu() {
    gpu_context_ = std::make_unique<core::cuda::GpuContext>(select_gpu(world_.local_rank()));
    if (topology_.dp > 1) {
      gpu_dp_ = parallel::make_nccl_communicator(MPI_COMM_WORLD, 0, world_.rank(), "dp", config_.parallel.timeout_s,
                                                 gpu_context_->stream());
    }
    const core::DType compute = config_.train.precision == "bf16" ? core::DType::bf16 : core::DType::f32;
    gpu_ = std::make_unique<GpuStep>(config_, compute, *gpu_context_, gpu_dp_.get());
    gpu_->load(model_.params(), &replicated_adamw().m(), &replicated_adamw().v());
    gpu_->set_steps_taken(optimizer_->steps_taken());
  }

  // The GPU path runs replicated AdamW only (the config refuses ZeRO-1 with cuda).
  AdamW& replicated_adamw() {
    auto* adamw = dynamic_cast<AdamW*>(optimizer_.get());
    TESSERA_CHECK(adamw != nullptr, "train.device = \"cuda\" needs the replicated AdamW (parallel.zero = false)");
    return *adamw;
  }

  // train_step on the GPU: the same batches, gradients averaged over micro-steps and dp ranks.
  double gpu_train_step() {
    const int64_t accum = config_.train.grad_accum;
    gpu_->model().zero_grad();
    double loss = 0;
    for (int64_t micro = 0; micro < accum; ++micro) {
      train_batches_->next(batch_);
      core::Tensor inputs, targets;
      to_tensors(batch_, inputs, targets);
      loss += gpu_->micro_step(inputs, targets);
    }
    const auto wait_start = Clock::now();
    gpu_->sync_grads(accum);
    sync_wait_s_ = seconds_since(wait_start);
    return mean_over(groups_.dp(), loss / static_cast<double>(accum));
  }

  void gpu_to_host() {
    if (!gpu_) return;
    gpu_->store(model_.params(), &replicated_adamw().m(), &replicated_adamw().v());
    optimizer_->set_steps_taken(gpu_->steps_taken());
    model_.refresh_compute_weights();
  }

  // Parameter p's summed gradient becomes the mean over micro-steps before its bucket is sent.
  void mark_ready(size_t p) {
    const int64_t accum = config_.train.grad_accum;
    if (accum > 1) scale(model_.grads().tensor(p), 1.0 / static_cast<double>(accum));
    marked_[p] = true;
    grad_sync_->mark_ready(p);
  }

  double validation_loss() {
    auto val = batches("val", /*shuffle=*/false);
    double sum = 0;
    for (int64_t i = 0; i < config_.train.eval_batches; ++i) {
      val->next(batch_);
      core::Tensor inputs, targets;
      to_tensors(batch_, inputs, targets);
      sum += model_.forward(inputs, targets);
    }
    return mean_over(groups_.dp(), sum / static_cast<double>(config_.train.eval_batches));
  }

  // Greedy and sampled continuations of an end-of-text token (the start of a document). Generation
  // runs the model's tp collectives, so every rank of the first tp group (dp rank 0) takes part,
  // with the same seed and so the same tokens; world rank 0 prints.
  void print_samples(int64_t step) {
    if (topology_.dp_rank != 0 || !data_.tokenizer) return;
    const auto eot = static_cast<int32_t>(data_.tokenizer->eot_id());
    for (double temperature : {0.0, 0.8}) {
      SampleOptions o;
      o.max_tokens = std::min<int64_t>(48, config_.model.seq_len - 1);
      o.temperature = temperature;
      o.top_k = 40;
      o.seed = config_.train.seed + static_cast<uint64_t>(step);
      o.stop_token = eot;
      o.vocab_limit = static_cast<int64_t>(data_.tokenizer->vocab_size());
      std::vector<int32_t> ids = generate(model_, {eot}, o);
      if (!ids.empty() && ids.back() == eot) ids.pop_back();
      const std::vector<datasets::TokenId> tokens(ids.begin(), ids.end());
      try {  // local, after generation's collectives: a sample never costs the run
        log::info("  sample ({}): {}", temperature == 0 ? "greedy" : "T=0.8", data_.tokenizer->decode(tokens));
      } catch (const Error& e) {
        log::warn("  sample ({}) not printed: {}", temperature == 0 ? "greedy" : "T=0.8", e.what());
      }
    }
  }

  const Config config_;  // data.dir absolute
  const TrainOptions& options_;
  const parallel::World& world_;
  parallel::Topology topology_;
  parallel::ProcessGroups groups_;
  parallel::CommTpGroup tp_group_;  // the model's view of groups_.tp()
  Data data_;
  core::Transformer model_;
  std::unique_ptr<Optimizer> optimizer_;  // replicated AdamW, or ZeRO-1 (state sharded over the dp ranks)
  std::unique_ptr<parallel::GradSync> grad_sync_;
  core::GradReadyFn on_grad_ready_;  // hands a parameter to the gradient sync (mark_ready)
  std::vector<bool> marked_;         // per parameter: handed over in this step
  Clock::time_point last_save_ = Clock::now();  // or the start of training
  double sync_wait_s_ = 0;           // this step's wait for the gradient sync after backward
  std::unique_ptr<BatchSource> train_batches_;
  int64_t start_step_ = 0;  // steps already done (resumed runs)
  datasets::Batch batch_;
  std::optional<RunDir> run_dir_;
  std::optional<MetricsLog> metrics_;
  checkpoint::Validity validity_;  // rank 0's memory of checkpoints that verified
  bool spike_injected_ = false;     // TrainOptions::spike_at has fired
  double longest_save_s_ = 0;       // a save may take the collective timeout plus twice this
  // train.device = "cuda" (start_gpu): the context, the NCCL dp group (dp > 1), the step.
  std::unique_ptr<core::cuda::GpuContext> gpu_context_;
  std::unique_ptr<parallel::Communicator> gpu_dp_;
  std::unique_ptr<GpuStep> gpu_;
};

namespace {

// Weights, gradients and AdamW's two moments, f32 (and the weights' bf16 copy in bf16), this rank's
// tensor-parallel share. Rank 0 judges, every rank stops alike.
void check_training_memory(const Config& config, const parallel::World& world) {
  std::string error;
  if (world.is_root()) {
    int64_t numel = 0;
    for (const auto& info : core::param_infos(config.model)) numel += info.numel();
    try {
      const uint64_t bytes_per_param = config.train.precision == "bf16" ? 18 : 16;
      check_fits(bytes_per_param * static_cast<uint64_t>(numel / std::max<int64_t>(1, config.parallel.tp)), world.local_size(),
                 fmt::format("training a model of {:.1f}M parameters (weights, gradients, AdamW moments)",
                             static_cast<double>(numel) / 1e6));
    } catch (const Error& e) {
      error = e.what();
    }
  }
  world.broadcast(error);
  if (!error.empty()) throw CollectiveError(error);
}

}  // namespace

Trainer::Trainer(const Config& config, const parallel::World& world, const TrainOptions& options) {
  if (config.train.device == "cuda") {  // before anything is written
    TESSERA_CHECK(config.parallel.tp == 1 && !config.parallel.zero, "train.device = \"cuda\" trains "
                  "data-parallel only for now: set parallel.tp = 1 and parallel.zero = false");
    select_gpu(world.local_rank());
  }
  check_training_memory(config, world);
  loop_ = std::make_unique<Loop>(config, world, options);
}

Trainer::~Trainer() = default;

TrainResult Trainer::run() { return loop_->run(); }
core::Transformer& Trainer::model() { return loop_->model(); }
const parallel::Topology& Trainer::topology() const { return loop_->topology(); }
const std::optional<datasets::Tokenizer>& Trainer::tokenizer() const { return loop_->tokenizer(); }
const Config& Trainer::config() const { return loop_->config(); }
parallel::Communicator& Trainer::dp() { return loop_->dp(); }

TrainResult train(const Config& config, const parallel::World& world, const TrainOptions& options) {
  Trainer trainer(config, world, options);
  return trainer.run();
}

}  // namespace tessera::train
