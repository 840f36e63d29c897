#pragma once
// A request to stop, by signal: while a StopSignals object lives, SIGTERM, SIGINT and SIGUSR1
// (what mpirun forwards, what Slurm sends at preemption or `--signal`) set a flag instead of
// killing the process, and the long-running loop (training) stops at its next step boundary, on
// every rank together (the ranks agree on the flag), with a checkpoint. A second SIGINT while a
// stop is pending ends the process at once, as an impatient Ctrl-C expects. The previous handlers
// come back when the object is destroyed. The flag is the process's one signal-safe global.
namespace tessera {

class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The signal that asked to stop (SIGTERM, ...), or 0.
  static int requested();
  // The signal's name: "SIGTERM".
  static const char* name(int signal);
};

}  // namespace tessera
