#!/usr/bin/env python3
"""Alternating k-means benchmark on a 1,000,000 x 10 matrix (bench/kmeans/gen_matrix.py), k = 8:
scikit-learn KMeans(lloyd, tol 1e-4, k-means++) against this crate's Lloyd engine
(examples/kmeans_bench.rs), one fit per process so that wall time and peak RSS (wait4) are per fit.

    /work/helpers/venv/bin/python bench/kmeans/gen_matrix.py 1000000 /tmp/seg_bench_1m.npy
    /work/helpers/venv/bin/python bench/kmeans/bench.py --matrix /tmp/seg_bench_1m.npy \
        --bin /work/bench-bin/kmeans_bench --n-init 1,3 --rounds 3

Round r uses seed r for both implementations (their k-means++ draws differ, so inertias are
compared as medians and minima over the seeds, not pair by pair).
"""
import argparse
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness import measure  # noqa: E402


def sklearn_child(path, k, n_init, seed):
    import numpy as np
    from sklearn.cluster import KMeans

    x = np.load(path)
    t = time.perf_counter()
    km = KMeans(n_clusters=k, n_init=n_init, algorithm="lloyd", tol=1e-4, random_state=seed).fit(x)
    print(f"sklearn k={k} n_init={n_init} seed={seed}: {time.perf_counter() - t:.3f} s, "
          f"inertia {km.inertia_:.6e}, n_iter {km.n_iter_}")


LINE = re.compile(r": ([0-9.]+) s, inertia ([0-9.e+-]+), n_iter (\d+)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--matrix", default="/tmp/seg_bench_1m.npy")
    ap.add_argument("--bin", default="/work/bench-bin/kmeans_bench")
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--n-init", default="1,3")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    summary = []
    for n_init in [int(v) for v in args.n_init.split(",")]:
        runs = {"sklearn": [], "bullseye": []}
        for r in range(args.rounds):
            cmds = {
                "sklearn": [sys.executable, os.path.abspath(__file__), "--child", args.matrix, str(args.k),
                            str(n_init), str(r)],
                "bullseye": [args.bin, args.matrix, str(args.k), str(n_init), "lloyd", "1", str(r)],
            }
            for name, cmd in cmds.items():
                wall, rss, out = measure(cmd)
                fit_s, inertia, n_iter = LINE.search(out).groups()
                runs[name].append((wall, rss, float(fit_s), float(inertia), int(n_iter)))
                print(f"  n_init={n_init} round {r + 1} seed {r} {name:<9} wall {wall:7.2f} s fit {float(fit_s):7.2f} s "
                      f"{rss:7.0f} MiB inertia {float(inertia):.6e} n_iter {n_iter} load {os.getloadavg()[0]:.2f}",
                      flush=True)
        for name, v in runs.items():
            summary.append((n_init, name, statistics.median(x[0] for x in v), statistics.median(x[2] for x in v),
                            statistics.median(x[1] for x in v), statistics.median(x[3] for x in v),
                            min(x[3] for x in v)))
    print(f"\n{'n_init':>6} {'impl':<9} {'wall s':>8} {'fit s':>8} {'peak MiB':>9} {'median inertia':>15} {'min inertia':>13}")
    for n_init, name, wall, fit, rss, med, lo in summary:
        print(f"{n_init:>6} {name:<9} {wall:8.2f} {fit:8.2f} {rss:9.0f} {med:15.6e} {lo:13.6e}")
    by = {(n, name): (fit, med, lo) for n, name, _, fit, _, med, lo in summary}
    for n_init in sorted({n for n, _ in by}):
        sk, be = by[(n_init, "sklearn")], by[(n_init, "bullseye")]
        print(f"n_init={n_init}: fit time sklearn/bullseye {sk[0] / be[0]:.2f}x; "
              f"median inertia bullseye/sklearn - 1 = {be[1] / sk[1] - 1:+.4%}; min {be[2] / sk[2] - 1:+.4%}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        sklearn_child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
