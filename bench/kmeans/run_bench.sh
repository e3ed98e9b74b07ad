#!/bin/sh
# Interleaved k-means benchmark, 1M x 10, k = 8: scikit-learn vs this crate's Lloyd engine.
# Usage: bench/run_bench.sh /tmp/seg_bench_1m.npy  (matrix from bench/gen_matrix.py)
set -e
M=${1:-/tmp/seg_bench_1m.npy}
PY=${PY:-/work/helpers/venv/bin/python}
BIN=${BIN:-target/release/examples/kmeans_bench}
for n_init in 1 3; do
  uptime
  $PY bench/sk_seeds.py "$M" 8 $n_init 5
  $BIN "$M" 8 $n_init lloyd 5
done
