# Shared by the Slurm tests (sourced): the local cluster of the test fixture, a prepared corpus,
# a run config, and waiting for a job.
#   TESSERA=... TEST_DATA=... (from ctest); SLURM_CONF is set by the fixture's environment.
set -uo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "$(basename "$0"): FAIL: $*" >&2; for f in "$work"/*/logs/slurm-*.out; do [ -e "$f" ] && tail -n 20 "$f" >&2; done; exit 1; }

# Data from the test corpus and a small model on it: $work/run.toml (STEPS steps, 2 ranks).
. "$(dirname "${BASH_SOURCE[0]}")/../support/common.sh"
make_config() {  # $1: steps, $2: d_model (default 32; wider is slower per step)
  tiny_data "$TESSERA" "$TEST_DATA/corpus"
  tiny_config 32 1 "$1" "min_lr = 1e-3
warmup_steps = 2
[checkpoint]
keep = 2" "${2:-32}"
}

# One field of `scontrol show job` (JobState, Restarts, ...).
job_field() { scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }

# Waits until job $1 reaches a final state (at most $2 seconds); prints it.
wait_done() {
  local state
  for _ in $(seq 1 $(( $2 * 2 ))); do
    state=$(job_field "$1" JobState)
    case $state in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) echo "$state"; return 0 ;; esac
    sleep 0.5
  done
  echo "still ${state:-unknown} after $2 s"
}

# Waits until the run's metrics.jsonl has $2 lines (at most 60 s).
wait_steps() {
  for _ in $(seq 1 300); do
    [ -s "$1/metrics.jsonl" ] && [ "$(wc -l <"$1/metrics.jsonl")" -ge "$2" ] && return 0
    sleep 0.2
  done
  fail "the run in $1 did not reach $2 steps"
}

# step loss, one line per step, from a metrics.jsonl.
losses() { sed 's/.*"loss":\([^,}]*\).*"step":\([0-9]*\).*/\2 \1/' "$1"; }
