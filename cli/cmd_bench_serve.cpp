// tessera bench serve --url URL [--concurrency 1,4,16] [--prompt-len P] [--gen-len G] [--requests N]
// [--model NAME] [--api-key KEY]: load on any OpenAI-compatible server (server/load_generator.h),
// one line per concurrency:
//   concurrency=C requests_s=N output_tok_s=N ttft_p50_ms=N ttft_p99_ms=N tpot_p50_ms=N tpot_p99_ms=N
#include <iostream>

#include "cli/command.h"
#include "server/load_generator.h"

namespace tessera::cli {

void add_bench_serve(CLI::App& bench, Context&) {
  struct Options {
    server::LoadOptions load;
    std::vector<int64_t> concurrency{1, 4, 16};
  };
  auto o = std::make_shared<Options>();
  auto* cmd = bench.add_subcommand("serve", "Load an OpenAI-compatible server: requests/s, output tokens/s, TTFT "
                                            "and TPOT percentiles per concurrency");
  cmd->add_option("--url", o->load.url, "Server: scheme://host:port (default http://127.0.0.1:8080)");
  cmd->add_option("--concurrency", o->concurrency, "Requests in flight (default 1,4,16)")->delimiter(',');
  cmd->add_option("--prompt-len", o->load.prompt_len, "Prompt tokens per request (random ids; default 128)");
  cmd->add_option("--gen-len", o->load.gen_len, "Tokens generated per request (end-of-text ignored; default 32)");
  cmd->add_option("--requests", o->load.requests, "Requests per concurrency (default 64)");
  cmd->add_option("--model", o->load.model, "Model name (default: the first the server lists)");
  cmd->add_option("--api-key", o->load.api_key, "Sent as Authorization: Bearer KEY");
  cmd->add_option("--vocab", o->load.vocab, "Prompt ids are drawn below this (default 256)");
  cmd->callback([o] {
    for (int64_t c : o->concurrency) std::cout << server::run_load(o->load, c).line() << std::endl;
  });
}

}  // namespace tessera::cli
