#pragma once
// A tiny run for the tests of the CLI binary: the test corpus prepared into DIR/data (a byte-level
// BPE of 300 tokens, half the documents held out for validation) and DIR/run.toml, a tiny gpt2
// (tests/support/tiny_model.h: 2 layers, d_model 32, 4 heads; seq_len 16, vocabulary 320) trained
// on it at lr 1e-2.
#include <functional>
#include <string>

#include "run/config.h"
#include "tests/support/tiny_model.h"
#include "tests/unit/test_support.h"

namespace tessera::testing_support {

inline CommandResult prepare_test_corpus(const TempDir& dir) {
  return run_command(std::string(TESSERA_BIN) + " prepare --input " + TESSERA_TEST_DATA + "/corpus --out " +
                     (dir / "data") + " --train-tokenizer --vocab-size 300 --val-fraction 0.5");
}

// Writes DIR/run.toml, `set` adjusting the config (steps, checkpoints, ...); returns its path.
inline std::string write_tiny_run_config(const TempDir& dir, const std::function<void(Config&)>& set) {
  Config c;
  c.model = tiny_model("gpt2", {.seq_len = 16, .vocab_size = 320});
  c.data.dir = dir / "data";
  c.train.lr = 1e-2;
  set(c);
  return dir.write("run.toml", c.to_toml());
}

}  // namespace tessera::testing_support
