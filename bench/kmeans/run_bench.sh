#!/bin/sh
# k-means benchmark, 1M x 10, k = 8: scikit-learn vs this crate's Lloyd engine, alternating, one
# fit per process (wall time, peak RSS via wait4). Then the inertia checks on the CDNOW features
# and on the synthetic data (bench/kmeans/quality.py). Run from the repository root.
# Usage: bench/kmeans/run_bench.sh [rounds]
set -e
ROUNDS=${1:-5}
PY=${PY:-/work/helpers/venv/bin/python}
BIN=${BIN:-/work/bench-bin/bullseye}
EX=${EX:-/work/bench-bin/kmeans_bench}
M=${M:-/tmp/seg_bench_1m.npy}
SYN=${SYN:-/work/bench-data/syn100000/transactions.csv}
[ -f "$M" ] || $PY bench/kmeans/gen_matrix.py 1000000 "$M"
uptime
$PY bench/kmeans/bench.py --matrix "$M" --bin "$EX" --n-init 1,3 --rounds "$ROUNDS"
uptime
$BIN features --config notebooks-data/quickstart.toml --as-of 1998-06-30 --families rfm --out /tmp/cdnow_features.parquet
$BIN features --transactions "$SYN" --as-of 2024-12-31 --families rfm,btyd,windows,cycle \
  --out /tmp/syn_features.parquet --max-reject-rate 1
for k in 4 5 8; do
  echo "== CDNOW k=$k"; $PY bench/kmeans/quality.py /tmp/cdnow_features.parquet --bin "$BIN" --k $k --n-init 3
  echo "== synthetic 100k k=$k"; $PY bench/kmeans/quality.py /tmp/syn_features.parquet --bin "$BIN" --k $k --n-init 3
done
