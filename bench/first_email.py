"""Benchmark: webhook → first email, measured from outside on a running stack.

What it measures: for each of --events signed Stripe payment failures (payment_intent.
payment_failed, made and signed by payments.providers.stripe.samples), posted one at a time to
the real endpoint `POST /webhooks/stripe/<public id>/`, the time from the moment the client
starts the POST to the moment the merchant's immediate alert about it is handed to the email
backend. The buyer's recovery emails are due hours later by the default policy; the merchant's
alert is due at once, so it is the first email. Reported: p50, p90 and max (nearest rank), the
goal (p50 < 1 s, max < 3 s), and where the time went, as medians of the phases read from the
rows: the edge (the POST's response), the wait for the dispatcher (stored → enqueued: beat runs
inbound.tasks.dispatch every second), processing (enqueued → processed, the broker's hop
included), and the alert (processed → handed over: the enqueue on commit, the send task, the
claim and the rendering). Also which task handed each alert over: notifications.tasks.send_now
(enqueued on commit) or send_due_messages (the 5 s beat tick).

How: the production settings (DEBUG off, secrets given bench-only defaults by bench/common.py,
plain HTTP on loopback, so SECURE_SSL_REDIRECT is off and ALLOWED_HOSTS is 127.0.0.1) with the
embedded PostgreSQL and Redis, or DATABASE_URL / REDIS_URL if set. The script makes a throwaway
database (`aftersale_bench_first_email`, migrated from scratch, dropped at the end even on
error), creates one storefront with a Stripe signing secret through
storefront_settings.services.storefronts.create_storefront (its owner gets alerts as they
happen, the default), and starts the stack as production runs it: gunicorn (bench/wsgi.py, sync
workers, 2 × CPUs + 1 unless --workers says otherwise), a Celery worker (prefork, one process
per CPU, Celery's default) and Celery beat (its schedule file in a temporary folder), both
`celery -A bench.celery_app` (config.celery's app on the throwaway database). Every process
sends and reads tasks on a queue of its own (CELERY_DEFAULT_QUEUE=aftersale-bench-first-email),
so a demo worker on the same Redis never takes them; the queue is deleted at the end. The one
difference from production is the email backend, set in these processes' environment only:
bench.email_backend.RecordingBackend, which sends nothing and appends the time each email was
handed to it to a file in the temporary folder, which this script reads. Everything started is
stopped at the end (terminate, then kill after 30 s).

The client is this process: for each event it builds and signs the request (untimed), reads
the clock (time.time(): one machine, so the worker's clock is the same), posts it, and waits for
the alert's line in the backend's file (at most --timeout seconds), then pauses a random 0.5 to
1.5 s (seeded), so that the posts fall at every point of the dispatcher's one-second period.
--warmup untimed events go first (they also wait for the worker and beat to be up). Every
response must be a 200, every event must give exactly one alert, handed over once, about that
event's order; if not, the script exits with status 1.

Run from the project root:

    .venv/bin/python bench/first_email.py [--events N] [--warmup W] [--timeout S]
        [--dispatch-period S] [--workers N] [--json]

--dispatch-period replaces the dispatcher's period in beat (default: the settings' one second)
to show what it costs. It prints a plain-text report (or one JSON object with --json, every
event included), with the CPU count, Python, Django, gunicorn and PostgreSQL versions and the
load average at the start: the client, gunicorn, the worker, beat and PostgreSQL share the
machine's CPUs, and the embedded servers are shared with other work under .data/. Progress goes
to stderr.
"""

import argparse
import http.client
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, bench/ is sys.path[0]: the project root, for bench.common and the apps.
if (root := str(Path(__file__).resolve().parent.parent)) not in sys.path:
    sys.path.insert(0, root)

from bench import common  # noqa: E402
from bench.common import BenchError, log  # noqa: E402

BENCH_DATABASE = "aftersale_bench_first_email"
BENCH_QUEUE = "aftersale-bench-first-email"
EMAIL_BACKEND = "bench.email_backend.RecordingBackend"
# The storefront's signing secret; the database is thrown away, so a fixed one will do.
STRIPE_SECRET = "whsec_benchOnlyFirstEmailSecret0123456789ab"  # noqa: S105 - bench only
ALERT_KIND = "merchant_failed_payment_alert"
GOAL_P50, GOAL_MAX = 1.0, 3.0
PAUSE = (0.5, 1.5)
# How long the first warm-up event may wait for its alert: the worker and beat start meanwhile.
START_TIMEOUT = 90


# --- the stack --------------------------------------------------------------------------------


def stack_environment(database: str, email_log: Path) -> dict[str, str]:
    """What gunicorn, the worker and beat get besides this process's environment."""
    return {
        "AFTERSALE_BENCH_DATABASE": database,
        "CELERY_DEFAULT_QUEUE": BENCH_QUEUE,
        "EMAIL_BACKEND": EMAIL_BACKEND,
        "AFTERSALE_BENCH_EMAIL_LOG": str(email_log),
    }


def create_storefront():
    from storefront_settings.services.storefronts import create_storefront as create

    return create(
        name="Bench first email shop",
        owner_email="owner@bench-first-email.example",
        password=secrets.token_urlsafe(16),
        provider_secrets=[("stripe", STRIPE_SECRET)],
    ).storefront


# --- events -----------------------------------------------------------------------------------


def order_reference(n: int) -> str:
    return f"FE-{100000 + n}"


def signed_failure(n: int) -> tuple[bytes, dict[str, str]]:
    """A payment_intent.payment_failed event for order FE-<n>, signed now as Stripe signs."""
    from payments.providers.stripe import samples

    rng = random.Random(n)  # noqa: S311 - made-up ids, not secrets
    buyer = samples.Buyer(email=f"buyer{n}@example.com", name="Camille Martin")
    order = samples.Order(order_reference(n), 2500 + (n * 37) % 20000, buyer)
    codes = {"code": "card_declined", "decline_code": "insufficient_funds", "advice": "51"}
    now = int(time.time())
    event = samples.failure(rng, order, samples.new_payment(rng), codes, at=now - 1)
    event["id"] = f"evt_bench_first_email_{n:06d}"
    request = samples.signed(event, STRIPE_SECRET, now=now)
    return request.body, request.headers


class EmailLog:
    """The backend's file, read as it grows."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.lines: list[dict] = []

    def read_new(self) -> list[dict]:
        if not self.path.exists():
            return []
        with self.path.open("rb") as file:
            file.seek(self.offset)
            data = file.read()
        complete = data[: data.rfind(b"\n") + 1]
        self.offset += len(complete)
        new = [json.loads(line) for line in complete.splitlines()]
        self.lines += new
        return new

    def wait_for_alert(self, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.read_new():
                if line["kind"] == ALERT_KIND:
                    return line
            time.sleep(0.005)
        return None


def post(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(common.HOST, port, timeout=common.REQUEST_TIMEOUT)
    try:
        conn.request("POST", path, body, headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def run_event(port: int, path: str, n: int, email_log: EmailLog, timeout: float) -> dict:
    """Post event n and wait for its alert; what the client saw."""
    body, headers = signed_failure(n)
    posted_at = time.time()
    status, answer = post(port, path, body, headers)
    answered_at = time.time()
    if status != 200:
        raise BenchError(f"event {n}: {status} {answer[:200]!r}")
    alert = email_log.wait_for_alert(timeout)
    if alert is None:
        raise BenchError(f"event {n}: no alert handed to the backend within {timeout} s")
    return {
        "n": n,
        "order": order_reference(n),
        "posted_at": posted_at,
        "edge_s": answered_at - posted_at,
        "message": alert["message"],
        "task": alert["task"],
        "handed_at": alert["at"],
        "first_email_s": alert["at"] - posted_at,
    }


# --- checks and results -----------------------------------------------------------------------


def add_phases(storefront, events: list[dict]) -> list[str]:
    """Each event's phases, from its rows; the problems found (an alert about another order, an
    event not processed)."""
    from inbound.models import InboundEvent
    from notifications.models import Message
    from payments.models import LostSale

    problems = []
    stored = {
        e.event_id: e
        for e in InboundEvent.objects.for_storefront(storefront).filter(
            event_id__startswith="evt_bench_first_email_"
        )
    }
    alerts = Message.objects.for_storefront(storefront).in_bulk([e["message"] for e in events])
    orders = dict(LostSale.objects.for_storefront(storefront).values_list("pk", "order_reference"))
    for event in events:
        row = stored.get(f"evt_bench_first_email_{event['n']:06d}")
        alert = alerts.get(event["message"])
        if row is None or row.processed_at is None or row.enqueued_at is None:
            problems.append(f"event {event['n']} not stored, dispatched and processed")
            continue
        if alert is None or orders.get(int(alert.about_id or 0)) != event["order"]:
            problems.append(f"event {event['n']}: the alert handed over is about another order")
            continue
        event["dispatch_wait_s"] = (row.enqueued_at - row.received_at).total_seconds()
        event["processing_s"] = (row.processed_at - row.enqueued_at).total_seconds()
        event["alert_s"] = event["handed_at"] - row.processed_at.timestamp()
    return problems


def duplicates(email_log: EmailLog) -> list[str]:
    handed = [line["message"] for line in email_log.lines if line["kind"] == ALERT_KIND]
    twice = sorted({m for m in handed if handed.count(m) > 1})
    return [f"alert {m} handed to the backend {handed.count(m)} times" for m in twice]


def summarise(events: list[dict]) -> dict:
    ordered = sorted(e["first_email_s"] for e in events)
    phases = ("edge_s", "dispatch_wait_s", "processing_s", "alert_s")
    tasks = [e["task"].rpartition(".")[2] or "?" for e in events]
    return {
        "p50_s": common.percentile(ordered, 0.50),
        "p90_s": common.percentile(ordered, 0.90),
        "max_s": ordered[-1],
        "min_s": ordered[0],
        "phase_medians_s": {
            phase: statistics.median(e[phase] for e in events if phase in e) for phase in phases
        },
        "phase_max_s": {phase: max(e[phase] for e in events if phase in e) for phase in phases},
        "handed_over_by": {task: tasks.count(task) for task in sorted(set(tasks))},
    }


def print_report(result: dict) -> None:
    summary = result["summary"]
    print(
        f"webhook → first email benchmark: {result['events']} signed payment_intent."
        f"payment_failed webhooks, one at a time (+{result['warmup']} warm-up), "
        f"pause {PAUSE[0]}–{PAUSE[1]} s; dispatcher every {result['dispatch_period_s']} s"
    )
    common.print_machine(result["machine"])
    print(
        "Plain HTTP on 127.0.0.1 (SECURE_SSL_REDIRECT off); gunicorn, a Celery worker "
        f"({result['celery_worker']}) and beat; client, stack and PostgreSQL share the CPUs"
    )
    print()
    print("POST → merchant alert handed to the email backend:")
    print(
        f"  p50 {summary['p50_s']:.3f} s   p90 {summary['p90_s']:.3f} s   "
        f"max {summary['max_s']:.3f} s   (min {summary['min_s']:.3f} s)"
    )
    p50_ok, max_ok = summary["p50_s"] < GOAL_P50, summary["max_s"] < GOAL_MAX
    print(
        f"  goal p50 < {GOAL_P50:g} s: {'met' if p50_ok else 'missed'}; "
        f"max < {GOAL_MAX:g} s: {'met' if max_ok else 'missed'}"
    )
    print()
    print(f"{'phase':<40}  {'median s':>8}  {'max s':>8}")
    words = {
        "edge_s": "edge (the POST's response)",
        "dispatch_wait_s": "stored → enqueued (the dispatcher)",
        "processing_s": "enqueued → processed (broker + worker)",
        "alert_s": "processed → alert handed over",
    }
    for phase, median in summary["phase_medians_s"].items():
        print(f"{words[phase]:<40}  {median:>8.3f}  {summary['phase_max_s'][phase]:>8.3f}")
    print()
    handed = ", ".join(f"{task} {count}" for task, count in summary["handed_over_by"].items())
    print(f"Alerts handed over by: {handed}")
    print(
        "(percentiles: nearest rank over the events; phases: from the rows' timestamps, "
        "PostgreSQL's and the worker's clocks, the client's for the POST)"
    )


# --- main -------------------------------------------------------------------------------------


def run(args, storefront, port: int, email_log: EmailLog) -> list[dict]:
    path = f"/webhooks/stripe/{storefront.public_id}/"
    rng = random.Random(13)  # noqa: S311 - pauses, not secrets
    for n in range(args.warmup):
        log(f"warm-up event {n + 1} of {args.warmup}")
        run_event(port, path, n, email_log, START_TIMEOUT if n == 0 else args.timeout)
        time.sleep(rng.uniform(*PAUSE))
    events = []
    for n in range(args.warmup, args.warmup + args.events):
        event = run_event(port, path, n, email_log, args.timeout)
        log(
            f"event {n - args.warmup + 1} of {args.events}: "
            f"{event['first_email_s']:.3f} s ({event['task'].rpartition('.')[2]})"
        )
        events.append(event)
        time.sleep(rng.uniform(*PAUSE))
    return events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=30, help="timed events")
    parser.add_argument("--warmup", type=int, default=3, help="untimed events first")
    parser.add_argument(
        "--timeout", type=float, default=15, help="seconds an event may wait for its alert"
    )
    parser.add_argument(
        "--dispatch-period",
        type=float,
        default=None,
        help="the dispatcher's period in beat, in seconds (default: the settings' own)",
    )
    common.add_server_arguments(parser, max_seconds_help="(not used)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if min(args.events, args.workers) < 1 or args.warmup < 1:
        parser.error("--events, --warmup and --workers must be at least 1")

    load_average = os.getloadavg()
    port = common.free_port()
    common.server_environment(port)
    os.environ["CELERY_DEFAULT_QUEUE"] = BENCH_QUEUE
    common.setup_django_on_loopback()
    from django.conf import settings

    dispatch_period = (
        args.dispatch_period or settings.CELERY_BEAT_SCHEDULE["dispatch-inbound-events"]["schedule"]
    )

    processes: list[subprocess.Popen] = []
    try:
        with (
            common.throwaway_database(BENCH_DATABASE, verbose=True) as database,
            tempfile.TemporaryDirectory(prefix="first-email-") as folder_name,
        ):
            folder = Path(folder_name)
            email_log = EmailLog(folder / "sent.jsonl")
            machine = common.machine_facts(load_average, gunicorn_workers=args.workers)
            storefront = create_storefront()
            common.drain_queue(BENCH_QUEUE)  # left over from an interrupted run, if any
            env = stack_environment(database, email_log.path)
            if args.dispatch_period:
                env["AFTERSALE_BENCH_DISPATCH_PERIOD"] = str(args.dispatch_period)
            try:
                server_log = folder / "gunicorn.log"
                processes.append(common.start_server(port, args.workers, server_log, env))
                common.wait_until_up(processes[0], port, server_log)
                processes.append(common.start_celery("worker", env, folder, BENCH_QUEUE))
                processes.append(common.start_celery("beat", env, folder, BENCH_QUEUE))
                try:
                    events = run(args, storefront, port, email_log)
                except BenchError as error:
                    logs = "\n".join(
                        f"--- {name}\n{common.tail(folder / name)}"
                        for name in ("worker.log", "beat.log", "gunicorn.log")
                    )
                    raise BenchError(f"{error}\n{logs}") from None
            finally:
                for process in reversed(processes):
                    common.stop_server(process)
                common.drain_queue(BENCH_QUEUE)
            email_log.read_new()
            problems = add_phases(storefront, events) + duplicates(email_log)
    except BenchError as error:
        return common.fail(error)

    result = {
        "benchmark": "webhook → first email (merchant alert), POST to backend handover",
        "events": args.events,
        "warmup": args.warmup,
        "dispatch_period_s": dispatch_period,
        "celery_worker": f"prefork, {os.cpu_count()} processes",
        "machine": machine,
        "summary": summarise(events),
        "goal": {"p50_s": GOAL_P50, "max_s": GOAL_MAX},
        "per_event": events,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_report(result)
    return common.report_problems(problems)


if __name__ == "__main__":
    sys.exit(main())
