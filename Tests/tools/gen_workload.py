#!/usr/bin/env python3
"""Run a seeded mixed workload against a real server and keep everything it wrote.

usage: gen_workload.py SERVER_BINARY OUTDIR SEED [SCALE]

Starts SERVER_BINARY on a free loopback port (and a unix socket) with appendonly on, captures
the whole workload with `redis-cli monitor`, rewrites the AOF halfway (so appendonlydir/ has
an RDB base and an incr file written after it), and at the end writes to OUTDIR:

  appendonlydir/       the server's multi-part AOF (manifest, *.base.rdb, *.incr.aof, #TS: lines)
  dump.rdb             a SAVE taken after the workload
  monitor.txt          `redis-cli monitor` output (first line is redis-cli's OK; it has caught up
                       with the final ECHO marker before it is stopped)
  commandstats.json    INFO commandstats before and after the workload: {"before": …, "after": …}
  final-state.json     every key of db 0..15: {"<db>": {"<key bytes as hex>": {"key", "type",
                       "size", "has_ttl"}}}, size = STRLEN/LLEN/SCARD/ZCARD/HLEN/XLEN
  server.json          INFO server of the server that wrote it
  workload.json        the seed, scale and generator that made the run

The workload plants what redis-cost should find: KEYS, full reads (HGETALL/HKEYS/HVALS,
SMEMBERS, LRANGE 0 -1, ZRANGE 0 -1) and set algebra on collections in the thousands, deep
list access (LINDEX/LSET/LINSERT/LREM/LPOS), SORT with and without STORE, DEL of a big hash,
SCAN + one DEL per key, EXISTS then GET/DEL, deprecated commands; and the rest of a mixed
workload: strings, small hashes, streams with a consumer group, expirations, FLUSHDB in db 1,
MULTI/EXEC with a failing command, EVAL, SCRIPT LOAD + EVALSHA, UNLINK, binary and non-ASCII
key names, a unix-socket client, and hash-field TTLs where the server has them (Redis 7.4+,
Valkey 9+). SCALE (default 1, the size of the committed fixtures) multiplies the collection
sizes and the number of string keys.

The machine's paths (the unix socket in monitor.txt, the binary in server.json) are replaced
by neutral ones; key data is untouched. Needs the PyPI redis client and redis-cli.
"""
import json, os, random, shutil, signal, socket, subprocess, sys, tempfile, time

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_server import final_state, free_port  # noqa: E402

NEUTRAL_SOCKET = "/var/run/redis/redis.sock"
END_MARKER = "gen_workload:end"
def wait_ready(client, process, log):
    for _ in range(200):
        if process.poll() is not None:
            break
        try:
            if client.ping():
                return
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    tail = open(log, errors="replace").read()[-2000:] if os.path.exists(log) else ""
    sys.exit(f"the server did not start:\n{tail}")


def state_of(port):
    """Every key of db 0..15 with its type, O(1) size and whether it has a TTL."""
    return final_state(port)


def write_state(state, path):
    """final-state.json: one key a line, databases and keys in order (small, readable diffs)."""
    with open(path, "w") as f:
        f.write("{")
        for i, db in enumerate(sorted(state, key=int)):
            f.write(("," if i else "") + f"\n {json.dumps(db)}: {{")
            for j, hex_key in enumerate(sorted(state[db])):
                f.write(("," if j else "") + f"\n  {json.dumps(hex_key)}: "
                        + json.dumps(state[db][hex_key], sort_keys=True, ensure_ascii=False))
            f.write("\n }")
        f.write("\n}\n")


def has_command(port, name):
    probe = redis.Redis(port=port)
    probe.set_response_callback("COMMAND", lambda reply, **_: reply)   # the raw reply
    found = bool(probe.execute_command("COMMAND", "LIST", "FILTERBY", "PATTERN", name.lower()))
    probe.close()
    return found


def wait_for_rewrite(r):
    for _ in range(400):
        p = r.info("persistence")
        if p.get("aof_rewrite_in_progress") == 0 and p.get("aof_rewrite_scheduled") == 0:
            return
        time.sleep(0.05)
    sys.exit("BGREWRITEAOF did not finish")


def workload(r, port, sock, rng, scale, features):
    u = redis.Redis(unix_socket_path=sock)
    clients = [redis.Redis(port=port) for _ in range(3)] + [u]

    def c():
        return rng.choice(clients)

    def word(n=8):
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))

    users, list_len, zset_len = 300 * scale, 2500 * scale, 1200 * scale
    set_draws, set_range = 1500 * scale, 2500 * scale

    # strings, binary and non-ASCII key names
    for i in range(users):
        c().set(f"user:{i}:name", word(rng.randint(3, 40)))
    for i in range(50):
        c().incrby(f"counter:{i % 7}", rng.randint(1, 9))
        c().append(f"log:{i % 5}", word(5))
        c().setrange(f"buf:{i % 3}", rng.randint(0, 30), word(4))
    c().mset({f"m:{i}": word(6) for i in range(20)})
    c().mget([f"m:{i}" for i in range(20)])
    for k in [b"bin:\x00\xff\r\n\"q\\", "한글:키".encode(), b"sp ace:\t", "café:ünïcode:🔑".encode()]:
        c().set(k, b"\x00\x01value\xff")
    c().set("session:abc", "x", ex=3600)
    c().set("short:ttl", "x", px=500)

    # hashes: three big ones (HGETALL, HKEYS, HVALS, DEL), many small ones
    for h, size in enumerate([1100 * scale, 1400 * scale, 1800 * scale]):
        items = [(f"f{j}", word(3)) for j in range(size)]
        for j in range(0, len(items), 500):
            r.hset(f"big:hash:{h}", mapping=dict(items[j:j + 500]))
    for i in range(200):
        c().hset(f"profile:{i}", mapping={"name": word(), "age": rng.randint(1, 99), "한": "글"})
    c().hset("big:hash:0", "f1", "updated")          # an update: the size does not change
    c().hdel("big:hash:0", "f2", "f3", "nope")
    c().hgetall("big:hash:2")
    c().hkeys("big:hash:1")
    c().hvals("big:hash:0")
    c().hincrby("profile:1", "visits", 3)
    if features["hash-field-ttl"]:                   # long TTLs: nothing expires during the run
        r.execute_command("HEXPIRE", "profile:5", 3600, "FIELDS", 2, "name", "nope")
        r.execute_command("HPEXPIRE", "big:hash:2", 7_200_000, "FIELDS", 3, f"f{1500 * scale + 1}",
                          f"f{1500 * scale + 2}", f"f{1500 * scale + 3}")
        r.execute_command("HPERSIST", "big:hash:2", "FIELDS", 1, f"f{1500 * scale + 3}")
    if features["hsetex"]:
        r.execute_command("HSETEX", "profile:6", "EX", 3600, "FIELDS", 2, "token", word(), "seen", 1)
        r.execute_command("HGETEX", "profile:7", "PX", 3_600_000, "FIELDS", 1, "name")
        r.execute_command("HGETDEL", "profile:8", "FIELDS", 2, "age", "nope")

    # sets
    for s in range(3):
        members = [f"m{rng.randint(0, set_range)}" for _ in range(set_draws)]
        for j in range(0, len(members), 500):
            r.sadd(f"big:set:{s}", *members[j:j + 500])
    c().sadd("small:set", 1, 2, 3, "3", 4)            # "3" twice
    c().srem("small:set", 2, 99)
    c().sinter("big:set:0", "big:set:1")
    c().sunion("big:set:0", "big:set:1", "small:set")
    c().sdiff("big:set:2", "big:set:0")
    c().sinterstore("dst:inter", "big:set:0", "big:set:1")
    c().sunionstore("dst:union", "big:set:1", "big:set:2")
    c().sdiffstore("dst:diff", "big:set:0", "big:set:2")
    if features["sintercard"]:
        c().execute_command("SINTERCARD", 2, "big:set:0", "big:set:2", "LIMIT", 100)
    c().smembers("big:set:1")
    c().spop("small:set")
    c().spop("big:set:2", 5)
    c().smove("big:set:0", "small:set", next(iter(r.srandmember("big:set:0", 1))))

    # lists: deep access by index and by value
    for l in range(2):
        items = [word(5) for _ in range(list_len)]
        for j in range(0, len(items), 1000):
            r.rpush(f"queue:{l}", *items[j:j + 1000])
    c().lpush("queue:0", "head1", "head2")
    c().lindex("queue:0", list_len // 2)
    c().lindex("queue:1", -10)
    c().lset("queue:0", list_len * 55 // 100, "changed")
    c().linsert("queue:1", "BEFORE", r.lindex("queue:1", 100), "pivot-insert")
    c().linsert("queue:1", "AFTER", "no-such-pivot", "x")
    c().lrange("queue:0", 0, -1)
    c().lrange("queue:1", 100, 200)
    c().lrem("queue:0", 0, "head1")
    c().ltrim("queue:1", 0, list_len * 4 // 5 - 1)
    c().lpop("queue:0", 3)
    c().rpop("queue:1")
    c().lmove("queue:0", "queue:moved", "LEFT", "RIGHT")
    c().lpos("queue:0", "changed")

    # sorted sets
    for z in range(2):
        items = [(f"p{j}", round(rng.random() * 1000, 2)) for j in range(zset_len)]
        for j in range(0, len(items), 500):
            r.zadd(f"rank:{z}", dict(items[j:j + 500]))
    c().zadd("rank:0", {"p1": 5.0})                   # a score update
    c().zrange("rank:0", 0, -1)
    c().zrangebyscore("rank:1", 100, 200)             # deprecated since 6.2
    c().zrevrange("rank:1", 0, 9, withscores=True)    # deprecated since 6.2
    c().zunionstore("rank:union", ["rank:0", "rank:1"])
    c().zinterstore("rank:inter", ["rank:0", "rank:1"])
    c().zrem("rank:0", "p2", "p3", "none")
    c().zpopmin("rank:1", 4)
    c().zincrby("rank:1", 2.5, "p7")

    # streams, one with a consumer group that reads, acknowledges and claims
    for i in range(200):
        c().xadd("events", {"n": i, "who": word(4)}, maxlen=120, approximate=True)
    for i in range(50):
        c().xadd("events:exact", {"n": i}, maxlen=40, approximate=False)
    c().xrange("events", count=20)
    c().xtrim("events", maxlen=100, approximate=False)
    for i in range(30):
        c().xadd("jobs", {"job": i, "payload": word(6)})
    r.xgroup_create("jobs", "workers", id="0")
    r.xgroup_create("jobs:empty", "workers", id="$", mkstream=True)   # creates an empty stream
    read = r.xreadgroup("workers", "alice", {"jobs": ">"}, count=12)
    ids = [entry[0] for entry in read[0][1]]
    r.xack("jobs", "workers", *ids[:8])
    r.xreadgroup("workers", "bob", {"jobs": ">"}, count=5)
    r.xpending("jobs", "workers")
    r.xautoclaim("jobs", "workers", "carol", 0, start_id="0-0", count=3)
    r.xdel("jobs", ids[9])

    # expirations
    for i in range(20):
        c().set(f"cache:{i}", word(), ex=3600)
    c().expire("profile:3", 3600)
    c().pexpireat("profile:4", int(time.time() * 1000) + 3_600_000)
    for i in range(10):
        c().set(f"ephemeral:{i}", "x", px=300)

    # keyspace-wide: KEYS, a SCAN loop, prefix deletion with SCAN then one DEL per key
    c().keys("user:1*")
    cur = 0
    while True:
        cur, _ = c().scan(cur, match="profile:*", count=50)
        if cur == 0:
            break
    cur, victims = 0, []
    while True:
        cur, ks = r.scan(cur, match="user:2*", count=100)
        victims += ks
        if cur == 0:
            break
    for k in victims:
        c().delete(k)
    # EXISTS, then GET or DEL of the same key
    for i in range(30):
        cl = clients[i % 3]
        if cl.exists(f"user:{i}:name"):
            cl.get(f"user:{i}:name")
        if cl.exists(f"m:{i % 20}"):
            cl.delete(f"m:{i % 20}")
    # db 1: filled, flushed, one key after
    d1 = redis.Redis(port=port, db=1)
    for i in range(100):
        d1.sadd("db1:set", i)
    d1.set("db1:s", "x")
    d1.flushdb()
    d1.hset("db1:after", "a", 1)

    # transactions (one with a command that fails inside EXEC) and scripts
    p = r.pipeline(transaction=True)
    p.incr("tx:counter").sadd("tx:set", "a", "b").hset("tx:hash", "f", "v").hset("tx:hash", "g", "w")
    p.execute()
    p = r.pipeline(transaction=True)
    p.set("tx:fail", "1").hset("tx:fail:h", "x", "1").incr("tx:fail:h").set("tx:after", "ok")
    try:
        p.execute()
    except redis.ResponseError:
        pass
    script = ("local n = 0 for i, k in ipairs(KEYS) do n = n + redis.call('SCARD', k) end "
              "redis.call('SADD', KEYS[1], ARGV[1]) return n")
    r.eval(script, 2, "small:set", "big:set:1", "from-lua")
    sha = r.script_load("redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return redis.call('HLEN', KEYS[1])")
    for i in range(5):
        r.evalsha(sha, 1, "lua:hash", f"f{i}", "v")
    c().sort("small:set", alpha=True)
    c().sort("queue:1", alpha=True, store="sorted:queue", start=0, num=50)

    # deletes of big collections
    c().delete("big:hash:1")
    c().unlink("dst:union")

    # the rewrite: the base becomes an RDB snapshot, the writes below go to a new incr file
    r.bgrewriteaof()
    wait_for_rewrite(r)
    for i in range(500 * scale):
        c().sadd("after:set", f"x{rng.randint(0, 400 * scale)}")
    c().rpush("queue:0", *[word(3) for _ in range(100)])
    c().hdel("big:hash:2", *[f"f{j}" for j in range(0, 1000 * scale)])
    c().zremrangebyrank("rank:0", 0, zset_len // 8 - 1)
    c().srem("big:set:0", *[f"m{j}" for j in range(0, set_range // 2)])
    c().rename("profile:10", "profile:renamed")
    c().copy("big:set:2", "big:set:copy")
    if features["hash-field-ttl"]:                   # field TTLs in the incr file too (as HPEXPIREAT)
        r.execute_command("HEXPIRE", "profile:9", 3600, "FIELDS", 1, "age")
    if features["hsetex"]:
        r.execute_command("HSETEX", "profile:11", "PX", 3_600_000, "FIELDS", 1, "token", word())
    time.sleep(0.8)   # the ephemeral keys expire
    for client in clients:
        client.close()


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__.split("\n\n")[1])
    binary, outdir, seed = sys.argv[1], os.path.abspath(sys.argv[2]), int(sys.argv[3])
    scale = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    rng = random.Random(seed)
    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir)
    scratch = tempfile.mkdtemp(prefix="gen-workload-")   # socket and log: not part of the run
    sock, log = os.path.join(scratch, "server.sock"), os.path.join(scratch, "server.log")
    port = free_port()
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", outdir,
                               "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                               "--aof-timestamp-enabled", "yes", "--unixsocket", sock, "--unixsocketperm", "700",
                               "--daemonize", "no", "--logfile", log])
    monitor = None
    try:
        r = redis.Redis(port=port)
        wait_ready(r, server, log)
        info_server = r.info("server")
        features = {"hash-field-ttl": has_command(port, "HEXPIRE"), "hsetex": has_command(port, "HSETEX"),
                    "sintercard": has_command(port, "SINTERCARD")}

        capture = os.path.join(outdir, "monitor.txt")
        with open(capture, "wb") as out:
            monitor = subprocess.Popen(["redis-cli", "-p", str(port), "monitor"], stdout=out)
        for _ in range(200):                  # attached once redis-cli has printed its OK
            if open(capture, "rb").read(3) == b"OK\n":
                break
            time.sleep(0.02)
        else:
            sys.exit("redis-cli monitor did not start")
        before = r.info("commandstats")
        workload(r, port, sock, rng, scale, features)
        after = r.info("commandstats")
        r.echo(END_MARKER)                    # the last line: the capture is complete once it shows
        marker = f'"ECHO" "{END_MARKER}"'.encode()
        for _ in range(500):
            if marker in open(capture, "rb").read()[-4096:]:
                break
            time.sleep(0.02)
        else:
            sys.exit("the capture never showed the end marker")
        monitor.send_signal(signal.SIGINT)
        monitor.wait(timeout=10)
        monitor = None

        state = state_of(port)
        r.save()
        r.shutdown(nosave=True)
        server.wait(timeout=30)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if monitor is not None:
            monitor.kill()
        if server.poll() is None:
            server.kill()
            server.wait()

    # No machine paths in what we keep.
    data = open(capture, "rb").read().replace(f"unix:{sock}".encode(), f"unix:{NEUTRAL_SOCKET}".encode())
    open(capture, "wb").write(data)
    name = os.path.basename(info_server.get("executable", "")) or "redis-server"
    info_server = json.loads(json.dumps(dict(info_server, executable=f"/usr/local/bin/{name}"), default=str)
                             .replace(json.dumps(sock)[1:-1], NEUTRAL_SOCKET))   # INFO's unix listener

    def dump(obj, name):
        with open(os.path.join(outdir, name), "w") as f:
            json.dump(obj, f, indent=1, sort_keys=True, ensure_ascii=False, default=str)
            f.write("\n")
    dump({"before": before, "after": after}, "commandstats.json")
    write_state(state, os.path.join(outdir, "final-state.json"))
    dump(info_server, "server.json")
    dump({"generator": "Tests/tools/gen_workload.py", "seed": seed, "scale": scale,
          "features": features}, "workload.json")
    print(outdir, "keys:", sum(len(v) for v in state.values()))


if __name__ == "__main__":
    main()
