#!/usr/bin/env python3
"""The three tasks of the gradient-boosting measurement (README.md beside this file), as flat
CSV files with a `test` column (1 = holdout), written to DIR:

    python bench/gbm/prepare.py --bin BULLSEYE --dir DIR

- hillstrom_emailed.csv: the bundled Hillstrom table, e-mailed rows, test = row index % 5 == 0
  (the holdout of the reference test in tests/it/models.rs), label `visit`.
- churn.csv: `bullseye train churn` rows of the bundled quickstart config (CDNOW purchases) as of
  1998-06-30, 90-day horizon, test = a seeded random 20 %, label `label`.
- response.csv: `bullseye train response` rows of the same config, test = the last campaign
  (1998-05-19, the bundled model's time holdout), label `responded`.
features.json lists each CDNOW task's model inputs.
"""
import argparse
import json
import os
import subprocess

import numpy as np
import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--dir", required=True)
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    os.chdir(a.dir)
    h = pd.read_csv(os.path.join(ROOT, "notebooks-data/hillstrom.csv"), dtype={"zip_code": str})
    h["history_segment_ord"] = h["history_segment"].str[0].astype(float)
    h["test"] = (np.arange(len(h)) % 5 == 0).astype(int)
    h = h[h["segment"] != "No E-Mail"].drop(columns=["history_segment"])
    h.to_csv("hillstrom_emailed.csv", index=False)
    config = os.path.join(ROOT, "notebooks-data/quickstart.toml")
    subprocess.run([a.bin, "train", "churn", "--config", config, "--as-of", "1998-06-30", "--horizon-days", "90",
                    "--rows-out", "churn_rows.csv", "--out", "churn_model"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([a.bin, "train", "response", "--config", config, "--rows-out", "response_rows.csv",
                    "--out", "response_model"], check=True, stdout=subprocess.DEVNULL)
    c = pd.read_csv("churn_rows.csv")
    c["test"] = (np.random.default_rng(7).random(len(c)) < 0.2).astype(int)
    feats_c = [x for x in c.columns if x not in ("customer_id", "label", "score", "test")]
    c[["customer_id"] + feats_c + ["label", "test"]].to_csv("churn.csv", index=False)
    r = pd.read_csv("response_rows.csv")
    r["test"] = (r["contact_date"] == r["contact_date"].max()).astype(int)
    drop = {"customer_id", "campaign_id", "contact_date", "channel", "group", "responded", "response_value",
            "response_date", "score", "test"}
    feats_r = [x for x in r.columns if x not in drop]
    r[["customer_id"] + feats_r + ["responded", "test"]].to_csv("response.csv", index=False)
    with open("features.json", "w") as f:
        json.dump({"churn": feats_c, "response": feats_r}, f)


if __name__ == "__main__":
    main()
