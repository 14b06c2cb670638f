"""What the fixture generators share: a throwaway server on a free loopback port that writes a
multi-part AOF without an RDB preamble, and the truth files read back from it.

Imported by gen_aof_fixture.py, gen_app_workload.py and gen_workload.py (they sit beside it). Needs the PyPI
redis client.
"""
import json, os, re, socket, subprocess, time
import redis

# The truth's "size" of each type: the O(1) length command.
SIZER = {b"string": "STRLEN", b"list": "LLEN", b"set": "SCARD", b"zset": "ZCARD", b"hash": "HLEN", b"stream": "XLEN"}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_server(binary, directory, *extra):
    """Starts BINARY in DIRECTORY with `appendonly yes`, `appendfsync always`, no RDB preamble,
    `#TS:` annotations and no snapshots; returns (process, port, client of db 0) once it answers."""
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", directory,
                                "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                                "--aof-use-rdb-preamble", "no", "--aof-timestamp-enabled", "yes",
                                "--daemonize", "no", "--logfile", os.path.join(directory, "server.log"), *extra])
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
    """{db: {key hex: {key, type, size, has_ttl}}} of every key. A first SCAN pass expires
    what is due (and the AOF records it), the second reads what is left."""
    state = {}
    for db in databases:
        rd = redis.Redis(port=port, db=db)
        for _ in rd.scan_iter(count=1000):
            pass
        for k in rd.scan_iter(count=1000):
            t = rd.type(k)
            state.setdefault(str(db), {})[k.hex()] = {
                "key": k.decode("utf-8", "backslashreplace"), "type": t.decode(),
                "size": rd.execute_command(SIZER[t], k) if t in SIZER else None, "has_ttl": rd.pttl(k) > 0}
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
