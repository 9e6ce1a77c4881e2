"""Benchmark: the merchant's overview page over one big storefront, against /healthz.

What it measures: the latency of `GET /app/<slug>/` (dashboard.views.overview: the session and
membership checks, the period's figures from the daily statistics of payments.stats, the
unreachable buyers, the parcels needing attention from tracking's partial indexes, the SVG chart
and the reasons table) with one storefront holding --payments payments (default one million) and
--shipments shipments (default 200,000), for the default period (30 days) and for 90 days; and,
as the baseline measured the same way in the same run on the same server, `GET /healthz` (a
database SELECT 1 and a broker ping). Also measured the same way: the lists the overview links
to over the same storefront (lost sales: default, searched by part of an order reference, one
reason over 30 days; shipments: default, still late). Each is --loads sequential requests
(default 50, one client, after untimed warm-up requests from 16 clients so every gunicorn worker
has its templates loaded): p50 and p99 (nearest rank), and page / healthz medians. Every
response must be a 200 showing the figures (`data-figure="failed_count"`), and the page's
figures must equal the same figures computed by a full scan of the sales (checked once, in
process): otherwise it exits with status 1.

The data, from a seeded generator: payments spread over the last 120 days; 70 % paid at once
(no sale), 30 % failed first, each of those a LostSale with one to three PaymentAttempts
across every reason; of the sales, 35 % recovered later (after a click for 40 % of them), the
others lost once older than the 7-day recovery window, else open; 3 % of buyers gave no
address, 3 % pay in dollars, 1 % of the open sales' buyers are on the suppression list. One
PaymentReference per payment. The shipments are bench/tracking_watch.py's mix (60 % delivered,
stalled, late and exception parcels among the others). All loaded with COPY into the tables
with all their indexes, as production would have them; then the daily statistics are built
with payments.stats.rebuild (the `rebuild_daily_stats` command's service: timed), then
VACUUM ANALYZE.

How: the production settings (DEBUG off, secrets given bench-only defaults by bench/common.py,
plain HTTP on loopback), the embedded PostgreSQL and Redis or DATABASE_URL / REDIS_URL, a
throwaway database (`aftersale_bench_overview`, migrated from scratch, dropped at the end even
on error), collectstatic into a temporary folder, and gunicorn (sync workers, 2 × CPUs + 1
unless --workers says otherwise) serving bench/wsgi.py on 127.0.0.1 and a free port. The
session cookie is made by logging the owner in with Django's test client, in this process, on
the same database. Also printed: the SQL statements of one load of the page, with their time,
captured in process.

Run from the project root:

    .venv/bin/python bench/overview.py [--payments N] [--shipments N] [--loads N]
        [--workers N] [--max-seconds S] [--json]

The default run takes about 4 minutes on 2 CPUs, most of it loading; `--payments 50000
--shipments 10000` well under one.
"""

import argparse
import datetime
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, bench/ is sys.path[0]: the project root, for bench.common and the apps.
if (root := str(Path(__file__).resolve().parent.parent)) not in sys.path:
    sys.path.insert(0, root)

from bench import common  # noqa: E402
from bench.common import BenchError, log  # noqa: E402

BENCH_DATABASE = "aftersale_bench_overview"
SEED = 20261125
DAYS = 120
FAILED_SHARE = 0.30
RECOVERED_SHARE = 0.35
AFTER_CLICK_SHARE = 0.40
NO_EMAIL_SHARE = 0.03
DOLLAR_SHARE = 0.03
RECOVERY_WINDOW_DAYS = 7  # RecoveryPolicy's default
WARMUP_REQUESTS = 64
# (reason, weight, a raw code): a shop's mix of declines.
REASONS = (
    ("insufficient_funds", 22, "insufficient_funds"),
    ("abandoned", 20, "abandoned"),
    ("bank_declined", 16, "do_not_honor"),
    ("authentication_failed", 12, "authentication_required"),
    ("card_details_incorrect", 8, "incorrect_cvc"),
    ("card_expired", 6, "expired_card"),
    ("limit_exceeded", 5, "card_velocity_exceeded"),
    ("processing_error", 4, "processing_error"),
    ("online_payment_not_enabled", 3, "card_not_supported"),
    ("suspected_fraud", 2, "fraudulent"),
    ("merchant_configuration", 1, "invalid_account"),
    ("unknown", 1, "mystery_code"),
)


# --- data -------------------------------------------------------------------------------------


def copy_dicts(model, rows, *, ids: bool = True) -> int:
    """COPY the rows (dicts by column name) into the model's table with tracking_watch's
    copy_rows; without `ids`, the table's sequence numbers them."""
    from bench.tracking_watch import copy_rows

    fields = model._meta.concrete_fields
    names = tuple(f.column for f in fields if ids or f.column != "id")
    return copy_rows(model._meta.db_table, names, ([row.get(n) for n in names] for row in rows))


class Data:
    """Every payment decided up front from a seeded generator; rows are produced from it."""

    def __init__(self, payments: int, storefront_id: int, now: datetime.datetime):
        self.rng = random.Random(SEED)  # noqa: S311 - reproducible data, not security
        self.count, self.storefront_id, self.now = payments, storefront_id, now
        self.sales: list[dict] = []
        self.payments: list[dict] = []
        self.attempts: list[dict] = []
        reasons, weights, codes = zip(*REASONS, strict=True)
        code_of = dict(zip(reasons, codes, strict=True))
        window = datetime.timedelta(days=RECOVERY_WINDOW_DAYS)
        rng = self.rng
        for i in range(1, payments + 1):
            created = now - datetime.timedelta(seconds=rng.uniform(0, DAYS * 86400))
            currency = "USD" if rng.random() < DOLLAR_SHARE else "EUR"
            amount = rng.randrange(900, 25000)
            email = "" if rng.random() < NO_EMAIL_SHARE else f"buyer{i}@example.com"
            payment = {
                "id": i,
                "storefront_id": storefront_id,
                "provider": "stripe",
                "status": "succeeded",
                "amount": amount,
                "currency": currency,
                "order_reference": f"#{1000000 + i}",
                "buyer_email": email,
                "buyer_name": "Camille Martin",
                "buyer_phone": "",
                "lost_sale_id": None,
                "last_event_at": created,
                "succeeded_at": created,
                "created_at": created,
                "updated_at": created,
            }
            self.payments.append(payment)
            if rng.random() >= FAILED_SHARE:
                continue
            reason = rng.choices(reasons, weights)[0]
            tries = rng.choice((1, 1, 1, 2, 2, 3))
            times = sorted(created + datetime.timedelta(minutes=rng.uniform(0, 600) * k)
                           for k in range(tries))  # fmt: skip
            last = times[-1]
            sale = {
                "id": len(self.sales) + 1,
                "storefront_id": storefront_id,
                "key": f"order:{payment['order_reference']}",
                "order_reference": payment["order_reference"],
                "provider": "stripe",
                "buyer_email": email,
                "buyer_name": "Camille Martin",
                "buyer_phone": "",
                "amount": amount,
                "currency": currency,
                "reason": reason,
                "codes": json.dumps({"decline_code": code_of[reason]}),
                "recovery_url": "",
                "status": "open",
                "attempts": tries,
                "first_failed_at": times[0],
                "last_failed_at": last,
                "recovered_at": None,
                "recovered_amount": None,
                "recovered_by": "",
                "recovered_by_payment_id": None,
                "recovery_clicked_at": None,
                "recovered_after_click": False,
                "lost_at": None,
                "created_at": times[0],
                "updated_at": last,
            }
            recovered_at = last + datetime.timedelta(hours=rng.uniform(0.5, 96))
            if rng.random() < RECOVERED_SHARE and recovered_at < now:
                sale.update(
                    status="recovered",
                    recovered_at=recovered_at,
                    recovered_amount=amount,
                    recovered_by="same_order",
                )
                if rng.random() < AFTER_CLICK_SHARE:
                    sale["recovery_clicked_at"] = recovered_at - datetime.timedelta(minutes=5)
                    sale["recovered_after_click"] = True
                payment.update(succeeded_at=recovered_at, last_event_at=recovered_at)
            else:
                payment.update(status="failed", succeeded_at=None, last_event_at=last)
                if times[0] < now - window:
                    sale.update(status="lost", lost_at=times[0] + window)
            payment["lost_sale_id"] = sale["id"]
            self.sales.append(sale)
            for k, at in enumerate(times):
                self.attempts.append(
                    {
                        "storefront_id": storefront_id,
                        "payment_id": i,
                        "inbound_event_id": None,
                        "attempt_key": f"ch_{i}_{k}",
                        "event_type": "payment_intent.payment_failed",
                        "occurred_at": at,
                        "reason": reason,
                        "codes": sale["codes"],
                    }
                )

    def references(self):
        for payment in self.payments:
            yield {
                "storefront_id": self.storefront_id,
                "provider": "stripe",
                "reference": f"pi_bench_{payment['id']}",
                "payment_id": payment["id"],
            }

    def suppressions(self):
        """1 % of the open sales' buyers: bounced addresses."""
        open_emails = sorted(
            {s["buyer_email"] for s in self.sales if s["status"] == "open" and s["buyer_email"]}
        )
        for email in self.rng.sample(open_emails, len(open_emails) // 100):
            yield {
                "storefront_id": self.storefront_id,
                "email": email,
                "reason": "bounced",
                "note": "",
                "created_at": self.now,
            }


def load(data: Data, shipments: int, storefront_id: int) -> dict:
    from django.db import connection

    from bench import tracking_watch
    from notifications.models import Suppression
    from payments import stats
    from payments.models import DailyStat, LostSale, Payment, PaymentAttempt, PaymentReference
    from storefront_settings.models import Storefront
    from tracking.models import Shipment

    timings = {}
    started = time.perf_counter()
    counts = {
        "lost_sales": copy_dicts(LostSale, data.sales),
        "payments": copy_dicts(Payment, data.payments),
        "attempts": copy_dicts(PaymentAttempt, data.attempts, ids=False),
        "references": copy_dicts(PaymentReference, data.references(), ids=False),
        "suppressions": copy_dicts(Suppression, data.suppressions(), ids=False),
    }
    plan = tracking_watch.Plan(shipments, sample=1)
    counts["shipments"] = tracking_watch.copy_rows(
        Shipment._meta.db_table,
        tracking_watch.SHIPMENT_COLUMNS,
        tracking_watch.shipment_rows(plan, [storefront_id], data.now),
    )
    with connection.cursor() as cursor:
        for model in (LostSale, Payment, Shipment):
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {model._meta.db_table}))",
                [model._meta.db_table],
            )
    timings["copy_seconds"] = round(time.perf_counter() - started, 2)
    storefront = Storefront.objects.get(pk=storefront_id)
    started = time.perf_counter()
    counts["daily_stat_rows"] = stats.rebuild(storefront=storefront)
    timings["rebuild_seconds"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for model in (LostSale, Payment, PaymentAttempt, PaymentReference, Shipment, DailyStat):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
        cursor.execute(f"VACUUM ANALYZE {Suppression._meta.db_table}")
    timings["vacuum_analyze_seconds"] = round(time.perf_counter() - started, 2)
    return {**counts, **timings}


def create_tenant():
    from django.contrib.auth import get_user_model

    from storefront_settings.models import Membership, RecoveryPolicy, Storefront

    storefront = Storefront.objects.create(name="Maison Bench", slug="maison-bench")
    RecoveryPolicy.for_storefront(storefront)
    owner = get_user_model().objects.create_user("owner@bench.example", "owner@bench.example")
    Membership.objects.create(storefront=storefront, user=owner, role=Membership.Role.OWNER)
    return storefront, owner


# --- checks -----------------------------------------------------------------------------------


def full_scan_figures(storefront, start: datetime.date, end: datetime.date) -> dict[str, str]:
    """The period's headline figures straight from the sales: what the page must show."""
    from django.db import connection

    from payments.models import LostSale

    zone = storefront.time_zone
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT
              count(*) FILTER (WHERE f),
              coalesce(sum(amount) FILTER (WHERE f AND currency = %(cur)s), 0),
              count(*) FILTER (WHERE f AND status = 'open'),
              count(*) FILTER (WHERE f AND status = 'recovered'),
              count(*) FILTER (WHERE f AND status = 'lost'),
              coalesce(sum(coalesce(recovered_amount, amount)) FILTER (WHERE r), 0),
              coalesce(sum(coalesce(recovered_amount, amount))
                       FILTER (WHERE r AND recovered_after_click), 0)
            FROM (
              SELECT *,
                (last_failed_at AT TIME ZONE %(zone)s)::date BETWEEN %(start)s AND %(end)s AS f,
                status = 'recovered' AND currency = %(cur)s AND
                (recovered_at AT TIME ZONE %(zone)s)::date BETWEEN %(start)s AND %(end)s AS r
              FROM {LostSale._meta.db_table}
              WHERE storefront_id = %(sf)s AND attempts > 0
            ) s
            """,  # noqa: S608 - the table name comes from the model
            {
                "sf": storefront.pk,
                "zone": zone,
                "start": start,
                "end": end,
                "cur": storefront.currency,
            },  # fmt: skip
        )
        row = cursor.fetchone()
    names = ("failed_count", "failed_amount", "open_count", "recovered_count", "lost_count",
             "recovered_revenue", "recovered_after_click")  # fmt: skip
    return {name: str(value) for name, value in zip(names, row, strict=True)}


def check_page(client, storefront) -> dict:
    """One load in process: the figures against a full scan, and the SQL it sent, timed."""
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    today = timezone.now().astimezone(storefront.zone).date()
    start = today - datetime.timedelta(days=29)
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(f"/app/{storefront.slug}/", HTTP_HOST=common.HOST)
        seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise BenchError(f"the overview answered {response.status_code}")
    shown = dict(re.findall(r'data-figure="(\w+)" data-value="([^"]*)"', response.content.decode()))
    expected = full_scan_figures(storefront, start, today)
    wrong = {k: (shown.get(k), v) for k, v in expected.items() if shown.get(k) != v}
    if wrong:
        raise BenchError(f"figures differ from a full scan (shown, expected): {wrong}")
    return {
        "seconds": round(seconds, 4),
        "figures": shown,
        "queries": [
            {"ms": round(float(q["time"]) * 1000, 2), "sql": " ".join(q["sql"].split())[:160]}
            for q in queries.captured_queries
        ],
    }


# --- HTTP -------------------------------------------------------------------------------------


def run_http(args, port: int, log_path: Path, cookie: str, slug: str) -> list[dict]:
    headers = {"Cookie": cookie}
    page = b'data-figure="failed_count"'
    endpoints = {
        "overview (30 days)": common.Request("GET", f"/app/{slug}/", page, headers=headers),
        "overview (90 days)": common.Request(
            "GET", f"/app/{slug}/?period=90", page, headers=headers
        ),
        # The lists the overview links to, over the same big storefront.
        "lost sales list": common.Request(
            "GET", f"/app/{slug}/lost-sales/", b'class="count"', headers=headers
        ),
        "lost sales, search": common.Request(
            "GET", f"/app/{slug}/lost-sales/?q=%231000042", b'class="count"', headers=headers
        ),
        "lost sales, reason": common.Request(
            "GET",
            f"/app/{slug}/lost-sales/?reason=insufficient_funds&period=30",
            b'class="count"',
            headers=headers,
        ),
        "shipments list": common.Request(
            "GET", f"/app/{slug}/shipments/", b'class="count"', headers=headers
        ),
        "shipments, late": common.Request(
            "GET", f"/app/{slug}/shipments/?late=true", b'class="count"', headers=headers
        ),
        "healthz": common.Request("GET", "/healthz", b'"ok"'),
    }
    for name, request in endpoints.items():
        common.warm_up(port, name, [request] * WARMUP_REQUESTS, args.max_seconds, log_path)
    measured = []
    for name, request in endpoints.items():
        outcome = common.measure(port, [request] * args.loads, 1, args.max_seconds, name)
        measured.append({"concurrency": 1, "endpoint": name, **outcome})
    return measured


# --- output -----------------------------------------------------------------------------------


def print_table(result: dict) -> None:
    data = result["data"]
    print(
        f"overview benchmark: one storefront with {data['payments']:,} payments "
        f"({data['lost_sales']:,} lost sales, {data['attempts']:,} attempts) and "
        f"{data['shipments']:,} shipments; {result['loads']} sequential loads each"
    )
    common.print_machine(result["machine"])
    print()
    print(
        f"Load: COPY {data['copy_seconds']:.1f} s; rebuild_daily_stats "
        f"{data['rebuild_seconds']:.2f} s ({data['daily_stat_rows']:,} rows); "
        f"VACUUM ANALYZE {data['vacuum_analyze_seconds']:.1f} s"
    )
    check = result["in_process"]
    print(
        f"In process, one load of the 30-day page: {check['seconds'] * 1000:.1f} ms, "
        f"{len(check['queries'])} queries; figures equal a full scan of the sales:"
    )
    print("    " + ", ".join(f"{k}={v}" for k, v in check["figures"].items()))
    for query in check["queries"]:
        print(f"    {query['ms']:>7.2f} ms  {query['sql']}")
    print()
    print(
        f"{'endpoint':<22}  {'p50 ms':>7}  {'p99 ms':>7}  {'max ms':>7}  {'requests':>8}  "
        f"{'non-200':>7}"
    )
    for m in result["http"]:
        print(
            f"{m['endpoint']:<22}  {m['p50_ms']:>7.1f}  {m['p99_ms']:>7.1f}  {m['max_ms']:>7.1f}  "
            f"{m['requests']:>8}  {m['failures']:>7}"
        )
    for name, ratio in result["p50_to_healthz"].items():
        print(f"{name} / healthz, p50: {ratio:.1f}×")


# --- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=1_000_000, help="payments to load")
    parser.add_argument("--shipments", type=int, default=200_000, help="shipments to load")
    parser.add_argument("--loads", type=int, default=50, help="sequential GETs per endpoint")
    common.add_server_arguments(parser, max_seconds_help="time cap of one measurement")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.payments < 1000 or args.shipments < 5000 or args.loads < 1:
        parser.error("--payments ≥ 1000, --shipments ≥ 5000 and --loads ≥ 1, please")

    load_average = os.getloadavg()
    port = common.free_port()
    common.server_environment(port)
    common.setup_django_on_loopback()

    from django.test import Client
    from django.utils import timezone

    from bench.tracking_watch import collect_static

    try:
        with (
            common.throwaway_database(BENCH_DATABASE, verbose=True) as database,
            tempfile.TemporaryDirectory(prefix="overview-") as folder,
        ):
            log_path = Path(folder) / "gunicorn.log"
            machine = common.machine_facts(load_average, args.workers, shared_buffers=True)
            storefront, owner = create_tenant()
            now = timezone.now()
            log(f"generating {args.payments:,} payments")
            data = Data(args.payments, storefront.pk, now)
            log(f"loading them and {args.shipments:,} shipments (COPY), then the statistics")
            loaded = load(data, args.shipments, storefront.pk)
            del data
            log(
                f"loaded: COPY {loaded['copy_seconds']} s, rebuild {loaded['rebuild_seconds']} s,"
                f" VACUUM ANALYZE {loaded['vacuum_analyze_seconds']} s"
            )
            static_root = Path(folder) / "static"
            collect_static(static_root)
            client = Client()
            client.force_login(owner)
            client.get(f"/app/{storefront.slug}/", HTTP_HOST=common.HOST)  # templates loaded
            in_process = check_page(client, storefront)
            cookie = f"sessionid={client.cookies['sessionid'].value}"
            bench_env = {
                "AFTERSALE_BENCH_DATABASE": database,
                "AFTERSALE_BENCH_STATIC_ROOT": str(static_root),
            }
            server = common.start_server(port, args.workers, log_path, bench_env)
            try:
                common.wait_until_up(server, port, log_path)
                http_measured = run_http(args, port, log_path, cookie, storefront.slug)
            finally:
                common.stop_server(server)
    except BenchError as error:
        return common.fail(error)

    p50 = {m["endpoint"]: m["p50_ms"] for m in http_measured}
    result = {
        "benchmark": "GET /app/<slug>/ (dashboard.views.overview) against GET /healthz",
        "loads": args.loads,
        "machine": machine,
        "data": loaded,
        "in_process": in_process,
        "http": http_measured,
        "p50_to_healthz": {
            name: value / p50["healthz"] for name, value in p50.items() if name != "healthz"
        },
    }
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print_table(result)
    return common.report_problems(common.failed_requests(http_measured))


if __name__ == "__main__":
    sys.exit(main())
