#!/usr/bin/env python3
"""Estimated beside measured time per command, as the time-model benchmarks print it.

usage: compare_commandstats.py NAME COMMANDSTATS.json REPORT.json
COMMANDSTATS.json: {"before": {cmdstat_x: {usec, …}}, "after": {…}} (gen_app_workload.py and
gen_data_mix.py write it); REPORT.json: `redis-cost analyze … --format json`. Prints the ten
commands with the most measured time, their estimate, the ratio, the ten's sums, and whether
the goal (each within ×1.5, the sum within ×1.25) is met.
"""
import json, sys

name, stats, report = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
measured = {}
for k, v in stats["after"].items():
    usec = v["usec"] - stats["before"].get(k, {}).get("usec", 0)
    if usec > 0:
        measured[k[len("cmdstat_"):].lower()] = usec
estimated = {c["name"].lower().replace(" ", "|"): c["estimatedMicroseconds"] or 0 for c in report["commands"]}
top = sorted(measured, key=lambda k: -measured[k])[:10]
print(f"\n{name}: {report['totals']['calls']:,} calls; model: {report['totals'].get('timeModel', '?')}")
print(f"{'command':<16} {'measured ms':>12} {'estimated ms':>13} {'ratio':>7}")
for k in top:
    m, e = measured[k] / 1000, estimated.get(k, 0) / 1000
    print(f"{k:<16} {m:12.2f} {e:13.2f} {e / m:7.2f}")
m, e = sum(measured[k] for k in top) / 1000, sum(estimated.get(k, 0) for k in top) / 1000
print(f"{'top-10 sum':<16} {m:12.2f} {e:13.2f} {e / m:7.2f}")
within = sum(1 for k in top if 1 / 1.5 <= estimated.get(k, 0) / measured[k] <= 1.5)
print(f"within x1.5: {within}/{len(top)}; sum within x1.25: {'yes' if 0.8 <= e / m <= 1.25 else 'no'}")
