"""Benchmark: how many due messages a second `notifications.services.sending.send_due` gets through.

What it measures: N buyer messages (template `test_message`), all due, are claimed, rendered
and handed to Django's `locmem` email backend by `send_due()` running in one worker process,
then in two worker processes at once (the way several Celery workers share the outbox, kept
apart by SELECT ... FOR UPDATE SKIP LOCKED). Throughput = N / wall time, where the wall time
runs from the moment all workers are released together ("go") until the last one is done;
starting the processes and `django.setup()` are not timed.

How: the production settings (DEBUG off, secrets given defaults by bench/common.py,
EMAIL_BACKEND forced to locmem) with the embedded PostgreSQL, or DATABASE_URL if set. The
script makes its own throwaway database with Django's test-database machinery (bench/common.py;
`aftersale_bench`, migrated from scratch) and drops it at the end, even on error: the demo's
data is never read or touched.
Each worker is a separate process (multiprocessing, "spawn") with its own connection and stays
up for all rounds of its configuration. Every round starts from the same state: the bench
storefront's messages deleted, the table vacuumed, N fresh due messages bulk-created, each to
its own address and with no quiet hours, so the guards never defer one. One untimed warm-up
round per configuration fills the workers' caches (templates, connection pool). After every
round the script checks that each message ended `sent` and that the workers' outboxes hold
exactly N emails, one per message; if not, it exits with status 1.

Run from the project root:

    .venv/bin/python bench/send_due.py [--messages N] [--rounds R] [--warmup W] [--json]

It prints a plain-text table (or one JSON object with --json, every round included) of
messages/second per configuration: median, min and max over the rounds, and two workers / one
worker (the baseline measured in the same run). Two figures help read them: the SQL queries
per message, and the share of its send_due() time a worker spent on its own CPU (the rest it
waited for PostgreSQL). Also printed: CPU count, Python, Django and PostgreSQL versions, and the
load average at the start (the embedded server is shared, so other work skews the figures).
Logging goes to stderr.
"""

import argparse
import datetime
import json
import multiprocessing
import os
import queue
import statistics
import sys
import threading
import time
from pathlib import Path

# Run as a script, bench/ is sys.path[0]: the project root, for bench.common and the apps.
if (root := str(Path(__file__).resolve().parent.parent)) not in sys.path:
    sys.path.insert(0, root)

from bench import common  # noqa: E402
from bench.common import BenchError  # noqa: E402

BENCH_DATABASE = "aftersale_bench"
WORKER_COUNTS = (1, 2)
# How long the parent waits for workers to get ready, or for one round to finish.
READY_TIMEOUT = 120
ROUND_TIMEOUT = 900
STOP_TIMEOUT = 30

# Besides common.SETTINGS_DEFAULTS: no request is served, so any host will do.
SETTINGS_DEFAULTS = {
    "ALLOWED_HOSTS": "aftersale.bench",
    "SITE_URL": "https://aftersale.bench",
}


def setup_django(database: str | None = None) -> None:
    """Production settings with the locmem email backend; `database` replaces the DB name."""
    for name, value in SETTINGS_DEFAULTS.items():
        os.environ.setdefault(name, value)
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    common.setup_django(database)


# --- worker process ---------------------------------------------------------------------------


def worker(index: int, database: str, barrier, stop, results) -> None:
    """One worker: set up Django, then for each round wait for "go" and run send_due()."""
    setup_django(database)
    from django.core import mail
    from django.db import connection

    from notifications.services import sending

    connection.ensure_connection()
    results.put({"worker": index, "ready": True})
    # Counting queries costs a function call each, nothing next to a round trip to PostgreSQL.
    queries = 0

    def count_query(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    while True:
        # The barrier trips when every worker and the parent (data ready) have arrived: "go".
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            break  # the parent gave up (an error): stop quietly
        if stop.is_set():
            break
        mail.outbox = []
        queries = 0
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            with connection.execute_wrapper(count_query):
                report = sending.send_due()
        except Exception as error:  # noqa: BLE001 - reported to the parent, which stops
            results.put({"worker": index, "error": f"{type(error).__name__}: {error}"})
            continue
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        outbox = mail.outbox
        results.put(
            {
                "worker": index,
                "seconds": elapsed,
                "cpu_seconds": cpu,
                "queries": queries,
                "sent": report.sent,
                "retried": report.retried,
                "failed": report.failed,
                "suppressed": report.suppressed,
                "deferred": report.deferred,
                "errors": report.errors[:5],
                "emails": len(outbox),
                "message_ids": [
                    int(email.extra_headers["X-Aftersale-Message"]) for email in outbox
                ],
            }
        )
    connection.close()


# --- parent process ---------------------------------------------------------------------------


def create_storefront():
    from storefront_settings.models import Storefront

    return Storefront.objects.create(
        name="Bench shop",
        slug="bench-shop",
        # Equal start and end: no quiet hours. 20 a day is the most a storefront may allow; with
        # one message per address, the daily cap never defers anything anyway.
        quiet_hours_start=datetime.time(0, 0),
        quiet_hours_end=datetime.time(0, 0),
        buyer_messages_per_day=20,
    )


def reset_messages(storefront, count: int) -> None:
    """Delete the storefront's messages and create `count` fresh ones, due a minute ago."""
    from django.db import connection
    from django.utils import timezone

    from notifications.models import Audience, Message

    Message.objects.for_storefront(storefront).delete()
    with connection.cursor() as cursor:
        # Same table state every round: no dead rows from the last one, fresh statistics.
        cursor.execute(f"VACUUM ANALYZE {Message._meta.db_table}")
    send_at = timezone.now() - datetime.timedelta(minutes=1)
    # The fields services.schedule() sets for a buyer message that is not suppressed.
    Message.objects.bulk_create(
        [
            Message(
                storefront=storefront,
                kind="bench",
                audience=Audience.BUYER,
                to=f"buyer{i}@example.com",
                template="test_message",
                context={
                    "requested_by": "Camille",
                    "settings_url": "https://shop.example/settings",
                },
                locale=storefront.language,
                idempotency_key=f"bench-{i}",
                group="",
                status=Message.Status.SCHEDULED,
                last_error="",
                send_at=send_at,
                next_attempt_at=send_at,
            )
            for i in range(count)
        ],
        batch_size=1000,
    )


def check_round(storefront, count: int, outcomes: list[dict]) -> None:
    """Every message sent, and exactly once; raise BenchError otherwise."""
    from django.db.models import Count

    from notifications.models import Message

    problems = [f"worker {o['worker']} failed: {o['error']}" for o in outcomes if "error" in o]
    if problems:
        raise BenchError("; ".join(problems))
    statuses = dict(
        Message.objects.for_storefront(storefront).values_list("status").annotate(Count("id"))
    )
    if statuses != {Message.Status.SENT: count}:
        problems.append(f"message statuses {statuses}, expected {count} sent")
    emails = sum(o["emails"] for o in outcomes)
    sent = sum(o["sent"] for o in outcomes)
    distinct = len({pk for o in outcomes for pk in o["message_ids"]})
    if not emails == sent == distinct == count:
        problems.append(
            f"{emails} emails in the outboxes for {distinct} distinct messages and "
            f"{sent} reported sent, expected {count} of each"
        )
    others = {
        k: sum(o[k] for o in outcomes) for k in ("retried", "failed", "suppressed", "deferred")
    }
    if any(others.values()):
        errors = [e for o in outcomes for e in o["errors"]][:3]
        problems.append(f"unexpected outcomes {others}; first errors: {errors}")
    if problems:
        raise BenchError("; ".join(problems))


def run_configuration(
    workers: int, storefront, database: str, messages: int, rounds: int, warmup: int
) -> list[dict]:
    """Start `workers` processes and time `rounds` rounds (after `warmup` untimed ones)."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers + 1)
    stop = context.Event()
    results = context.Queue()
    processes = [
        context.Process(
            target=worker, args=(i, database, barrier, stop, results), name=f"bench-worker-{i}"
        )
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    measured = []
    try:
        collect(results, processes, READY_TIMEOUT, "get ready")
        for round_number in range(warmup + rounds):
            reset_messages(storefront, messages)
            # Every worker is ready and waiting: the parent's arrival trips the barrier.
            try:
                barrier.wait(timeout=READY_TIMEOUT)
            except threading.BrokenBarrierError:
                raise BenchError("the workers did not wait for the start signal") from None
            go = time.perf_counter()
            outcomes = collect(results, processes, ROUND_TIMEOUT, "finish a round")
            wall = time.perf_counter() - go
            check_round(storefront, messages, outcomes)
            if round_number >= warmup:
                outcomes.sort(key=lambda o: o["worker"])
                measured.append(
                    {
                        "seconds": round(wall, 4),
                        "per_second": messages / wall,
                        "sent_by_worker": [o["sent"] for o in outcomes],
                        "worker_seconds": [round(o["seconds"], 4) for o in outcomes],
                        # Time on the worker's own CPU; the rest it waited, mostly on PostgreSQL.
                        "worker_cpu_seconds": [round(o["cpu_seconds"], 4) for o in outcomes],
                        "queries_by_worker": [o["queries"] for o in outcomes],
                    }
                )
        stop.set()
        barrier.wait(timeout=STOP_TIMEOUT)
    finally:
        if not stop.is_set():
            # An error above: release the workers from the barrier (BrokenBarrierError).
            stop.set()
            barrier.abort()
        for process in processes:
            process.join(timeout=STOP_TIMEOUT)
            if process.is_alive():
                process.terminate()
                process.join()
    return measured


def collect(results, processes, timeout: float, what: str) -> list[dict]:
    """One message from each worker; BenchError if one dies or the time runs out."""
    deadline = time.monotonic() + timeout
    received = []
    while len(received) < len(processes):
        try:
            # A short wait, to notice a worker that died; a message already there comes at once.
            received.append(results.get(timeout=0.5))
        except queue.Empty:
            if dead := [p for p in processes if p.exitcode is not None]:
                codes = ", ".join(f"{p.name} exited with {p.exitcode}" for p in dead)
                raise BenchError(f"the workers did not {what}: {codes}") from None
            if time.monotonic() > deadline:
                raise BenchError(f"the workers did not {what} within {timeout} s") from None
    return received


def summarise(measured: list[dict], messages: int) -> dict:
    rates = [r["per_second"] for r in measured]
    queries = sum(sum(r["queries_by_worker"]) for r in measured)
    cpu = sum(sum(r["worker_cpu_seconds"]) for r in measured)
    busy = sum(sum(r["worker_seconds"]) for r in measured)
    return {
        "median": statistics.median(rates),
        "min": min(rates),
        "max": max(rates),
        "queries_per_message": queries / (messages * len(measured)),
        # Share of its send_due() time a worker spent on its own CPU (the rest: waiting).
        "worker_cpu_share": cpu / busy,
        "rounds": measured,
    }


def print_table(result: dict) -> None:
    machine = result["machine"]
    print(
        f"send_due benchmark: {result['messages']} messages, {result['rounds']} rounds "
        f"(+{result['warmup']} warm-up) per configuration, locmem email backend"
    )
    common.print_machine(machine)
    print()
    print(
        f"{'workers':>7}  {'median msg/s':>12}  {'min msg/s':>10}  {'max msg/s':>10}  "
        f"{'vs 1':>5}  {'queries/msg':>11}  {'worker CPU':>10}"
    )
    for config in result["configurations"]:
        print(
            f"{config['workers']:>7}  {config['median']:>12.1f}  {config['min']:>10.1f}  "
            f"{config['max']:>10.1f}  {config['median'] / result['baseline']:>4.2f}x  "
            f"{config['queries_per_message']:>11.2f}  {config['worker_cpu_share']:>10.0%}"
        )
    print()
    for config in result["configurations"]:
        split = ", ".join("/".join(str(n) for n in r["sent_by_worker"]) for r in config["rounds"])
        print(f"{config['workers']} worker(s), messages sent by each worker per round: {split}")
    print(f"Two workers / one worker (medians): {result['speedup']:.2f}")
    print(
        "(worker CPU: share of send_due() time each worker spent on its own CPU; the rest it "
        "waited, mostly on PostgreSQL)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000, help="due messages per round")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per configuration")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.messages < 1 or args.rounds < 1 or args.warmup < 0:
        parser.error("--messages and --rounds must be at least 1, --warmup at least 0")

    setup_django()
    from django.conf import settings
    from django.core.mail import get_connection

    backend = type(get_connection())
    if f"{backend.__module__}.{backend.__name__}" != settings.EMAIL_BACKEND or settings.DEBUG:
        raise SystemExit("expected the production settings with the locmem email backend")

    try:
        with common.throwaway_database(BENCH_DATABASE) as database:
            machine = common.machine_facts()
            storefront = create_storefront()
            configurations = []
            for workers in WORKER_COUNTS:
                measured = run_configuration(
                    workers, storefront, database, args.messages, args.rounds, args.warmup
                )
                configurations.append({"workers": workers, **summarise(measured, args.messages)})
    except BenchError as error:
        return common.fail(error)

    baseline = configurations[0]["median"]
    result = {
        "benchmark": "notifications.services.sending.send_due",
        "messages": args.messages,
        "rounds": args.rounds,
        "warmup": args.warmup,
        "email_backend": settings.EMAIL_BACKEND,
        "machine": machine,
        "baseline": baseline,
        "configurations": configurations,
        "speedup": configurations[-1]["median"] / baseline,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
