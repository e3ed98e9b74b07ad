#!/usr/bin/env python3
"""Deterministic customer, campaign-history and suppression tables for the CDNOW customers.

CDNOW ships purchases only. The quickstart also needs customer attributes with consent flags, a
campaign history and a do-not-contact list, so this script derives them, seeded, from the real
purchase histories: a contact's `responded` is whether the customer really bought within 14 days
of the (synthetic) contact date, so response models trained on it learn real buying behaviour.
Standard library only; rerunning it rewrites byte-identical files.

    python3 notebooks-data/generate_crm.py
"""
import csv
import datetime as dt
import os
import random
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261122
RESPONSE_DAYS = 14
CAMPAIGNS = [  # (campaign_id, contact date, channel, share of eligible customers contacted)
    ("c01-spring-email", "1997-04-15", "email", 0.30),
    ("c02-summer-mail", "1997-06-10", "mail", 0.20),
    ("c03-autumn-email", "1997-08-20", "email", 0.30),
    ("c04-holiday-mail", "1997-11-18", "mail", 0.25),
    ("c05-winter-email", "1998-01-20", "email", 0.30),
    ("c06-spring-email", "1998-03-24", "email", 0.30),
    ("c07-summer-email", "1998-05-19", "email", 0.30),
]
REGIONS = ["north", "south", "east", "west", "central"]


def day(s):
    return dt.date(int(s[0:4]), int(s[4:6]), int(s[6:8]))


def main():
    rng = random.Random(SEED)
    purchases = defaultdict(list)  # customer_id -> [(date, amount)]
    with open(os.path.join(HERE, "CDNOW_master.txt")) as f:
        next(f)
        for line in f:
            cid, date, _cds, amount = line.split()
            purchases[cid].append((day(date), float(amount)))
    ids = sorted(purchases)
    first = {c: min(d for d, _ in purchases[c]) for c in ids}

    with open(os.path.join(HERE, "customers.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["customer_id", "signup_date", "birth_date", "gender", "region",
                    "email_opt_in", "sms_opt_in", "mail_opt_in"])
        for c in ids:
            signup = first[c] - dt.timedelta(days=rng.randint(0, 60))
            birth = "" if rng.random() < 0.06 else (
                dt.date(1932, 1, 1) + dt.timedelta(days=rng.randint(0, 48 * 365))).isoformat()
            gender = rng.choice(["F", "M", "M", "F", ""])
            w.writerow([c, signup.isoformat(), birth, gender, rng.choice(REGIONS),
                        int(rng.random() < 0.85), int(rng.random() < 0.40), int(rng.random() < 0.70)])

    with open(os.path.join(HERE, "contacts.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["customer_id", "campaign_id", "contact_date", "channel", "group",
                    "responded", "response_value", "response_date"])
        for campaign, date, channel, share in CAMPAIGNS:
            d = dt.date.fromisoformat(date)
            end = d + dt.timedelta(days=RESPONSE_DAYS)
            for c in ids:
                if first[c] >= d or rng.random() >= share:
                    continue
                group = "control" if rng.random() < 0.10 else "treatment"
                after = sorted((p, a) for p, a in purchases[c] if d < p <= end)
                responded = int(bool(after))
                value = f"{sum(a for _, a in after):.2f}" if after else ""
                rdate = after[0][0].isoformat() if after else ""
                w.writerow([c, campaign, date, channel, group, responded, value, rdate])

    with open(os.path.join(HERE, "suppressions.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["customer_id", "channel", "reason"])
        for c in ids:
            u = rng.random()
            if u < 0.010:
                w.writerow([c, "", rng.choice(["deceased", "legal_request", "do_not_contact"])])
            elif u < 0.030:
                w.writerow([c, "email", rng.choice(["unsubscribed", "hard_bounce"])])
            elif u < 0.035:
                w.writerow([c, "mail", "returned_mail"])


if __name__ == "__main__":
    main()
