#include "serve/decode_bench.h"

#include <omp.h>

#include <time.h>

#include <chrono>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/cpu/vec_math.h"
#include "core/error.h"
#include "datasets/tokenizer.h"
#include "serve/engine.h"

namespace tessera::serve {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// A tokenizer whose ids cover the model's vocabulary: the 256 bytes, then one special token per
// further id. The benchmark decodes every id it samples; the text itself is not looked at.
datasets::Tokenizer placeholder_tokenizer(int64_t vocab) {
  datasets::BpeParts parts;
  for (int b = 0; b < 256; ++b) parts.tokens.push_back(std::string(1, static_cast<char>(b)));
  for (int64_t id = 256; id < vocab; ++id) {
    parts.tokens.push_back("<|t" + std::to_string(id) + "|>");
    parts.specials.push_back(static_cast<datasets::TokenId>(id));
  }
  return datasets::Tokenizer::from_parts(std::move(parts), "placeholder");
}

// The sum of x (n) in 64 independent lanes (four vector registers of chains): bound by memory,
// not by the latency of one chain of additions. Cloned per ISA.
TESSERA_SIMD_CLONES float sum_lanes(const float* x, int64_t n) {
  constexpr int kLanes = 64;
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) acc[l] += x[i + l];
  }
  for (; i < n; ++i) acc[0] += x[i];
  return core::cpu::reduce_lanes(acc, std::plus<float>());
}

}  // namespace

double memory_read_gbs(int64_t bytes, double min_seconds) {
  const int64_t n = bytes / static_cast<int64_t>(sizeof(float));
  std::vector<float> buf(static_cast<size_t>(n), 1.0f);  // written once: resident
  double best = 0, total = 0, sink = 0;
  while (total < min_seconds) {
    const auto t0 = Clock::now();
    double sum = 0;
#pragma omp parallel reduction(+ : sum)
    {
      const int64_t parts = omp_get_num_threads(), part = omp_get_thread_num();
      const int64_t begin = n * part / parts, end = n * (part + 1) / parts;
      sum += sum_lanes(buf.data() + begin, end - begin);
    }
    const double dt = seconds_since(t0);
    sink += sum;
    total += dt;
    best = std::max(best, static_cast<double>(bytes) / dt / 1e9);
  }
  TESSERA_CHECK(sink > 0, "the bandwidth probe summed nothing");
  return best;
}

DecodeBenchRow bench_decode(core::Transformer& model, int64_t batch, int64_t prompt_len, int64_t gen_len,
                            double bandwidth_gbs, EngineOptions options) {
  const ModelConfig& c = model.config();
  TESSERA_CHECK(batch >= 1 && prompt_len >= 1 && gen_len >= 2, "need batch >= 1, prompt length >= 1, gen length >= 2");
  TESSERA_CHECK(prompt_len + gen_len <= c.seq_len, "prompt ({}) + generated ({}) tokens exceed the context of {}",
                prompt_len, gen_len, c.seq_len);
  const datasets::Tokenizer tokenizer = placeholder_tokenizer(c.vocab_size);
  options.scheduler = {.max_step_tokens = batch * prompt_len, .max_running = batch};
  options.kv_cache_bytes = batch * blocks_for_tokens(prompt_len + gen_len, options.block_size) *
                           kv_cache_shape(model, options.block_size, options.kv_cache_dtype()).block_bytes();
  Engine engine(model, tokenizer, options);
  std::mt19937_64 rng(1);
  auto add_batch = [&] {
    for (int64_t b = 0; b < batch; ++b) {
      Request r;
      for (int64_t t = 0; t < prompt_len; ++t) {
        r.prompt.push_back(static_cast<int32_t>(rng() % static_cast<uint64_t>(c.vocab_size)));
      }
      r.params.max_tokens = gen_len;
      r.params.ignore_eos = true;
      engine.add(std::move(r));
    }
  };
  double prompt_s = 0, decode_s = 0, decode_cpu_s = 0;
  int64_t prompt_tokens = 0, decode_tokens = 0;
  for (int round = 0; round < 2; ++round) {  // the first round warms the buffers up; the second is timed
    add_batch();
    while (!engine.idle()) {
      const auto t0 = Clock::now();
      const double c0 = process_cpu_seconds();
      engine.step();
      const double dt = seconds_since(t0), dc = process_cpu_seconds() - c0;
      const StepStats& s = engine.last_step();
      if (round == 0) continue;
      if (s.prompt_tokens > 0) {
        prompt_s += dt;
        prompt_tokens += s.prompt_tokens;
      } else {
        decode_s += dt;
        decode_cpu_s += dc;
        decode_tokens += s.decode_tokens;
      }
    }
  }
  const auto weight_bytes = static_cast<double>(engine.inference().weight_bytes());
  DecodeBenchRow row;
  row.weight_bytes = engine.inference().weight_bytes();
  row.batch = batch;
  row.prompt_tok_s = static_cast<double>(prompt_tokens) / prompt_s;
  row.decode_tok_s = static_cast<double>(decode_tokens) / decode_s;
  row.decode_cpu_tok_s = static_cast<double>(decode_tokens) / decode_cpu_s;
  row.bound_tok_s = static_cast<double>(batch) * bandwidth_gbs * 1e9 / weight_bytes;
  row.bound_fraction = row.decode_tok_s / row.bound_tok_s;
  return row;
}

}  // namespace tessera::serve
