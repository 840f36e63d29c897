#pragma once
// A tiny run for the tests of the CLI binary: the test corpus prepared into DIR/data (a byte-level
// BPE of 300 tokens, half the documents held out for validation), DIR/run.toml, a tiny gpt2
// (tests/support/tiny_model.h: 2 layers, d_model 32, 4 heads; seq_len 16, vocabulary 320) trained
// on it at lr 1e-2, and the training into DIR/run.
#include <functional>
#include <string>

#include "run/config.h"
#include "tests/support/tiny_model.h"
#include "tests/unit/test_support.h"

namespace tessera::testing_support {

// `set` adjusts the config (steps, checkpoints, ...); `train_flags` go to `tessera train`. Returns
// the result of the first command that failed, else train's.
inline CommandResult train_tiny_run(const TempDir& dir, const std::function<void(Config&)>& set,
                                    const std::string& train_flags = "") {
  const std::string bin = TESSERA_BIN;
  CommandResult r = run_command(bin + " prepare --input " + TESSERA_TEST_DATA + "/corpus --out " + (dir / "data") +
                                " --train-tokenizer --vocab-size 300 --val-fraction 0.5");
  if (r.status != 0) return r;
  Config c;
  c.model = tiny_model("gpt2", {.seq_len = 16, .vocab_size = 320});
  c.data.dir = dir / "data";
  c.train.lr = 1e-2;
  set(c);
  const std::string config = dir.write("run.toml", c.to_toml());
  return run_command(bin + " train " + train_flags + " --config " + config + " --run-dir " + (dir / "run"));
}

}  // namespace tessera::testing_support
