"""`bullseye plan` at scale: N customers x C campaigns x 2 channels (e-mail, mail), with per-customer
caps (2 contacts, 1 e-mail), a conflict pair and two shared capacities (the week's e-mail volume of
the first half of the campaigns, the mail volume of the second half). Generates the scores table
and the campaign and policy files once (seeded, stdlib only), runs the plan under `timeout`, and
reports wall and CPU time, peak memory (wait4, as `harness.py`), the machine's load before and
after (the wall time is the machine's only when nothing else runs) and the plan's gap from
`plan.json`.
`BULLSEYE_BIN` names the binary to measure (default: the release build, as `harness.py`).

    python3 bench/plan.py --customers 1000000 --campaigns 10 --data /work/bench-data --timeout 600
    python3 bench/plan.py --customers 100000 --campaigns 50 --data /work/bench-data
"""
import argparse
import json
import os
import random
import shutil
import subprocess

import harness


def generate(folder, customers, campaigns, seed):
    """Writes scores.csv, c<k>.toml and policy.toml under `folder` (skipped when present)."""
    done = os.path.join(folder, "policy.toml")
    if os.path.exists(done):
        return
    os.makedirs(folder, exist_ok=True)
    rng = random.Random(seed)
    columns = [f"s{c}_{ch}" for c in range(campaigns) for ch in ("email", "mail")]
    with open(os.path.join(folder, "scores.csv"), "w") as f:
        f.write("customer_id," + ",".join(columns) + "\n")
        for i in range(customers):
            # A customer-level propensity shared by every campaign, times campaign noise.
            base = rng.betavariate(1.2, 30.0)
            cells = [f"{min(1.0, base * rng.uniform(0.3, 2.5)):.5f}" for _ in columns]
            f.write(f"c{i:08d}," + ",".join(cells) + "\n")
    for c in range(campaigns):
        value = rng.uniform(20.0, 60.0)
        budget = round(customers * rng.uniform(0.01, 0.04), 2)
        with open(os.path.join(folder, f"c{c}.toml"), "w") as f:
            f.write(
                f'[campaign]\nname = "c{c}"\nbudget = {budget}\nobjective = "profit"\n'
                f"value_per_response = {value:.2f}\ncontrol_fraction = 0.05\nseed = {c}\n\n"
                f'[[channel]]\nname = "email"\ncost = 0.10\nscore_column = "s{c}_email"\n\n'
                f'[[channel]]\nname = "mail"\ncost = 0.80\nscore_column = "s{c}_mail"\n'
                f"capacity = {customers // 50}\n"
            )
    half = campaigns // 2
    names = lambda r: ", ".join(f'"c{c}"' for c in r)
    with open(done, "w") as f:
        f.write(
            "[policy]\nmax_contacts = 2\nconflicts = [[\"c0\", \"c1\"]]\n\n"
            "[policy.max_per_channel]\nemail = 1\n\n"
            f'[[policy.shared]]\nname = "email-week"\ncampaigns = [{names(range(half))}]\n'
            f"[policy.shared.capacity]\nemail = {customers // 10}\n\n"
            f'[[policy.shared]]\nname = "mail-week"\ncampaigns = [{names(range(half, campaigns))}]\n'
            f"[policy.shared.capacity]\nmail = {customers // 40}\n"
        )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--campaigns", type=int, default=10)
    ap.add_argument("--data", default="/work/bench-data")
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--timeout", type=int, default=600)
    args = ap.parse_args()
    folder = os.path.join(args.data, f"plan{args.customers}x{args.campaigns}")
    generate(folder, args.customers, args.campaigns, args.seed)
    out = os.path.join(folder, "out")
    shutil.rmtree(out, ignore_errors=True)
    binary = os.environ.get("BULLSEYE_BIN") or harness.bullseye_binary()
    cmd = ["timeout", str(args.timeout), binary, "plan",
           "--scores", os.path.join(folder, "scores.csv"),
           "--policy", os.path.join(folder, "policy.toml"), "--out", out]
    for c in range(args.campaigns):
        cmd += ["--campaign", os.path.join(folder, f"c{c}.toml")]
    load = os.getloadavg()[0]
    before = os.times()
    wall, rss, _ = harness.measure(cmd)
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    with open(os.path.join(out, "plan.json")) as f:
        plan = json.load(f)
    print(f"plan {args.customers} x {args.campaigns} campaigns x 2 channels: {wall:.1f} s wall, "
          f"{cpu:.1f} s CPU, peak {rss:.0f} MiB, objective {plan['objective_before_controls']:.2f}, "
          f"bound {plan['upper_bound']:.2f}, gap {100 * plan['gap']:.3f} %, "
          f"{plan['iterations']} iterations, load {load:.1f} before, {os.getloadavg()[0]:.1f} after")


if __name__ == "__main__":
    main()
