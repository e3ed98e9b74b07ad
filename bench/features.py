#!/usr/bin/env python3
"""Benchmark: `bullseye features` vs the same features in pandas and polars-python, on the
synthetic data of ../shared/bench/gen_transactions.py, alternating implementations.

    python3 -m venv .venv-bench && .venv-bench/bin/pip install -r ../shared/bench/requirements.txt
    BENCH_PYTHON=.venv-bench/bin/python .venv-bench/bin/python bench/features.py --scales 100000,1000000 --rounds 3

Prints median wall time and peak memory per implementation and scale.
"""
import argparse
import os
import tempfile

import harness

FAMILIES = "rfm,btyd,windows,cycle,mix"
AS_OF = "2024-12-31"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", default="100000,1000000")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--data-dir", default=os.path.join(harness.ROOT, "target", "bench-data"))
    args = ap.parse_args()
    binary = harness.bullseye_binary()
    py = harness.python()
    tmp = tempfile.mkdtemp(prefix="bullseye-bench-")
    print(f"{'customers':>10} {'impl':<10} {'median s':>9} {'peak MiB':>9} {'vs bullseye':>11}")
    results = []
    for scale in [int(s) for s in args.scales.split(",")]:
        data = harness.ensure_data(args.data_dir, scale)
        tx = os.path.join(data, "transactions.csv")
        impls = {
            "bullseye": [binary, "features", "--transactions", tx, "--as-of", AS_OF,
                         "--families", FAMILIES, "--max-reject-rate", "1", "--out", os.path.join(tmp, "b.parquet")],
            "pandas": [py, os.path.join(harness.HERE, "py", "features_pandas.py"), tx, AS_OF, os.path.join(tmp, "p.parquet")],
            "polars-py": [py, os.path.join(harness.HERE, "py", "features_polars.py"), tx, AS_OF, os.path.join(tmp, "l.parquet")],
        }
        print(f"scale {scale}:")
        med = harness.alternate(impls, args.rounds)
        base = med["bullseye"][0]
        for name, (wall, rss) in med.items():
            results.append((scale, name, wall, rss, wall / base))
    print()
    print(f"{'customers':>10} {'impl':<10} {'median s':>9} {'peak MiB':>9} {'÷ bullseye':>10}")
    for scale, name, wall, rss, ratio in results:
        print(f"{scale:>10} {name:<10} {wall:>9.2f} {rss:>9.0f} {ratio:>10.2f}")


if __name__ == "__main__":
    main()
