#!/usr/bin/env python3
"""The headline benchmark: the same campaign job end to end with `bullseye run` and with a
pandas + scikit-learn and a polars-python + scikit-learn pipeline (bench/py/pipeline_*.py),
alternating, on the synthetic data of ../shared/bench/gen_transactions.py; writes BENCHMARKS.md.

    /work/helpers/venv/bin/python bench/pipeline.py --scales 100000,1000000 --rounds 3 \
        --bin /work/bench-bin/bullseye [--bullseye-only-scale 10000000]

The job (as of 2024-12-31): read + validate transactions, customers and the campaign history;
every feature family as of the as-of day; k-means (k = 5) on the segment stage's default
columns and transform; a logistic response model on the 12 sends with point-in-time features
(holdout = the latest sends, ~20% of the rows, for the AUC; then refit on every row); score every
customer; one budgeted e-mail campaign (cost 0.10, 40 per response, budget = 0.10 × 5% of the
customers, 10% seeded control); audience.csv. Bullseye runs bench/jobs/synthetic.toml +
campaign.toml (filled in per scale in the work folder), the Python children print their own
per-stage seconds. Wall time and peak RSS per child via harness.measure (wait4), medians over
the rounds. Data is generated once per scale and reused.
"""
import argparse
import datetime as dt
import glob
import json
import os
import platform
import statistics
import string
import subprocess
import sys
import tempfile
import time

import harness

AS_OF = "2024-12-31"
PY_STAGES = ["read", "features", "kmeans", "train", "score", "select", "write"]
# The comparable columns: (label, bullseye manifest stages, python stages).
COLUMNS = [
    ("read / ingest", ["ingest"], ["read"]),
    ("features", ["features"], ["features"]),
    ("k-means / segment", ["segment"], ["kmeans"]),
    ("train", ["train"], ["train"]),
    ("score", ["score"], ["score"]),
    ("select + write", ["select"], ["select", "write"]),
]
IMPLS = ["bullseye", "pandas", "polars", "lean-pandas", "lean-polars"]
# Same work as bullseye's job, done the way a pandas/polars user would.
SAME_WORK = ("pandas", "polars")
# The lean script of ../shared/bench: five hand-picked point-in-time features, k-means (k = 8) on
# six, one logistic model, one budgeted audience (issue 26's "a lean script is as fast").
LEAN = ("lean-pandas", "lean-polars")
# Its stages, mapped onto PY_STAGES.
LEAN_STAGES = {"read": "read", "features": "features", "kmeans": "kmeans", "train_features": "train",
               "train_lr": "train", "score_select": "score", "write": "write"}


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60).stdout.strip()
    except Exception as e:  # noqa: BLE001 - informational only
        return f"({e})"


def load():
    return os.getloadavg()[0]


def gen_data(data_dir, customers, chunks=1):
    """harness.ensure_data, plus `--chunks` for the 10M set (generated in ~3 GB)."""
    out = os.path.join(data_dir, f"syn{customers}")
    if chunks == 1:
        return harness.ensure_data(data_dir, customers)
    if not os.path.exists(os.path.join(out, "params.json")):
        gen = os.path.join(harness.SHARED, "bench", "gen_transactions.py")
        t = time.perf_counter()
        subprocess.run([sys.executable, gen, "--customers", str(customers), "--avg-orders", "20", "--seed", "42",
                        "--chunks", str(chunks), "--out", out], check=True)
        print(f"generated {out} in {time.perf_counter() - t:.0f} s", flush=True)
    return out


def n_customers(data):
    with open(os.path.join(data, "params.json")) as f:
        return int(json.load(f)["customers"])


def write_job(data, work, budget, n_init):
    """Fills in bench/jobs/*.toml for one data set; returns (job path, chain ingest config path)."""
    os.makedirs(work, exist_ok=True)
    jobs = os.path.join(harness.HERE, "jobs")
    with open(os.path.join(jobs, "synthetic.toml")) as f:
        job = string.Template(f.read()).substitute(
            as_of=AS_OF, n_init=n_init,
            transactions=os.path.join(data, "transactions.csv"),
            customers=os.path.join(data, "customers.csv"),
            contacts=os.path.join(data, "campaign_history.csv"))
    with open(os.path.join(jobs, "campaign.toml")) as f:
        campaign = string.Template(f.read()).substitute(budget=repr(float(budget)))
    job_path = os.path.join(work, "synthetic.toml")
    with open(job_path, "w") as f:
        f.write(job)
    with open(os.path.join(work, "campaign.toml"), "w") as f:
        f.write(campaign)
    # The ingest part of the job, for the `chain` fallback (separate commands).
    part = job.split("# -- ingest + sources")[1].split("# -- end sources --")[0]
    part = part.split("\n", 1)[1].replace("[ingest]\n", f'[ingest]\nas_of = "{AS_OF}"\n', 1)
    cfg = os.path.join(work, "ingest.toml")
    with open(cfg, "w") as f:
        f.write(part)
    return job_path, cfg


def has_run(binary):
    return subprocess.run([binary, "run", "--help"], capture_output=True).returncode == 0


# ---------------------------------------------------------------------------------------------
# bullseye: one `bullseye run`, or (fallback while `run` is not built) the chained commands.

def bullseye_run_cmd(binary, job, out):
    return [binary, "run", job, "--out", out, "--quiet"]


def chain_script(binary, cfg, work, out, n_init):
    """A shell script running features → segment → train → score → select as separate commands,
    printing one JSON line of per-command seconds (each command re-reads its inputs)."""
    d = os.path.join(out, AS_OF)
    steps = [
        ("features", [binary, "features", "--config", cfg, "--as-of", AS_OF, "--out", f"{d}/features.parquet"]),
        ("segment", [binary, "segment", "--features", f"{d}/features.parquet", "--out", f"{d}/segments.csv",
                     "--k", "5", "--n-init", str(n_init), "--seed", "7", "--save-model", f"{d}/models/segments"]),
        ("train", [binary, "train", "response", "--config", cfg, "--seed", "7", "--out", f"{d}/models/response"]),
        ("score", [binary, "score", "--model", f"{d}/models/response", "--features", f"{d}/features.parquet",
                   "--out", f"{d}/scores.csv"]),
        ("select", [binary, "select", "--scores", f"{d}/scores.csv", "--campaign", os.path.join(work, "campaign.toml"),
                    "--out", f"{d}/audience/synthetic-email"]),
    ]
    py = (
        "import json,subprocess,sys,time,os\n"
        f"steps={steps!r}\nos.makedirs({d!r},exist_ok=True)\nst=[]\n"
        "for n,c in steps:\n"
        "    t=time.perf_counter(); subprocess.run(c,check=True,stdout=subprocess.DEVNULL)\n"
        "    st.append({'name':n,'seconds':time.perf_counter()-t,'rows':None})\n"
        f"json.dump({{'stages':st}},open(os.path.join({d!r},'chain.json'),'w'))\n"
    )
    return [sys.executable, "-c", py]


def bullseye_result(out, mode):
    """Per-stage seconds and the comparison figures from a finished run's folder."""
    d = os.path.join(out, AS_OF)
    man = os.path.join(d, "manifest.json" if mode == "run" else "chain.json")
    with open(man) as f:
        m = json.load(f)
    stages = {}
    for s in m.get("stages", []):
        stages[s.get("name")] = stages.get(s.get("name"), 0.0) + float(s.get("seconds") or 0.0)
    checks = {"manifest_total_seconds": m.get("total_seconds")}
    for s in m.get("stages", []):
        for p in s.get("parts", []):
            # `train`: "<model> rows" and "<model> fit" (the holdout fit and the refit)
            key = {"rows": "train_rows_seconds", "fit": "train_fit_seconds"}.get(p["name"].split()[-1])
            if s.get("name") == "train" and key:
                checks[key] = round(checks.get(key, 0.0) + float(p["seconds"]), 4)
    checks["steps"] = [(s.get("name"), p["name"], float(p["seconds"]))
                       for s in m.get("stages", []) for p in s.get("parts", [])]
    rejected = {i.get("table"): i.get("rows_rejected") for i in m.get("inputs", [])}
    if rejected:
        checks["rejected"] = rejected
    checks.update(bullseye_checks(d))
    return stages, checks


def find_key(o, key):
    if isinstance(o, dict):
        if key in o and not isinstance(o[key], (dict, list)):
            return o[key]
        for v in o.values():
            r = find_key(v, key)
            if r is not None:
                return r
    elif isinstance(o, list):
        for v in o:
            r = find_key(v, key)
            if r is not None:
                return r
    return None


def bullseye_checks(d):
    import csv

    c = {}
    aud = glob.glob(os.path.join(d, "audience", "*", "audience.csv")) or glob.glob(os.path.join(d, "**", "audience.csv"), recursive=True)
    if aud:
        with open(aud[0]) as f:
            rows = list(csv.DictReader(f))
        groups = [r.get("group") for r in rows]
        c["audience"] = len(rows)
        c["target"] = groups.count("target")
        c["control"] = groups.count("control")
        c["expected_profit_target"] = sum(float(r["expected_profit"]) for r in rows if r.get("group") == "target")
    sc = os.path.join(d, "scores.csv")
    if os.path.exists(sc):
        with open(sc) as f:
            r = csv.DictReader(f)
            vals = [float(x["score"]) for x in r if x.get("score") not in (None, "")]
        c["customers"] = len(vals)
        c["mean_score"] = sum(vals) / len(vals) if vals else None
    for p in (os.path.join(d, "models", "response", "metrics.json"),):
        if os.path.exists(p):
            with open(p) as f:
                m = json.load(f)
            c["auc"] = find_key(m.get("metrics", m), "auc")
            c["train_rows"] = m.get("rows")
            c["holdout_rows"] = find_key(m.get("holdout", {}), "rows")
    p = os.path.join(d, "models", "segments", "model.json")
    if os.path.exists(p):
        with open(p) as f:
            c["inertia"] = find_key(json.load(f), "inertia")
    sizes = os.path.join(d, "segments.csv")
    if os.path.exists(sizes):
        with open(sizes) as f:
            cl = [r.get("cluster") for r in csv.DictReader(f)]
        counts = {}
        for x in cl:
            counts[x] = counts.get(x, 0) + 1
        c["cluster_sizes"] = sorted(counts.values(), reverse=True)
    return c


# ---------------------------------------------------------------------------------------------

def warm_up(data):
    """One untimed read of the input files (the page cache cannot be dropped without root)."""
    for name in ("transactions.csv", "customers.csv", "campaign_history.csv"):
        with open(os.path.join(data, name), "rb") as f:
            while f.read(1 << 24):
                pass


def run_scale(args, scale, mode, env_py):
    data = gen_data(args.data_dir, scale)
    n = n_customers(data)
    budget = round(0.10 * 0.05 * n, 2)
    work = os.path.join(args.work, f"syn{scale}")
    job, cfg = write_job(data, work, budget, args.kmeans_n_init)
    py_args = ["--budget", str(budget), "--as-of", AS_OF, "--k", "5", "--n-init", str(args.kmeans_n_init), "--seed", "7",
               "--train-features", args.python_train_features]
    impls = {}
    if "bullseye" in args.impls:
        out = os.path.join(work, "bullseye-out")
        impls["bullseye"] = (bullseye_run_cmd(args.bin, job, out) if mode == "run"
                             else chain_script(args.bin, cfg, work, out, args.kmeans_n_init), out)
    for name in SAME_WORK:
        if name in args.impls:
            out = os.path.join(work, f"{name}-out")
            impls[name] = ([args.python, os.path.join(harness.HERE, "py", f"pipeline_{name}.py"), data, out] + py_args, out)
    for name in LEAN:
        if name in args.impls:
            out = os.path.join(work, f"{name}-out")
            impls[name] = ([args.python, args.lean_script, "--data", data, "--engine", name.split("-")[1],
                            "--as-of", AS_OF, "--budget", str(budget), "--cost", "0.10", "--out-dir", out], out)
    runs = {k: [] for k in impls}
    errors = {}
    load_before = sh("uptime")
    print(f"scale {scale}: {n} customers, budget {budget}; {load_before}", flush=True)
    for r in range(args.rounds):
        for name, (cmd, out) in impls.items():
            env = env_py if name != "bullseye" else None
            # Before every run, not once per scale: a run with a large peak (the same-work
            # pipelines reach 13 GB at 1M) pushes the inputs out of the page cache, and the next
            # run would be timed reading them from disk.
            warm_up(data)
            try:
                wall, rss, stdout = harness.measure(cmd, env=env)
                if name == "bullseye":
                    stages, checks = bullseye_result(out, mode)
                elif name in LEAN:
                    stages, checks = lean_result(stdout, name.split("-")[1])
                else:
                    line = [x for x in stdout.splitlines() if x.startswith("{")][-1]
                    j = json.loads(line)
                    stages, checks = j["stages"], j["checks"]
            except Exception as e:  # noqa: BLE001 - recorded in BENCHMARKS.md, the other runs go on
                errors.setdefault(name, str(e)[-1500:])
                print(f"  round {r + 1} {name:<9} FAILED: {str(e)[-500:]}", flush=True)
                continue
            runs[name].append({"wall": wall, "rss": rss, "stages": stages, "checks": checks, "load": load()})
            print(f"  round {r + 1} {name:<9} {wall:8.2f} s {rss:9.0f} MiB  load {load():.2f}  "
                  + " ".join(f"{k} {v:.2f}" for k, v in stages.items()), flush=True)
    return {"scale": scale, "customers": n, "budget": budget, "data": data, "runs": runs, "errors": errors,
            "load_before": load_before, "load_after": sh("uptime")}


def lean_result(stdout, engine):
    """The lean script's JSON line: its stages summed onto PY_STAGES, and the figures it shares
    with the other pipelines (its job differs: k = 8, five model inputs)."""
    j = json.loads([x for x in stdout.splitlines() if x.startswith("{")][-1])[engine]
    stages = {}
    for k, v in j["stages_s"].items():
        if k in LEAN_STAGES:
            stages[LEAN_STAGES[k]] = stages.get(LEAN_STAGES[k], 0.0) + v
    s = j["summary"]
    checks = {"inertia": s.get("kmeans_inertia"), "cluster_sizes": s.get("cluster_sizes"),
              "audience": s.get("audience_size"), "expected_profit_target": s.get("audience_expected_profit")}
    return stages, {k: v for k, v in checks.items() if v is not None}


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarize(res):
    """{impl: {wall, rss, cols: {label: seconds}}} medians."""
    out = {}
    for name, runs in res["runs"].items():
        if not runs:
            continue
        stages = "bullseye" if name == "bullseye" else "python"
        cols = {}
        for label, bs, ps in COLUMNS:
            keys = bs if stages == "bullseye" else ps
            cols[label] = med([sum(r["stages"].get(k, 0.0) for k in keys) if any(k in r["stages"] for k in keys) else None
                               for r in runs])
        inside = med([sum(r["stages"].values()) for r in runs])
        wall = med([r["wall"] for r in runs])
        out[name] = {"wall": wall, "rss": med([r["rss"] for r in runs]), "cols": cols,
                     "other": wall - inside if inside is not None else None, "checks": runs[-1]["checks"]}
    return out


def issue26_targets(s):
    """Issue 26's side-by-side targets at one scale: total ≥ 10× the polars same-work pipeline,
    ≥ 3× each lean script, every stage ≥ 1× its same-work Python counterpart, memory below."""
    b = s.get("bullseye")
    if not b:
        return None
    lines = []
    def check(label, got, floor):
        lines.append(f"- {label}: {got:.2f}× (target ≥ {floor:g}×) → **{'met' if got >= floor else 'missed'}**")
    if "polars" in s:
        check("total vs polars same-work", s["polars"]["wall"] / b["wall"], 10)
    for name in LEAN:
        if name in s:
            check(f"total vs {name}", s[name]["wall"] / b["wall"], 3)
    same = [s[n] for n in SAME_WORK if n in s]
    for label, _, _ in COLUMNS:
        ours = b["cols"].get(label)
        theirs = [x["cols"].get(label) for x in same if x["cols"].get(label) is not None]
        if ours and theirs:
            check(f"{label} vs the faster same-work Python", min(theirs) / ours, 1)
    py_rss = [s[n]["rss"] for n in SAME_WORK + LEAN if n in s]
    if py_rss:
        lines.append(f"- peak memory: bullseye {b['rss']:,.0f} MiB, the lowest Python {min(py_rss):,.0f} MiB → "
                     f"**{'met' if b['rss'] < min(py_rss) else 'missed'}**")
    return "Targets (issue 26):\n\n" + "\n".join(lines) + "\n" if lines else None


def fmt(x, nd=2):
    return "–" if x is None else f"{x:,.{nd}f}"


def ratio(a, b):
    return "–" if a is None or b is None or b <= 0 else f"{a / b:.2f}×"


def render(args, mode, results, big, versions, machine, env_note):
    L = []
    L.append("# Benchmarks: the end-to-end campaign job\n")
    L.append(f"Written by `bench/pipeline.py` on {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC. "
             "One job, three implementations: `bullseye run` and the same work in pandas + scikit-learn and "
             "polars-python + scikit-learn (`bench/py/pipeline_{pandas,polars}.py`). See `bench/README.md` for "
             "what each stage does on each side. Beside them (when run): the lean script of "
             "`../shared/bench/lean_pipeline.py` in its pandas and polars flavours (`lean-pandas`, `lean-polars`), "
             "which makes the same kind of decision with far less work (five hand-picked point-in-time features, "
             "k-means with k = 8, no validation, one model, no report).\n")
    L.append("The job, as of 2024-12-31 on the synthetic data of `../shared/bench/gen_transactions.py` (~20 orders "
             "per customer, 12 monthly sends to 25% of the customers): read and validate transactions, customers and "
             "the campaign history; every feature family (rfm, btyd, windows, cycle, mix, attributes); k-means with "
             f"k = 5 (n_init {args.kmeans_n_init}, seed 7) on log-standardized recency, frequency, monetary total; a "
             "logistic response model (L2 = 1 ≙ C = 1) on the sends with point-in-time features (as of the day "
             "before each send), AUC on the latest sends (~20% of the rows), then refit on every row; score every "
             "customer; one e-mail campaign (cost 0.10, 40 per response, budget 0.10 × 5% of the customers, 10% "
             "seeded control stratified by score decile); write the audience.\n")
    L.append("## Machine and versions\n")
    for k, v in machine.items():
        L.append(f"- {k}: {v}")
    for k, v in versions.items():
        L.append(f"- {k}: {v}")
    L.append(f"- bullseye mode: {'`bullseye run JOB --out DIR --quiet` (one process)' if mode == 'run' else 'chain of separate commands (features, segment, train, score, select; `bullseye run` was not available) — each re-reads its inputs'}")
    L.append(f"- Python children: {env_note}; training rows built from the features of "
             + ("the contacted customers of each send only (the transactions are filtered to them first; "
                "bullseye builds every customer's features per send date, then joins)"
                if args.python_train_features == "contacted" else
                "every customer per send date, then joined to the contacts (as bullseye does)"))
    L.append(f"- rounds: {args.rounds}, implementations alternating, one process per run, medians; one untimed "
             "warm-up read of the input files before every run (the page cache is not dropped)\n")
    floor = None
    for res in results:
        s = summarize(res)
        L.append(f"## {res['customers']:,} customers\n")
        L.append(f"Data `{res['data']}`; campaign budget {res['budget']:,.2f}. Load before: `{res['load_before']}`; "
                 f"after: `{res['load_after']}`.\n")
        busy = max([r["load"] for rs in res["runs"].values() for r in rs] or [0.0])
        # The children themselves keep every core busy (load ≈ cores); more than that is other work.
        if busy > (os.cpu_count() or 1) + 0.5:
            L.append(f"**Not an idle machine**: the 1-minute load average reached {busy:.1f} on {os.cpu_count()} cores "
                     "during these runs, so the figures are not the reference ones."
                     + ("" if args.blas_threads else
                        " Under load, OpenBLAS' threads in scikit-learn's lbfgs spin against the other processes and "
                        "the Python train stage slows down several-fold (`--blas-threads 1` avoids that).") + "\n")
        for name, err in res.get("errors", {}).items():
            L.append(f"**{name} failed** ({len(res['runs'][name])} of {args.rounds} rounds succeeded):\n\n```\n{err}\n```\n")
        hdr = ["implementation", "total wall s", "peak RSS MiB"] + [c[0] + " s" for c in COLUMNS] + ["other s"]
        L.append("| " + " | ".join(hdr) + " |")
        L.append("|" + "---|" * len(hdr))
        for name in IMPLS:
            if name not in s:
                continue
            x = s[name]
            L.append("| " + " | ".join([name, fmt(x["wall"]), fmt(x["rss"], 0)] + [fmt(x["cols"][c[0]]) for c in COLUMNS]
                                      + [fmt(x["other"])]) + " |")
        L.append("")
        L.append("Stage seconds are measured inside each process (bullseye: `manifest.json` → `stages[].seconds`; "
                 "Python: `time.perf_counter` around each stage); \"other\" = wall − the stages (process start, imports, "
                 "writing the manifest). Python's select + write is only the selection and audience.csv; bullseye's "
                 "stages also write features.parquet, segments, the model files, scores.csv and drift.\n")
        if "bullseye" in s:
            b = s["bullseye"]
            L.append("Ratio = Python ÷ bullseye (above 1: bullseye is faster; memory: Python ÷ bullseye peak RSS).\n")
            hdr = ["vs", "total", "peak RSS"] + [c[0] for c in COLUMNS]
            L.append("| " + " | ".join(hdr) + " |")
            L.append("|" + "---|" * len(hdr))
            for name in SAME_WORK + LEAN:
                if name not in s:
                    continue
                x = s[name]
                L.append("| " + " | ".join([name, ratio(x["wall"], b["wall"]), ratio(x["rss"], b["rss"])]
                                          + [ratio(x["cols"][c[0]], b["cols"][c[0]]) for c in COLUMNS]) + " |")
            L.append("")
            py = [s[n] for n in ("pandas", "polars") if n in s]
            if py:
                fast = min(py, key=lambda x: x["wall"])
                fast_name = [n for n in ("pandas", "polars") if n in s and s[n] is fast][0]
                speed = fast["wall"] / b["wall"]
                mem_ok = b["rss"] < fast["rss"]
                verdict = "met" if speed >= 5 and mem_ok else "missed"
                line = (f"Floor check ({res['customers']:,} customers): bullseye {b['wall']:.2f} s, {b['rss']:,.0f} MiB vs "
                        f"the faster Python pipeline ({fast_name}) {fast['wall']:.2f} s, {fast['rss']:,.0f} MiB → "
                        f"{speed:.2f}× faster (floor 5×), memory {'lower' if mem_ok else 'higher'} → **{verdict}**"
                        + ("" if res["customers"] == 1_000_000 else " (the floor is defined at 1,000,000 customers; "
                                                                     "stated here for reference)") + ".\n")
                L.append(line)
                if res["customers"] == 1_000_000:
                    floor = line
            targets = issue26_targets(s)
            if targets:
                L.append(targets)
        # Sanity: the same work.
        L.append("Do the three pipelines agree? (last round's outputs)\n")
        keys = [("customers scored", "customers"), ("training rows", "train_rows"), ("holdout rows", "holdout_rows"),
                ("holdout AUC", "auc"), ("train: building the rows s", "train_rows_seconds"),
                ("train: the two fits s", "train_fit_seconds"), ("lbfgs iterations (refit)", "lbfgs_iterations"), ("k-means inertia", "inertia"), ("cluster sizes", "cluster_sizes"),
                ("mean score", "mean_score"), ("audience", "audience"), ("target", "target"), ("control", "control"),
                ("expected profit of the target", "expected_profit_target"), ("rejected rows", "rejected")]
        names = [n for n in IMPLS if n in s]
        L.append("| figure | " + " | ".join(names) + " |")
        L.append("|---|" + "---|" * len(names))
        for label, k in keys:
            vals = []
            for n in names:
                v = s[n]["checks"].get(k)
                if isinstance(v, float) and k.endswith("_seconds"):
                    v = f"{v:.2f}"
                elif isinstance(v, float):
                    v = f"{v:.4f}" if abs(v) < 10 else f"{v:,.2f}"
                elif isinstance(v, dict):
                    v = ", ".join(f"{a} {b}" for a, b in v.items())
                elif isinstance(v, list):
                    v = " / ".join(f"{x:,}" for x in v)
                elif isinstance(v, int):
                    v = f"{v:,}"
                vals.append("–" if v is None else str(v))
            L.append(f"| {label} | " + " | ".join(vals) + " |")
        if "bullseye" in s:
            bi = s["bullseye"]["checks"].get("inertia")
            notes = []
            for n in ("pandas", "polars"):
                if n in s and bi and s[n]["checks"].get("inertia"):
                    notes.append(f"inertia {n} ÷ bullseye = {s[n]['checks']['inertia'] / bi:.4f}")
                ba, pa = s["bullseye"]["checks"].get("auc"), s.get(n, {}).get("checks", {}).get("auc")
                if ba is not None and pa is not None:
                    notes.append(f"AUC {n} − bullseye = {pa - ba:+.4f}")
            if notes:
                L.append("\n" + "; ".join(notes) + ".")
        L.append("")
    if big:
        L.append(f"## bullseye alone at {big['customers']:,} customers\n")
        L.append(f"Data `{big['data']}` ({big.get('generated', 'reused')}); load before: `{big['load_before']}`; "
                 f"after: `{big['load_after']}`.\n")
        if big.get("error"):
            fa = big.get("failed_after")
            if fa:
                L.append(f"The run failed after {fa['wall']:.1f} s at a peak RSS of {fa['rss']:,.0f} MiB "
                         f"({fa['rss'] / 1024:.2f} GiB). Exit -9 is the kernel's OOM killer.\n")
            L.append(f"```\n{big['error'].strip()}\n```\n")
        else:
            r = big["run"]
            L.append(f"- wall time: {r['wall']:.1f} s; peak RSS: {r['rss']:,.0f} MiB ({r['rss'] / 1024:.2f} GiB)")
            L.append("- stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in r["stages"].items()))
            ch = r["checks"]
            if ch.get("steps"):
                L.append("- timed steps: " + "; ".join(f"{st} / {name} {sec:.1f} s" for st, name, sec in ch["steps"]))
            L.append(f"- customers scored {ch.get('customers', '–')}, training rows {ch.get('train_rows', '–')}, "
                     f"AUC {ch.get('auc', '–')}, audience {ch.get('audience', '–')}\n")
    if floor:
        L.append("## Floor (issue 8)\n")
        L.append(floor)
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", default="100000,1000000")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bin", default=None, help="bullseye binary (default: harness.bullseye_binary())")
    ap.add_argument("--bullseye-only-scale", type=int, default=None, help="e.g. 10000000: one bullseye run")
    ap.add_argument("--data-dir", default="/work/bench-data")
    ap.add_argument("--work", default=None, help="job files and outputs (default: a new temp folder)")
    ap.add_argument("--out", default=os.path.join(harness.ROOT, "BENCHMARKS.md"))
    ap.add_argument("--impls", default=",".join(IMPLS))
    ap.add_argument("--python", default=None, help="Python of the children (default: $BENCH_PYTHON, else this one)")
    ap.add_argument("--kmeans-n-init", type=int, default=1)
    ap.add_argument("--lean-script", default=os.path.join(harness.ROOT, "..", "shared", "bench", "lean_pipeline.py"),
                    help="the lean Python pipeline (impls lean-pandas, lean-polars)")
    ap.add_argument("--python-train-features", choices=["contacted", "all"], default="contacted",
                    help="Python training rows: features of the contacted customers per send (default) or of "
                         "every customer per send (bullseye's way), then joined")
    ap.add_argument("--mode", choices=["auto", "run", "chain"], default="auto",
                    help="bullseye: `run` (one process), `chain` (separate commands), auto = run if available")
    ap.add_argument("--blas-threads", type=int, default=None,
                    help="set OPENBLAS/OMP/MKL_NUM_THREADS for the Python children (default: their defaults)")
    args = ap.parse_args()
    args.impls = args.impls.split(",")
    args.bin = args.bin or harness.bullseye_binary()
    args.python = args.python or os.environ.get("BENCH_PYTHON") or sys.executable
    args.work = args.work or tempfile.mkdtemp(prefix="bullseye-pipeline-")
    mode = args.mode if args.mode != "auto" else ("run" if has_run(args.bin) else "chain")
    env_py = None
    env_note = "default threading (OpenBLAS/OpenMP use every core)"
    if args.blas_threads:
        env_py = dict(os.environ, **{k: str(args.blas_threads) for k in
                                     ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")})
        env_note = f"OPENBLAS/OMP/MKL_NUM_THREADS={args.blas_threads}"
    print(f"bullseye {args.bin} (mode {mode}); python {args.python}; work {args.work}", flush=True)

    machine = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (`nproc` {sh('nproc')}), "
                   f"{sh('grep MemTotal /proc/meminfo')}",
        "cpu": sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"),
        "load at start": sh("uptime"),
    }
    versions = {
        "bullseye": sh(f"{args.bin} --version"),
        "python": sh(f"{args.python} --version"),
        "libraries": sh(f"{args.python} -c \"import pandas, polars, sklearn, numpy; print('pandas', pandas.__version__, "
                        f"'polars', polars.__version__, 'scikit-learn', sklearn.__version__, 'numpy', numpy.__version__)\""),
    }
    results = []
    for scale in [int(x) for x in args.scales.split(",") if x]:
        results.append(run_scale(args, scale, mode, env_py))
        # after every scale, so a late failure keeps the rest
        harness.write_section(args.out, "pipeline", render(args, mode, results, None, versions, machine, env_note))
    big = None
    if args.bullseye_only_scale:
        scale = args.bullseye_only_scale
        existed = os.path.exists(os.path.join(args.data_dir, f"syn{scale}", "params.json"))
        t = time.perf_counter()
        data = gen_data(args.data_dir, scale, chunks=10 if scale >= 10_000_000 else 1)
        gen_s = time.perf_counter() - t
        n = n_customers(data)
        work = os.path.join(args.work, f"syn{scale}")
        job, cfg = write_job(data, work, round(0.10 * 0.05 * n, 2), args.kmeans_n_init)
        warm_up(data)
        out = os.path.join(work, "bullseye-out")
        big = {"customers": n, "data": data, "load_before": sh("uptime"),
               "generated": "reused" if existed else f"generated with --chunks 10 in {gen_s:.0f} s"}
        cmd = bullseye_run_cmd(args.bin, job, out) if mode == "run" else chain_script(args.bin, cfg, work, out, args.kmeans_n_init)
        # If the run outgrows the machine's memory, the kernel's OOM killer should pick it and
        # not a bystander (there is no swap here).
        cmd = ["sh", "-c", 'echo 1000 > /proc/self/oom_score_adj; exec "$0" "$@"', *cmd]
        try:
            wall, rss, _ = harness.measure(cmd)
            stages, checks = bullseye_result(out, mode)
            big["run"] = {"wall": wall, "rss": rss, "stages": stages, "checks": checks}
            print(f"  {scale} bullseye {wall:.1f} s {rss:.0f} MiB", flush=True)
        except Exception as e:  # noqa: BLE001 - recorded in BENCHMARKS.md
            big["error"] = str(e)[-2000:]
            if isinstance(e, harness.ChildFailed):
                big["failed_after"] = {"wall": e.wall, "rss": e.rss}
        big["load_after"] = sh("uptime")
    machine["load at end"] = sh("uptime")
    harness.write_section(args.out, "pipeline", render(args, mode, results, big, versions, machine, env_note))
    print(f"wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
