#!/usr/bin/env python3
"""Make a replay fixture from a real server: a seeded workload of every write that changes
sizes, written by the server to a multi-part AOF *without* an RDB preamble, plus the truth.

usage: gen_aof_fixture.py SERVER_BINARY OUTDIR SEED [SCALE]

OUTDIR gets appendonlydir/ (an AOF base written by BGREWRITEAOF halfway, then the incr
file), final-state.json (every key of db 0..15: type, size, has_ttl — the shape of
the final-state.json that gen_workload.py writes) and server.json. Needs the PyPI redis client.
"""
import json, os, random, shutil, sys, time
import redis
from fixture_server import final_state, shutdown, start_server

binary, outdir, seed = sys.argv[1], os.path.abspath(sys.argv[2]), int(sys.argv[3])
scale = int(sys.argv[4]) if len(sys.argv) > 4 else 1
rng = random.Random(seed)
shutil.rmtree(outdir, ignore_errors=True)
os.makedirs(outdir)
server, port, r = start_server(binary, outdir)
info = r.info("server")
version = tuple(int(x) for x in info["redis_version"].split(".")[:2])
valkey = "valkey_version" in info
def w(n=6):
    return "".join(rng.choice("abcdefghij0123456789") for _ in range(n))
def x(*args):
    try:
        return r.execute_command(*args)
    except redis.ResponseError:
        return None

def phase(tag):
    # strings
    for i in range(60 * scale):
        x("SET", f"{tag}:s:{i}", w(rng.randint(1, 30)))
    x("SET", f"{tag}:num", "99"); x("INCR", f"{tag}:num"); x("INCRBY", f"{tag}:num", 900); x("DECR", f"{tag}:num")
    x("INCRBYFLOAT", f"{tag}:float", "1.5"); x("APPEND", f"{tag}:num", "77"); x("SETRANGE", f"{tag}:range", 10, "abc")
    x("SETNX", f"{tag}:s:0", "no"); x("SETNX", f"{tag}:new", "yes"); x("GETSET", f"{tag}:s:1", "replaced")
    x("MSET", f"{tag}:m1", "a", f"{tag}:m2", "bb"); x("MSETNX", f"{tag}:m1", "z", f"{tag}:m3", "c")
    x("SETEX", f"{tag}:ttl1", 3600, "v"); x("SET", f"{tag}:ttl2", "v", "EX", 3600); x("PSETEX", f"{tag}:ttl3", 3600000, "v")
    x("SET", f"{tag}:keep", "v", "EX", 3600); x("SET", f"{tag}:keep", "vv", "KEEPTTL"); x("PERSIST", f"{tag}:ttl1")
    x("SETBIT", f"{tag}:bits", 100, 1); x("BITOP", "OR", f"{tag}:bitor", f"{tag}:bits", f"{tag}:range")
    x("GETDEL", f"{tag}:s:2"); x("GETEX", f"{tag}:s:3", "EX", 100)
    # lists
    x("RPUSH", f"{tag}:l", *[w(3) for _ in range(300 * scale)])
    x("LPUSH", f"{tag}:l", "a", "b", "a"); x("LINSERT", f"{tag}:l", "BEFORE", "a", "ins"); x("LINSERT", f"{tag}:l", "AFTER", "nope", "x")
    x("LSET", f"{tag}:l", 5, "a"); x("LREM", f"{tag}:l", 2, "a"); x("LREM", f"{tag}:l", -1, "a"); x("LREM", f"{tag}:l", 0, "b")
    x("LTRIM", f"{tag}:l", 1, 250 * scale); x("LPOP", f"{tag}:l", 3); x("RPOP", f"{tag}:l"); x("RPUSHX", f"{tag}:l", "tail")
    x("LPUSHX", f"{tag}:nolist", "x"); x("LMOVE", f"{tag}:l", f"{tag}:l2", "LEFT", "RIGHT"); x("RPOPLPUSH", f"{tag}:l", f"{tag}:l2")
    x("RPUSH", f"{tag}:q", "1", "2"); x("BLPOP", f"{tag}:q", 1); x("BRPOP", f"{tag}:q", 1)
    if version >= (7, 0):
        x("RPUSH", f"{tag}:mp", "1", "2", "3"); x("LMPOP", 2, f"{tag}:none", f"{tag}:mp", "LEFT", "COUNT", 2)
    # sets
    x("SADD", f"{tag}:set1", *[f"m{rng.randint(0, 500 * scale)}" for _ in range(400 * scale)])
    x("SADD", f"{tag}:set2", *[f"m{rng.randint(0, 500 * scale)}" for _ in range(400 * scale)])
    x("SADD", f"{tag}:ints", *range(0, 200, 3)); x("SADD", f"{tag}:ints", "3", "003", "-0", "7")
    x("SREM", f"{tag}:set1", "m1", "m2", "m3", "nope"); x("SMOVE", f"{tag}:set1", f"{tag}:set3", "m10"); x("SMOVE", f"{tag}:set2", f"{tag}:set3", "m10")
    x("SINTERSTORE", f"{tag}:inter", f"{tag}:set1", f"{tag}:set2"); x("SUNIONSTORE", f"{tag}:union", f"{tag}:set1", f"{tag}:set2", f"{tag}:ints")
    x("SDIFFSTORE", f"{tag}:diff", f"{tag}:set1", f"{tag}:set2"); x("SDIFFSTORE", f"{tag}:set3", f"{tag}:set3", f"{tag}:set3")
    x("SPOP", f"{tag}:set2", 5); x("SPOP", f"{tag}:set2")
    # hashes
    x("HSET", f"{tag}:h", *sum(([f"f{j}", w()] for j in range(300 * scale)), []))
    x("HSET", f"{tag}:h", "f1", "upd", "new1", "v"); x("HDEL", f"{tag}:h", "f2", "f3", "nope"); x("HSETNX", f"{tag}:h", "f4", "no"); x("HSETNX", f"{tag}:h", "n2", "y")
    x("HINCRBY", f"{tag}:h", "cnt", 5); x("HINCRBYFLOAT", f"{tag}:h", "fl", "2.5"); x("HMSET", f"{tag}:h2", "a", 1, "b", 2)
    for i in range(40):
        x("HSET", f"{tag}:profile:{i}", "name", w(), "age", rng.randint(1, 90))
    if version >= (7, 4) or valkey and version >= (7, 2):
        x("HEXPIRE", f"{tag}:h", 3600, "FIELDS", 2, "f5", "f6"); x("HPERSIST", f"{tag}:h", "FIELDS", 1, "f5")
        x("HSETEX", f"{tag}:hx", "EX", 3600, "FIELDS", 2, "a", "1", "b", "2"); x("HGETDEL", f"{tag}:hx", "FIELDS", 1, "a")
        x("HGETEX", f"{tag}:h", "PX", 500000, "FIELDS", 1, "f7")
    # sorted sets
    x("ZADD", f"{tag}:z", *sum(([rng.random() * 100, f"p{j}"] for j in range(400 * scale)), []))
    x("ZADD", f"{tag}:z", "NX", 1, "p1", 2, "pnew"); x("ZADD", f"{tag}:z", "XX", 5, "p2", 6, "pnone"); x("ZADD", f"{tag}:z", "GT", "CH", 1000, "p3")
    x("ZINCRBY", f"{tag}:z", 2, "p4"); x("ZINCRBY", f"{tag}:z", 2, "pinc"); x("ZREM", f"{tag}:z", "p5", "p6", "nope")
    x("ZREMRANGEBYRANK", f"{tag}:z", 0, 9); x("ZREMRANGEBYSCORE", f"{tag}:z", 10, 20); x("ZPOPMIN", f"{tag}:z", 3); x("ZPOPMAX", f"{tag}:z")
    x("ZADD", f"{tag}:zl", 0, "a", 0, "b", 0, "c", 0, "d", 0, "e"); x("ZREMRANGEBYLEX", f"{tag}:zl", "[b", "[c")
    x("ZADD", f"{tag}:z2", *sum(([rng.random() * 100, f"p{j}"] for j in range(0, 400 * scale, 2)), []))
    x("ZUNIONSTORE", f"{tag}:zu", 2, f"{tag}:z", f"{tag}:z2", "WEIGHTS", 1, 2); x("ZINTERSTORE", f"{tag}:zi", 2, f"{tag}:z", f"{tag}:z2")
    x("ZUNIONSTORE", f"{tag}:zs", 2, f"{tag}:z2", f"{tag}:set1"); x("ZRANGESTORE", f"{tag}:zr", f"{tag}:z", 0, 49)
    if version >= (6, 2):
        x("ZDIFFSTORE", f"{tag}:zd", 2, f"{tag}:z", f"{tag}:z2")
    # streams
    for i in range(120):
        x("XADD", f"{tag}:st", "MAXLEN", "~", 50, "*", "n", i)
    for i in range(30):
        x("XADD", f"{tag}:st2", "*", "n", i)
    x("XGROUP", "CREATE", f"{tag}:st2", "g", "0"); x("XREADGROUP", "GROUP", "g", "c", "COUNT", 5, "STREAMS", f"{tag}:st2", ">")
    ids = [e[0] for e in r.xrange(f"{tag}:st2", count=10)]
    x("XACK", f"{tag}:st2", "g", ids[0]); x("XDEL", f"{tag}:st2", ids[1], ids[2]); x("XTRIM", f"{tag}:st2", "MAXLEN", 20)
    x("XTRIM", f"{tag}:st", "MINID", ids[5]); x("XADD", f"{tag}:st3", "MAXLEN", 3, "*", "a", 1)
    # keyspace
    x("RENAME", f"{tag}:s:5", f"{tag}:renamed"); x("RENAMENX", f"{tag}:s:6", f"{tag}:s:7"); x("RENAMENX", f"{tag}:s:6", f"{tag}:renamed2")
    if version >= (6, 2):
        x("COPY", f"{tag}:set1", f"{tag}:setcopy"); x("COPY", f"{tag}:l", f"{tag}:lcopy", "DB", 2); x("COPY", f"{tag}:z", f"{tag}:zcopy")
    x("MOVE", f"{tag}:h2", 3); x("EXPIRE", f"{tag}:s:8", 3600); x("PEXPIRE", f"{tag}:s:9", 3600000); x("EXPIREAT", f"{tag}:s:10", int(time.time()) + 3600)
    x("DEL", f"{tag}:s:11", f"{tag}:set2", f"{tag}:nope"); x("UNLINK", f"{tag}:diff")
    x("SORT", f"{tag}:ints", "LIMIT", 0, 10, "STORE", f"{tag}:sorted")
    p = r.pipeline(transaction=True)
    p.incr(f"{tag}:tx").sadd(f"{tag}:txset", "a", "b").lpush(f"{tag}:txl", "x")
    p.execute()
    x("EVAL", "redis.call('SADD', KEYS[1], ARGV[1]) return redis.call('SCARD', KEYS[1])", 1, f"{tag}:lua", "v")
    x("SET", f"{tag}:short", "x", "PX", 200)

rd = [redis.Redis(port=port, db=d) for d in range(16)]
phase("a")
rd[1].sadd("db1:set", *range(50)); rd[1].set("db1:s", "x")
rd[4].set("swap:a", "1"); rd[5].sadd("swap:b", 1, 2)
x("SWAPDB", 4, 5)
rd[6].set("gone", "1"); rd[6].flushdb()
r.bgrewriteaof()
for _ in range(400):
    p = r.info("persistence")
    if p.get("aof_rewrite_in_progress") == 0 and p.get("aof_rewrite_scheduled") == 0:
        break
    time.sleep(0.05)
time.sleep(0.3)
phase("b")
x("FLUSHDB")  # db 0's keys from phase a and b
phase("c")
time.sleep(0.5)   # short TTLs expire; scanning below deletes them and the AOF records it
state = final_state(port)
time.sleep(0.2)
json.dump(state, open(os.path.join(outdir, "final-state.json"), "w"), indent=1, sort_keys=True)
json.dump({k: str(v) for k, v in info.items()}, open(os.path.join(outdir, "server.json"), "w"), indent=1)
shutdown(r, server)
for f in ("server.log",):
    os.remove(os.path.join(outdir, f))
print(outdir, sum(len(v) for v in state.values()), "keys")
