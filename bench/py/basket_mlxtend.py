"""mlxtend's fpgrowth (+ association_rules) on a basket-per-line file; prints JSON with the
seconds of reading + one-hot encoding, fpgrowth, and association_rules, and the counts."""
import json
import sys
import time

import pandas as pd
from mlxtend.frequent_patterns import association_rules, fpgrowth
from mlxtend.preprocessing import TransactionEncoder

path, support, confidence = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
t0 = time.perf_counter()
with open(path) as f:
    baskets = [line.rstrip("\n").split(",") for line in f if line.strip("\n")]
te = TransactionEncoder()
onehot = pd.DataFrame(te.fit(baskets).transform(baskets), columns=te.columns_)
t1 = time.perf_counter()
sets = fpgrowth(onehot, min_support=support, use_colnames=True)
t2 = time.perf_counter()
rules = association_rules(sets, metric="confidence", min_threshold=confidence, num_itemsets=len(baskets))
t3 = time.perf_counter()
print(json.dumps({"read_s": t1 - t0, "fpgrowth_s": t2 - t1, "rules_s": t3 - t2,
                  "itemsets": len(sets), "rules": len(rules)}))
