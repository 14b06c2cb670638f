#!/usr/bin/env python3
"""A data-heavy workload for time-model-bench.sh: O(N) reads and writes on keys of 1 to
100,000 elements of every collection type and on strings up to 1 MB, against a server that
`redis-cli monitor` records. Deterministic: a seeded generator picks every key, size and
argument, so two runs send the same calls.

usage: gen_data_mix.py PORT OUT.json [SCALE]
       OUT.json gets {"before": INFO commandstats, "after": INFO commandstats, "calls": N,
       "phases": [[name, INFO commandstats at its end], …]}
       SCALE (default 1) multiplies the number of calls; sizes stay 1..100k.

Between phases (the build, the mix on keys of each size, the strings, the small keys) the
script sends `PING data-mix-phase-<name>` and reads INFO commandstats: data_mix_phases.py cuts
the capture at those PINGs and prints measured beside estimated per phase. Outside the
workload the script's own connection sends only those and the INFO before and after.
"""
import json, random, sys
import redis

SIZES = [1, 10, 100, 1000, 10_000, 100_000]


def chunks(n, step=1000):
    for start in range(0, n, step):
        yield range(start, min(n, start + step))


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    scale = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rng = random.Random(20261202)
    r = redis.Redis(port=port, single_connection_client=True)
    before = r.info("commandstats")
    calls = 0
    phases = []

    def mark(phase):
        r.execute_command("PING", f"data-mix-phase-{phase}")
        phases.append([phase, r.info("commandstats")])

    def call(*argv):
        nonlocal calls
        calls += 1
        return r.execute_command(*argv)

    # Build: every type at every size, written the way applications bulk-load (1,000 elements a call).
    for n in SIZES:
        for i in range(2):
            for c in chunks(n):
                call("HSET", f"h:{n}:{i}", *[x for j in c for x in (f"field:{j}", f"value-{j % 97}")])
                call("SADD", f"s:{n}:{i}", *[f"member:{j * (i + 1)}" for j in c])
                call("ZADD", f"z:{n}:{i}", *[x for j in c for x in (rng.randint(0, 1_000_000), f"member:{j}")])
                call("RPUSH", f"l:{n}:{i}", *[f"item-{j}" for j in c])
    for n in (10, 1000, 100_000, 1_000_000):
        call("SET", f"str:{n}", "x" * n)
    mark("build")

    # The mix: reads and writes over keys of every size, each read repeated fewer times on bigger keys.
    for _ in range(scale):
        for n in SIZES:
            repeat = max(2, 20_000 // n)
            for _ in range(repeat):
                i = rng.randint(0, 1)
                call("HGETALL", f"h:{n}:{i}")
                call("SMEMBERS", f"s:{n}:{i}")
                call("ZRANGE", f"z:{n}:{i}", 0, -1)
                call("ZRANGE", f"z:{n}:{i}", 0, 9)
                call("ZRANGEBYSCORE", f"z:{n}:{i}", 0, rng.randint(0, 1_000_000))
                call("LRANGE", f"l:{n}:{i}", 0, -1)
                call("LRANGE", f"l:{n}:{i}", 0, 99)
                call("SUNIONSTORE", f"u:{n}", f"s:{n}:0", f"s:{n}:1")
                call("SINTER", f"s:{n}:0", f"s:{n}:1")
                call("HGET", f"h:{n}:{i}", f"field:{rng.randrange(n)}")
                call("HSET", f"h:{n}:{i}", f"field:{rng.randrange(2 * n)}", "v")
                call("ZADD", f"z:{n}:{i}", rng.randint(0, 1_000_000), f"member:{rng.randrange(2 * n)}")
                call("ZSCORE", f"z:{n}:{i}", f"member:{rng.randrange(n)}")
                call("SADD", f"s:{n}:{i}", f"member:{rng.randrange(4 * n)}")
                call("SISMEMBER", f"s:{n}:{i}", f"member:{rng.randrange(2 * n)}")
                call("LPUSH", f"l:{n}:{i}", "new")
                call("RPOP", f"l:{n}:{i}")
            # Writes of many elements into keys that grow from nothing, then their deletion.
            for k in range(max(1, 200 // n)):
                m = min(n, 1000)
                call("ZADD", f"zw:{n}:{k}", *[x for j in range(m) for x in (rng.randint(0, 10**6), f"m{j}")])
                call("HSET", f"hw:{n}:{k}", *[x for j in range(m) for x in (f"f{j}", "v")])
                call("SADD", f"sw:{n}:{k}", *[f"m{j}" for j in range(m)])
                call("RPUSH", f"lw:{n}:{k}", *[f"e{j}" for j in range(m)])
                call("DEL", f"zw:{n}:{k}", f"hw:{n}:{k}", f"sw:{n}:{k}", f"lw:{n}:{k}")
            mark(f"keys-of-{n}")
        for n in (10, 1000, 100_000, 1_000_000):
            for _ in range(max(2, 2_000_000 // (n * 50))):
                call("GET", f"str:{n}")
                call("SET", f"copy:{n}", "y" * n)
                call("STRLEN", f"str:{n}")
        mark("strings")
        for j in range(2000):
            call("SET", f"small:{j % 500}", f"value-{j}")
            call("GET", f"small:{rng.randrange(500)}")
            call("INCR", f"counter:{j % 10}")
            call("EXPIRE", f"small:{j % 500}", 3600)
        mark("small-keys")
    after = r.info("commandstats")
    with open(out, "w") as f:
        json.dump({"before": before, "after": after, "calls": calls, "phases": phases}, f, indent=1, sort_keys=True)
    print(f"data mix: {calls} calls", file=sys.stderr)


if __name__ == "__main__":
    main()
