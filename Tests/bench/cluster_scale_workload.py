#!/usr/bin/env python3
"""The workload and the checks of Tests/bench/cluster-scale-bench.sh (redis-py, no other package).

usage: cluster_scale_workload.py work PORT KEYS_PER_NODE CALLS SEED OUT.json
           KEYS_PER_NODE keys on every primary (names picked by their slot's owner), each written
           once (SET, HSET of 3 fields or LPUSH of 3 elements: KEYS_PER_NODE calls per node), then
           CALLS calls in all (whatever the number of nodes), SET/GET, HSET/HGETALL, LPUSH/LRANGE
           on keys drawn with random.Random(SEED): the same calls every run on the same cluster.
           Writes the calls sent per command to OUT.json.
       cluster_scale_workload.py stats OUT.json PORT...      INFO commandstats calls of every node
       cluster_scale_workload.py attached TIMEOUT PORT...    waits until every node lists a monitor client
       cluster_scale_workload.py clients PORT...             per node: monitor clients, samplers (CLIENT LIST)
       cluster_scale_workload.py live REPORT.json BEFORE.json AFTER.json SENT.json N
       cluster_scale_workload.py offline REPORT.json SENT.json CAPTURE...
PORT is any node for `work`; the client finds the others (CLUSTER SLOTS).
"""
import json
import random
import re
import sys
import time

import redis
from redis.cluster import RedisCluster
from redis.crc import key_slot

# The workload's commands, as commandstats and the report name them.
WORKLOAD = ["SET", "GET", "HSET", "HGETALL", "LPUSH", "LRANGE"]


def work(port, per_node, calls, seed, out):
    client = RedisCluster(host="127.0.0.1", port=port, decode_responses=False)
    owners = client.nodes_manager.slots_cache
    primaries = sorted({nodes[0].name for nodes in owners.values()})
    keys = {name: [] for name in primaries}
    i = 0
    while any(len(k) < per_node for k in keys.values()):
        name = f"scale:{i}"
        owner = owners[key_slot(name.encode())][0].name
        if len(keys[owner]) < per_node:
            keys[owner].append(name)
        i += 1
    sent = {c: 0 for c in WORKLOAD}
    everything = []
    for owner in primaries:
        for j, name in enumerate(keys[owner]):
            kind = j % 3
            if kind == 0:
                client.set(name, "v" * 16); sent["SET"] += 1
            elif kind == 1:
                client.hset(name, mapping={"a": "1", "b": "2", "c": "3"}); sent["HSET"] += 1
            else:
                client.lpush(name, "x", "y", "z"); sent["LPUSH"] += 1
            everything.append((name, kind))
    rng = random.Random(seed)
    for n in range(calls):
        name, kind = everything[rng.randrange(len(everything))]
        write = rng.random() < 0.5
        if kind == 0:
            if write:
                client.set(name, f"value-{n}"); sent["SET"] += 1
            else:
                client.get(name); sent["GET"] += 1
        elif kind == 1:
            if write:
                client.hset(name, f"f{n % 50}", "v"); sent["HSET"] += 1
            else:
                client.hgetall(name); sent["HGETALL"] += 1
        else:
            if write:
                client.lpush(name, "e"); sent["LPUSH"] += 1
            else:
                client.lrange(name, 0, -1); sent["LRANGE"] += 1
    client.close()
    with open(out, "w") as f:
        json.dump({"primaries": len(primaries), "keys": len(everything), "sent": sent,
                   "total": sum(sent.values())}, f)
    print(f"calls {sum(sent.values())} on {len(primaries)} primaries")


def node(port):
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)


def stats(out, ports):
    result = {}
    for port in ports:
        info = node(port).info("commandstats")
        result[str(port)] = {k[len("cmdstat_"):]: v["calls"] for k, v in info.items()}
    with open(out, "w") as f:
        json.dump(result, f)


def client_kinds(port):
    monitors = samplers = 0
    for c in node(port).client_list():
        if "O" in c.get("flags", ""):
            monitors += 1
        if c.get("name") == "redis-cost-sampler":
            samplers += 1
    return monitors, samplers


def attached(timeout, ports):
    deadline = time.time() + timeout
    for port in ports:
        while client_kinds(port)[0] < 1:
            if time.time() > deadline:
                raise SystemExit(f"no monitor client on {port} after {timeout} s")
            time.sleep(0.05)


def clients(ports):
    rows = [client_kinds(p) for p in ports]
    print(f"{sum(r[0] for r in rows)} {sum(r[1] for r in rows)} "
          f"{sum(1 for r in rows if r == (1, 1))}")


def seen_by_command(report):
    seen = {c: 0 for c in WORKLOAD}
    for n in report["cluster"]["nodes"]:
        for name, calls in n["commands"].items():
            if name in seen:
                seen[name] += calls
    return seen


def delta(before, after):
    total = {c: 0 for c in WORKLOAD}
    for port, counts in after.items():
        for c in WORKLOAD:
            total[c] += counts.get(c.lower(), 0) - before.get(port, {}).get(c.lower(), 0)
    return total


def live(report_path, before_path, after_path, sent_path, n):
    report = json.load(open(report_path))
    before, after, sent = json.load(open(before_path)), json.load(open(after_path)), json.load(open(sent_path))
    seen, expected = seen_by_command(report), delta(before, after)
    nodes = report["cluster"]["nodes"]
    overlap = sorted({c for n_ in nodes for c in (n_.get("toolCommands") or {}) if c.upper() in WORKLOAD})
    lost = [n_["address"] for n_ in nodes if n_.get("lost")]
    problems = []
    if len(nodes) != n:
        problems.append(f"{len(nodes)} nodes in the report, {n} primaries")
    if seen != expected:
        problems.append(f"seen {seen} != commandstats {expected}")
    if expected != sent["sent"]:
        problems.append(f"commandstats {expected} != sent {sent['sent']}")
    if overlap:
        problems.append(f"the tool sent workload commands {overlap}")
    if lost:
        problems.append(f"lost nodes {lost}")
    tool = {}
    for n_ in nodes:
        for c, k in (n_.get("toolCommands") or {}).items():
            tool[c] = tool.get(c, 0) + k
    print(json.dumps({"seen": sum(seen.values()), "expected": sum(expected.values()),
                      "sent": sent["total"], "nodes": len(nodes), "totalCalls": report["totals"]["calls"],
                      "toolCommands": tool, "endReason": report.get("live", {}).get("endReason"),
                      "problems": problems}))


LINE = re.compile(rb'^\d+\.\d+ \[\d+ [^\]]*\] "([^"]*)"')


def offline(report_path, sent_path, captures):
    report = json.load(open(report_path))
    sent = json.load(open(sent_path))
    lines = workload_lines = 0
    by_command = {c: 0 for c in WORKLOAD}
    for path in captures:
        with open(path, "rb") as f:
            for raw in f:
                m = LINE.match(raw)
                if not m:
                    continue
                lines += 1
                name = m.group(1).decode().upper()
                if name in by_command:
                    by_command[name] += 1
                    workload_lines += 1
    seen = seen_by_command(report)
    problems = []
    if seen != by_command:
        problems.append(f"report {seen} != captured {by_command}")
    if by_command != sent["sent"]:
        problems.append(f"captured {by_command} != sent {sent['sent']}")
    if report["totals"]["calls"] != lines:
        problems.append(f"report total {report['totals']['calls']} != captured lines {lines}")
    print(json.dumps({"lines": lines, "workloadLines": workload_lines, "seen": sum(seen.values()),
                      "totalCalls": report["totals"]["calls"], "nodes": len(report["cluster"]["nodes"]),
                      "problems": problems}))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "work":
        work(int(args[0]), int(args[1]), int(args[2]), int(args[3]), args[4])
    elif cmd == "stats":
        stats(args[0], [int(p) for p in args[1:]])
    elif cmd == "attached":
        attached(float(args[0]), [int(p) for p in args[1:]])
    elif cmd == "clients":
        clients([int(p) for p in args])
    elif cmd == "live":
        live(args[0], args[1], args[2], args[3], int(args[4]))
    elif cmd == "offline":
        offline(args[0], args[1], args[2:])
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
