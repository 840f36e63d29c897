// Config: TOML parsing, overrides, canonical round trip, and clear errors on bad input.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "run/config.h"
#include "core/error.h"
#include "tests/unit/test_support.h"

namespace tessera {
namespace {

using namespace testing_support;

constexpr const char* kConfig = R"(
[model]
family = "llama"
n_layer = 2
d_model = 64
n_head = 4
n_kv_head = 2
seq_len = 32
vocab_size = 512
tie_embeddings = false

[train]
batch_size = 4
lr = 1        # an integer where a float is expected is fine
steps = 20

[parallel]
tp = 2
)";

TEST(Config, ParsesEveryKindOfValue) {
  const Config c = Config::parse(kConfig, "run.toml");
  EXPECT_EQ(c.model.family, Family::llama);
  EXPECT_EQ(c.model.n_layer, 2);
  EXPECT_EQ(c.model.kv_heads(), 2);
  EXPECT_FALSE(c.model.tie_embeddings);
  EXPECT_DOUBLE_EQ(c.train.lr, 1.0);
  EXPECT_EQ(c.train.steps, 20);
  EXPECT_EQ(c.parallel.tp, 2);
  EXPECT_EQ(c.train.grad_accum, 1);  // default kept
}

TEST(Config, FamilyDefaultsForFeedForward) {
  Config c = Config::parse(kConfig, "run.toml");
  EXPECT_EQ(c.model.ff_dim(), 192);  // 8/3 * 64 = 170.7, rounded up to a multiple of 64
  c.model.family = Family::gpt2;
  EXPECT_EQ(c.model.ff_dim(), 256);
  c.model.d_ff = 100;
  EXPECT_EQ(c.model.ff_dim(), 100);
}

TEST(Config, OverridesWinAndBareWordsAreStrings) {
  const Config c = Config::parse(kConfig, "run.toml",
                                 {"train.lr=3e-4", "model.family=gpt2", "parallel.zero=true", "data.dir=\"/d\""});
  EXPECT_DOUBLE_EQ(c.train.lr, 3e-4);
  EXPECT_EQ(c.model.family, Family::gpt2);
  EXPECT_TRUE(c.parallel.zero);
  EXPECT_EQ(c.data.dir, "/d");
}

TEST(Config, CanonicalTomlRoundTrips) {
  const Config a = Config::parse(kConfig, "run.toml", {"train.seed=42", "data.dir=shards"});
  const Config b = Config::parse(a.to_toml(), "canonical");
  EXPECT_EQ(a.to_toml(), b.to_toml());
  EXPECT_EQ(a.to_json(), b.to_json());
  EXPECT_EQ(b.train.seed, 42u);
  EXPECT_EQ(b.data.dir, "shards");
}

TEST(Config, UnknownKeysNameTheKeyAndTheFile) {
  EXPECT_NE(error_of([] { Config::parse("[train]\nlrr = 1.0\n", "a.toml"); }).find("a.toml: unknown key 'lrr' in [train]"),
            std::string::npos);
  EXPECT_NE(error_of([] { Config::parse("[optim]\nlr = 1.0\n", "a.toml"); }).find("unknown section [optim]"),
            std::string::npos);
  EXPECT_NE(error_of([] { Config::parse("lr = 1.0\n", "a.toml"); }).find("unknown section [lr]"), std::string::npos);
  EXPECT_NE(error_of([] { Config::parse("", "a.toml", {"train.nope=1"}); }).find("unknown key 'train.nope'"),
            std::string::npos);
  EXPECT_NE(error_of([] { Config::parse("", "a.toml", {"lr=1"}); }).find("expected section.key=value"),
            std::string::npos);
}

TEST(Config, WrongTypesNameTheKeyAndBothTypes) {
  EXPECT_NE(error_of([] { Config::parse("[train]\nlr = \"fast\"\n", "b.toml"); })
                .find("b.toml: [train] lr must be a number, got a string"),
            std::string::npos);
  EXPECT_NE(error_of([] { Config::parse("[model]\nn_layer = 2.5\n", "b.toml"); })
                .find("[model] n_layer must be an integer, got a floating-point number"),
            std::string::npos);
  EXPECT_NE(error_of([] { Config::parse("[parallel]\nzero = 1\n", "b.toml"); }).find("must be true or false"),
            std::string::npos);
  EXPECT_NE(error_of([] { Config::parse("model = 3\n", "b.toml"); }).find("'model' must be a table"),
            std::string::npos);
  EXPECT_NE(error_of([] { Config::parse("", "b.toml", {"model.n_layer=many"}); })
                .find("--set model.n_layer must be an integer, got a string"),
            std::string::npos);
  EXPECT_NE(error_of([] { Config::parse("[train]\nseed = -1\n", "b.toml"); }).find("must not be negative"),
            std::string::npos);
}

TEST(Config, MalformedTomlGivesLineAndColumn) {
  const std::string msg = error_of([] { Config::parse("[model]\nn_layer = = 3\n", "c.toml"); });
  EXPECT_NE(msg.find("c.toml:2:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("invalid TOML"), std::string::npos) << msg;
}

TEST(Config, ImpossibleShapesAreRejected) {
  EXPECT_NE(error_of([] { Config::parse("[model]\nd_model = 100\nn_head = 3\n", "d.toml"); })
                .find("model.d_model (100) must be a positive multiple of model.n_head (3)"),
            std::string::npos);
  EXPECT_NE(error_of([] { Config::parse("[model]\nn_head = 4\nn_kv_head = 3\n", "d.toml"); })
                .find("model.n_kv_head (3) must divide model.n_head (4)"),
            std::string::npos);
  EXPECT_NE(error_of([] { Config::parse("[model]\nfamily = \"bert\"\n", "d.toml"); })
                .find("d.toml: [model] family: unknown model family \"bert\" (known: gpt2, llama)"),
            std::string::npos);
  EXPECT_NE(error_of([] { Config::parse("", "d.toml", {"model.family=bert"}); })
                .find("--set model.family: unknown model family \"bert\" (known: gpt2, llama)"),
            std::string::npos);
  EXPECT_NE(error_of([] { Config::parse("[parallel]\ntp = 3\n", "d.toml"); }).find("parallel.tp (3) must divide"),
            std::string::npos);
  EXPECT_NE(error_of([] { Config::parse("[train]\nlr = 1e-3\nmin_lr = 1e-2\n", "d.toml"); }).find("train.min_lr"),
            std::string::npos);
}

TEST(Config, PrecisionsAreFp32OrBf16) {
  EXPECT_EQ(Config::parse("", "d.toml").train.precision, "fp32");
  EXPECT_EQ(Config::parse("[train]\nprecision = \"bf16\"\n", "d.toml").train.precision, "bf16");
  EXPECT_NE(error_of([] { Config::parse("[train]\nprecision = \"fp16\"\n", "d.toml"); })
                .find("train.precision must be \"fp32\" or \"bf16\", got \"fp16\""),
            std::string::npos);
  EXPECT_NE(error_of([] { Config::parse("[parallel]\nsync_precision = \"int8\"\n", "d.toml"); })
                .find("parallel.sync_precision"),
            std::string::npos);
}

TEST(Config, MissingFileIsAClearError) {
  EXPECT_NE(error_of([] { Config::load("/nonexistent/run.toml"); }).find("cannot read config file '/nonexistent/run.toml'"),
            std::string::npos);
}

TEST(Config, ShippedConfigsParse) {
  for (const char* name : {"quickstart.toml", "gpt2-small.toml", "llama-small.toml"}) {
    const std::string path = std::string(TESSERA_TEST_DATA) + "/../../configs/" + name;
    EXPECT_NO_THROW(Config::load(path)) << path;
  }
}

}  // namespace
}  // namespace tessera
