"""Benchmark: signed Stripe webhooks a second through the real endpoint, against a bare view.

What it measures: requests/second and latency (p50, p99) of `POST /webhooks/stripe/<public id>/`
(payments.webhooks.stripe_webhook: storefront lookup, body read, signature check against the
storefront's active secrets, INSERT … ON CONFLICT DO NOTHING, re-read of the row, enqueue of
its processing to the broker on commit) and, as the baseline measured in the same run on the
same server, of `POST /bench/bare-stripe/<public id>/` (bench/ingest_urls.py: the storefront
lookup, the body read, the same verify() with the same secrets, the same INSERT; nothing else).
Both go through the full middleware stack. Each at 16 and at 64 concurrent clients; the figure
to watch is real / bare (the goal is 80 % or more).

How: the production settings (DEBUG off, secrets given bench-only defaults here, plain HTTP on
loopback, so SECURE_SSL_REDIRECT is off and ALLOWED_HOSTS is 127.0.0.1) with the embedded
PostgreSQL and Redis, or DATABASE_URL / REDIS_URL if set. The script makes a throwaway
database (`aftersale_bench_ingest`, migrated from scratch, dropped at the end even on error),
creates one storefront with a Stripe signing secret through
storefront_settings.services.create_storefront, and starts gunicorn (sync workers, 2 × CPUs + 1
unless --workers says otherwise) on 127.0.0.1 and a free port, serving bench/ingest_wsgi.py: the
project's app with the bare view added, on the throwaway database. No Celery worker runs: events
stay `received`, but every real request still pushes its task to Redis, into a queue of its
own (`aftersale-bench-ingest`, which no demo worker reads) that is counted and deleted at the
end. gunicorn is stopped at the end (terminate, then kill after 30 s).

The load generator is in this process: one thread per concurrent client, each with its own
http.client connection (gunicorn's sync workers close the connection after every response,
so each request opens a new TCP connection on loopback, for both endpoints alike). Before each
measurement, and untimed, it builds one request per event: a full, pretty-printed
`payment_intent.payment_failed` event of about 4 KB with its own event id (every request is a
real insert, never a duplicate), signed like Stripe signs (`t=<now>,v1=<HMAC-SHA256>`, so well
within the 300 s tolerance). Each endpoint first gets --warmup untimed requests. Then, for
each concurrency, --rounds rounds of --requests requests per endpoint, bare and real in
alternating order (bare-real, real-bare, …) so that drift is shared; a measurement also stops
at --max-seconds. Requests/second = requests / wall time of the measurement. Reported per
configuration: the median requests/second over the rounds, and p50 / p99 latency over all the
requests of the median round (the round whose rate is the median). Every response must be a
200 saying `"duplicate": false`; afterwards the rows in the table must equal the requests sent,
per endpoint, and no task may have been queued (the real endpoint only stores; the dispatcher,
not run here, enqueues). If not, it exits with status 1.

Run from the project root:

    .venv/bin/python bench/webhook_ingest.py [--requests N] [--rounds R] [--warmup W]
        [--workers N] [--max-seconds S] [--wait-minutes M] [--json]

If payments/providers/stripe.py does not exist yet, or config/urls.py does not include
payments.urls yet, it checks again every minute for up to --wait-minutes before giving up.
It prints a plain-text table (or one JSON object with --json, every round included), with the
CPU count, Python, Django, gunicorn and PostgreSQL versions, the gunicorn workers, and the load
average at the start: the load generator, gunicorn and PostgreSQL share the machine's CPUs, and
the embedded servers are shared with other work under .data/. Progress goes to stderr.
"""

import argparse
import hashlib
import hmac
import http.client
import itertools
import json
import math
import os
import platform
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "aftersale_bench_ingest"
# The Celery queue the gunicorn processes enqueue to (bench/ingest_wsgi.py); no worker reads it.
BENCH_QUEUE = "aftersale-bench-ingest"
CONCURRENCIES = (16, 64)
ENDPOINTS = ("bare", "real")
HOST = "127.0.0.1"
# The storefront's signing secret; the database is thrown away, so a fixed one will do.
STRIPE_SECRET = "whsec_benchOnlySigningSecret0123456789abcdef"  # noqa: S105 - bench only
START_TIMEOUT = 60
STOP_TIMEOUT = 30
REQUEST_TIMEOUT = 30
POLL_SECONDS = 60
GOAL = 0.80
# An uncommented `path("", include("payments.urls"))` in config/urls.py.
INCLUDE_PAYMENTS = re.compile(
    r"""^\s*path\(\s*["']["']\s*,\s*include\(["']payments\.urls["']""", re.M
)

SETTINGS_DEFAULTS = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    # Production needs these two secrets; the bench database is thrown away, so any will do.
    "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
    "FIELD_ENCRYPTION_KEY": "OurUkHjKtvBxCuc1o2f7r8A9zZ0bOeTiDwDdRNz1oX4=",
}

STRIPE_HEADERS = {
    "Content-Type": "application/json; charset=utf-8",
    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    "Accept": "*/*; q=0.5, application/xml",
    "Cache-Control": "no-cache",
}


class BenchError(Exception):
    """The benchmark cannot go on, or a check failed (a non-200, a missing row…)."""


def log(message: str) -> None:
    print(f"[webhook_ingest] {message}", file=sys.stderr, flush=True)


# --- set-up -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_environment(port: int) -> None:
    """The environment of this process and of gunicorn: production settings on loopback."""
    for name, value in SETTINGS_DEFAULTS.items():
        os.environ.setdefault(name, value)
    # Plain HTTP on loopback: no HTTPS redirect, and the only host is the loopback address.
    os.environ["ALLOWED_HOSTS"] = HOST
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    os.environ["SITE_URL"] = f"http://{HOST}:{port}"
    os.environ.pop("DEBUG", None)


def code_missing() -> list[str]:
    """What the real endpoint still needs from the other engineers' work (empty: ready)."""
    missing = []
    if not (PROJECT_DIR / "payments" / "providers" / "stripe.py").exists():
        missing.append("payments/providers/stripe.py does not exist")
    urls = (PROJECT_DIR / "config" / "urls.py").read_text()
    if not INCLUDE_PAYMENTS.search(urls):
        missing.append("config/urls.py does not include payments.urls")
    return missing


def wait_for_code(minutes: float) -> None:
    deadline = time.monotonic() + minutes * 60
    while missing := code_missing():
        if time.monotonic() >= deadline:
            raise BenchError("the real endpoint is not ready: " + "; ".join(missing))
        log(f"waiting: {'; '.join(missing)}; checking again in {POLL_SECONDS} s")
        time.sleep(POLL_SECONDS)


def setup_django() -> None:
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()


def check_routes(public_id: str) -> None:
    """Both URLs resolve to the views meant, with the URLconf gunicorn will serve."""
    from django.urls import Resolver404, resolve

    from bench.ingest_urls import bare_view
    from payments.webhooks import stripe_webhook

    for endpoint, view in (("bare", bare_view), ("real", stripe_webhook)):
        path = url(endpoint, public_id)
        try:
            found = resolve(path, urlconf="bench.ingest_urls").func
        except Resolver404:
            found = None
        if found is not view:
            raise BenchError(f"{path} does not resolve to {view.__module__}.{view.__name__}")


def url(endpoint: str, public_id: str) -> str:
    if endpoint == "bare":
        return f"/bench/bare-stripe/{public_id}/"
    return f"/webhooks/stripe/{public_id}/"


def create_storefront():
    from storefront_settings.services import create_storefront as create

    return create(
        name="Bench ingest shop",
        owner_email="owner@bench-ingest.example",
        password=secrets.token_urlsafe(16),
        provider_secrets=[("stripe", STRIPE_SECRET)],
    ).storefront


def machine_facts(workers: int, load_average: tuple[float, ...]) -> dict:
    import django
    import gunicorn
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        (postgres,) = cursor.fetchone()
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "gunicorn_workers": workers,
        "gunicorn_worker_class": "sync",
        "postgresql": postgres,
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in load_average],
    }


# --- gunicorn ---------------------------------------------------------------------------------


def start_server(port: int, workers: int, database: str, log_path: Path) -> subprocess.Popen:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    if not gunicorn.exists():
        raise BenchError(f"{gunicorn} not found: run with the project's .venv/bin/python")
    env = {**os.environ, "AFTERSALE_BENCH_DATABASE": database, "AFTERSALE_BENCH_QUEUE": BENCH_QUEUE}
    command = [
        str(gunicorn),
        "bench.ingest_wsgi:application",
        "--workers",
        str(workers),
        "--bind",
        f"{HOST}:{port}",
    ]
    if "control_socket_disable" in gunicorn_settings():
        # gunicorn 24+ opens a control socket at a fixed path (~/.gunicorn/gunicorn.ctl) that
        # another gunicorn on the machine (the demo's) may be using.
        command.append("--no-control-socket")
    log(f"starting: {' '.join(command)} (log: {log_path})")
    with log_path.open("wb") as output:
        return subprocess.Popen(  # noqa: S603 - fixed arguments, the venv's own gunicorn
            command, cwd=PROJECT_DIR, env=env, stdout=output, stderr=subprocess.STDOUT
        )


def gunicorn_settings() -> set[str]:
    from gunicorn.config import KNOWN_SETTINGS

    return {setting.name for setting in KNOWN_SETTINGS}


def wait_until_up(server: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"gunicorn exited with {server.returncode}:\n{tail(log_path)}")
        conn = http.client.HTTPConnection(HOST, port, timeout=5)
        try:
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            body = response.read()
            if response.status == 200:
                return
            last = f"{response.status} {body[:200]!r}"
        except OSError as error:
            last = f"{type(error).__name__}: {error}"
        finally:
            conn.close()
        time.sleep(0.2)
    raise BenchError(f"/healthz did not answer 200 within {START_TIMEOUT} s ({last})")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- requests ---------------------------------------------------------------------------------

_serial = itertools.count(1)

BRANDS = (("visa", "credit"), ("mastercard", "debit"), ("amex", "credit"), ("visa", "debit"))
DECLINES = (
    ("insufficient_funds", "Your card has insufficient funds."),
    ("generic_decline", "Your card was declined."),
    ("do_not_honor", "Your card was declined."),
    ("expired_card", "Your card has expired."),
)
CITIES = (("Lyon", "69002", "FR"), ("Berlin", "10115", "DE"), ("Madrid", "28001", "ES"))


def payment_failed_event(endpoint: str, n: int, now: int) -> dict:
    """A payment_intent.payment_failed event shaped like the ones Stripe sends."""
    brand, funding = BRANDS[n % len(BRANDS)]
    decline_code, message = DECLINES[n % len(DECLINES)]
    city, postal_code, country = CITIES[n % len(CITIES)]
    amount = 1500 + (n * 37) % 20000
    customer = f"cus_Bench{n:010d}"
    method = f"pm_1Bench{n:018d}"
    intent = f"pi_3Bench{n:018d}"
    charge = f"ch_3Bench{n:018d}"
    email = f"buyer{n}@example.com"
    address = {
        "city": city,
        "country": country,
        "line1": f"{n % 200 + 1} rue de la République",
        "line2": None,
        "postal_code": postal_code,
        "state": None,
    }
    return {
        "id": f"evt_bench_{endpoint}_{n:010d}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": now - 2,
        "data": {
            "object": {
                "id": intent,
                "object": "payment_intent",
                "amount": amount,
                "amount_capturable": 0,
                "amount_details": {"tip": {}},
                "amount_received": 0,
                "application": None,
                "application_fee_amount": None,
                "automatic_payment_methods": {"allow_redirects": "always", "enabled": True},
                "canceled_at": None,
                "cancellation_reason": None,
                "capture_method": "automatic_async",
                "client_secret": f"{intent}_secret_Bench{n:020d}",
                "confirmation_method": "automatic",
                "created": now - 5,
                "currency": "eur",
                "customer": customer,
                "description": f"Order ML-{100000 + n}",
                "invoice": None,
                "last_payment_error": {
                    "charge": charge,
                    "code": "card_declined",
                    "decline_code": decline_code,
                    "doc_url": "https://stripe.com/docs/error-codes/card-declined",
                    "message": message,
                    "payment_method": {
                        "id": method,
                        "object": "payment_method",
                        "allow_redisplay": "unspecified",
                        "billing_details": {
                            "address": address,
                            "email": email,
                            "name": "Camille Martin",
                            "phone": "+33612345678",
                        },
                        "card": {
                            "brand": brand,
                            "checks": {
                                "address_line1_check": "pass",
                                "address_postal_code_check": "pass",
                                "cvc_check": "pass",
                            },
                            "country": country,
                            "display_brand": brand,
                            "exp_month": n % 12 + 1,
                            "exp_year": 2027 + n % 5,
                            "fingerprint": f"Bench{n:011d}",
                            "funding": funding,
                            "generated_from": None,
                            "last4": f"{n % 10000:04d}",
                            "networks": {"available": [brand], "preferred": None},
                            "three_d_secure_usage": {"supported": True},
                            "wallet": None,
                        },
                        "created": now - 6,
                        "customer": customer,
                        "livemode": False,
                        "metadata": {},
                        "type": "card",
                    },
                    "type": "card_error",
                },
                "latest_charge": charge,
                "livemode": False,
                "metadata": {"order_id": f"ML-{100000 + n}"},
                "next_action": None,
                "on_behalf_of": None,
                "payment_method": None,
                "payment_method_configuration_details": {
                    "id": "pmc_1BenchConfiguration00000",
                    "parent": None,
                },
                "payment_method_options": {
                    "card": {
                        "installments": None,
                        "mandate_options": None,
                        "network": None,
                        "request_three_d_secure": "automatic",
                    },
                    "link": {"persistent_token": None},
                },
                "payment_method_types": ["card", "link"],
                "processing": None,
                "receipt_email": email,
                "review": None,
                "setup_future_usage": None,
                "shipping": {
                    "address": address,
                    "carrier": None,
                    "name": "Camille Martin",
                    "phone": "+33612345678",
                    "tracking_number": None,
                },
                "source": None,
                "statement_descriptor": None,
                "statement_descriptor_suffix": None,
                "status": "requires_payment_method",
                "transfer_data": None,
                "transfer_group": None,
            }
        },
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": f"req_Bench{n:014d}", "idempotency_key": f"bench-{n:012d}"},
        "type": "payment_intent.payment_failed",
    }


def sign(body: bytes, timestamp: int) -> str:
    mac = hmac.new(STRIPE_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def build_requests(endpoint: str, public_id: str, count: int) -> list[tuple[str, bytes, dict]]:
    """`count` signed requests, each a new event; signed now, so build them just before use."""
    now = int(time.time())
    path = url(endpoint, public_id)
    built = []
    for _ in range(count):
        # Stripe sends its events pretty-printed, two spaces.
        body = json.dumps(payment_failed_event(endpoint, next(_serial), now), indent=2).encode()
        built.append((path, body, {**STRIPE_HEADERS, "Stripe-Signature": sign(body, now)}))
    return built


# --- load -------------------------------------------------------------------------------------


def run_load(port: int, requests: list, concurrency: int, max_seconds: float) -> dict:
    """Send the requests from `concurrency` threads at once; latencies and failures."""
    count = len(requests)
    counter = itertools.count()
    barrier = threading.Barrier(concurrency + 1)
    deadline = [math.inf]
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    failures: list[list[str]] = [[] for _ in range(concurrency)]
    finished = [0.0] * concurrency

    def client(k: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
        mine, bad = latencies[k], failures[k]
        barrier.wait()
        while (i := next(counter)) < count and time.perf_counter() < deadline[0]:
            path, body, headers = requests[i]
            started = time.perf_counter()
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as error:
                bad.append(f"{type(error).__name__}: {error}")
                conn.close()
                continue
            mine.append(time.perf_counter() - started)
            if response.status != 200 or b'"duplicate": false' not in data:
                bad.append(f"{response.status} {data[:200]!r}")
        finished[k] = time.perf_counter()
        conn.close()

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(concurrency)]
    for thread in threads:
        thread.start()
    cpu_started = time.process_time()
    started = time.perf_counter()
    deadline[0] = started + max_seconds
    barrier.wait()
    for thread in threads:
        thread.join(max_seconds + 2 * REQUEST_TIMEOUT)
    if any(thread.is_alive() for thread in threads):
        raise BenchError("a client thread did not finish")
    wall = max(finished) - started
    all_latencies = sorted(x for mine in latencies for x in mine)
    all_failures = [f for bad in failures for f in bad]
    sent = len(all_latencies) + sum(1 for f in all_failures if not f[:3].isdigit())
    return {
        "requests": sent,
        "seconds": round(wall, 4),
        "per_second": len(all_latencies) / wall,
        "p50_ms": percentile(all_latencies, 0.50) * 1000,
        "p99_ms": percentile(all_latencies, 0.99) * 1000,
        "max_ms": all_latencies[-1] * 1000 if all_latencies else math.nan,
        "failures": len(all_failures),
        "first_failures": all_failures[:3],
        # The load generator's own CPU time (it shares the machine with gunicorn and PostgreSQL).
        "client_cpu_seconds": round(time.process_time() - cpu_started, 3),
        "time_capped": sent < count,
    }


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


# --- checks and results -----------------------------------------------------------------------


def count_rows(storefront, endpoint: str) -> int:
    from inbound.models import InboundEvent

    return (
        InboundEvent.objects.for_storefront(storefront)
        .filter(event_id__startswith=f"evt_bench_{endpoint}_")
        .count()
    )


def drain_queue() -> int:
    """How many tasks the real endpoint pushed to the bench queue; the queue is then deleted."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        # kombu keeps a queue as a Redis list named after it (one more per priority step) and
        # the exchange's bindings in sets.
        keys = [BENCH_QUEUE, *(f"{BENCH_QUEUE}\x06\x16{p}" for p in (1, 2, 3, 6, 9))]
        queued = sum(client.llen(key) for key in keys)
        bindings = (f"_kombu.binding.{BENCH_QUEUE}", f"_kombu.binding_permanent.{BENCH_QUEUE}")
        client.delete(*keys, *bindings)
    finally:
        client.close()
    return queued


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


def print_table(result: dict) -> None:
    machine = result["machine"]
    print(
        f"webhook ingest benchmark: {result['requests']} signed payment_intent.payment_failed "
        f"webhooks (~{result['body_bytes']} bytes) per measurement, {result['rounds']} rounds "
        f"per configuration (+{result['warmup']} warm-up requests per endpoint)"
    )
    print(
        f"CPUs: {machine['cpu_count']}   Python {machine['python']}   Django {machine['django']}"
        f"   gunicorn {machine['gunicorn']} ({machine['gunicorn_workers']} sync workers)"
    )
    print(f"PostgreSQL: {machine['postgresql']}")
    print(f"Load average at start: {machine['load_average_at_start']}")
    print(
        "Plain HTTP on 127.0.0.1 (SECURE_SSL_REDIRECT off); client, gunicorn and PostgreSQL "
        "share the CPUs"
    )
    print()
    print(
        f"{'conc':>4}  {'endpoint':<8}  {'median req/s':>12}  {'min':>7}  {'max':>7}  "
        f"{'p50 ms':>7}  {'p99 ms':>7}  {'non-200':>7}  {'client CPU':>10}"
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
    for concurrency, ratio in result["ratio_real_to_bare"].items():
        verdict = "meets" if ratio >= GOAL else "below"
        print(f"real / bare at {concurrency}: {ratio:.0%} ({verdict} the {GOAL:.0%} goal)")
    rows = result["rows"]
    print(
        f"Rows inserted: bare {rows['bare']} of {result['sent']['bare']} sent, "
        f"real {rows['real']} of {result['sent']['real']} sent; "
        f"tasks queued during the requests: {result['queued_tasks']}"
    )
    print(
        "(req/s: median over rounds; p50/p99: all requests of the median round; client CPU: the "
        "load generator's CPU time / wall time)"
    )


# --- main -------------------------------------------------------------------------------------


def run(args, storefront, port: int, log_path: Path) -> tuple[list[dict], dict]:
    public_id = storefront.public_id
    sent = dict.fromkeys(ENDPOINTS, 0)
    for endpoint in ENDPOINTS:
        if args.warmup:
            log(f"warm-up: {args.warmup} requests to {endpoint}")
            outcome = run_load(
                port, build_requests(endpoint, public_id, args.warmup), 16, args.max_seconds
            )
            sent[endpoint] += outcome["requests"]
            if outcome["failures"]:
                raise BenchError(
                    f"warm-up of {endpoint}: {outcome['failures']} failed requests, "
                    f"first: {outcome['first_failures']}\n{tail(log_path)}"
                )
    configurations = []
    for concurrency in CONCURRENCIES:
        measured = {endpoint: [] for endpoint in ENDPOINTS}
        for round_number in range(args.rounds):
            order = ENDPOINTS if round_number % 2 == 0 else ENDPOINTS[::-1]
            for endpoint in order:
                requests = build_requests(endpoint, public_id, args.requests)
                outcome = run_load(port, requests, concurrency, args.max_seconds)
                sent[endpoint] += outcome["requests"]
                measured[endpoint].append(outcome)
                log(
                    f"concurrency {concurrency}, round {round_number + 1}, {endpoint}: "
                    f"{outcome['per_second']:.1f} req/s, p50 {outcome['p50_ms']:.1f} ms, "
                    f"p99 {outcome['p99_ms']:.1f} ms, {outcome['failures']} failed"
                    + (" (time cap reached)" if outcome["time_capped"] else "")
                )
                if outcome["failures"]:
                    log(f"first failures: {outcome['first_failures']}")
        configurations += [summarise(concurrency, e, measured[e]) for e in ENDPOINTS]
    return configurations, sent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="requests per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per configuration")
    parser.add_argument("--warmup", type=int, default=300, help="untimed requests per endpoint")
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * (os.cpu_count() or 1) + 1,
        help="gunicorn sync workers (default: 2 × CPUs + 1)",
    )
    parser.add_argument("--max-seconds", type=float, default=60, help="time cap of one measurement")
    parser.add_argument(
        "--wait-minutes",
        type=float,
        default=30,
        help="how long to wait for the real endpoint's code to land",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if min(args.requests, args.rounds, args.workers) < 1 or args.warmup < 0:
        parser.error("--requests, --rounds and --workers must be at least 1, --warmup at least 0")

    load_average = os.getloadavg()
    port = free_port()
    server_environment(port)
    try:
        wait_for_code(args.wait_minutes)
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    setup_django()
    from django.conf import settings
    from django.db import connection

    if settings.DEBUG or settings.SECURE_SSL_REDIRECT:
        raise SystemExit("expected the production settings, with SECURE_SSL_REDIRECT off")

    connection.settings_dict["TEST"]["NAME"] = BENCH_DATABASE
    old_name = connection.settings_dict["NAME"]
    database = server = None
    queued = 0
    try:
        with tempfile.TemporaryDirectory(prefix="webhook-ingest-") as folder:
            log_path = Path(folder) / "gunicorn.log"
            log(f"creating and migrating the database {BENCH_DATABASE}")
            database = connection.creation.create_test_db(
                verbosity=0, autoclobber=True, serialize=False, keepdb=False
            )
            machine = machine_facts(args.workers, load_average)
            storefront = create_storefront()
            check_routes(storefront.public_id)
            drain_queue()  # left over from an interrupted run, if any
            server = start_server(port, args.workers, database, log_path)
            try:
                wait_until_up(server, port, log_path)
                configurations, sent = run(args, storefront, port, log_path)
            finally:
                stop_server(server)
                queued = drain_queue()
            rows = {endpoint: count_rows(storefront, endpoint) for endpoint in ENDPOINTS}
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    finally:
        if database:
            connection.creation.destroy_test_db(old_name, verbosity=0)

    medians = {(c["concurrency"], c["endpoint"]): c["median_per_second"] for c in configurations}
    body_bytes = len(build_requests("real", "x", 1)[0][1])
    result = {
        "benchmark": "payments.webhooks.stripe_webhook vs bare ingest view",
        "requests": args.requests,
        "rounds": args.rounds,
        "warmup": args.warmup,
        "max_seconds": args.max_seconds,
        "body_bytes": body_bytes,
        "machine": machine,
        "configurations": configurations,
        "ratio_real_to_bare": {
            str(c): medians[(c, "real")] / medians[(c, "bare")] for c in CONCURRENCIES
        },
        "goal": GOAL,
        "sent": sent,
        "rows": rows,
        "queued_tasks": queued,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)

    problems = [
        f"{c['failures']} failed requests at concurrency {c['concurrency']} ({c['endpoint']})"
        for c in configurations
        if c["failures"]
    ]
    problems += [
        f"{rows[e]} {e} rows for {sent[e]} requests sent" for e in ENDPOINTS if rows[e] != sent[e]
    ]
    if queued:
        problems.append(f"{queued} tasks queued by requests that should only store")
    for problem in problems:
        print(f"check failed: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
