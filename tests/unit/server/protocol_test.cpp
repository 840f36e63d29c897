// The HTTP front's pure pieces: OpenAI request bodies -> engine requests (defaults, each field,
// errors naming the field), the chat template, the step changes rank 0 broadcasts (a round trip
// keeps every sampling field), and API keys.
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "server/api_error.h"
#include "server/api_keys.h"
#include "server/protocol.h"
#include "server/router.h"
#include "server/step_sync.h"

namespace tessera::server {
namespace {

const Limits kLimits{.max_n = 4, .max_top_logprobs = 20, .context = 64};

// The field an ApiError names, with its status.
std::pair<int, std::string> refusal(const std::string& body, bool chat = false) {
  try {
    parse_request(body, chat, kLimits);
  } catch (const ApiError& e) {
    return {e.status, e.param};
  }
  return {200, ""};
}

TEST(Protocol, CompletionFieldsAndDefaults) {
  const ApiRequest r = parse_request(
      R"({"model": "m", "prompt": "hi", "temperature": 0.5, "top_p": 0.9, "n": 2, "stop": "x", "seed": 7,
          "logprobs": 3, "echo": true, "top_k": 5, "min_p": 0.1, "repetition_penalty": 1.2, "ignore_eos": true,
          "stream": true, "stream_options": {"include_usage": true}, "user": "u"})",
      false, kLimits);
  EXPECT_EQ(r.model, "m");
  EXPECT_EQ(r.prompt, "hi");
  EXPECT_EQ(r.params.max_tokens, 16) << "OpenAI's default";
  EXPECT_FALSE(r.max_tokens_given);
  EXPECT_DOUBLE_EQ(r.params.temperature, 0.5);
  EXPECT_DOUBLE_EQ(r.params.top_p, 0.9);
  EXPECT_EQ(r.n, 2);
  EXPECT_EQ(r.params.stop, std::vector<std::string>{"x"});
  EXPECT_EQ(r.params.seed, 7u);
  EXPECT_TRUE(r.seed_given);
  EXPECT_EQ(r.params.logprobs, 3);
  EXPECT_TRUE(r.echo && r.params.prompt_logprobs);
  EXPECT_EQ(r.params.top_k, 5);
  EXPECT_TRUE(r.params.ignore_eos && r.stream && r.include_usage);
  EXPECT_EQ(r.user, "u");
  EXPECT_EQ(parse_request(R"({"prompt": [5, 6, 7]})", false, kLimits).prompt_ids, (std::vector<int32_t>{5, 6, 7}));
  EXPECT_EQ(parse_request(R"({"prompt": [[5]]})", false, kLimits).prompt_ids, (std::vector<int32_t>{5}));
}

TEST(Protocol, ErrorsNameTheField) {
  EXPECT_EQ(refusal(R"({"prompt": "a", "max_tokens": -1})"), std::make_pair(400, std::string("max_tokens")));
  EXPECT_EQ(refusal(R"({"prompt": "a", "max_tokens": 65})"), std::make_pair(400, std::string("max_tokens")));
  EXPECT_EQ(refusal(R"({"prompt": "a", "max_tokens": 1e3})"), std::make_pair(400, std::string("max_tokens")));
  EXPECT_EQ(refusal(R"({"prompt": "a", "max_tokens": 18446744073709551615})"), std::make_pair(400, std::string("max_tokens")));
  EXPECT_EQ(refusal(R"({"prompt": "a", "n": 5})"), std::make_pair(400, std::string("n")));
  EXPECT_EQ(refusal(R"({"prompt": "a", "temperature": "hot"})"), std::make_pair(400, std::string("temperature")));
  EXPECT_EQ(refusal(R"({"prompt": "a", "logit_bias": {}})"), std::make_pair(400, std::string("logit_bias")));
  EXPECT_EQ(refusal(R"({"prompt": "a", "stop": ""})"), std::make_pair(400, std::string("stop")));
  EXPECT_EQ(refusal(R"({"prompt": "a", "stream_options": {}})"), std::make_pair(400, std::string("stream_options")));
  EXPECT_EQ(refusal(R"({"prompt": "a",)").first, 400);
  EXPECT_EQ(refusal("{\"prompt\": \"\xff\"}").first, 400) << "invalid UTF-8";
  EXPECT_EQ(refusal(std::string(10000, '[') + std::string(10000, ']')).first, 400) << "deep nesting";
  EXPECT_EQ(refusal(R"({"prompt": "a", "echo": true})", true), std::make_pair(400, std::string("echo")));
  EXPECT_EQ(refusal(R"({"messages": [{"role": "user", "content": "x"}], "top_logprobs": 2})", true),
            std::make_pair(400, std::string("top_logprobs")));
  EXPECT_EQ(refusal(R"({"messages": [{"role": "bot", "content": "x"}]})", true),
            std::make_pair(400, std::string("messages[0].role")));
}

TEST(Protocol, ChatTemplate) {
  const ApiRequest r = parse_request(
      R"({"messages": [{"role": "system", "content": "Be brief."},
                       {"role": "user", "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}]},
                       {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Bye"}],
          "logprobs": true, "stop": ["!"]})",
      true, kLimits);
  EXPECT_EQ(r.prompt, "System: Be brief.\nUser: Hi there\nAssistant: Hello.\nUser: Bye\nAssistant:");
  EXPECT_EQ(r.params.stop, (std::vector<std::string>{"\nUser:", "!"}));
  EXPECT_EQ(r.params.logprobs, 0);
  EXPECT_EQ(r.params.max_tokens, 0) << "unset: the rest of the context, filled in once the prompt is tokenized";
}

TEST(StepSync, ChangesRoundTripEveryField) {
  StepChanges c;
  c.cancels = {{"v1", 3}, {"v2", 9}};
  c.unloads = {"v1"};
  c.load = VersionLoad{"v3", {"runs/a:best", "", "tok.json"}};
  serve::Request r;
  r.prompt = {1, 2, 3};
  r.params = {.max_tokens = 5, .temperature = 0.7, .top_k = 4, .top_p = 0.9, .min_p = 0.05, .repetition_penalty = 1.1,
              .presence_penalty = 0.2, .frequency_penalty = 0.3, .seed = 18446744073709551615u, .stop_tokens = {7},
              .ignore_eos = true, .stop = {"\nUser:", "é"}, .logprobs = 2, .prompt_logprobs = true};
  c.adds = {{"v2", r}, {"v3", r}};
  c.stop = true;
  const StepChanges d = decode(encode(c));
  EXPECT_EQ(d.cancels, c.cancels);
  EXPECT_EQ(d.unloads, c.unloads);
  ASSERT_TRUE(d.load.has_value());
  EXPECT_EQ(d.load->id, "v3");
  EXPECT_EQ(d.load->ref.ckpt, "runs/a:best");
  EXPECT_EQ(d.load->ref.tokenizer, "tok.json");
  ASSERT_EQ(d.adds.size(), 2u);
  EXPECT_EQ(d.adds[1].first, "v3");
  const serve::SamplingParams& p = d.adds[1].second.params;
  EXPECT_EQ(d.adds[1].second.prompt, r.prompt);
  EXPECT_EQ(p.max_tokens, 5);
  EXPECT_EQ(p.temperature, 0.7);
  EXPECT_EQ(p.top_k, 4);
  EXPECT_EQ(p.top_p, 0.9);
  EXPECT_EQ(p.min_p, 0.05);
  EXPECT_EQ(p.repetition_penalty, 1.1);
  EXPECT_EQ(p.presence_penalty, 0.2);
  EXPECT_EQ(p.frequency_penalty, 0.3);
  EXPECT_EQ(p.seed, r.params.seed);
  EXPECT_EQ(p.stop_tokens, r.params.stop_tokens);
  EXPECT_TRUE(p.ignore_eos && p.prompt_logprobs && d.stop);
  EXPECT_EQ(p.stop, r.params.stop);
  EXPECT_EQ(p.logprobs, 2);
  EXPECT_TRUE(decode(encode(StepChanges{})).empty()) << "no changes: an empty blob";
  EXPECT_THROW(decode("{\"cancels\": 1}"), Error);
}

TEST(ApiKeys, BearerKeysFromAFile) {
  const std::string path = ::testing::TempDir() + "/keys";
  std::ofstream(path) << "# a comment\n\n  sk-one \nsk-two\n";
  const ApiKeys keys = ApiKeys::load(path);
  EXPECT_TRUE(keys.enabled());
  EXPECT_TRUE(keys.accepts("Bearer sk-one"));
  EXPECT_TRUE(keys.accepts("Bearer sk-two"));
  EXPECT_FALSE(keys.accepts("Bearer sk-on"));
  EXPECT_FALSE(keys.accepts("Bearer sk-one2"));
  EXPECT_FALSE(keys.accepts("sk-one"));
  EXPECT_FALSE(keys.accepts(""));
  EXPECT_FALSE(ApiKeys().enabled());
  std::ofstream(path) << "# none\n";
  EXPECT_THROW(ApiKeys::load(path), Error);
  EXPECT_THROW(ApiKeys::load(path + ".missing"), Error);
  EXPECT_TRUE(equal_in_constant_time("abc", "abc"));
  EXPECT_FALSE(equal_in_constant_time("abc", "abd"));
  EXPECT_FALSE(equal_in_constant_time("abc", "ab"));
  EXPECT_EQ(key_fingerprint("Bearer abc"), "sha256:ba7816bf8f01cfea") << "SHA-256 of abc";
}

TEST(Router, CanaryByBucketPinningPromoteRollback) {
  EXPECT_EQ(route_bucket(""), 6037) << "FNV-1a 64 offset basis mod 10000";
  EXPECT_EQ(route_bucket("a"), 1996) << "FNV-1a 64 of 'a' = 0xaf63dc4c8601ec8c";
  auto version = [](const char* id) {
    auto v = std::make_shared<Version>();
    v->id = id;
    return v;
  };
  Router router;
  router.set_primary(version("v1"));
  router.add_candidate(version("v2"));
  EXPECT_EQ(router.pick("a")->id, "v1") << "staged: no traffic";
  EXPECT_EQ(router.pick("", "v2")->id, "v2") << "pinned";
  EXPECT_EQ(router.pick("", "v9"), nullptr);
  router.set_canary("v2", 20);
  EXPECT_EQ(router.pick("a")->id, "v2") << "bucket 1996 < 2000";
  router.set_canary("v2", 19.96);
  EXPECT_EQ(router.pick("a")->id, "v1") << "bucket 1996 >= 1996";
  EXPECT_THROW(router.set_canary("v1", 5), ApiError) << "the primary is no canary";
  EXPECT_THROW(router.set_canary("v9", 5), ApiError);
  EXPECT_EQ(router.list()["versions"][1]["traffic_percent"], 19.96);
  EXPECT_EQ(router.promote("v2")->id, "v1");
  EXPECT_EQ(router.pick("a")->id, "v2");
  EXPECT_EQ(router.candidate_id(), "");
  router.add_candidate(version("v3"));
  router.set_canary("v3", 100);
  EXPECT_EQ(router.pick("zzz")->id, "v3");
  EXPECT_EQ(router.rollback("v3")->id, "v3");
  EXPECT_EQ(router.pick("zzz")->id, "v2");
  EXPECT_EQ(router.loaded().size(), 1u);
}

}  // namespace
}  // namespace tessera::server
