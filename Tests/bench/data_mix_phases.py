#!/usr/bin/env python3
"""Measured beside estimated per phase of the data mix: where a command's time goes (the bulk
build, the calls on keys of each size, strings, small keys) and where the estimate misses.

usage: data_mix_phases.py REDIS_COST MONITOR.txt COMMANDSTATS.json MODEL.json
MONITOR.txt and COMMANDSTATS.json as time-model-bench.sh records them (gen_data_mix.py marks
each phase's end with `PING data-mix-phase-<name>` and INFO commandstats). Each phase's
estimate is the difference of `analyze --baseline empty --constants MODEL.json` over the
capture cut at its marker and at the one before: the analysis is causal, so a prefix's calls
are priced as in the whole. Prints, for the ten commands with the most measured time, measured
ms / estimated ms per phase, and each phase's ten summed.
"""
import json, os, subprocess, sys, tempfile

binary, capture, stats_path, model = sys.argv[1:5]
stats = json.load(open(stats_path))
marks = []           # (phase, byte offset just after its marker line)
with open(capture, "rb") as f:
    offset = 0
    for line in f:
        offset += len(line)
        if b'"data-mix-phase-' in line:
            marks.append((line.split(b'"data-mix-phase-')[1].split(b'"')[0].decode(), offset))
phases = [name for name, _ in marks]
if phases != [name for name, _ in stats.get("phases", [])]:
    sys.exit(f"{capture}: phase markers {phases} do not match {stats_path}'s phases")


def estimate(end):
    with tempfile.NamedTemporaryFile(suffix=".txt") as prefix, open(capture, "rb") as f:
        prefix.write(f.read(end))
        prefix.flush()
        out = subprocess.run([binary, "analyze", prefix.name, "--baseline", "empty", "--constants", model, "--format", "json"],
                             capture_output=True, check=True)
    return {c["name"].lower().replace(" ", "|"): c["estimatedMicroseconds"] or 0 for c in json.loads(out.stdout)["commands"]}


def usec(info):
    return {k[len("cmdstat_"):].lower(): v["usec"] for k, v in info.items()}


estimated = [{}] + [estimate(end) for _, end in marks]
measured = [usec(stats["before"])] + [usec(info) for _, info in stats["phases"]]
total = {k: measured[-1].get(k, 0) - measured[0].get(k, 0) for k in measured[-1]}
top = sorted(total, key=lambda k: -total[k])[:10]
print("\ndata-mix by phase: measured ms / estimated ms")
print(f"{'phase':<14}" + "".join(f"{k:>16}" for k in top) + f"{'top-10':>18}")
for i, phase in enumerate(phases, start=1):
    cells, m_sum, e_sum = [], 0, 0
    for k in top:
        m = measured[i].get(k, 0) - measured[i - 1].get(k, 0)
        e = estimated[i].get(k, 0) - estimated[i - 1].get(k, 0)
        m_sum, e_sum = m_sum + m, e_sum + e
        cells.append(f"{m / 1000:.1f}/{e / 1000:.1f}" if m > 0 or e > 0 else "")
    print(f"{phase:<14}" + "".join(f"{c:>16}" for c in cells) + f"{m_sum / 1000:>9.1f}/{e_sum / 1000:.1f}")
