"""`bullseye basket` benchmarks → the "Market baskets" section of BENCHMARKS.md.

1. Groceries (notebooks-data/groceries.csv) at support 0.001, confidence 0.8: bullseye (the whole
   process: read, FP-growth, rules, three files written) against mlxtend's fpgrowth (timed inside
   its process, after reading and one-hot encoding) and fpgrowth + association_rules, alternating,
   medians of --rounds.
2. A synthetic set of 1,000,000 orders (2,000 items, Zipf popularity, 1–12 items an order) with
   planted affinities (e.g. whenever item 17 is bought, item 901 joins with probability 0.6):
   bullseye's rules found for each planted pair, time and peak memory. mlxtend is not run there:
   its one-hot frame alone is 1M × 2,000 booleans (2 GB) before it starts.

3. Optionally (--fp-growth-bin) the `fp-growth` crate, built from bench/fp_growth_crate.rs in a
   scratch project: its itemsets on Groceries compared with bullseye's (count and every count),
   and its mining time.

    python3 bench/basket.py [--rounds 3] [--python /tmp/mlx-venv/bin/python] [--fp-growth-bin /tmp/fpcrate/target/release/fpcrate]
(needs a release build in $CARGO_TARGET_DIR or target/, and mlxtend + pandas for --python)
"""
import argparse
import csv
import datetime
import json
import os
import platform
import random
import re
import statistics
import subprocess
import tempfile

import harness

ROOT = harness.ROOT
GROCERIES = os.path.join(ROOT, "notebooks-data", "groceries.csv")
START, END = "<!-- basket:start -->", "<!-- basket:end -->"
# (antecedent item, consequent item, probability the consequent joins)
PLANTED = [(17, 901, 0.6), (250, 1999, 0.5), (3, 1500, 0.4), (640, 641, 0.7), (1200, 77, 0.55)]


def synthetic(path, orders=1_000_000, items=2_000, seed=11):
    rng = random.Random(seed)
    weights = [1.0 / (i + 1) ** 0.9 for i in range(items)]
    planted = {a: (c, p) for a, c, p in PLANTED}
    with open(path, "w") as out:
        for _ in range(orders):
            k = min(12, 1 + int(rng.expovariate(1 / 3.0)))
            basket = set(rng.choices(range(items), weights=weights, k=k))
            for a in list(basket):
                if a in planted and rng.random() < planted[a][1]:
                    basket.add(planted[a][0])
            out.write(",".join(f"item{i:04d}" for i in sorted(basket)) + "\n")


def bullseye(binary, path, support, confidence, out_dir):
    cmd = [binary, "basket", "--baskets", path, "--min-support", support, "--min-confidence",
           confidence, "--max-consequent", "1", "--out", out_dir]
    wall, rss, stdout = harness.measure(cmd)
    return wall, rss, stdout


def fp_growth_crate(binary, rounds, our_itemsets, work):
    """The fp-growth crate on Groceries at support 0.001: medians of its mining time and of its
    whole process, and whether its itemsets and counts equal bullseye's."""
    out = os.path.join(work, "crate_itemsets.tsv")
    mine, walls, line = [], [], ""
    for _ in range(rounds):
        wall, rss, stdout = harness.measure([binary, GROCERIES, "0.001", out])
        line = stdout.strip()
        mine.append(float(re.search(r"mine_s ([0-9.]+)", line).group(1)))
        walls.append(wall)
    theirs = {}
    with open(out) as f:
        for row in f:
            k, c = row.rstrip("\n").split("\t")
            theirs[k] = int(c)
    with open(our_itemsets, newline="") as f:
        ours = {r["itemset"]: int(r["count"]) for r in csv.DictReader(f)}
    return {"itemsets": len(theirs), "equal": theirs == ours, "mine": statistics.median(mine),
            "wall": statistics.median(walls)}


def crate_lines(c, b_wall):
    verdict = "the same itemsets and counts as bullseye" if c["equal"] else "itemsets or counts differ from bullseye's"
    return ["#### The `fp-growth` crate (0.1.6), same data and support",  "",
            f"`bench/fp_growth_crate.rs` built in a scratch project: {c['itemsets']:,} itemsets, {verdict}; "
            f"FP-growth alone {c['mine']:.3f} s, whole process {c['wall']:.3f} s (itemsets only, no rules), "
            f"against bullseye's whole process {b_wall:.3f} s with the rules: bullseye is "
            f"**{c['wall'] / b_wall:.1f}×** faster process to process, so `src/basket/fpgrowth.rs` stays our own.", ""]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--python", default=os.environ.get("MLXTEND_PYTHON", "/tmp/mlx-venv/bin/python"))
    ap.add_argument("--data", default="/tmp/basket-bench")
    ap.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    ap.add_argument("--fp-growth-bin", help="the fp-growth crate's runner (bench/fp_growth_crate.rs)")
    args = ap.parse_args()
    binary = harness.bullseye_binary()
    os.makedirs(args.data, exist_ok=True)
    work = tempfile.mkdtemp(prefix="basket-bench-")

    ours, theirs = [], []
    for _ in range(args.rounds):
        wall, rss, stdout = bullseye(binary, GROCERIES, "0.001", "0.8", os.path.join(work, "g"))
        ours.append((wall, rss))
        wall, rss, stdout = harness.measure([args.python, os.path.join(harness.HERE, "py", "basket_mlxtend.py"),
                                             GROCERIES, "0.001", "0.8"])
        t = json.loads(stdout)
        theirs.append((t["fpgrowth_s"], t["fpgrowth_s"] + t["rules_s"], wall, rss))
    with open(os.path.join(work, "g", "basket.json")) as f:
        g = json.load(f)
    med = lambda xs: statistics.median(xs)
    b_wall, b_rss = med([x[0] for x in ours]), med([x[1] for x in ours])
    m_fp, m_fpr, m_wall, m_rss = (med([x[i] for x in theirs]) for i in range(4))
    mlxtend_version = subprocess.run([args.python, "-c", "import mlxtend; print(mlxtend.__version__)"],
                                     capture_output=True, text=True).stdout.strip()

    crate = fp_growth_crate(args.fp_growth_bin, args.rounds, os.path.join(work, "g", "itemsets.csv"), work) \
        if args.fp_growth_bin else None

    syn = os.path.join(args.data, "orders_1m.csv")
    if not os.path.exists(syn):
        synthetic(syn)
    wall, rss, stdout = bullseye(binary, syn, "0.0002", "0.3", os.path.join(work, "s"))
    with open(os.path.join(work, "s", "basket.json")) as f:
        s = json.load(f)
    with open(os.path.join(work, "s", "rules.csv")) as f:
        rules_text = f.read()
    found = []
    for a, c, p in PLANTED:
        m = re.search(rf'^{{item{a:04d}}},{{item{c:04d}}},(\d+),(\d+),(\d+),[^,]*,[^,]*,[^,]*,([^,]*),([^,]*),', rules_text, re.M)
        found.append((a, c, p, m.group(4) if m else None, m.group(5) if m else None))

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [START, "## Market baskets (`bullseye basket`)", "",
             f"Written by `bench/basket.py` on {now}; {platform.machine()}, {os.cpu_count()} cores, "
             f"load before/after as in `uptime`: `{os.getloadavg()}`. Medians of {args.rounds} rounds, "
             "implementations alternating, one process per run.", "",
             f"### Groceries, support 0.001, confidence 0.8 ({g['baskets']:,} baskets, {g['items']} items, "
             f"{g['itemsets']:,} itemsets)", "",
             "| implementation | what is timed | seconds | peak RSS MiB |", "|---|---|---|---|",
             f"| bullseye | whole process: read, FP-growth, {g['rules']} rules (one-item consequents), 3 files | {b_wall:.3f} | {b_rss:.0f} |",
             f"| mlxtend {mlxtend_version} `fpgrowth` | fpgrowth alone, in process (after reading and one-hot encoding) | {m_fp:.3f} | |",
             f"| mlxtend {mlxtend_version} `fpgrowth` + `association_rules` | both, in process | {m_fpr:.3f} | |",
             f"| mlxtend, whole process | python start, imports, read, encode, both | {m_wall:.3f} | {m_rss:.0f} |", "",
             f"bullseye's whole process is **{m_fp / b_wall:.1f}×** faster than mlxtend's fpgrowth alone "
             f"({m_fpr / b_wall:.1f}× with association_rules, {m_wall / b_wall:.1f}× process to process); floor 10×: "
             f"**{'met' if m_fp / b_wall >= 10 else 'not met'}**.", ""]
    if crate:
        lines += crate_lines(crate, b_wall)
    lines += [
             f"### Synthetic: 1,000,000 orders, 2,000 items, planted affinities (support 0.0002, confidence 0.3, one-item consequents)", "",
             f"`bench/basket.py` generates `{syn}` (seed 11). bullseye: **{wall:.2f} s**, peak RSS **{rss:.0f} MiB**, "
             f"{s['itemsets']:,} itemsets, {s['rules']:,} rules.", "",
             "| planted rule | join probability | found: confidence | lift |", "|---|---|---|---|"]
    for a, c, p, conf, lift in found:
        shown = f"{float(conf):.4f} | {float(lift):.2f}" if conf else "not found | "
        lines.append(f"| item{a:04d} ⇒ item{c:04d} | {p} | {shown} |")
    lines += ["", "(A planted consequent also appears in baskets by its own popularity, so the confidence is the "
              "join probability plus that base rate.)", END]
    section = "\n".join(lines) + "\n"
    text = open(args.out).read() if os.path.exists(args.out) else ""
    if START in text and END in text:
        text = text[: text.index(START)] + section + text[text.index(END) + len(END) + 1:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(args.out, "w") as f:
        f.write(text)
    print(section)


if __name__ == "__main__":
    main()
