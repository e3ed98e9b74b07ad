#!/usr/bin/env python3
"""k-means quality check: scikit-learn and `bullseye segment` on the same transformed matrix.

Takes a features file written by `bullseye features`, applies the log-standardize transform of
`bullseye segment` in Python (signed log1p, then subtract the mean and divide by the population
std) to the clustered columns, fits scikit-learn KMeans(k, k-means++, n_init, lloyd, tol 1e-4)
for several random_states, and runs `bullseye segment --k K --n-init N --seed S --save-model DIR`
for as many seeds (its model.json carries "inertia"). Prints both inertias per seed, medians,
minima and the relative gap.

    /work/bench-bin/bullseye features --transactions /work/bench-data/syn100000/transactions.csv \
        --as-of 2024-12-31 --families rfm,btyd,windows,cycle --out /tmp/syn_features.parquet --max-reject-rate 1
    /work/helpers/venv/bin/python bench/kmeans/quality.py /tmp/syn_features.parquet --k 5 --n-init 3
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("features")
    ap.add_argument("--bin", default="/work/bench-bin/bullseye")
    ap.add_argument("--columns", default="recency_days,frequency,monetary_total")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--n-init", type=int, default=3)
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    cols = args.columns.split(",")
    df = pd.read_parquet(args.features) if args.features.endswith(".parquet") else pd.read_csv(args.features)
    x = df[cols].to_numpy(dtype=float)
    x = np.sign(x) * np.log1p(np.abs(x))
    x = (x - x.mean(0)) / x.std(0)
    tmp = tempfile.mkdtemp(prefix="bullseye-kmeans-quality-")
    sk, be = [], []
    for seed in range(args.seeds):
        km = KMeans(n_clusters=args.k, n_init=args.n_init, algorithm="lloyd", tol=1e-4, random_state=seed).fit(x)
        sk.append(km.inertia_)
        model = os.path.join(tmp, f"m{seed}")
        subprocess.run([args.bin, "segment", "--features", args.features, "--out", os.path.join(tmp, f"s{seed}.csv"),
                        "--columns", args.columns, "--k", str(args.k), "--n-init", str(args.n_init),
                        "--seed", str(seed), "--save-model", model], check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(model, "model.json")) as f:
            m = json.load(f)
        inertia = find_key(m, "inertia")
        be.append(inertia)
        print(f"seed {seed}: sklearn {km.inertia_:.4f} (n_iter {km.n_iter_})  bullseye {inertia:.4f}  "
              f"gap {inertia / km.inertia_ - 1:+.4%}", flush=True)
    print(f"{len(x)} rows x {len(cols)} columns, k={args.k}, n_init={args.n_init}")
    print(f"median: sklearn {statistics.median(sk):.4f} bullseye {statistics.median(be):.4f} "
          f"gap {statistics.median(be) / statistics.median(sk) - 1:+.4%}")
    print(f"min:    sklearn {min(sk):.4f} bullseye {min(be):.4f} gap {min(be) / min(sk) - 1:+.4%}")
    print(f"max seed-wise gap bullseye vs sklearn: {max(b / s - 1 for b, s in zip(be, sk)):+.4%}")


def find_key(obj, key):
    if isinstance(obj, dict):
        if key in obj and isinstance(obj[key], (int, float)):
            return float(obj[key])
        for v in obj.values():
            r = find_key(v, key)
            if r is not None:
                return r
    elif isinstance(obj, list):
        for v in obj:
            r = find_key(v, key)
            if r is not None:
                return r
    return None


if __name__ == "__main__":
    main()
