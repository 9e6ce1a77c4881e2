"""Benchmark: signed Stripe webhooks a second through the real endpoint, against two baselines.

What it measures: requests/second and latency (p50, p99) of `POST /webhooks/stripe/<public id>/`
(inbound.edge.webhook, every connection's one view, served with the webhooks' short middleware
stack, config/webhook_stack.py: connection lookup, the storefront and its active secrets from
the process's cache, storefront_settings/edge_cache.py, body read, the Stripe adapter's HMAC
check, INSERT … ON CONFLICT DO NOTHING; the dispatcher, not the request, enqueues), and, as the
baselines measured in the same run on the same server, of one minimal view
(bench/ingest_urls.py: the shop and its secret known to the process, the body read, the HMAC
checked with `hmac`, the same INSERT; nothing else) served twice:

- `minimal`, POST /bench/minimal-stripe/<public id>/: with Django's default middleware
  (MIDDLEWARE as `django-admin startproject` writes it). The goal is measured against it: the
  real endpoint at 0.8 × its requests/second or more at 32 clients, its p99 at 1.25 × or less.
- `house`, POST /bench/house-stripe/<public id>/: with the project's whole settings.MIDDLEWARE,
  as every page outside /webhooks/ has it. What a minimal view pays for the project's stack;
  the real endpoint does not pay it.

Each at 16, 32 and 64 concurrent clients; reported: real / each baseline, for requests/second
and for p99.

How: the production settings (DEBUG off, secrets given bench-only defaults by bench/common.py,
plain HTTP on loopback, so SECURE_SSL_REDIRECT is off and ALLOWED_HOSTS is 127.0.0.1) with the
embedded PostgreSQL and Redis, or DATABASE_URL / REDIS_URL if set. The script makes a throwaway
database (`aftersale_bench_ingest`, migrated from scratch, dropped at the end even on error),
creates one storefront with a Stripe signing secret through
storefront_settings.services.storefronts.create_storefront, and starts gunicorn (sync workers, 2 ×
CPUs + 1 unless --workers says otherwise) on 127.0.0.1 and a free port, serving bench/wsgi.py
with the URLconf bench/ingest_urls.py: production's application (config.webhook_stack) on the
throwaway database, the baselines' view added, /bench/minimal-stripe/ served by a handler with
Django's default middleware. The storefront's id, public id and secret go to gunicorn's
environment for the baseline view. No Celery worker runs: events stay `received`. Tasks would go
to a queue of its own (`aftersale-bench-ingest`, which no demo worker reads), counted and
deleted at the end. gunicorn is stopped at the end (terminate, then kill after 30 s). The
database, gunicorn and load-generator code is bench/common.py's, shared with
bench/tracking_watch.py.

The load generator is in this process: one thread per concurrent client, each with its own
http.client connection (gunicorn's sync workers close the connection after every response,
so each request opens a new TCP connection on loopback, for every endpoint alike). Before each
measurement, and untimed, it builds one request per event: a full, pretty-printed
`payment_intent.payment_failed` event of about 4 KB with its own event id (every request is a
real insert, never a duplicate), made and signed by Stripe's samples
(payments.providers.stripe.samples: `t=<now>,v1=<HMAC-SHA256>`, well within the 300 s
tolerance). Each endpoint first gets --warmup untimed requests (which also fill the real
endpoint's cache, as the first deliveries of a burst would). Then, for each concurrency,
--rounds rounds of --requests requests per endpoint, the endpoints' order rotated from round to
round (minimal-house-real, house-real-minimal, …) so that drift is shared; a measurement also
stops at --max-seconds. Requests/second = requests / wall time of the measurement. Reported per
configuration: the median requests/second over the rounds, and p50 / p99 latency over all the
requests of the median round (the round whose rate is the median). Every response must be a
200 saying `"duplicate": false`; afterwards the rows in the table must equal the requests sent,
per endpoint, and no task may have been queued (the real endpoint only stores; the dispatcher,
not run here, enqueues). If not, it exits with status 1. Missing the goal is reported, not an
error: on a shared machine the figures are noisy.

Run from the project root:

    .venv/bin/python bench/webhook_ingest.py [--requests N] [--rounds R] [--warmup W]
        [--workers N] [--max-seconds S] [--json]

It prints a plain-text table (or one JSON object with --json, every round included), with the
CPU count, Python, Django, gunicorn and PostgreSQL versions, the gunicorn workers, and the load
average at the start: the load generator, gunicorn and PostgreSQL share the machine's CPUs, and
the embedded servers are shared with other work under .data/. Progress goes to stderr.
"""

import argparse
import itertools
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, bench/ is sys.path[0]: the project root, for bench.common and the apps.
if (root := str(Path(__file__).resolve().parent.parent)) not in sys.path:
    sys.path.insert(0, root)

from bench import common  # noqa: E402
from bench.common import BenchError, log  # noqa: E402

BENCH_DATABASE = "aftersale_bench_ingest"
# The Celery queue the gunicorn processes enqueue to (bench/wsgi.py); no worker reads it.
BENCH_QUEUE = "aftersale-bench-ingest"
# The URLconf gunicorn serves: config.urls plus the baselines' view.
BENCH_URLCONF = "bench.ingest_urls"
CONCURRENCIES = (16, 32, 64)
BASELINES = ("minimal", "house")
ENDPOINTS = (*BASELINES, "real")
PATHS = {
    "minimal": "/bench/minimal-stripe/",
    "house": "/bench/house-stripe/",
    "real": "/webhooks/stripe/",
}
# The storefront's signing secret; the database is thrown away, so a fixed one will do.
STRIPE_SECRET = "whsec_benchOnlySigningSecret0123456789abcdef"  # noqa: S105 - bench only
# The goal (issue 13), against the minimal baseline at 32 clients: requests/second at least
# 0.8 × its, p99 at most 1.25 × its.
GOAL_BASELINE = "minimal"
GOAL_CONCURRENCY = 32
GOAL_RATE = 0.80
GOAL_P99 = 1.25

# What Stripe's webhook client sends besides its samples' own headers.
EXTRA_HEADERS = {"Accept": "*/*; q=0.5, application/xml", "Cache-Control": "no-cache"}


# --- set-up -----------------------------------------------------------------------------------


def check_routes(public_id: str) -> None:
    """Each URL resolves to the view meant, with the URLconf gunicorn will serve, and the
    real one is served with the webhooks' short stack."""
    from django.urls import Resolver404, resolve

    from bench.ingest_urls import minimal_view
    from config.webhook_stack import WEBHOOK_PREFIX
    from inbound.edge import webhook

    if not PATHS["real"].startswith(WEBHOOK_PREFIX) or PATHS["house"].startswith(WEBHOOK_PREFIX):
        raise BenchError(f"only the real endpoint may be under {WEBHOOK_PREFIX}")
    views = {"minimal": minimal_view, "house": minimal_view, "real": webhook}
    for endpoint, view in views.items():
        path = url(endpoint, public_id)
        try:
            found = resolve(path, urlconf=BENCH_URLCONF).func
        except Resolver404:
            found = None
        if found is not view:
            raise BenchError(f"{path} does not resolve to {view.__module__}.{view.__name__}")


def url(endpoint: str, public_id: str) -> str:
    return f"{PATHS[endpoint]}{public_id}/"


def server_environment(storefront, database: str) -> dict[str, str]:
    """bench/wsgi.py's variables, and the shop the baseline view serves (bench/ingest_urls.py)."""
    return {
        "AFTERSALE_BENCH_DATABASE": database,
        "AFTERSALE_BENCH_URLCONF": BENCH_URLCONF,
        "AFTERSALE_BENCH_QUEUE": BENCH_QUEUE,
        "AFTERSALE_BENCH_STARTPROJECT_PREFIX": PATHS["minimal"],
        "AFTERSALE_BENCH_PUBLIC_ID": storefront.public_id,
        "AFTERSALE_BENCH_STOREFRONT_ID": str(storefront.pk),
        "AFTERSALE_BENCH_STRIPE_SECRET": STRIPE_SECRET,
    }


def create_storefront():
    from storefront_settings.services.storefronts import create_storefront as create

    return create(
        name="Bench ingest shop",
        owner_email="owner@bench-ingest.example",
        password=secrets.token_urlsafe(16),
        provider_secrets=[("stripe", STRIPE_SECRET)],
    ).storefront


# --- requests ---------------------------------------------------------------------------------

_serial = itertools.count(1)

DECLINES = (
    {"code": "card_declined", "decline_code": "insufficient_funds", "advice": "51"},
    {"code": "card_declined", "decline_code": "generic_decline"},
    {"code": "card_declined", "decline_code": "do_not_honor", "advice": "05"},
    {"code": "expired_card", "decline_code": "expired_card"},
)
CITIES = (("Lyon", "69002", "FR"), ("Berlin", "10115", "DE"), ("Madrid", "28001", "ES"))


def payment_failed_event(endpoint: str, n: int, now: int) -> dict:
    """A payment_intent.payment_failed event shaped like the ones Stripe sends (Stripe's own
    samples, payments.providers.stripe.samples), with an id of this run's own."""
    from payments.providers.stripe import samples

    rng = random.Random(n)  # noqa: S311 - made-up ids, not secrets
    city, postal_code, country = CITIES[n % len(CITIES)]
    buyer = samples.Buyer(
        email=f"buyer{n}@example.com",
        name="Camille Martin",
        phone="+33612345678",
        city=city,
        postal_code=postal_code,
        country=country,
        line1=f"{n % 200 + 1} rue de la République",
    )
    order = samples.Order(f"ML-{100000 + n}", 1500 + (n * 37) % 20000, buyer)
    codes = DECLINES[n % len(DECLINES)]
    event = samples.failure(rng, order, samples.new_payment(rng), codes, at=now - 2)
    event["id"] = f"evt_bench_{endpoint}_{n:010d}"
    return event


def build_requests(endpoint: str, public_id: str, count: int) -> list[common.Request]:
    """`count` signed requests, each a new event; signed now, so build them just before use."""
    from payments.providers.stripe import samples

    now = int(time.time())
    path = url(endpoint, public_id)
    built = []
    for _ in range(count):
        event = payment_failed_event(endpoint, next(_serial), now)
        signed = samples.signed(event, STRIPE_SECRET, now=now)
        headers = {**signed.headers, **EXTRA_HEADERS}
        built.append(common.Request("POST", path, b'"duplicate": false', signed.body, headers))
    return built


# --- checks and results -----------------------------------------------------------------------


def count_rows(storefront, endpoint: str) -> int:
    from inbound.models import InboundEvent

    return (
        InboundEvent.objects.for_storefront(storefront)
        .filter(event_id__startswith=f"evt_bench_{endpoint}_")
        .count()
    )


def summarise(concurrency: int, endpoint: str, rounds: list[dict]) -> dict:
    rates = [r["per_second"] for r in rounds]
    median_rate = statistics.median(rates)
    # The round whose rate is the median (with an even count, the closer of the two middles).
    median_round = min(rounds, key=lambda r: abs(r["per_second"] - median_rate))
    return {
        "concurrency": concurrency,
        "endpoint": endpoint,
        "median_per_second": median_rate,
        "min_per_second": min(rates),
        "max_per_second": max(rates),
        "p50_ms": median_round["p50_ms"],
        "p99_ms": median_round["p99_ms"],
        "failures": sum(r["failures"] for r in rounds),
        "rounds": rounds,
    }


def ratios(configurations: list[dict]) -> dict[str, dict[str, dict[str, float]]]:
    """real / each baseline at each concurrency: median requests/second, and p99."""
    by = {(c["concurrency"], c["endpoint"]): c for c in configurations}
    result = {}
    for baseline in BASELINES:
        result[baseline] = {
            str(n): {
                "per_second": by[n, "real"]["median_per_second"]
                / by[n, baseline]["median_per_second"],
                "p99": by[n, "real"]["p99_ms"] / by[n, baseline]["p99_ms"],
            }
            for n in CONCURRENCIES
        }
    return result


def goal(result: dict) -> dict:
    """The goal's two figures, and whether each is met."""
    ratio = result["ratios"][GOAL_BASELINE][str(GOAL_CONCURRENCY)]
    return {
        "baseline": GOAL_BASELINE,
        "concurrency": GOAL_CONCURRENCY,
        "per_second_ratio": ratio["per_second"],
        "per_second_goal": GOAL_RATE,
        "per_second_met": ratio["per_second"] >= GOAL_RATE,
        "p99_ratio": ratio["p99"],
        "p99_goal": GOAL_P99,
        "p99_met": ratio["p99"] <= GOAL_P99,
    }


def print_table(result: dict) -> None:
    machine = result["machine"]
    print(
        f"webhook ingest benchmark: {result['requests']} signed payment_intent.payment_failed "
        f"webhooks (~{result['body_bytes']} bytes) per measurement, {result['rounds']} rounds "
        f"per configuration (+{result['warmup']} warm-up requests per endpoint)"
    )
    common.print_machine(machine)
    print(
        "Plain HTTP on 127.0.0.1 (SECURE_SSL_REDIRECT off); client, gunicorn and PostgreSQL "
        "share the CPUs"
    )
    print(
        "minimal: hmac + INSERT, Django's default middleware; house: the same view, the "
        "project's whole middleware; real: /webhooks/stripe/"
    )
    print()
    print(
        f"{'conc':>4}  {'endpoint':<8}  {'median req/s':>12}  {'min':>7}  {'max':>7}  "
        f"{'p50 ms':>7}  {'p99 ms':>7}  {'errors':>7}  {'client CPU':>10}"
    )
    for config in result["configurations"]:
        rounds = config["rounds"]
        cpu = sum(r["client_cpu_seconds"] for r in rounds)
        client_cpu = cpu / sum(r["seconds"] for r in rounds)
        print(
            f"{config['concurrency']:>4}  {config['endpoint']:<8}  "
            f"{config['median_per_second']:>12.1f}  {config['min_per_second']:>7.1f}  "
            f"{config['max_per_second']:>7.1f}  {config['p50_ms']:>7.1f}  "
            f"{config['p99_ms']:>7.1f}  {config['failures']:>7}  {client_cpu:>10.0%}"
        )
    print()
    print(f"{'real / baseline':<17}" + "".join(f"{f'at {n}':>24}" for n in CONCURRENCIES))
    for baseline, by_concurrency in result["ratios"].items():
        cells = "".join(
            f"{'{:.2f} req/s, {:.2f} p99'.format(r['per_second'], r['p99']):>24}"
            for r in by_concurrency.values()
        )
        print(f"{baseline:<17}{cells}")
    target = result["goal"]
    verdicts = (
        f"req/s {target['per_second_ratio']:.2f} "
        f"({'meets' if target['per_second_met'] else 'misses'} ≥ {GOAL_RATE}), "
        f"p99 {target['p99_ratio']:.2f} ({'meets' if target['p99_met'] else 'misses'} ≤ {GOAL_P99})"
    )
    print(f"Goal, real / {GOAL_BASELINE} at {GOAL_CONCURRENCY} clients: {verdicts}")
    rows, sent = result["rows"], result["sent"]
    print(
        "Rows inserted: "
        + ", ".join(f"{e} {rows[e]} of {sent[e]} sent" for e in ENDPOINTS)
        + f"; tasks queued during the requests: {result['queued_tasks']}"
    )
    print(
        "(req/s: median over rounds; p50/p99: all requests of the median round; errors: "
        "non-200 answers and failed connections; client CPU: the load generator's CPU time / "
        "wall time)"
    )


# --- main -------------------------------------------------------------------------------------


def run(args, storefront, port: int, log_path: Path) -> tuple[list[dict], dict]:
    public_id = storefront.public_id
    sent = dict.fromkeys(ENDPOINTS, 0)
    for endpoint in ENDPOINTS:
        if args.warmup:
            log(f"warm-up: {args.warmup} requests to {endpoint}")
            requests = build_requests(endpoint, public_id, args.warmup)
            outcome = common.warm_up(port, endpoint, requests, args.max_seconds, log_path)
            sent[endpoint] += outcome["requests"]
    configurations = []
    for concurrency in CONCURRENCIES:
        measured = {endpoint: [] for endpoint in ENDPOINTS}
        for round_number in range(args.rounds):
            shift = round_number % len(ENDPOINTS)
            for endpoint in ENDPOINTS[shift:] + ENDPOINTS[:shift]:
                requests = build_requests(endpoint, public_id, args.requests)
                label = f"concurrency {concurrency}, round {round_number + 1}, {endpoint}"
                outcome = common.measure(port, requests, concurrency, args.max_seconds, label)
                sent[endpoint] += outcome["requests"]
                measured[endpoint].append(outcome)
        configurations += [summarise(concurrency, e, measured[e]) for e in ENDPOINTS]
    return configurations, sent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="requests per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per configuration")
    parser.add_argument("--warmup", type=int, default=300, help="untimed requests per endpoint")
    common.add_server_arguments(parser, max_seconds_help="time cap of one measurement")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if min(args.requests, args.rounds, args.workers) < 1 or args.warmup < 0:
        parser.error("--requests, --rounds and --workers must be at least 1, --warmup at least 0")

    load_average = os.getloadavg()
    port = common.free_port()
    common.server_environment(port)
    common.setup_django_on_loopback()

    queued = 0
    try:
        with (
            common.throwaway_database(BENCH_DATABASE, verbose=True) as database,
            tempfile.TemporaryDirectory(prefix="webhook-ingest-") as folder,
        ):
            log_path = Path(folder) / "gunicorn.log"
            machine = common.machine_facts(load_average, gunicorn_workers=args.workers)
            storefront = create_storefront()
            check_routes(storefront.public_id)
            common.drain_queue(BENCH_QUEUE)  # left over from an interrupted run, if any
            bench_env = server_environment(storefront, database)
            server = common.start_server(port, args.workers, log_path, bench_env)
            try:
                common.wait_until_up(server, port, log_path)
                configurations, sent = run(args, storefront, port, log_path)
            finally:
                common.stop_server(server)
                queued = common.drain_queue(BENCH_QUEUE)
            rows = {endpoint: count_rows(storefront, endpoint) for endpoint in ENDPOINTS}
    except BenchError as error:
        return common.fail(error)

    body_bytes = len(build_requests("real", "x", 1)[0].body)
    result = {
        "benchmark": "inbound.edge.webhook (Stripe) vs a minimal hmac + INSERT view, "
        "with Django's default middleware (minimal) and with the project's (house)",
        "requests": args.requests,
        "rounds": args.rounds,
        "warmup": args.warmup,
        "max_seconds": args.max_seconds,
        "body_bytes": body_bytes,
        "machine": machine,
        "configurations": configurations,
        "ratios": ratios(configurations),
        "sent": sent,
        "rows": rows,
        "queued_tasks": queued,
    }
    result["goal"] = goal(result)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)

    problems = common.failed_requests(configurations)
    problems += [
        f"{rows[e]} {e} rows for {sent[e]} requests sent" for e in ENDPOINTS if rows[e] != sent[e]
    ]
    if queued:
        problems.append(f"{queued} tasks queued by requests that should only store")
    return common.report_problems(problems)


if __name__ == "__main__":
    sys.exit(main())
