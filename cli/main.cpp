// tessera <command> [options]: every rank of an MPI job runs this same main.
#include <exception>

#include "cli/command.h"
#include "core/log.h"
#include "core/threads.h"
#include "parallel/guard.h"

int main(int argc, char** argv) {
  using namespace tessera;
  wait_passively(argv);
  parallel::World* world = nullptr;
  try {
    world = &parallel::World::init(&argc, &argv);
  } catch (const std::exception& e) {
    log::error("cannot start MPI: {}", e.what());
    return 1;
  }
  log::set_rank(world->rank(), world->size());
  configure_threads(world->local_size());

  CLI::App app{"Tessera: prepare data, train, checkpoint, evaluate and serve transformer language models on HPC "
               "clusters (mpirun or Slurm).",
               "tessera"};
  app.set_version_flag("--version", std::string("tessera ") + TESSERA_VERSION);
  app.require_subcommand(1);
  cli::Context ctx{*world};
  cli::add_info_command(app, ctx);
  cli::add_config_command(app, ctx);
  cli::add_tokenizer_command(app, ctx);
  cli::add_prepare_command(app, ctx);
  cli::add_train_command(app, ctx);
  cli::add_ckpt_command(app, ctx);
  cli::add_generate_command(app, ctx);
  cli::add_serve_command(app, ctx);
  cli::add_eval_command(app, ctx);
  cli::add_run_command(app, ctx);
  cli::add_report_command(app, ctx);
  cli::add_submit_command(app, ctx);
  cli::add_jobs_commands(app, ctx);
  cli::add_bench_command(app, ctx);

  return parallel::run_guarded(*world, [&] {
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      // Every rank parsed the same command line, so every rank stops here alike.
      const int rc = world->is_root() ? app.exit(e) : e.get_exit_code();
      return rc == 0 ? 0 : 2;
    }
    return ctx.exit_code;
  });
}
