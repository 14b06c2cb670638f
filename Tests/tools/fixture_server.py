"""What the fixture generators share: a throwaway server on a free loopback port that writes a
multi-part AOF without an RDB preamble, and the truth files read back from it.

Imported by gen_aof_fixture.py, gen_app_workload.py and gen_workload.py (they sit beside it). Needs the PyPI
redis client.
"""
import json, os, re, socket, subprocess, time
import redis

# The truth's "size" of each type: the O(1) length command.
SIZER = {b"string": "STRLEN", b"list": "LLEN", b"set": "SCARD", b"zset": "ZCARD", b"hash": "HLEN", b"stream": "XLEN"}


def info_field(reply, name):
    """A field of an INFO-like module reply (CF.INFO, TS.INFO, ...), whether the client made it
    a dict or left it a flat [name, value, ...] list."""
    if not isinstance(reply, dict):
        reply = dict(zip(reply[::2], reply[1::2]))
    return {(k.decode() if isinstance(k, bytes) else k): v for k, v in reply.items()}[name]


def json_length(rd, key):
    """A JSON document's top-level length: its object's member count or its array's length
    (the one of JSON.OBJLEN / JSON.ARRLEN at `$` that is not nil); None for a scalar root."""
    for command in ("JSON.OBJLEN", "JSON.ARRLEN"):
        reply = rd.execute_command(command, key, "$")
        if reply and reply[0] is not None:
            return reply[0]
    return None


# The size of each module type: the server's own O(1) count (module types only exist with the
# Redis Stack modules or, for vectorset, Redis 8's built-in vector sets).
MODULE_SIZER = {
    b"ReJSON-RL": json_length,
    b"MBbloom--": lambda rd, key: rd.execute_command("BF.CARD", key),
    b"MBbloomCF": lambda rd, key: info_field(rd.execute_command("CF.INFO", key), "Number of items inserted"),
    b"TopK-TYPE": lambda rd, key: info_field(rd.execute_command("TOPK.INFO", key), "k"),
    b"CMSk-TYPE": lambda rd, key: info_field(rd.execute_command("CMS.INFO", key), "count"),
    b"TDIS-TYPE": lambda rd, key: info_field(rd.execute_command("TDIGEST.INFO", key), "Observations"),
    b"TSDB-TYPE": lambda rd, key: info_field(rd.execute_command("TS.INFO", key), "totalSamples"),
    b"vectorset": lambda rd, key: rd.execute_command("VCARD", key),
}


def size_of(rd, key, kind):
    """The truth's size of KEY of type KIND (TYPE's reply): SIZER's length for a built-in type,
    MODULE_SIZER's count for a module type, None for anything else."""
    if kind in SIZER:
        return rd.execute_command(SIZER[kind], key)
    if kind in MODULE_SIZER:
        return MODULE_SIZER[kind](rd, key)
    return None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_server(binary, directory, *extra, env=None):
    """Starts BINARY in DIRECTORY with `appendonly yes`, `appendfsync always`, no RDB preamble,
    `#TS:` annotations and no snapshots, EXTRA arguments after those (`--loadmodule PATH`) and
    ENV as its environment (None: this one's); returns (process, port, client of db 0) once it
    answers."""
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", directory,
                                "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                                "--aof-use-rdb-preamble", "no", "--aof-timestamp-enabled", "yes",
                                "--daemonize", "no", "--logfile", os.path.join(directory, "server.log"), *extra], env=env)
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            return process, port, client
        except redis.ConnectionError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    process.kill()
    raise SystemExit(f"{binary} did not start: see {directory}/server.log")


def final_state(port, databases=range(16)):
    """{db: {key hex: {key, type, size, has_ttl}}} of every key (size: see size_of). A first
    SCAN pass expires what is due (and the AOF records it), the second reads what is left."""
    state = {}
    for db in databases:
        rd = redis.Redis(port=port, db=db)
        for _ in rd.scan_iter(count=1000):
            pass
        for k in rd.scan_iter(count=1000):
            t = rd.type(k)
            state.setdefault(str(db), {})[k.hex()] = {
                "key": k.decode("utf-8", "backslashreplace"), "type": t.decode(),
                "size": size_of(rd, k, t), "has_ttl": rd.pttl(k) > 0}
        rd.close()
    return state


def non_empty_databases(client):
    """The db numbers INFO keyspace lists (`db0:keys=…`)."""
    return [int(name[2:]) for name in client.info("keyspace") if name.startswith("db")]


def write_json(path, value, **options):
    with open(path, "w") as f:
        json.dump(value, f, **options)
        f.write("\n")


def scrub_executable(info):
    """INFO server with the binary's path on this machine replaced by a neutral one."""
    out = {k: str(v) for k, v in info.items()}
    if "executable" in out:
        out["executable"] = re.sub(r".*/", "/usr/local/bin/", out["executable"])
    return out


def shutdown(client, process):
    try:
        client.shutdown(nosave=True)
    except redis.ConnectionError:
        pass
    process.wait(timeout=10)
