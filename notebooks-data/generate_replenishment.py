"""Writes replenishment.csv: a small shop's orders with a category per line, seeded.

Each customer buys some of coffee (about every 30 days), filters (about every 90 days) and a
machine (about every 4 years: one purchase in the window), with a customer-specific rhythm and
a few days of noise, from 2024-01-01 to 2025-12-31. Standard library only; rerunning rewrites
the file byte for byte.
"""

import datetime
import random

rng = random.Random(21)
start = datetime.date(2024, 1, 1)
end = datetime.date(2025, 12, 31)
cycles = {"coffee": 30, "filters": 90}
prices = {"coffee": 12.5, "filters": 6.0, "machine": 249.0}

rows = []
for n in range(1, 61):
    cid = f"c{n:03d}"
    for category, cycle in cycles.items():
        if rng.random() < 0.25:
            continue
        own = cycle * rng.uniform(0.7, 1.4)
        day = start + datetime.timedelta(days=rng.randrange(0, 200))
        # Some customers stop buying: they become overdue, then lapsed.
        stop = end - datetime.timedelta(days=rng.choice([0, 0, 0, 60, 400]))
        while day <= stop:
            rows.append((cid, day, prices[category], category))
            day += datetime.timedelta(days=max(1, round(own + rng.uniform(-3, 3))))
    if rng.random() < 0.3:
        day = start + datetime.timedelta(days=rng.randrange(0, 700))
        rows.append((cid, day, prices["machine"], "machine"))

rows.sort()
with open("replenishment.csv", "w", newline="") as f:
    f.write("customer_id,order_date,amount,category\n")
    for cid, day, amount, category in rows:
        f.write(f"{cid},{day.isoformat()},{amount:.2f},{category}\n")
