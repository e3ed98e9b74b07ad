"""Golden figures for `src/basket/reference_tests.rs`: mlxtend's fpgrowth + association_rules on
notebooks-data/groceries.csv.

    python3 -m venv /tmp/mlx && /tmp/mlx/bin/pip install mlxtend pandas
    /tmp/mlx/bin/python tests/golden/groceries/make_goldens.py

writes, beside this script, itemsets_0.01.csv (every frequent itemset at min support 0.01),
rules_0.01_0.5.csv (every rule at confidence 0.5) and rules_0.001_0.8.csv (one-item consequents at
support 0.001, confidence 0.8: mlxtend's float comparison keeps 406 of arules' 410). Itemsets are
written `{a,b}` with the names sorted, as bullseye writes them; numbers with repr() (17 digits).
"""

import os
import sys

import mlxtend
import pandas as pd
from mlxtend.frequent_patterns import association_rules, fpgrowth
from mlxtend.preprocessing import TransactionEncoder

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "notebooks-data", "groceries.csv")


def label(items):
    return "{" + ",".join(sorted(items)) + "}"


def main():
    with open(DATA) as f:
        baskets = [line.rstrip("\n").split(",") for line in f if line.strip("\n")]
    te = TransactionEncoder()
    onehot = pd.DataFrame(te.fit(baskets).transform(baskets), columns=te.columns_)
    n = len(baskets)

    sets = fpgrowth(onehot, min_support=0.01, use_colnames=True)
    with open(os.path.join(HERE, "itemsets_0.01.csv"), "w") as out:
        out.write("itemset,count,support\n")
        rows = sorted((label(s), round(v * n), v) for s, v in zip(sets.itemsets, sets.support))
        for name, count, support in rows:
            out.write(f'"{name}",{count},{support!r}\n')

    def write_rules(rules, file):
        rows = sorted(
            (label(r.antecedents), label(r.consequents), r.support, r.confidence, r.lift,
             r.leverage, r.conviction)
            for r in rules.itertuples()
        )
        with open(os.path.join(HERE, file), "w") as out:
            out.write("antecedent,consequent,support,confidence,lift,leverage,conviction\n")
            for a, c, *numbers in rows:
                out.write(f'"{a}","{c}",' + ",".join(repr(float(x)) for x in numbers) + "\n")

    rules = association_rules(sets, metric="confidence", min_threshold=0.5, num_itemsets=n)
    write_rules(rules, "rules_0.01_0.5.csv")

    small = fpgrowth(onehot, min_support=0.001, use_colnames=True)
    rules = association_rules(small, metric="confidence", min_threshold=0.8, num_itemsets=n)
    rules = rules[rules.consequents.map(len) == 1]
    write_rules(rules, "rules_0.001_0.8.csv")
    print(f"mlxtend {mlxtend.__version__}: {len(sets)} itemsets, {len(rules)} rules at 0.001/0.8",
          file=sys.stderr)


if __name__ == "__main__":
    main()
