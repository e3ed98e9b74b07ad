"""Runs a query from `bullseye export sql` on a real engine and compares it with Bullseye's own
outputs: every feature and score within a relative tolerance, identical clusters and RFM scores and
segments, the same customers. Prints one JSON line of findings; exit 0 only when everything agrees.

    python bench/sql_check.py --engine duckdb --query q.sql --transactions ingest/transactions.parquet \
        --features features.csv --scores response=scores.csv --segments segments.csv

Engines: duckdb (the Python package), postgres (`--psql PATH --url URL`: the transactions, and
the customers and contacts when given, are loaded with COPY into tables of those names), spark (pyspark, local[2]; the Parquet file is the
view `transactions`). Used by tests/it/sql_export.rs; run by hand for the Spark check and the
larger sets (see BENCHMARKS.md).
"""

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import time


def read_csv(path):
    """Rows of a CSV file, or of a Parquet file (a job's features.parquet)."""
    if path.endswith(".parquet"):
        import duckdb

        cur = duckdb.connect().execute(f"SELECT * FROM read_parquet('{path}')")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def read_scores(spec):
    """NAME=FILE[:COLUMN] (the score column, `score` by default) -> (NAME, rows with `score`)."""
    name, path = spec.split("=", 1)
    path, _, column = path.partition(":")
    column = column or "score"
    return name, [{"customer_id": r["customer_id"], "score": r[column]} for r in read_csv(path)]


def run_duckdb(query, transactions, write_only=False, customers=None, contacts=None):
    import duckdb

    con = duckdb.connect()
    con.execute(f"CREATE VIEW transactions AS SELECT * FROM read_parquet('{transactions}')")
    if customers:
        con.execute(f"CREATE VIEW customers AS SELECT * FROM read_parquet('{customers}')")
    if contacts:
        con.execute(f"CREATE VIEW contacts AS SELECT * FROM read_parquet('{contacts}')")
    if write_only:
        con.execute(f"COPY ({query}) TO 'duckdb_out.parquet' (FORMAT parquet)")
        return con.execute("SELECT COUNT(*) FROM 'duckdb_out.parquet'").fetchone()[0]
    cur = con.execute(query)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


PG_TYPES = {"VARCHAR": "TEXT", "DATE": "DATE", "DOUBLE": "DOUBLE PRECISION", "INTEGER": "INTEGER",
            "BIGINT": "BIGINT", "BOOLEAN": "BOOLEAN"}


def pg_load(name, parquet):
    """psql input that (re)creates the table `name` with a Parquet file's columns and rows (doubles
    as their shortest round-trip text, missing values as NULL)."""
    import duckdb

    cur = duckdb.connect().execute(f"SELECT * FROM read_parquet('{parquet}')")
    types = [(d[0], PG_TYPES.get(str(d[1]), "TEXT")) for d in cur.description]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for row in cur.fetchall():
        w.writerow(["" if v is None else repr(v) if isinstance(v, float)
                    else v.isoformat() if hasattr(v, "isoformat") else v for v in row])
    columns = ", ".join(f'"{n}" {t}' for n, t in types)
    return (
        f"DROP TABLE IF EXISTS {name};\n"
        f"CREATE TABLE {name} ({columns});\n"
        f"COPY {name} FROM STDIN WITH (FORMAT csv);\n" + buf.getvalue() + "\\.\n"
    )


def run_postgres(query, tables, psql, url):
    """`tables`: (name, Parquet file) pairs loaded with COPY before the query runs."""
    load = "".join(pg_load(name, path) for name, path in tables)
    subprocess.run([psql, url, "-v", "ON_ERROR_STOP=1", "-q"], input=load, text=True, check=True)
    out = subprocess.run(
        [psql, url, "-v", "ON_ERROR_STOP=1", "-q", "-c",
         f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)"],
        capture_output=True, text=True, check=True,
    ).stdout
    return list(csv.DictReader(io.StringIO(out)))


def run_spark(query, transactions, write_only=False, customers=None, contacts=None):
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", os.environ.get("SPARK_SHUFFLE_PARTITIONS", "8"))
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "4g"))
        .getOrCreate()
    )
    spark.read.parquet(transactions).createOrReplaceTempView("transactions")
    if customers:
        spark.read.parquet(customers).createOrReplaceTempView("customers")
    if contacts:
        spark.read.parquet(contacts).createOrReplaceTempView("contacts")
    if write_only:
        # At scale: the rows go to Parquet, as a production job would write them.
        spark.sql(query).write.mode("overwrite").parquet("spark_out.parquet")
        rows = spark.read.parquet("spark_out.parquet").count()
        spark.stop()
        return rows
    rows = [r.asDict() for r in spark.sql(query).collect()]
    spark.stop()
    return rows


def rel_diff(a, b):
    a, b = float(a), float(b)
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b))


def compare(got, features, scores, segments):
    findings = {"rows": len(got), "worst": {}}
    by_id = {str(r["customer_id"]): r for r in got}
    expected_ids = [r["customer_id"] for r in features]
    findings["missing_customers"] = sum(1 for i in expected_ids if i not in by_id)
    findings["extra_customers"] = len(set(by_id) - set(expected_ids))
    worst = 0.0
    for row in features:
        g = by_id.get(row["customer_id"])
        if g is None:
            continue
        for name, value in row.items():
            if name == "customer_id" or name not in g:
                continue
            d = rel_diff(value, g[name])
            if d > findings["worst"].get(name, (0.0,))[0]:
                findings["worst"][name] = (d, row["customer_id"], value, str(g[name]))
            worst = max(worst, d)
    findings["features_checked"] = sorted(n for n in features[0] if n != "customer_id" and n in got[0])
    findings["max_rel_feature"] = worst
    worst = 0.0
    for name, rows in scores.items():
        column = f"{name}_score"
        for row in rows:
            g = by_id.get(row["customer_id"])
            if g is not None:
                d = rel_diff(row["score"], g[column])
                if d > findings["worst"].get(column, (0.0,))[0]:
                    findings["worst"][column] = (d, row["customer_id"], row["score"], str(g[column]))
                worst = max(worst, d)
    findings["max_rel_score"] = worst
    mismatches = {}
    for row in segments or []:
        g = by_id.get(row["customer_id"])
        if g is None:
            continue
        for name in ("rfm_r", "rfm_f", "rfm_m", "rfm_cell", "rfm_segment", "cluster"):
            if name in row and name in g and str(row[name]) != str(g[name]):
                mismatches[name] = mismatches.get(name, 0) + 1
    findings["segment_mismatches"] = mismatches
    findings["worst"] = {k: v for k, v in findings["worst"].items() if v[0] > 0}
    return findings


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--engine", choices=["duckdb", "postgres", "spark"], required=True)
    p.add_argument("--query", required=True)
    p.add_argument("--transactions", required=True)
    p.add_argument("--customers", help="the canonical customers table (Parquet)")
    p.add_argument("--contacts", help="the canonical contacts table (Parquet)")
    p.add_argument("--features", required=True)
    p.add_argument("--scores", action="append", default=[], help="NAME=FILE[:COLUMN]")
    p.add_argument("--segments")
    p.add_argument("--psql")
    p.add_argument("--url")
    p.add_argument("--tolerance", type=float, default=1e-9)
    p.add_argument("--time-only", action="store_true", help="write the rows to Parquet and time it, no comparison (duckdb, spark)")
    a = p.parse_args()
    query = open(a.query).read()
    start = time.time()
    if a.time_only:
        run = run_duckdb if a.engine == "duckdb" else run_spark
        rows = run(query, a.transactions, write_only=True, customers=a.customers, contacts=a.contacts)
        print(json.dumps({"engine": a.engine, "rows": rows, "seconds": round(time.time() - start, 2)}))
        return
    if a.engine == "duckdb":
        got = run_duckdb(query, a.transactions, customers=a.customers, contacts=a.contacts)
    elif a.engine == "postgres":
        tables = [("transactions", a.transactions), ("customers", a.customers), ("contacts", a.contacts)]
        got = run_postgres(query, [t for t in tables if t[1]], a.psql, a.url)
    else:
        got = run_spark(query, a.transactions, customers=a.customers, contacts=a.contacts)
    elapsed = time.time() - start
    scores = dict(read_scores(s) for s in a.scores)
    segments = read_csv(a.segments) if a.segments else None
    findings = compare(got, read_csv(a.features), scores, segments)
    findings["engine"] = a.engine
    findings["seconds"] = round(elapsed, 2)
    ok = (
        findings["missing_customers"] == 0
        and findings["extra_customers"] == 0
        and findings["max_rel_feature"] <= a.tolerance
        and findings["max_rel_score"] <= a.tolerance
        and not findings["segment_mismatches"]
    )
    findings["ok"] = ok
    print(json.dumps(findings, default=str))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
