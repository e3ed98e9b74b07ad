#!/usr/bin/env python3
"""Alternating logistic-regression benchmark, 1,000,000 x 20: this crate's Newton solver
(examples/bench_logistic.rs) against scikit-learn LogisticRegression(lbfgs, C=1) at tol 1e-4
(its default) and 1e-8, one process per fit (wall time and peak RSS via wait4). Each child also
scores the 10x tiled matrix (10,000,000 rows) and reports that time separately.

    /work/bench-bin/bench_logistic gen /tmp/bench_logistic.bin
    /work/helpers/venv/bin/python bench/logistic/bench.py --data /tmp/bench_logistic.bin \
        --bin /work/bench-bin/bench_logistic --rounds 3
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from harness import measure as harness_measure  # noqa: E402


def measure(cmd):
    """harness.measure, with the child's last JSON line parsed."""
    wall, rss, out = harness_measure(cmd)
    line = [l for l in out.splitlines() if l.startswith("{")][-1]
    return wall, rss, json.loads(line)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/bench_logistic.bin")
    ap.add_argument("--bin", default="/work/bench-bin/bench_logistic")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if not os.path.exists(args.data):
        subprocess.run([args.bin, "gen", args.data], check=True)
    script = os.path.join(HERE, "bench_logistic.py")
    impls = {
        "bullseye-newton": [args.bin, "run", args.data],
        "sklearn-lbfgs-1e-4": [sys.executable, script, args.data, "1e-4"],
        "sklearn-lbfgs-1e-8": [sys.executable, script, args.data, "1e-8"],
    }
    runs = {n: [] for n in impls}
    for r in range(args.rounds):
        for name, cmd in impls.items():
            wall, rss, o = measure(cmd)
            runs[name].append((wall, rss, o))
            print(f"  round {r + 1} {name:<19} wall {wall:6.2f} s train {o['train_s']:6.3f} s "
                  f"({o['iterations']} it) score 10M {o['score_s']:6.3f} s {rss:6.0f} MiB "
                  f"log loss {o['log_loss']:.10f} load {os.getloadavg()[0]:.2f}", flush=True)
    print(f"\n{'impl':<19} {'wall s':>7} {'train s':>8} {'score 10M s':>11} {'peak MiB':>9} {'log loss':>14} intercept, coef[0..3]")
    med = {}
    for name, v in runs.items():
        o = v[-1][2]
        med[name] = statistics.median(x[2]["train_s"] for x in v)
        print(f"{name:<19} {statistics.median(x[0] for x in v):7.2f} {med[name]:8.3f} "
              f"{statistics.median(x[2]['score_s'] for x in v):11.3f} {statistics.median(x[1] for x in v):9.0f} "
              f"{o['log_loss']:14.10f} {o['intercept']:.6f}, {o['coef0']:.6f}, {o['coef1']:.6f}, {o['coef2']:.6f}")
    ref = runs["bullseye-newton"][-1][2]["log_loss"]
    for name in impls:
        if name != "bullseye-newton":
            print(f"{name}: train time ÷ bullseye {med[name] / med['bullseye-newton']:.2f}x; "
                  f"log loss bullseye − sklearn {ref - runs[name][-1][2]['log_loss']:+.3e}")


if __name__ == "__main__":
    main()
