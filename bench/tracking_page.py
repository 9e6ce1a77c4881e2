"""Benchmark: the buyer's tracking page under load, first views and views again, against /healthz.

What it measures: requests/second and latency (p50, p99) of `GET /t/<token>/`
(tracking.views.page: the token's one indexed query, which reads the digests of the shipment's
and its storefront's rows; then the page from the cache, tracking.page_cache, or the shipment
loaded and its page rendered in the buyer's language with its newest checkpoints, and put in the
cache), and, as the baseline measured in the same run on the same server, of `GET /healthz` (a
database SELECT 1 and a broker ping). At --concurrency concurrent clients (default 16), in three
kinds of measurement per round:

- page, first view: each sampled parcel's page once, shuffled, just after every one of them
  changed (updated_at moved, untimed, as a carrier update would): every page is rendered and
  put in the cache. What a burst of buyers opening the link of an email just sent costs.
- page, again: --requests GETs over the same pages (each in turn, shuffled), every one now in
  the cache. The goal is a p99 under 50 ms at 16 clients.
- healthz: --requests GETs.

--rounds rounds (default 3), healthz measured first in one round and last in the next, so that
drift is shared. Reported per kind: the median requests/second over the rounds, and p50 / p99
latency over all the requests of the median round (the round whose rate is the median); then
page / healthz, and gunicorn's CPU time per request (its workers' user + system time from
/proc, less sensitive than latency to other work on the machine). Every response must be a 200
showing its parcel's tracking number; each first-view pass must add exactly one cache entry per
page, and the views again must add none and write none again (a write would move the entry's
expiry): every view again was served from the cache. If not, it exits with status 1.

The data are bench/tracking_watch.py's (its Plan, storefronts and COPY load): --shipments
(default 100,000) across --storefronts (default 100; one in four writes in English, the rest in
French; three buyers in ten have a language of their own), and a sample of --sample parcels
(default 2,000) with 5 to 8 checkpoints each, whose pages are read.

How: the production settings (DEBUG off, secrets given bench-only defaults by bench/common.py,
plain HTTP on loopback, so SECURE_SSL_REDIRECT is off and ALLOWED_HOSTS is 127.0.0.1) with the
embedded PostgreSQL and Redis, or DATABASE_URL / REDIS_URL if set. A throwaway database
(`aftersale_bench_page`, migrated from scratch, dropped at the end even on error); collectstatic
into a temporary STATIC_ROOT (production serves the manifest's hashed names); gunicorn (sync
workers, 2 × CPUs + 1 unless --workers says otherwise) serving bench/wsgi.py on 127.0.0.1 and a
free port, with a cache key prefix of its own (CACHE_KEY_PREFIX=aftersale-bench-page-<random>),
whose entries are counted between passes and deleted at the end (the Redis is shared with the
broker and everything else under .data/: never a FLUSHDB). The load generator is in this
process: one thread per client, each with its own http.client connection (gunicorn's sync
workers close the connection after each response, so every request opens a new TCP connection
on loopback, for both endpoints alike); each endpoint first gets 200 untimed requests. The
database, gunicorn and load-generator code is bench/common.py's.

Run from the project root:

    .venv/bin/python bench/tracking_page.py [--shipments N] [--storefronts S] [--sample N]
        [--requests N] [--rounds R] [--concurrency C] [--workers N] [--max-seconds S] [--json]

It took 7 minutes on 2 CPUs busy with other work, less on a quiet machine. It prints a
plain-text table (or one JSON object with --json, every round included), with the CPU count,
Python, Django, gunicorn and PostgreSQL versions and the load average at the start: the load
generator, gunicorn, PostgreSQL and Redis share the machine's CPUs. Progress goes to stderr.
"""

import argparse
import itertools
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, bench/ is sys.path[0]: the project root, for bench.common and the apps.
if (root := str(Path(__file__).resolve().parent.parent)) not in sys.path:
    sys.path.insert(0, root)

from bench import common, tracking_watch  # noqa: E402
from bench.common import BenchError, log  # noqa: E402

BENCH_DATABASE = "aftersale_bench_page"
WARMUP_REQUESTS = 200
GOAL_P99_MS = 50
KINDS = ("first view", "again", "healthz")
# Between the first views and the views again; an expiry moved by more than REWRITE_SECONDS
# is an entry written again.
REWRITE_GAP = 1.0
REWRITE_SECONDS = 0.5


# --- requests ---------------------------------------------------------------------------------


def page_requests(plan: tracking_watch.Plan) -> list[common.Request]:
    """One GET per sampled parcel's page, with the bytes it must contain: its tracking number."""
    from tracking.models import Shipment

    shipments = Shipment.unscoped.filter(pk__in=[i + 1 for i in plan.sample]).only(
        "id", "page_token", "tracking_number"
    )
    pages = [
        common.Request("GET", f"/t/{s.page_token}/", s.tracking_number.encode())
        for s in shipments.iterator()
    ]
    if len(pages) != len(plan.sample):
        raise BenchError(f"{len(pages)} sampled shipments found, expected {len(plan.sample)}")
    return pages


def shuffled(plan: tracking_watch.Plan, requests: list, count: int) -> list:
    """`count` of the requests, each in turn, in a shuffled order."""
    chosen = list(itertools.islice(itertools.cycle(requests), count))
    plan.rng.shuffle(chosen)
    return chosen


def change_pages(plan: tracking_watch.Plan) -> None:
    """Every sampled parcel changes, as a carrier update would change it: its cached page is
    no longer its page."""
    from django.db import connection

    from tracking.models import Shipment

    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Shipment._meta.db_table} SET updated_at = clock_timestamp()"  # noqa: S608
            " WHERE id = ANY(%s)",
            [[i + 1 for i in plan.sample]],
        )


# --- the cache --------------------------------------------------------------------------------


class CacheEntries:
    """The entries gunicorn wrote under its own key prefix, in the shared Redis, and what a
    pass of requests did to them: entries added, and entries written again (a write sets a new
    expiry, PAGE_SECONDS from then)."""

    def __init__(self, prefix: str):
        import redis
        from django.conf import settings

        self.pattern = f"{prefix}:*"
        self.client = redis.Redis.from_url(settings.REDIS_URL)

    def expiries(self) -> dict[bytes, float]:
        """Each entry's expiry, in seconds since the epoch (to a few milliseconds: Redis 6 has
        no PEXPIRETIME, so now + PTTL)."""
        keys = list(self.client.scan_iter(match=self.pattern, count=1000))
        pipeline = self.client.pipeline(transaction=False)
        for key in keys:
            pipeline.pttl(key)
        now = time.time()
        remaining = pipeline.execute()
        return {k: now + ms / 1000 for k, ms in zip(keys, remaining, strict=True) if ms > 0}

    def check(self, label: str, before: dict[bytes, float], added: int) -> list[str]:
        """Problems, if the pass did not add `added` entries or wrote an existing one again."""
        after = self.expiries()
        problems = []
        if (new := len(after.keys() - before.keys())) != added:
            problems.append(f"{label}: {new} cache entries added, expected {added}")
        rewritten = sum(1 for k, t in before.items() if after.get(k, t) > t + REWRITE_SECONDS)
        if rewritten:
            problems.append(f"{label}: {rewritten} cache entries written again")
        return problems

    def delete(self) -> None:
        keys = list(self.client.scan_iter(match=self.pattern, count=1000))
        for start in range(0, len(keys), 500):
            self.client.delete(*keys[start : start + 500])
        self.client.close()


# --- measurement ------------------------------------------------------------------------------


def workers_cpu_seconds(server) -> float:
    """The CPU time (user + system) gunicorn's workers have used so far: the processes whose
    parent is the master, read from /proc (proc(5): utime and stime are stat's fields 14 and
    15). Less sensitive than latency to other work on the machine."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # After the command's closing parenthesis: field 3 (state), 4 (ppid), …
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == server.pid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def run(
    args, plan, pages: list[common.Request], entries: CacheEntries, server, port: int, log_path
):
    """Warm-up, then --rounds rounds of the three kinds; the measurements and the problems."""
    health = [common.Request("GET", "/healthz", b'"ok"')] * args.requests
    common.warm_up(port, "page", shuffled(plan, pages, WARMUP_REQUESTS), args.max_seconds, log_path)
    common.warm_up(port, "healthz", health[:WARMUP_REQUESTS], args.max_seconds, log_path)
    measured = {kind: [] for kind in KINDS}
    problems = []
    for round_number in range(args.rounds):
        order = KINDS if round_number % 2 else (KINDS[2], KINDS[0], KINDS[1])
        for kind in order:
            label = f"concurrency {args.concurrency}, round {round_number + 1}, {kind}"
            if kind == "first view":
                change_pages(plan)
                requests = shuffled(plan, pages, len(pages))
            elif kind == "again":
                # Untimed: the pages written last by the first views are written REWRITE_GAP
                # ago at least, so writing one again would move its expiry that much.
                time.sleep(REWRITE_GAP)
                requests = shuffled(plan, pages, args.requests)
            else:
                requests = health
            before = entries.expiries() if kind != "healthz" else {}
            cpu = workers_cpu_seconds(server)
            outcome = common.measure(port, requests, args.concurrency, args.max_seconds, label)
            outcome["workers_cpu_seconds"] = workers_cpu_seconds(server) - cpu
            measured[kind].append(outcome)
            if kind != "healthz":
                added = len(pages) if kind == "first view" else 0
                problems += entries.check(label, before, added)
    return measured, problems


def summarise(kind: str, concurrency: int, rounds: list[dict]) -> dict:
    rates = [r["per_second"] for r in rounds]
    median_rate = statistics.median(rates)
    # The round whose rate is the median (with an even count, the closer of the two middles).
    median_round = min(rounds, key=lambda r: abs(r["per_second"] - median_rate))
    return {
        "kind": kind,
        "concurrency": concurrency,
        "median_per_second": median_rate,
        "min_per_second": min(rates),
        "max_per_second": max(rates),
        "p50_ms": median_round["p50_ms"],
        "p99_ms": median_round["p99_ms"],
        "max_p99_ms": max(r["p99_ms"] for r in rounds),
        # gunicorn's CPU time per request, over all the rounds.
        "workers_cpu_ms": 1000
        * sum(r["workers_cpu_seconds"] for r in rounds)
        / sum(r["requests"] for r in rounds),
        "failures": sum(r["failures"] for r in rounds),
        "rounds": rounds,
    }


# --- output -----------------------------------------------------------------------------------


def print_table(result: dict) -> None:
    print(
        f"tracking page benchmark: the pages of {result['sample']:,} parcels (5 to 8 checkpoints "
        f"each) among {result['shipments']:,} shipments across {result['storefronts']} "
        f"storefronts, {result['rounds']} rounds at {result['concurrency']} clients"
    )
    common.print_machine(result["machine"])
    print(
        "Plain HTTP on 127.0.0.1 (SECURE_SSL_REDIRECT off); client, gunicorn, PostgreSQL and "
        "Redis share the CPUs"
    )
    print()
    print(
        f"{'endpoint':<24}  {'requests':>8}  {'median req/s':>12}  {'min':>7}  {'max':>7}  "
        f"{'p50 ms':>7}  {'p99 ms':>7}  {'worst p99':>9}  {'CPU ms':>6}  {'non-200':>7}  "
        f"{'client CPU':>10}"
    )
    labels = {
        "first view": "/t/<token>/ first view",
        "again": "/t/<token>/ again",
        "healthz": "/healthz",
    }
    for s in result["measurements"]:
        rounds = s["rounds"]
        client_cpu = sum(r["client_cpu_seconds"] for r in rounds) / sum(
            r["seconds"] for r in rounds
        )
        print(
            f"{labels[s['kind']]:<24}  {rounds[0]['requests']:>8}  "
            f"{s['median_per_second']:>12.1f}  {s['min_per_second']:>7.1f}  "
            f"{s['max_per_second']:>7.1f}  {s['p50_ms']:>7.1f}  {s['p99_ms']:>7.1f}  "
            f"{s['max_p99_ms']:>9.1f}  {s['workers_cpu_ms']:>6.2f}  {s['failures']:>7}  "
            f"{client_cpu:>10.0%}"
        )
    print()
    for kind, ratio in result["page_to_healthz"].items():
        print(f"page ({kind}) / healthz: {ratio:.0%} of the requests/second")
    again = next(s for s in result["measurements"] if s["kind"] == "again")
    verdict = "meets" if again["p99_ms"] < GOAL_P99_MS else "misses"
    print(
        f"page again, p99 {again['p99_ms']:.1f} ms at {result['concurrency']} clients: "
        f"{verdict} the goal of under {GOAL_P99_MS} ms"
    )
    print(
        "(req/s: median over rounds; p50/p99: all requests of the median round; worst p99: "
        "the highest round's; CPU ms: gunicorn's workers' CPU time per request, all rounds; "
        "client CPU: the load generator's CPU time / wall time)"
    )


# --- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=100_000, help="shipments to load")
    parser.add_argument("--storefronts", type=int, default=100, help="storefronts to spread over")
    parser.add_argument("--sample", type=int, default=2000, help="parcels whose pages are read")
    parser.add_argument("--requests", type=int, default=4000, help="GETs per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the three measurements")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients")
    common.add_server_arguments(parser, max_seconds_help="time cap of one measurement")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.shipments < 5000 or min(args.storefronts, args.sample) < 1:
        parser.error("--shipments must be at least 5000, --storefronts and --sample at least 1")
    if min(args.requests, args.rounds, args.concurrency, args.workers) < 1:
        parser.error("--requests, --rounds, --concurrency and --workers must be at least 1")

    load_average = os.getloadavg()
    port = common.free_port()
    common.server_environment(port)
    common.setup_django_on_loopback()

    prefix = f"aftersale-bench-page-{secrets.token_hex(4)}"
    entries = CacheEntries(prefix)
    try:
        with (
            common.throwaway_database(BENCH_DATABASE, verbose=True) as database,
            tempfile.TemporaryDirectory(prefix="tracking-page-") as folder,
        ):
            log_path = Path(folder) / "gunicorn.log"
            machine = common.machine_facts(load_average, args.workers, shared_buffers=True)
            storefront_ids = tracking_watch.create_storefronts(args.storefronts)
            plan = tracking_watch.Plan(args.shipments, args.sample)
            log(f"loading {args.shipments:,} shipments (COPY)")
            data = tracking_watch.load(plan, storefront_ids, tracking_watch.sweep_time())
            pages = page_requests(plan)
            static_root = Path(folder) / "static"
            tracking_watch.collect_static(static_root)
            bench_env = {
                "AFTERSALE_BENCH_DATABASE": database,
                "AFTERSALE_BENCH_STATIC_ROOT": str(static_root),
                "CACHE_KEY_PREFIX": prefix,
            }
            server = common.start_server(port, args.workers, log_path, bench_env)
            try:
                common.wait_until_up(server, port, log_path)
                measured, problems = run(args, plan, pages, entries, server, port, log_path)
            finally:
                common.stop_server(server)
                entries.delete()
    except BenchError as error:
        return common.fail(error)

    summaries = [summarise(kind, args.concurrency, measured[kind]) for kind in KINDS]
    rates = {s["kind"]: s["median_per_second"] for s in summaries}
    result = {
        "benchmark": "GET /t/<token>/ (tracking.views.page) vs GET /healthz",
        "shipments": data["shipments"],
        "checkpoints": data["checkpoints"],
        "storefronts": args.storefronts,
        "sample": len(pages),
        "requests": args.requests,
        "rounds": args.rounds,
        "concurrency": args.concurrency,
        "max_seconds": args.max_seconds,
        "machine": machine,
        "measurements": summaries,
        "page_to_healthz": {
            kind: rates[kind] / rates["healthz"] for kind in ("first view", "again")
        },
        "goal_p99_ms": GOAL_P99_MS,
    }
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print_table(result)
    failures = [
        f"{s['failures']} failed requests ({s['kind']})" for s in summaries if s["failures"]
    ]
    return common.report_problems(failures + problems)


if __name__ == "__main__":
    sys.exit(main())
