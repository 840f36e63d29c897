#!/usr/bin/env python3
"""The checks of the MPI shell tests on the files their runs wrote, one named check each; the shell
scripts launch the runs, this module judges them:

    checks.py losses_agree REF_RUN RUN --first N --tolerance T [--lines N] [--falls]
    checks.py precision_tracks FP32_RUN BF16_RUN --tolerance T
    checks.py eval_identical WORK
    checks.py monitor WORK

Every failed expectation prints "FAIL <check> (checks.py:<line>): <what>", naming the line of the
expectation; the exit status is 1 when one failed, 0 otherwise."""
import argparse
import inspect
import json
import os
import sys
import traceback

STEPS = 20  # the runs of layout_invariance.sh and resume.sh train 20 steps
failures = 0
check_name = ""


def expect(ok, what):
    """Counts a failure, naming the caller's line, when `ok` is false."""
    global failures
    if not ok:
        line = inspect.currentframe().f_back.f_lineno
        print(f"FAIL {check_name} (checks.py:{line}): {what}")
        failures += 1
    return ok


def jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def read(path):
    with open(path) as f:
        return f.read()


def losses_agree(ref_run, run, first, tolerance, lines=None, falls=False):
    """The losses of steps first..20 in RUN/metrics.jsonl agree with REF_RUN's within `tolerance`
    (relative); with --lines, each file has exactly that many lines; with --falls, the reference
    loss falls from its first step to its last."""
    ref, got = jsonl(f"{ref_run}/metrics.jsonl"), jsonl(f"{run}/metrics.jsonl")
    if lines is not None:
        expect(len(ref) == lines and len(got) == lines, f"{len(ref)} and {len(got)} lines, not {lines} each")
    a = {r["step"]: r["loss"] for r in ref}
    b = {r["step"]: r["loss"] for r in got}
    steps = range(first, STEPS + 1)
    missing = [s for s in steps if s not in a or s not in b]
    if not expect(not missing, f"{run}: steps missing: {missing}"):
        return
    worst = max(abs(a[s] - b[s]) / abs(a[s]) for s in steps)
    print(f"{os.path.basename(run)}: steps {first}-{STEPS}, worst relative loss difference {worst:.2e} "
          f"(losses {a[first]:.4f} -> {a[STEPS]:.4f})")
    expect(worst <= tolerance, f"{run}: worst relative loss difference {worst:.2e} > {tolerance}")
    if falls:
        expect(a[STEPS] < a[first], f"{ref_run}: the loss did not fall ({a[first]} -> {a[STEPS]})")


def precision_tracks(fp32_run, bf16_run, tolerance):
    """tests/mpi/precision_tracks.sh: the final validation loss of the bf16 run is within `tolerance`
    (relative) of the fp32 run's, and both runs train (the last loss below the first)."""
    def run(path):
        rows = jsonl(f"{path}/metrics.jsonl")
        val = [r["val_loss"] for r in rows if "val_loss" in r]
        loss = [r["loss"] for r in rows if "loss" in r]
        expect(val and loss, f"{path}: no val_loss or loss lines")
        expect(loss[-1] < loss[0], f"{path}: the loss did not fall ({loss[0]} -> {loss[-1]})")
        return val[-1], loss[0], loss[-1]

    (v32, _, _), (v16, first16, last16) = run(fp32_run), run(bf16_run)
    rel = abs(v16 - v32) / v32
    print(f"{os.path.basename(bf16_run)}: final validation loss fp32 {v32:.4f}, bf16 {v16:.4f} ({rel:.2%}); "
          f"train loss {first16:.3f} -> {last16:.3f} in bf16")
    expect(rel <= tolerance, f"{bf16_run}: final validation loss {rel:.2%} from fp32's, more than {tolerance:.0%}")


def eval_identical(work):
    """tests/mpi/eval_identical.sh: results.json, samples.jsonl and report.md of the layouts."""
    def metrics(name):
        r = json.loads(read(f"{work}/{name}/results.json"))
        return {(m["ref"], t, k): (v["value"], v["stderr"]) for m in r["models"] for t, task in m["tasks"].items()
                for k, v in task["metrics"].items()}

    def raw(name):  # the metric values as written, to compare bytes
        return [line.strip() for line in read(f"{work}/{name}/results.json").splitlines()
                if '"value"' in line or '"stderr"' in line]

    base = metrics("np1")
    expect(len(base) == 2 * (3 + 2), f"np1 metrics: {sorted(base)}")  # 2 models x (3 perplexity + 2 cloze)
    for a, b in [("np1", "np2"), ("tp2", "dp2_tp2"), ("tasks_np1", "tasks_np2"), ("gen_np1", "gen_np2")]:
        expect(raw(a) == raw(b), f"{a} and {b} differ:\n{raw(a)}\n{raw(b)}")
    for key, (v, _) in metrics("tp2").items():
        expect(abs(v - base[key][0]) <= 1e-5 * max(1.0, abs(base[key][0])), f"tp2 {key} = {v}, tp1 {base[key][0]}")
    for name in ["np1", "np2"]:
        samples = jsonl(f"{work}/{name}/samples.jsonl")
        expect(samples and {s["task"] for s in samples} == {"cloze"}, f"{name}/samples.jsonl: {samples}")
    for a, b in [("np1", "np2"), ("gen_np1", "gen_np2")]:
        expect(read(f"{work}/{a}/samples.jsonl") == read(f"{work}/{b}/samples.jsonl"),
               f"samples differ between {a} and {b}")
    gen = jsonl(f"{work}/gen_np1/samples.jsonl")
    expect(len(gen) == 2 * 5 and {s["task"] for s in gen} == {"generation"} and any(s["output"] for s in gen),
           f"gen_np1/samples.jsonl: {gen}")
    gen_tp2 = jsonl(f"{work}/gen_tp2/samples.jsonl")
    expect([s["output"] for s in gen] == [s["output"] for s in gen_tp2],
           "generation outputs differ between tp 1 and tp 2")
    report = read(f"{work}/np1/report.md")
    for part in ["## val_perplexity", "## cloze", "model 2 - model 1", " ± "]:
        expect(part in report, f"np1/report.md lacks {part!r}")
    expect("| exact_match |" in read(f"{work}/gen_np2/report.md"), "gen_np2/report.md lacks exact_match")
    loss = base[(f"{work}/run", "val_perplexity", "mean_loss")][0]
    early = base[(f"{work}/run:6", "val_perplexity", "mean_loss")][0]
    print(f"val loss: step 12 {loss:.4f}, step 6 {early:.4f}")


def monitor(work):
    """tests/mpi/monitor.sh: run A's stragglers, run B's hung step, metrics.prom, run page, eval."""
    def anomalies(run, kind):
        return [a for line in jsonl(f"{work}/{run}/metrics.jsonl") for a in line.get("anomalies", [])
                if a["kind"] == kind]

    a = anomalies("a", "straggler")
    # (the machine may be loaded: rank 0 can be slowed too, now and then, but rank 1 always sleeps)
    expect(len([s for s in a if s["rank"] == 1]) > len(a) / 2, f"run A stragglers: {a}")
    gathered = [line["rank_step_s"] for line in jsonl(f"{work}/a/metrics.jsonl") if "rank_step_s" in line]
    expect(len(gathered) == 8 and sum(r[1] - r[0] for r in gathered) > 8 * 0.05, f"run A rank_step_s: {gathered}")
    hung = anomalies("b", "hung_step")
    expect(any(h["step"] == 31 and h["rank"] == 0 and "busy" in h["message"] for h in hung),
           f"run B hung steps: {hung}")
    drops = anomalies("b", "throughput_drop")
    expect(any(d["step"] == 35 for d in drops), f"run B throughput drops: {drops}")
    prom = read(f"{work}/b/metrics.prom")
    expect(f'tessera_train_step{{run="{work}/b"}} 40\n' in prom, "metrics.prom lacks the final step:\n" + prom)
    expect(f'tessera_train_rank_busy_seconds{{run="{work}/b",rank="1"}}' in prom,
           "metrics.prom lacks rank 1's busy time")
    count = [line for line in prom.splitlines() if 'kind="hung_step"' in line]
    expect(count and float(count[0].split()[-1]) >= 1, f"metrics.prom hung_step count: {count}")
    expect(not os.path.exists(f"{work}/b/metrics.prom.tmp"), "metrics.prom.tmp left behind")
    expect("<td>31</td><td>hung_step</td><td>0</td>" in read(f"{work}/b/report.html"),
           "the run page does not list the hung step")

    def values(path):
        r = json.loads(read(path))
        return {(t, k): (v["value"], v["stderr"]) for t, task in r["models"][0]["tasks"].items()
                for k, v in task["metrics"].items()}

    mem, fresh = values(f"{work}/b/eval/results.json"), values(f"{work}/fresh/results.json")
    expect(len(mem) == 5 and mem == fresh, f"in-memory eval {mem} differs from the saved checkpoint's {fresh}")
    step = json.loads(read(f"{work}/b/eval/results.json"))["models"][0]["checkpoint"]["step"]
    expect(step == 40, f"the eval phase describes step {step}")


def main():
    global check_name
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="check", required=True)
    p = sub.add_parser("losses_agree")
    p.add_argument("ref_run")
    p.add_argument("run")
    p.add_argument("--first", type=int, default=1)
    p.add_argument("--tolerance", type=float, required=True)
    p.add_argument("--lines", type=int)
    p.add_argument("--falls", action="store_true")
    p = sub.add_parser("precision_tracks")
    p.add_argument("fp32_run")
    p.add_argument("bf16_run")
    p.add_argument("--tolerance", type=float, required=True)
    sub.add_parser("eval_identical").add_argument("work")
    sub.add_parser("monitor").add_argument("work")
    args = vars(parser.parse_args())
    check_name = args.pop("check")
    try:
        globals()[check_name](**args)
    except (OSError, KeyError, ValueError, IndexError, TypeError) as e:  # a file missing or malformed
        line = traceback.extract_tb(e.__traceback__)[-1].lineno
        print(f"FAIL {check_name} (checks.py:{line}): {type(e).__name__}: {e}")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
