#!/usr/bin/env python3
"""A fixed workload through redis-py's RedisCluster, for the cluster tests (ClusterTests.swift).

usage: cluster_workload.py PORT load          a 20,000-field hash and a few keys of known size
       cluster_workload.py PORT work [ROUNDS] reads and writes over many slots, ROUNDS times (default 1)

PORT is any node of the cluster; the client finds the others (CLUSTER SLOTS) and sends each
command to the node that owns its key. No randomness: the same calls every run. Prints the
calls it made on one line (`calls N`) when done.
"""
import sys

from redis.cluster import RedisCluster


def main():
    port, phase = int(sys.argv[1]), sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    client = RedisCluster(host="127.0.0.1", port=port, decode_responses=False)
    calls = 0
    if phase == "load":
        fields = {}
        for i in range(20000):
            fields[f"f{i}"] = "v"
        # Several HSETs of 5,000 fields: each one call on the hash's node.
        items = list(fields.items())
        for start in range(0, len(items), 5000):
            client.hset("big:hash", mapping=dict(items[start:start + 5000]))
            calls += 1
        client.rpush("big:list", *[str(i) for i in range(700)])
        client.sadd("{tag}:set", *[f"m{i}" for i in range(300)])
        calls += 2
    elif phase == "work":
        for r in range(rounds):
            for i in range(60):
                client.set(f"key:{i}", f"value-{r}-{i}")
                client.get(f"key:{i}")
                calls += 2
            client.hgetall("big:hash")
            client.hlen("big:hash")
            client.lrange("big:list", 0, -1)
            client.smembers("{tag}:set")
            client.sadd("{tag}:other", "a", "b", "c")
            client.sinter("{tag}:set", "{tag}:other")
            client.mset({"{user:1}:name": "n", "{user:1}:mail": "m"})
            client.mget("{user:1}:name", "{user:1}:mail")
            client.eval("return redis.call('HLEN', KEYS[1])", 1, "big:hash")
            client.incr(f"counter:{r % 7}")
            calls += 10
    else:
        raise SystemExit(f"unknown phase {phase}")
    client.close()
    print(f"calls {calls}")


if __name__ == "__main__":
    main()
