#!/usr/bin/env python3
"""Make a fixture from a real application: a job-queue library from PyPI that nobody here
wrote enqueues jobs, and its own worker runs them against a real server, while
`redis-cli monitor` records every call and the server writes its AOF.

usage: gen_app_workload.py LIBRARY SERVER_BINARY OUTDIR
       LIBRARY is one of: celery, dramatiq, huey, rq (pip install it into the venv first)

OUTDIR gets:
  monitor.txt         `redis-cli -p PORT monitor` from before the workload to a final PING marker
  appendonlydir/      the server's own multi-part AOF (appendfsync always, no RDB preamble, #TS:)
  commandstats.json   {"before": {...}, "after": {"cmdstat_x": {"calls": N, ...}}, "generator": {...}}:
                      INFO commandstats around the workload, and exactly what this script's own
                      connection added ("in_capture": its lines in monitor.txt, "in_delta": its
                      calls inside after − before), so that per command
                      lines in monitor.txt = after − before − in_delta + in_capture
  final-state.json    every key right after the workload: {db: {key hex: {key, type, size, has_ttl}}}
  server.json         INFO server

The workload is fixed (job counts, arguments, delays); ids and timings are the library's.
The script checks the identity above on its own capture before it keeps anything.
"""
import importlib.metadata, json, os, re, shutil, signal, subprocess, sys, tempfile, textwrap, time
from collections import Counter
import redis
from fixture_server import final_state, non_empty_databases, scrub_executable, shutdown, start_server, write_json

MARKER = "redis-cost-fixture-end"


# ---------------------------------------------------------------- the applications
# Each writes its task module into `work`, runs the library's worker and a client that
# enqueues jobs and waits for their results, and stops the worker the way an operator does.

def celery_workload(app):
    app.module("tasks", """
        import os
        from celery import Celery

        url = os.environ["REDIS_URL"]
        app = Celery("shop", broker=url, backend=url)
        app.conf.update(result_expires=3600, worker_prefetch_multiplier=1,
                        broker_connection_retry_on_startup=True, worker_hijack_root_logger=False)

        @app.task
        def add(x, y):
            return x + y

        @app.task
        def total(values):
            return sum(values)

        @app.task(bind=True, max_retries=3)
        def flaky(self, n):
            if self.request.retries < 2:          # succeeds on its third try
                raise self.retry(countdown=0.2)
            return n

        @app.task(bind=True, max_retries=1)
        def broken(self, n):
            try:
                raise ValueError(f"order {n} cannot be priced")
            except ValueError as error:          # one retry, then FAILURE
                raise self.retry(exc=error, countdown=0.1)
        """)
    worker = app.spawn("worker", [app.bin("celery"), "-A", "tasks", "worker", "--pool", "solo", "--concurrency", "1",
                                  "--hostname", "worker1@fixture", "--loglevel", "WARNING"])
    app.run_client("""
        from celery import chord, group
        from tasks import add, broken, flaky, total

        singles = [add.delay(i, i) for i in range(24)]
        fan_out = group(add.s(i, 100) for i in range(6)).apply_async()
        summed = chord([add.s(i, i) for i in range(6)], total.s()).apply_async()
        retried = [flaky.delay(i) for i in range(3)]
        failing = [broken.delay(i) for i in range(2)]
        assert [r.get(timeout=60) for r in singles] == [2 * i for i in range(24)]
        assert fan_out.get(timeout=60) == [i + 100 for i in range(6)]
        assert summed.get(timeout=60) == 30
        assert [r.get(timeout=60) for r in retried] == [0, 1, 2]
        for r in failing:
            r.get(timeout=60, propagate=False)
            assert r.failed(), r.state
        singles[0].forget()                      # the caller drops one result early
        """)
    app.stop(worker, signal.SIGTERM)             # warm shutdown
    return "24 add, a group of 6, a chord of 6 + total, 3 flaky (2 retries each), 2 broken (1 retry, then FAILURE); worker --pool solo"


def dramatiq_workload(app):
    app.module("tasks", """
        import os
        import dramatiq
        from dramatiq.brokers.redis import RedisBroker
        from dramatiq.results import Results
        from dramatiq.results.backends import RedisBackend

        url = os.environ["REDIS_URL"]
        broker = RedisBroker(url=url)
        broker.add_middleware(Results(backend=RedisBackend(url=url)))
        dramatiq.set_broker(broker)

        @dramatiq.actor(store_results=True)
        def add(x, y):
            return x + y

        @dramatiq.actor(store_results=True, max_retries=2, min_backoff=100, max_backoff=200)
        def broken(n):
            raise ValueError(f"order {n} cannot be priced")

        @dramatiq.actor(queue_name="emails")
        def send_email(n):
            pass
        """)
    worker = app.spawn("worker", [app.bin("dramatiq"), "tasks", "--processes", "1", "--threads", "2"])
    app.run_client("""
        import dramatiq
        from dramatiq.results import ResultFailure
        from tasks import add, broken, broker, send_email

        sums = [add.send(i, i) for i in range(30)]
        later = add.send_with_options(args=(50, 50), delay=300)
        failing = [broken.send(i) for i in range(3)]
        for i in range(10):
            send_email.send(i)
        assert [m.get_result(block=True, timeout=30_000) for m in sums] == [2 * i for i in range(30)]
        assert later.get_result(block=True, timeout=30_000) == 100
        for m in failing:
            try:
                m.get_result(block=True, timeout=30_000)
                raise AssertionError("broken succeeded")
            except ResultFailure:
                pass
        broker.join("emails", timeout=30_000)
        """)
    app.stop(worker, signal.SIGTERM)
    return "30 add with results, 1 delayed 300 ms, 3 broken (2 retries each, then dead-lettered), 10 send_email on a second queue; 1 worker process, 2 threads"


def huey_workload(app):
    app.module("tasks", """
        import os
        from huey import RedisHuey, crontab

        # A failing task's caller hears of it once its retries are spent.
        huey = RedisHuey("shop", url=os.environ["REDIS_URL"], store_intermediate_errors=False)

        @huey.task()
        def add(x, y):
            return x + y

        @huey.task(retries=2, retry_delay=1)
        def broken(n):
            raise ValueError(f"order {n} cannot be priced")

        @huey.task()
        @huey.lock_task("nightly-report")
        def report(n):
            return n

        @huey.periodic_task(crontab(minute="*"))
        def every_minute():
            return "tick"
        """)
    consumer = app.spawn("consumer", [app.bin("huey_consumer"), "tasks.huey", "--workers", "2", "--worker-type", "thread",
                                      "--scheduler-interval", "1"])
    app.run_client("""
        from huey.exceptions import TaskException
        from tasks import add, broken, huey, report

        sums = [add(i, i) for i in range(30)]
        later = add.schedule((50, 50), delay=1)
        tomorrow = add.schedule((7, 7), delay=86400)      # still waiting when the run ends
        cancelled = add.schedule((8, 8), delay=86400)
        cancelled.revoke()
        kept = add(100, 1)
        failing = broken(1)
        assert [r.get(blocking=True, timeout=30) for r in sums] == [2 * i for i in range(30)]
        assert later.get(blocking=True, timeout=30) == 100
        assert kept.get(blocking=True, timeout=30, preserve=True) == 101   # left in the results hash
        for i in range(3):                       # one at a time: the lock turns a second one away
            assert report(i).get(blocking=True, timeout=30) == i
        try:
            failing.get(blocking=True, timeout=30)
            raise AssertionError("broken succeeded")
        except TaskException:
            pass
        """)
    app.stop(consumer, signal.SIGINT)            # graceful: workers finish what they hold
    return "31 add (one result kept), 1 scheduled 1 s later, 2 scheduled a day later (one revoked), 3 report under a task lock, one after another, 1 broken (2 retries 1 s apart), a periodic task every minute; consumer with 2 thread workers"


def rq_workload(app):
    app.module("tasks", """
        def add(a, b):
            return a + b

        def boom(n):
            raise ValueError(f"order {n} cannot be priced")
        """)
    app.run_client("""
        import os
        import redis
        from rq import Queue, Retry
        from tasks import add, boom

        c = redis.Redis.from_url(os.environ["REDIS_URL"])
        default, high = Queue("default", connection=c), Queue("high", connection=c)
        for i in range(40):
            (high if i % 10 == 0 else default).enqueue(add, i, i, result_ttl=3600, job_id=f"add-{i}")
        first = default.enqueue(add, 1, 2, job_id="parent")
        default.enqueue(add, 3, 4, depends_on=first, job_id="child")
        for i in range(4):
            default.enqueue(boom, i, retry=Retry(max=2), failure_ttl=3600, job_id=f"boom-{i}")
        """)
    app.check_call([app.bin("rq"), "worker", "--burst", "--worker-class", "rq.worker.SimpleWorker", "--name", "worker1",
                    "--url", app.url, "high", "default"], "worker")
    app.run_client("""
        import os
        import redis
        from rq import Queue
        from rq.job import Job

        c = redis.Redis.from_url(os.environ["REDIS_URL"])
        for i in range(40):
            assert Job.fetch(f"add-{i}", connection=c).return_value() == 2 * i
        assert Job.fetch("child", connection=c).return_value() == 7
        failed = Queue("default", connection=c).failed_job_registry
        assert sorted(failed.get_job_ids()) == [f"boom-{i}" for i in range(4)], failed.get_job_ids()
        failed.requeue("boom-0")                 # an operator retries one by hand
        """)
    return "40 add on two queues, 1 dependent job, 4 boom (Retry max=2, then failed registry), results fetched, one failed job requeued; burst SimpleWorker"


WORKLOADS = {"celery": celery_workload, "dramatiq": dramatiq_workload, "huey": huey_workload, "rq": rq_workload}
# The distributions whose versions shape the traffic.
DISTRIBUTIONS = {"celery": ["celery", "kombu", "redis"], "dramatiq": ["dramatiq", "redis"],
                 "huey": ["huey", "redis"], "rq": ["rq", "redis"]}


class App:
    """The application's processes: its module folder, children stopped by pid, logs kept
    for a failure."""

    def __init__(self, port, work):
        self.url = f"redis://127.0.0.1:{port}/0"
        self.work = work
        self.env = dict(os.environ, PYTHONPATH=work, REDIS_URL=self.url, PYTHONDONTWRITEBYTECODE="1")
        self.children = []

    def bin(self, name):
        return os.path.join(os.path.dirname(sys.executable), name)

    def module(self, name, source):
        with open(os.path.join(self.work, name + ".py"), "w") as f:
            f.write(textwrap.dedent(source))

    def log(self, name):
        return os.path.join(self.work, name + ".log")

    def spawn(self, name, argv):
        with open(self.log(name), "wb") as log:
            # Its own process group: a worker that forks (dramatiq) is ended whole on a failure.
            child = subprocess.Popen(argv, cwd=self.work, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.children.append((name, child))
        return child

    def check_call(self, argv, name):
        child = self.spawn(name, argv)
        if child.wait(timeout=120) != 0:
            raise SystemExit(f"{name} failed:\n" + open(self.log(name), errors="replace").read()[-3000:])

    def run_client(self, source):
        name = f"client{sum(1 for n, _ in self.children if n.startswith('client'))}"
        self.module(name, source)
        self.check_call([sys.executable, os.path.join(self.work, name + ".py")], name)

    def stop(self, child, sig):
        child.send_signal(sig)
        try:
            child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise SystemExit("the worker did not stop on " + signal.Signals(sig).name)

    def kill_all(self):
        for _, child in self.children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)   # its own group (start_new_session), forks included
                child.wait()


# ---------------------------------------------------------------- the capture

def command_name(line, containers):
    """The commandstats name of a MONITOR line (`hset`, `client|setinfo`) and its client, or None."""
    m = re.match(rb'^\d+\.\d+ \[\d+ (\S+)\] "([^"\\]*)"(?: "([^"\\]*)")?', line)
    if not m:
        return None
    name = m.group(2).decode().lower()
    if name in containers and m.group(3) is not None:
        name += "|" + m.group(3).decode().lower()
    return name, m.group(1).decode()


def run(library, outdir, work, server, port, first):
    first.close()
    # This script's one connection: its handshake (HELLO, CLIENT SETINFO) happens before the capture.
    own = redis.Redis(port=port, single_connection_client=True)
    own.ping()
    address = own.client_info()["addr"]
    containers = {str(name, "utf-8") if isinstance(name, bytes) else name for name in own.command_list(pattern="*|*")}
    containers = {name.split("|")[0] for name in containers}
    app = App(port, work)
    capture = os.path.join(outdir, "monitor.txt")
    monitor_out = open(capture, "wb")
    monitor = subprocess.Popen(["redis-cli", "-p", str(port), "monitor"], stdout=monitor_out, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if open(capture, "rb").read(3) == b"OK\n":
                break
            time.sleep(0.02)
        else:
            raise SystemExit("redis-cli monitor did not attach")
        before = own.info("commandstats")           # in the capture; counted in `after`
        started = time.time()
        summary = WORKLOADS[library](app)
        seconds = time.time() - started
        after = own.info("commandstats")            # in the capture; not counted in itself
        own.execute_command("PING", MARKER)         # in the capture; not counted
        # redis-cli has written everything once the marker is in the file.
        for _ in range(500):
            if open(capture, "rb").read().endswith(f'"PING" "{MARKER}"\n'.encode()):
                break
            time.sleep(0.02)
        else:
            raise SystemExit("the end marker never reached monitor.txt")
    finally:
        monitor.terminate()
        monitor.wait(timeout=10)
        monitor_out.close()
        app.kill_all()
    stats = own.info("stats")
    if stats["expired_keys"] or stats["evicted_keys"]:
        # MONITOR shows no expiry: a key gone that way would make the capture disagree with the truth.
        raise SystemExit(f"keys expired ({stats['expired_keys']}) or were evicted ({stats['evicted_keys']}) during the run")
    state = final_state(port, non_empty_databases(own))
    info = scrub_executable(own.info("server"))
    shutdown(own, server)
    os.remove(os.path.join(outdir, "server.log"))
    return capture, address, containers, before, after, summary, seconds, state, info


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in WORKLOADS:
        raise SystemExit(__doc__)
    library, binary, outdir = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir)
    work = tempfile.mkdtemp(prefix=f"app-{library}-")
    server, port, first = start_server(binary, outdir)
    try:
        capture, address, containers, before, after, summary, seconds, state, info = \
            run(library, outdir, work, server, port, first)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    # The identity the tests assert, checked here on an independent reading of the capture.
    in_capture, seen = Counter(), Counter()
    for line in open(capture, "rb").read().splitlines()[1:]:
        parsed = command_name(line, containers)
        if parsed is None:
            raise SystemExit(f"unexpected line in monitor.txt: {line[:200]!r}")
        seen[parsed[0]] += 1
        if parsed[1] == address:
            in_capture[parsed[0]] += 1
    in_delta = {"info": 1}
    if in_capture != Counter({"info": 2, "ping": 1}):
        raise SystemExit(f"this script's own lines in the capture are not what it sent: {dict(in_capture)}")
    expected = Counter()
    for name, value in after.items():
        expected[name[len("cmdstat_"):]] += value["calls"] - before.get(name, {}).get("calls", 0)
    expected.subtract(in_delta)
    expected.update(in_capture)
    mismatch = {n: (seen[n], expected[n]) for n in set(seen) | set(expected) if seen[n] != expected[n]}
    if mismatch:
        raise SystemExit(f"monitor.txt disagrees with commandstats (lines, calls): {mismatch}")

    versions = {d: importlib.metadata.version(d) for d in DISTRIBUTIONS[library]}
    write_json(os.path.join(outdir, "commandstats.json"), {
        "before": before, "after": after,
        "generator": {"client": address, "in_capture": dict(in_capture), "in_delta": in_delta,
                      "library": library, "versions": versions, "workload": summary}}, indent=1, sort_keys=True)
    write_json(os.path.join(outdir, "final-state.json"), state, indent=1, sort_keys=True)
    write_json(os.path.join(outdir, "server.json"), info, indent=1)
    shutil.rmtree(work)
    keys = sum(len(v) for v in state.values())
    print(f"{outdir}: {library} {versions}, {seconds:.1f} s, {sum(seen.values())} calls, {keys} keys, "
          f"monitor.txt {os.path.getsize(capture)} bytes")


if __name__ == "__main__":
    main()
