#!/usr/bin/env python3
"""Benchmark: Bullseye's CLV model (BG/NBD + Gamma-Gamma) against lifetimes on the synthetic data of
../shared/bench/gen_transactions.py, alternating implementations.

    /work/helpers/venv/bin/python bench/clv.py --data /work/bench-data/syn1000000 \
        --bin /work/bench-bin/bullseye --example /work/bench-bin/bench_clv_fit --rounds 3

Steps:
1. Once per data set: lifetimes' `summary_data_from_transaction_data` (freq 'D', observation end
   2024-12-31, monetary `amount`) is computed and saved as `lifetimes_summary.csv` beside the data.
2. Timed, alternating, each in its own process (wall time and peak RSS via wait4):
   - `lifetimes`: BetaGeoFitter().fit(frequency, recency, T) + GammaGammaFitter().fit on customers
     with frequency > 0 and monetary_value > 0, on the saved summary (CSV reading of the summary is excluded from the
     fit time printed by the child, included in the process wall time);
   - `bullseye-cli`: `bullseye clv fit` on the transactions CSV (reads and validates every
     transaction, builds the summaries, fits);
   - `bullseye-fit` (with --example): the pure `ClvModel::fit` on the lifetimes summary
     (examples/bench_clv_fit.rs), which also times the per-customer predictions.
   - `bullseye-predict`: `bullseye clv predict --horizon 30` on the transactions CSV.
3. Prints medians and compares the fitted parameters.

The children print their own in-process timings (JSON); both the process wall time and the
in-process fit time are reported.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

AS_OF = "2024-12-31"


def measure_wait4(cmd, out_path):
    """harness.measure, with the child's stdout also kept in out_path."""
    wall, rss, text = harness.measure(cmd)
    with open(out_path, "w") as f:
        f.write(text)
    return wall, rss, text


def build_summary(data_dir):
    path = os.path.join(data_dir, "lifetimes_summary.csv")
    if os.path.exists(path):
        return path
    import pandas as pd
    from lifetimes.utils import summary_data_from_transaction_data

    t = time.perf_counter()
    tx = pd.read_csv(os.path.join(data_dir, "transactions.csv"),
                     usecols=["customer_id", "order_date", "amount"],
                     dtype={"customer_id": str})
    tx["order_date"] = pd.to_datetime(tx["order_date"])
    s = summary_data_from_transaction_data(tx, "customer_id", "order_date", monetary_value_col="amount",
                                           observation_period_end=AS_OF, freq="D")
    s.to_csv(path + ".tmp", index_label="customer_id")
    os.replace(path + ".tmp", path)
    print(f"lifetimes summary: {len(s)} customers in {time.perf_counter() - t:.1f} s -> {path}", flush=True)
    return path


def lifetimes_fit(summary_path):
    """Child process: fits lifetimes on the saved summary, prints one JSON line."""
    import warnings

    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    warnings.filterwarnings("ignore")
    s = pd.read_csv(summary_path, dtype={"customer_id": str})
    t0 = time.perf_counter()
    bgf = BetaGeoFitter(penalizer_coef=0.0).fit(s["frequency"], s["recency"], s["T"])
    t_bg = time.perf_counter() - t0
    rep = s[(s["frequency"] > 0) & (s["monetary_value"] > 0)]
    t1 = time.perf_counter()
    ggf = GammaGammaFitter(penalizer_coef=0.0).fit(rep["frequency"], rep["monetary_value"])
    t_gg = time.perf_counter() - t1
    p = bgf.params_
    g = ggf.params_
    print(json.dumps({
        "customers": len(s), "fit_s": t_bg + t_gg, "bgnbd_s": t_bg, "gg_s": t_gg,
        "r": p["r"], "alpha": p["alpha"], "a": p["a"], "b": p["b"],
        "p": g["p"], "q": g["q"], "v": g["v"],
    }))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/bench-data/syn1000000")
    ap.add_argument("--bin", default="/work/bench-bin/bullseye")
    ap.add_argument("--example", default="/work/bench-bin/bench_clv_fit",
                    help="examples/bench_clv_fit binary (skipped when missing)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--skip", default="", help="comma-separated implementations to leave out")
    args = ap.parse_args()

    summary = build_summary(args.data)
    tx = os.path.join(args.data, "transactions.csv")
    tmp = tempfile.mkdtemp(prefix="bullseye-clv-bench-")
    model_dir = os.path.join(tmp, "model")
    impls = {
        "lifetimes": [sys.executable, os.path.abspath(__file__), "--child-lifetimes", summary],
        "bullseye-cli": [args.bin, "clv", "fit", "--transactions", tx, "--as-of", AS_OF,
                         "--time-unit", "days", "--out", model_dir, "--max-reject-rate", "1"],
    }
    if os.path.exists(args.example):
        impls["bullseye-fit"] = [args.example, summary, "30"]
    skip = set(filter(None, args.skip.split(",")))
    impls = {k: v for k, v in impls.items() if k not in skip}
    predict = [args.bin, "clv", "predict", "--model", model_dir, "--transactions", tx, "--as-of", AS_OF,
               "--horizon", "30", "--out", os.path.join(tmp, "pred.parquet"), "--max-reject-rate", "1"]

    runs = {n: [] for n in list(impls) + ["bullseye-predict"]}
    outputs = {}
    for r in range(args.rounds):
        order = list(impls.items())
        if "bullseye-cli" in impls:
            order.append(("bullseye-predict", predict))  # needs the model just written
        for name, cmd in order:
            wall, rss, out = measure_wait4(cmd, os.path.join(tmp, name + ".out"))
            inner = None
            for line in out.splitlines():
                if line.startswith("{"):
                    outputs[name] = json.loads(line)
                    inner = outputs[name].get("fit_s")
            runs[name].append((wall, rss, inner))
            extra = f"  (in-process fit {inner:.3f} s)" if inner is not None else ""
            print(f"  round {r + 1} {name:<17} {wall:8.3f} s {rss:8.0f} MiB{extra}  load {os.getloadavg()[0]:.2f}",
                  flush=True)
        if "bullseye-cli" in impls:
            with open(os.path.join(model_dir, "model.json")) as f:
                outputs["bullseye-cli"] = json.load(f)

    print(f"\n{'impl':<17} {'median wall s':>13} {'median in-proc fit s':>20} {'peak MiB':>9}")
    for name, v in runs.items():
        if not v:
            continue
        inner = [i for _, _, i in v if i is not None]
        med_inner = f"{statistics.median(inner):20.3f}" if inner else f"{'':>20}"
        print(f"{name:<17} {statistics.median(w for w, _, _ in v):13.3f} {med_inner} "
              f"{statistics.median(m for _, m, _ in v):9.0f}")

    print("\nparameters:")
    rows = []
    if "lifetimes" in outputs:
        rows.append(("lifetimes", outputs["lifetimes"]))
    if "bullseye-cli" in outputs:
        m = outputs["bullseye-cli"]
        gg = m.get("gamma_gamma") or {}
        rows.append(("bullseye-cli", {**m["bgnbd"], "p": gg.get("p"), "q": gg.get("q"), "v": gg.get("v")}))
    if "bullseye-fit" in outputs:
        rows.append(("bullseye-fit", outputs["bullseye-fit"]))
    for name, p in rows:
        print(f"  {name:<13} " + " ".join(f"{k}={p.get(k):.6g}" for k in ("r", "alpha", "a", "b", "p", "q", "v")
                                           if p.get(k) is not None))
    if "lifetimes" in outputs:
        ref = outputs["lifetimes"]
        for name, p in rows[1:]:
            rel = {k: abs(p[k] - ref[k]) / abs(ref[k]) for k in ("r", "alpha", "a", "b", "p", "q", "v")
                   if p.get(k) is not None}
            print(f"  max relative difference {name} vs lifetimes: "
                  + ", ".join(f"{k} {v:.2e}" for k, v in rel.items()))
    if "bullseye-fit" in outputs:
        o = outputs["bullseye-fit"]
        print(f"\npure predictions ({o['customers']} customers): P(alive)+expected purchases "
              f"{o['predict_alive_expected_s']:.3f} s, 12-month CLV {o['clv12_s']:.3f} s (last round)")
    print(json.dumps({"runs": runs, "outputs": outputs}, default=str), file=open(os.path.join(tmp, "result.json"), "w"))
    print(f"raw results: {tmp}/result.json")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child-lifetimes":
        lifetimes_fit(sys.argv[2])
    else:
        main()
