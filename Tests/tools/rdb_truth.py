#!/usr/bin/env python3
"""What a real server holds after loading an RDB file: every key's type, size and TTL flag.

usage: rdb_truth.py SERVER_BINARY FILE.rdb OUT.json

Copies FILE.rdb into a temporary directory, starts SERVER_BINARY there on a free loopback
port with it as dbfilename, and writes OUT.json = {"loaded": bool, "state": {"<db>":
{"<key bytes as hex>": {"key", "type", "size", "has_ttl"}}}} (the shape of a run's
final-state.json, which gen_workload.py beside this file writes). A file the server refuses
gives {"loaded": false, "state": {}}. Needs the PyPI redis client.
"""
import json, os, shutil, subprocess, sys, tempfile, time

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_workload import free_port, state_of  # noqa: E402


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n\n")[1])
    binary, rdb, out = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
    scratch = tempfile.mkdtemp(prefix="rdb-truth-")
    shutil.copy(rdb, os.path.join(scratch, "dump.rdb"))
    port = free_port()
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", scratch,
                               "--dbfilename", "dump.rdb", "--appendonly", "no", "--save", "",
                               "--daemonize", "no", "--logfile", os.path.join(scratch, "server.log")],
                              stdout=subprocess.DEVNULL)   # where it prints its check of a file it refuses
    r = redis.Redis(port=port)
    loaded, state = False, {}
    try:
        for _ in range(200):
            if server.poll() is not None:       # it refused the file and exited
                break
            try:
                if r.info("persistence")["loading"] == 0:
                    loaded = True
                    break
            except redis.exceptions.ConnectionError:
                pass
            except redis.exceptions.BusyLoadingError:
                pass
            time.sleep(0.05)
        if loaded:
            state = state_of(port)
    finally:
        if server.poll() is None:
            server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(scratch)
    with open(out, "w") as f:
        json.dump({"loaded": loaded, "state": state}, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    print(out, "loaded" if loaded else "NOT loaded", sum(len(v) for v in state.values()), "keys")


if __name__ == "__main__":
    main()
