"""Benchmark: the fetch path of a provider that only notifies (Mollie, PayPlug), per worker.

What it measures: how many stored notifications a second one Celery worker process turns into
applied events, when the provider's API (a stand-in) answers each fetch in --latency seconds
(50 ms by default). For each notification the worker fetches the payment from the stand-in
(inbound.remote: requests with its retries and timeout), stores the fetched state as the event
proper, classifies it, opens the lost sale and schedules its recovery emails
(inbound.notified, payments.services.ingest): all of the fetch path after the edge, which
bench/webhook_ingest.py measures.

Against a baseline measured in the same run: the least work the job needs, one GET to the same
stand-in (a requests session, keep-alive) and one INSERT of the fetched body, in a loop in this
process. Reported: events/second (median of --rounds rounds) for each, and real / baseline.

How: the production settings (DEBUG off, bench-only secrets from bench/common.py) with the
embedded PostgreSQL and Redis, or DATABASE_URL / REDIS_URL. A throwaway database
(`aftersale_bench_fetch`, dropped at the end even on error) holds one storefront per provider,
with a test API key; its owner's alerts are off, so the worker's work is the event's own (no
alert email). The stand-in is a threaded HTTP/1.1 server in this process, on a free port of
127.0.0.1: it sleeps --latency, then answers the payment as the provider's API would, a failed
card payment built by the provider's samples.py. One worker, `celery -A bench.celery_app worker
--pool solo` with <PROVIDER>_API_BASE pointing at the stand-in, takes the tasks from a queue of
its own (deleted at the end). Each round stores --events notifications as the edge stores them,
sends their tasks (inbound.services.dispatch, as beat does), and waits until every one is
processed; a warm-up round goes first. The round fails (status 1) unless every notification
gave one fetched event, processed, and one lost sale with the expected reason.

    .venv/bin/python bench/fetch_path.py [--provider mollie|payplug|all] [--events N]
        [--rounds R] [--latency S] [--json]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# Run as a script, bench/ is sys.path[0]: the project root, for bench.common and the apps.
if (root := str(Path(__file__).resolve().parent.parent)) not in sys.path:
    sys.path.insert(0, root)

from bench import common  # noqa: E402
from bench.common import BenchError, log  # noqa: E402

BENCH_DATABASE = "aftersale_bench_fetch"
BENCH_QUEUE = "aftersale-bench-fetch"
ROUND_TIMEOUT = 600


@dataclass(frozen=True)
class Source:
    """One fetch-on-notify provider, as the benchmark drives it."""

    key: str
    setting: str  # the API base URL's setting
    api_key: str
    path: str  # the payment's path on the API, with {id}
    payment_id: Callable[[int], str]
    payment: Callable[[str, int], dict]  # (id, n) -> the API's answer: a failed payment
    reason: str  # the reason the lost sales must have


def _mollie_payment(payment_id: str, n: int) -> dict:
    from payments.providers.mollie import samples

    return samples.failed(
        payment_id, "insufficient_funds", at=datetime.now(UTC), order_id=f"FP-{n}"
    )


def _payplug_payment(payment_id: str, n: int) -> dict:
    from payments.providers.payplug import samples

    return samples.payment(
        payment_id, created_at=int(time.time()) - 60, order=f"FP-{n}", failure="insufficient_funds"
    )


SOURCES = {
    "mollie": Source(
        key="mollie",
        setting="MOLLIE_API_BASE",
        api_key="test_benchOnlyMollieKey0123456789abcd",
        path="/v2/payments/{id}",
        payment_id=lambda n: f"tr_bench{n:08d}",
        payment=_mollie_payment,
        reason="insufficient_funds",
    ),
    "payplug": Source(
        key="payplug",
        setting="PAYPLUG_API_BASE",
        api_key="sk_test_benchOnlyPayplugKey0123456789",
        path="/v1/payments/{id}",
        payment_id=lambda n: f"pay_bench{n:08d}",
        payment=_payplug_payment,
        reason="insufficient_funds",
    ),
}


# --- the stand-in -----------------------------------------------------------------------------


class StandIn:
    """The provider's API on 127.0.0.1: GET <path of a payment> answers it after `latency`."""

    def __init__(self, source: Source, latency: float):
        prefix, _, suffix = source.path.partition("{id}")
        stand_in = self
        self.calls = 0
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the providers' APIs
            # The headers and the body go in two writes: without TCP_NODELAY, Nagle's
            # algorithm holds the body until the client's delayed ACK, 40 ms later.
            disable_nagle_algorithm = True

            def do_GET(self):  # noqa: N802 - http.server's name
                path = self.path.split("?")[0]
                if not (path.startswith(prefix) and path.endswith(suffix)):
                    self.send_error(404)
                    return
                payment_id = path[len(prefix) : len(path) - len(suffix) or None]
                time.sleep(latency)
                n = int("".join(c for c in payment_id if c.isdigit()) or 0)
                body = json.dumps(source.payment(payment_id, n)).encode()
                with stand_in.lock:
                    stand_in.calls += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((common.HOST, common.free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{common.HOST}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


# --- the rounds -------------------------------------------------------------------------------


def create_storefront(source: Source):
    from storefront_settings.models import Membership
    from storefront_settings.services.preferences import update_alert_preferences
    from storefront_settings.services.storefronts import create_storefront as create

    storefront = create(
        name=f"Bench fetch {source.key}",
        owner_email=f"owner@bench-fetch-{source.key}.example",
        password=uuid.uuid4().hex,
        provider_secrets=[(source.key, source.api_key)],
    ).storefront
    for membership in Membership.objects.for_storefront(storefront):
        update_alert_preferences(
            membership=membership, actor=None, values={"receives_alerts": False}
        )
    return storefront


def store_notifications(storefront, source: Source, numbers: range) -> list[int]:
    """The notifications, stored as the edge stores them."""
    from inbound import services
    from inbound.notified import NOTIFICATION

    stored = []
    for n in numbers:
        payment_id = source.payment_id(n)
        event = services.store(
            storefront=storefront,
            provider=source.key,
            event_id=f"{payment_id}@{uuid.uuid4().hex}",
            event_type=NOTIFICATION,
            body=json.dumps({"id": payment_id}),
            headers={},
        )
        stored.append(event.pk)
    return stored


def worker_round(storefront, source: Source, numbers: range) -> float:
    """Events/second of the worker for these notifications, dispatched at once."""
    from inbound import services
    from inbound.models import InboundEvent

    pks = store_notifications(storefront, source, numbers)
    pending = InboundEvent.objects.for_storefront(storefront).filter(
        status=InboundEvent.Status.RECEIVED
    )
    started = time.perf_counter()
    while services.dispatch():
        pass
    deadline = time.monotonic() + ROUND_TIMEOUT
    while pending.exists():
        if time.monotonic() > deadline:
            raise BenchError(f"{pending.count()} events still unprocessed after {ROUND_TIMEOUT} s")
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    check_round(storefront, source, pks, numbers)
    return len(pks) / elapsed


def check_round(storefront, source: Source, pks: list[int], numbers: range) -> None:
    from inbound.models import InboundEvent
    from payments.models import LostSale

    events = InboundEvent.objects.for_storefront(storefront)
    notified = events.filter(pk__in=pks)
    if notified.exclude(status=InboundEvent.Status.PROCESSED).exists():
        raise BenchError("a notification was not processed")
    from inbound.notified import NOTIFICATION

    fetched = events.filter(status=InboundEvent.Status.PROCESSED).exclude(event_type=NOTIFICATION)
    found = {event_id.partition(":")[0] for event_id in fetched.values_list("event_id", flat=True)}
    ids = [source.payment_id(n) for n in numbers]
    missing = [payment_id for payment_id in ids if payment_id not in found]
    if missing:
        raise BenchError(f"{len(missing)} notifications gave no fetched event")
    sales = LostSale.objects.for_storefront(storefront).filter(
        order_reference__in=[f"FP-{n}" for n in numbers]
    )
    reasons = set(sales.values_list("reason", flat=True))
    if sales.count() != len(ids) or reasons != {source.reason}:
        raise BenchError(f"expected {len(ids)} lost sales for {source.reason}, got {reasons}")


def baseline_round(source: Source, stand_in: StandIn, numbers: range) -> float:
    """Events/second of the least work: GET the payment, INSERT its body."""
    import requests
    from django.db import connection

    session = requests.Session()
    table = "bench_fetch_baseline"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {table} (id text PRIMARY KEY, body text)")
    started = time.perf_counter()
    for n in numbers:
        payment_id = source.payment_id(n)
        url = stand_in.url + source.path.format(id=payment_id)
        response = session.get(url, timeout=10)
        response.raise_for_status()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (id, body) VALUES (%s, %s)",  # noqa: S608 - fixed name
                [f"{payment_id}:baseline", response.text],
            )
    elapsed = time.perf_counter() - started
    session.close()
    return len(numbers) / elapsed


def run_source(args, source: Source, folder: Path, database: str) -> dict:
    from django.conf import settings

    storefront = create_storefront(source)
    with StandIn(source, args.latency) as stand_in:
        setattr(settings, source.setting, stand_in.url)
        env = {
            "AFTERSALE_BENCH_DATABASE": database,
            "CELERY_DEFAULT_QUEUE": BENCH_QUEUE,
            source.setting: stand_in.url,
        }
        worker = common.start_celery("worker", env, folder, BENCH_QUEUE, pool="solo")
        try:
            next_n = 0

            def numbers(count: int) -> range:
                nonlocal next_n
                next_n += count
                return range(next_n - count, next_n)

            log(f"{source.key}: warm-up round ({args.warmup} notifications)")
            worker_round(storefront, source, numbers(args.warmup))
            baseline_round(source, stand_in, numbers(args.warmup))
            real, baseline = [], []
            for index in range(args.rounds):
                # Alternate which goes first, so that neither always runs on a warmer machine.
                first, second = (real, baseline) if index % 2 == 0 else (baseline, real)
                for results in (first, second):
                    if results is real:
                        results.append(worker_round(storefront, source, numbers(args.events)))
                    else:
                        results.append(baseline_round(source, stand_in, numbers(args.events)))
                log(
                    f"{source.key}: round {index + 1} of {args.rounds}: worker "
                    f"{real[-1]:.1f}/s, baseline {baseline[-1]:.1f}/s"
                )
        except BenchError as error:
            worker_log = common.tail(folder / "worker.log")
            raise BenchError(f"{error}\n--- worker.log\n{worker_log}") from None
        finally:
            common.stop_server(worker)
    return {
        "provider": source.key,
        "worker_per_second": real,
        "baseline_per_second": baseline,
        "worker_median": statistics.median(real),
        "baseline_median": statistics.median(baseline),
        "ratio": statistics.median(real) / statistics.median(baseline),
        "stand_in_calls": stand_in.calls,
    }


def print_report(result: dict) -> None:
    print(
        f"fetch path benchmark: {result['events']} notifications a round, {result['rounds']} "
        f"rounds (+{result['warmup']} warm-up); the stand-in answers in "
        f"{result['latency_s'] * 1000:.0f} ms; one worker (solo pool)"
    )
    common.print_machine(result["machine"])
    print()
    print("| provider | worker events/s | baseline events/s | worker / baseline |")
    print("| --- | --- | --- | --- |")
    for row in result["providers"]:
        print(
            f"| {row['provider']} | {row['worker_median']:.1f} | {row['baseline_median']:.1f} "
            f"| {row['ratio']:.2f} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", choices=[*SOURCES, "all"], default="all")
    parser.add_argument("--events", type=int, default=200, help="notifications a round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=20, help="untimed notifications first")
    parser.add_argument("--latency", type=float, default=0.05, help="the stand-in's seconds")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if min(args.events, args.rounds, args.warmup) < 1 or args.latency < 0:
        parser.error("--events, --rounds and --warmup must be at least 1, --latency positive")

    load_average = os.getloadavg()
    os.environ["CELERY_DEFAULT_QUEUE"] = BENCH_QUEUE
    common.setup_django()
    sources = list(SOURCES.values()) if args.provider == "all" else [SOURCES[args.provider]]
    try:
        with (
            common.throwaway_database(BENCH_DATABASE, verbose=True) as database,
            tempfile.TemporaryDirectory(prefix="fetch-path-") as folder,
        ):
            machine = common.machine_facts(load_average)
            common.drain_queue(BENCH_QUEUE)  # left over from an interrupted run, if any
            try:
                rows = [run_source(args, source, Path(folder), database) for source in sources]
            finally:
                common.drain_queue(BENCH_QUEUE)
    except BenchError as error:
        return common.fail(error)
    result = {
        "benchmark": "fetch path: stored notification → fetched, stored, applied; one worker",
        "events": args.events,
        "rounds": args.rounds,
        "warmup": args.warmup,
        "latency_s": args.latency,
        "machine": machine,
        "providers": rows,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
