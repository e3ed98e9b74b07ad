"""Exact optima of the plan_milp golden instances (issue 19, "Optimality").

Reads every instance_NN.json in DIR (written by the Rust test
plan::tests::milp with BULLSEYE_WRITE_PLAN_MILP=1), solves the plan as a MIP
with HiGHS through scipy.optimize.milp, and writes DIR/optima.csv
(file,optimum,dual_bound,seconds).

The MIP: one binary per (customer, campaign, channel) with a score and a
non-negative expected profit (score * value_per_response - cost); maximise
total profit subject to at most one channel per customer and campaign,
max_contacts, max_per_channel, conflicts (never both campaigns), every
campaign's budget, max_audience and channel capacities, and every shared
limit's budget and capacities by channel name.

Usage: python plan_milp.py tests/golden/plan_milp
"""

import glob
import json
import os
import sys
import time

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix


def options(inst):
    """(customer, campaign, channel, profit, cost, channel name) of every profitable option."""
    out = []
    for c, camp in enumerate(inst["campaigns"]):
        v = camp["value_per_response"]
        for i, row in enumerate(camp["scores"]):
            for ch, s in enumerate(row):
                if s is None:
                    continue
                chan = camp["channels"][ch]
                profit = s * v - chan["cost"]
                if profit >= 0.0:
                    out.append((i, c, ch, profit, chan["cost"], chan["name"]))
    return out


def rows(inst, opts):
    """Constraint rows as (option indices, coefficients, upper bound)."""
    names = [c["name"] for c in inst["campaigns"]]
    by_customer = {}
    for k, o in enumerate(opts):
        by_customer.setdefault(o[0], []).append(k)
    out = []
    for ks in by_customer.values():
        for c in range(len(names)):
            mine = [k for k in ks if opts[k][1] == c]
            if len(mine) > 1:
                out.append((mine, [1.0] * len(mine), 1))
        out.append((ks, [1.0] * len(ks), inst["max_contacts"]))
        for name, cap in inst["max_per_channel"].items():
            mine = [k for k in ks if opts[k][5] == name]
            out.append((mine, [1.0] * len(mine), cap))
        for a, b in inst["conflicts"]:
            ia, ib = names.index(a), names.index(b)
            mine = [k for k in ks if opts[k][1] in (ia, ib)]
            out.append((mine, [1.0] * len(mine), 1))
    for c, camp in enumerate(inst["campaigns"]):
        mine = [k for k, o in enumerate(opts) if o[1] == c]
        out.append((mine, [opts[k][4] for k in mine], camp["budget"]))
        if camp["max_audience"] is not None:
            out.append((mine, [1.0] * len(mine), camp["max_audience"]))
        for ch, chan in enumerate(camp["channels"]):
            if chan["capacity"] is not None:
                on = [k for k in mine if opts[k][2] == ch]
                out.append((on, [1.0] * len(on), chan["capacity"]))
    for s in inst["shared"]:
        members = {names.index(n) for n in s["campaigns"]}
        mine = [k for k, o in enumerate(opts) if o[1] in members]
        if s.get("budget") is not None:
            out.append((mine, [opts[k][4] for k in mine], s["budget"]))
        for name, cap in s.get("capacity", {}).items():
            on = [k for k in mine if opts[k][5] == name]
            out.append((on, [1.0] * len(on), cap))
    return [r for r in out if r[0]]


def solve(inst):
    opts = options(inst)
    n = len(opts)
    if n == 0:
        return 0.0, 0.0
    rs = rows(inst, opts)
    ri, ci, vals, ub = [], [], [], []
    for r, (ks, coef, u) in enumerate(rs):
        ri += [r] * len(ks)
        ci += ks
        vals += coef
        ub.append(u)
    a = coo_matrix((vals, (ri, ci)), shape=(len(rs), n)).tocsr()
    profit = np.array([o[3] for o in opts])
    res = milp(
        -profit,
        constraints=LinearConstraint(a, -np.inf, np.array(ub, dtype=float)),
        integrality=np.ones(n),
        bounds=Bounds(0, 1),
        options={"mip_rel_gap": 0.0, "time_limit": 600},
    )
    if res.status != 0:
        raise SystemExit(f"HiGHS did not prove optimality: {res.message}")
    x = np.round(res.x)
    # The rounded solution must be feasible exactly, not within HiGHS's tolerances.
    if np.any(a @ x > np.array(ub) + 1e-9):
        raise SystemExit("rounded solution breaks a limit")
    optimum = float(sum(opts[k][3] for k in range(n) if x[k] > 0.5))
    return optimum, -float(res.mip_dual_bound)


def main():
    d = sys.argv[1]
    lines = ["file,optimum,dual_bound,seconds"]
    for path in sorted(glob.glob(os.path.join(d, "instance_*.json"))):
        with open(path) as f:
            inst = json.load(f)
        t = time.time()
        opt, bound = solve(inst)
        secs = time.time() - t
        name = os.path.basename(path)
        print(f"{name}: optimum {opt:.6f} dual bound {bound:.6f} ({secs:.1f} s)")
        lines.append(f"{name},{opt!r},{bound!r},{secs:.2f}")
    with open(os.path.join(d, "optima.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
