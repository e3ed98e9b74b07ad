"""The exported query at scale: a synthetic transactions table of N customers (DuckDB's seeded
random, ~6 lines per customer over two years, 5% returns), Bullseye's own pipeline on it
(ingest, features of the purchase families, a logistic model on a made-up label, scores, a
4-cluster segmentation, `export sql`), then the query on each engine through `sql_check.py`
(which compares every value) or, with --time-only, just timed.

    python bench/sql_scale.py --customers 100000 --bin target/release/bullseye --engines duckdb,spark --dir /tmp/sql100k

Prints the seconds of each step.
"""

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
AS_OF = "2025-12-31"
FAMILIES = "rfm,btyd,windows,cycle"


def timed(label, cmd, **kw):
    t = time.time()
    subprocess.run(cmd, check=True, **kw)
    print(f"{label}: {time.time() - t:.1f} s", flush=True)


def generate(n, path):
    import duckdb

    con = duckdb.connect()
    con.execute("SELECT setseed(0.42)")
    con.execute(
        f"""COPY (
          SELECT printf('C%09d', CAST(floor(random() * {n}) AS BIGINT)) AS customer_id,
                 DATE '2024-01-01' + CAST(floor(random() * 731) AS INTEGER) AS order_date,
                 round((1.99 + random() * 250) * CASE WHEN random() < 0.05 THEN -1 ELSE 1 END, 2) AS amount
          FROM range({6 * n})
        ) TO '{path}' (FORMAT parquet)"""
    )


def training_table(features, out):
    with open(features) as f, open(out, "w") as o:
        header = f.readline().rstrip("\n")
        names = header.split(",")
        fi, ri = names.index("frequency"), names.index("recency_days")
        o.write(header + ",y\n")
        for i, line in enumerate(f):
            c = line.rstrip("\n").split(",")
            y = (float(c[fi]) >= 2 and float(c[ri]) < 180) != (i % 7 == 3)
            o.write(line.rstrip("\n") + f",{int(y)}\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--customers", type=int, required=True)
    p.add_argument("--bin", required=True)
    p.add_argument("--engines", default="duckdb")
    p.add_argument("--dir", required=True)
    p.add_argument("--time-only", action="store_true")
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    os.chdir(a.dir)
    b = os.path.abspath(a.bin) if os.path.exists(a.bin) else a.bin
    if not os.path.exists("raw.parquet"):
        t = time.time()
        generate(a.customers, "raw.parquet")
        print(f"generate: {time.time() - t:.1f} s", flush=True)
    timed("bullseye ingest", [b, "ingest", "--transactions", "raw.parquet", "--as-of", AS_OF, "--out", "ingest"])
    timed("bullseye features", [b, "features", "--transactions", "ingest/transactions.parquet", "--as-of", AS_OF,
                                "--families", FAMILIES, "--out", "features.csv"])
    training_table("features.csv", "train.csv")
    timed("bullseye train", [b, "train", "response", "--table", "train.csv", "--label", "y", "--id", "customer_id",
                             "--out", "model"], stdout=subprocess.DEVNULL)
    timed("bullseye score", [b, "score", "--model", "model", "--features", "features.csv", "--out", "scores.csv"],
          stdout=subprocess.DEVNULL)
    timed("bullseye segment", [b, "segment", "--features", "features.csv", "--k", "4", "--save-model",
                               "segmentation", "--out", "segments.csv"], stdout=subprocess.DEVNULL)
    for engine in a.engines.split(","):
        dialect = "postgres" if engine == "postgres" else engine
        subprocess.run([b, "export", "sql", "--model", "model", "--segments", "segmentation", "--dialect", dialect,
                        "--as-of", AS_OF, "--out", f"{engine}.sql"], check=True)
        cmd = [sys.executable, os.path.join(HERE, "sql_check.py"), "--engine", engine, "--query", f"{engine}.sql",
               "--transactions", "ingest/transactions.parquet", "--features", "features.csv",
               "--scores", "response=scores.csv", "--segments", "segments.csv"]
        if a.time_only:
            cmd.append("--time-only")
        timed(f"{engine} query + check", cmd)


if __name__ == "__main__":
    main()
