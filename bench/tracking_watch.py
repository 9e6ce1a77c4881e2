"""Benchmark: the stalled/late sweep over a million shipments.

What it measures, on N shipments (default one million) across S storefronts (default 100):

1. The beat watchers `tracking.services.watch.flag_stalled(now=T)` and `flag_late(now=T)`: each is
   one UPDATE … RETURNING over a partial index (`shipment_stall_watch`, `shipment_late_watch`),
   then one email per parcel flagged just now, through `notifications.services.outbox.schedule`.
   (a) the steady state: since the previous hourly sweep (T − 1 h), 0.1 % of the shipments
   (1,000 of a million) went three days without carrier news and 0.1 % passed their promised
   date; every other parcel is fresh, already flagged, or final (delivered, returned, expired).
   (b) nothing due, the common hourly case: the same sweep again right after (a).
   Each --rounds times (after --warmup untimed rounds), the same parcels re-armed between rounds
   (flags reset, their scheduled messages deleted, VACUUM), untimed. Reported: median and max
   seconds of each call, split into the UPDATE alone and the rest (loading the flagged parcels
   and scheduling their emails). The split comes from the very call being measured: a
   `connection.execute_wrapper` times the one UPDATE statement flag_stalled/flag_late sends
   (psycopg's client cursor has the RETURNING rows in hand when execute returns), and the rest
   is total − UPDATE. This was preferred to the two ways the brief offered: a copy of the SQL
   run in a rolled-back transaction could drift from the code, and a policy without the
   "stalled" milestone would still time the per-parcel policy lookups, not the UPDATE alone.
   Once, on the armed state, the two UPDATE statements (captured from the code the same way,
   never copied) are run under EXPLAIN (ANALYZE, BUFFERS) in a transaction rolled back: the
   plan's node lines are printed, and whether the partial index is used. For flag_stalled a
   what-if variant is explained too (see "What-if" in the output): the same statement with an
   extra, equivalent, index-friendly bound `last_news_at < T − (smallest stalled_days)`.

The buyer's tracking page is measured on the same data by bench/tracking_page.py, which builds
them with this module's Plan, create_storefronts and load: a sample of --sample shipments
(default 2,000) gets 5 to 8 checkpoints each, the parcels whose pages it reads.

How: the production settings (DEBUG off, secrets given bench-only defaults by bench/common.py)
with the embedded PostgreSQL and Redis, or DATABASE_URL / REDIS_URL if set. The script refuses
to start with less than 3 GB free where the embedded PostgreSQL keeps its data. It makes a throwaway
database with Django's test-database machinery (`aftersale_bench_tracking`, migrated from
scratch) and drops it at the end, even on error; the demo's data is never read or touched. The
storefronts are made with the ORM (each with its default ShipmentPolicy: stalled after 3 days,
every milestone); the shipments with one COPY (psycopg 3, write_row, ids given, every NOT NULL
column filled), into the table with all its indexes, as production would have it; then VACUUM
ANALYZE.
The mix: 60 % delivered, 25 % in transit, 5 % out for delivery, 5 % label created, 2 %
exception, 1 % failed attempt, 1 % ready for pickup, 0.5 % returned, 0.5 % expired; promised
dates within ±10 days of T; every buyer has an email address. T is today 00:30 UTC, so that
"late" (promised date before T's date) has just moved on a day. The database code is
bench/common.py's.

Run from the project root:

    .venv/bin/python bench/tracking_watch.py [--shipments N] [--storefronts S] [--rounds R]
        [--warmup W] [--sample N] [--json]

The default run takes about 2 minutes on 2 CPUs; `--shipments 20000` under one. It prints a
plain-text table (or one JSON object with --json, every round included), with the CPU count,
Python, Django and PostgreSQL versions and the load average at the start: the embedded servers
are shared with other work under .data/. Progress goes to stderr. It exits with status 1 if a
sweep flags other than the parcels arranged, or schedules other than one email each.
"""

import argparse
import base64
import datetime
import hashlib
import json
import math
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

# Run as a script, bench/ is sys.path[0]: the project root, for bench.common and the apps.
if (root := str(Path(__file__).resolve().parent.parent)) not in sys.path:
    sys.path.insert(0, root)

from bench import common  # noqa: E402
from bench.common import BenchError, log  # noqa: E402

BENCH_DATABASE = "aftersale_bench_tracking"
MIN_FREE_BYTES = 3 * 1024**3
SEED = 20261125
DUE_SHARE = 0.001  # of the shipments: newly stalled, and as many newly late, per sweep
ALREADY_STALLED_SHARE = 0.15  # of the moving parcels: flagged by an earlier sweep
STALLED_DAYS = 3  # ShipmentPolicy's default, which every bench storefront keeps
PAGE_TOKEN_BYTES = 22  # tracking.models.PAGE_TOKEN_BYTES (bench modules import Django late)

# (status, share in %): the mix of a shop's shipments over a few weeks.
STATUS_MIX = (
    ("delivered", 60.0),
    ("in_transit", 25.0),
    ("out_for_delivery", 5.0),
    ("info_received", 5.0),
    ("exception", 2.0),
    ("failed_attempt", 1.0),
    ("available_for_pickup", 1.0),
    ("returned", 0.5),
    ("expired", 0.5),
)
DESCRIPTIONS = {
    "delivered": "Votre colis a été livré",
    "in_transit": "Votre colis est en cours d'acheminement",
    "out_for_delivery": "Votre colis est en cours de livraison",
    "info_received": "Votre colis est pris en charge par La Poste",
    "exception": "Adresse incomplète, le colis est retenu",
    "failed_attempt": "Destinataire absent, avis de passage déposé",
    "available_for_pickup": "Votre colis est disponible en point de retrait",
    "returned": "Votre colis est retourné à l'expéditeur",
    "expired": "Suivi expiré",
}
CARRIERS = (
    ("colissimo", "6A", "https://www.laposte.fr/outils/suivre-vos-envois?code={}"),
    ("chronopost", "XY", "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT={}"),
    ("dhl", "JD", "https://www.dhl.com/fr-fr/home/suivi.html?tracking-id={}"),
    ("ups", "1Z", "https://www.ups.com/track?tracknum={}"),
    ("mondial_relay", "MR", "https://www.mondialrelay.fr/suivi-de-colis/?NumeroExpedition={}"),
    ("dpd", "DP", "https://trace.dpd.fr/fr/trace/{}"),
)
FIRST_NAMES = ("Camille", "Léa", "Hugo", "Chloé", "Louis", "Inès", "Jules", "Manon", "Noah")
LAST_NAMES = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand")
PLACES = ("Lyon PFC", "Paris Nord", "Marseille CTC", "Bordeaux", "Lille Lesquin", "Nantes")
SHIPMENT_COLUMNS = (
    "id",
    "storefront_id",
    "order_reference",
    "buyer_email",
    "buyer_name",
    "language",
    "carrier",
    "carrier_guessed",
    "tracking_number",
    "shipped_at",
    "promised_delivery_date",
    "items",
    "status",
    "status_at",
    "status_description",
    "estimated_delivery_date",
    "carrier_tracking_url",
    "last_news_at",
    "stalled_since",
    "late_since",
    "page_token",
    "signed_link_valid",
    "created_at",
    "updated_at",
)
CHECKPOINT_COLUMNS = (
    "storefront_id",
    "shipment_id",
    "occurred_at",
    "status",
    "raw_status",
    "raw_detail",
    "description",
    "location",
    "source",
    "fingerprint",
)


class Captured(Exception):
    """Raised by the capturing wrapper instead of running the statement: its SQL and params."""

    def __init__(self, sql: str, params):
        super().__init__("captured")
        self.sql, self.params = sql, params


# --- set-up -----------------------------------------------------------------------------------


def check_disk() -> tuple[str, int]:
    """Where the embedded PostgreSQL keeps its data, and the bytes free there; BenchError if
    under MIN_FREE_BYTES."""
    from config import embedded

    folder = embedded.data_dir()
    # The data folder may not exist yet on a fresh machine: its nearest existing parent.
    probe = next(p for p in (folder, *folder.parents) if p.exists())
    free = shutil.disk_usage(probe).free
    if free < MIN_FREE_BYTES:
        raise BenchError(
            f"only {free / 1024**3:.1f} GB free under {probe}; a million shipments and their "
            f"indexes take a few hundred MB, plus WAL: free at least "
            f"{MIN_FREE_BYTES / 1024**3:.0f} GB first"
        )
    return str(probe), free


# --- data -------------------------------------------------------------------------------------


def sweep_time() -> datetime.datetime:
    """T: today 00:30 UTC. The late sweep compares dates, so only the first sweep after
    midnight finds parcels newly late; the stalled sweep compares times."""
    today = datetime.datetime.now(datetime.UTC).date()
    return datetime.datetime.combine(today, datetime.time(0, 30), tzinfo=datetime.UTC)


def create_storefronts(count: int) -> list[int]:
    from storefront_settings.models import Language, ShipmentPolicy, Storefront

    ids = []
    for n in range(count):
        storefront = Storefront.objects.create(
            name=f"Bench shop {n:03d}",
            slug=f"bench-shop-{n:03d}",
            # One in four writes to its buyers in English, the rest in French (the default).
            language=Language.ENGLISH if n % 4 == 3 else Language.FRENCH,
        )
        ShipmentPolicy.objects.create(storefront=storefront)  # the defaults
        ids.append(storefront.pk)
    return ids


class Plan:
    """Which rows are what: decided up front, from a seeded generator, before the COPY."""

    def __init__(self, shipments: int, sample: int):
        from tracking.statuses import FINAL

        self.rng = random.Random(SEED)  # noqa: S311 - reproducible data, not security
        statuses, weights = zip(*STATUS_MIX, strict=True)
        self.statuses = self.rng.choices(statuses, weights, k=shipments)
        moving = [i for i, s in enumerate(self.statuses) if s not in FINAL]
        due = max(1, round(shipments * DUE_SHARE))
        chosen = self.rng.sample(moving, 2 * due)
        # Indexes into the rows (ids are index + 1).
        self.newly_stalled = set(chosen[:due])
        self.newly_late = set(chosen[due:])
        others = [i for i in range(shipments) if i not in self.newly_stalled | self.newly_late]
        self.sample = sorted(self.rng.sample(others, min(sample, len(others))))
        self.due = due


def tracking_number(i: int) -> tuple[str, str, str]:
    carrier, prefix, url = CARRIERS[i % len(CARRIERS)]
    number = f"{prefix}{i:011d}FR"
    return carrier, number, url.format(number)


def shipment_rows(plan: Plan, storefront_ids: list[int], now: datetime.datetime):
    """One tuple per shipment, in SHIPMENT_COLUMNS order; also fills plan.journeys."""
    from tracking.statuses import FINAL

    rng = plan.rng
    day, hour = datetime.timedelta(days=1), datetime.timedelta(hours=1)
    today = now.date()
    stalled_after = datetime.timedelta(days=STALLED_DAYS)
    sample = set(plan.sample)
    plan.journeys = {}
    for i, status in enumerate(plan.statuses):
        storefront_id = storefront_ids[i % len(storefront_ids)]
        carrier, number, url = tracking_number(i)
        stalled_since = late_since = estimated = None
        promised = today + datetime.timedelta(days=rng.randint(-10, 10))
        if status in FINAL:
            last_news = now - datetime.timedelta(seconds=rng.uniform(3600, 30 * 86400))
        else:
            if i in plan.newly_stalled:
                # No news for three days since less than an hour: T flags it, T − 1 h did not.
                last_news = now - stalled_after - datetime.timedelta(seconds=rng.uniform(1, 3599))
            elif rng.random() < ALREADY_STALLED_SHARE:
                last_news = now - stalled_after - hour - day * rng.uniform(0, 12)
                stalled_since = last_news + stalled_after + hour * rng.random()
            else:
                last_news = now - datetime.timedelta(seconds=rng.uniform(60, 3 * 86400 - 60))
            if i in plan.newly_late:
                promised = today - day  # promised yesterday: late since midnight
            else:
                if promised == today - day:
                    promised = today  # yesterday's are the arranged ones only
                if promised < today - day:
                    # Flagged by the first sweep after the midnight that followed the date.
                    late_since = datetime.datetime.combine(
                        promised + day, datetime.time(0, 30), tzinfo=datetime.UTC
                    )
            if rng.random() < 0.7:
                estimated = promised + datetime.timedelta(days=rng.randint(-1, 2))
        shipped = last_news - datetime.timedelta(seconds=rng.uniform(3600, 4 * 86400))
        if i in sample:
            plan.journeys[i] = (storefront_id, status, shipped, last_news)
        yield (
            i + 1,
            storefront_id,
            f"#{100000 + i}",
            f"buyer{i}@example.com",
            f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {LAST_NAMES[i % len(LAST_NAMES)]}",
            "" if i % 10 < 7 else ("fr", "en")[i % 2],
            carrier,
            False,
            number,
            shipped,
            promised,
            "[]",
            status,
            last_news,
            DESCRIPTIONS[status],
            estimated,
            url,
            last_news,
            stalled_since,
            late_since,
            base64.urlsafe_b64encode(rng.randbytes(PAGE_TOKEN_BYTES)).rstrip(b"=").decode(),
            False,
            shipped,
            max(x for x in (last_news, stalled_since, late_since) if x is not None),
        )


def checkpoint_rows(plan: Plan):
    """5 to 8 checkpoints per sampled shipment, the newest with the shipment's status."""
    rng = plan.rng
    for i in plan.sample:
        storefront_id, status, shipped, last_news = plan.journeys[i]
        count = rng.randint(5, 8)
        steps = ["info_received", *["in_transit"] * (count - 2), status]
        span = (last_news - shipped) / (count - 1)
        for j, step in enumerate(steps):
            yield (
                storefront_id,
                i + 1,
                shipped + span * j,
                step,
                step.upper()[:20],
                f"DET{j:02d}",
                DESCRIPTIONS[step],
                PLACES[(i + j) % len(PLACES)],
                "easypost",
                hashlib.sha256(f"{i}:{j}:{step}".encode()).hexdigest(),
            )


def copy_rows(table: str, columns: tuple[str, ...], rows) -> int:
    from django.db import connection

    count = 0
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def load(plan: Plan, storefront_ids: list[int], now: datetime.datetime) -> dict:
    from django.db import connection

    from storefront_settings.models import ShipmentPolicy, Storefront
    from tracking.models import Checkpoint, Shipment

    shipments_table, checkpoints_table = Shipment._meta.db_table, Checkpoint._meta.db_table
    started = time.perf_counter()
    loaded = copy_rows(shipments_table, SHIPMENT_COLUMNS, shipment_rows(plan, storefront_ids, now))
    copied = time.perf_counter()
    checkpoints = copy_rows(checkpoints_table, CHECKPOINT_COLUMNS, checkpoint_rows(plan))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [shipments_table, loaded]
        )
    loaded_at = time.perf_counter()
    with connection.cursor() as cursor:
        # Hint bits set and the visibility map filled now, not by the first timed sweep.
        cursor.execute(f"VACUUM ANALYZE {shipments_table}")
        cursor.execute(f"VACUUM ANALYZE {checkpoints_table}")
        # The storefronts' tables too, as autovacuum soon would (100 new rows are enough for it
        # to): the plan of flag_stalled's per-row policy subquery changes once they are
        # analysed, so leaving it to chance would change the figures from one run to the next.
        cursor.execute(f"ANALYZE {Storefront._meta.db_table}, {ShipmentPolicy._meta.db_table}")
    analysed = time.perf_counter()
    return {
        "shipments": loaded,
        "checkpoints": checkpoints,
        "copy_shipments_seconds": round(copied - started, 2),
        "load_seconds": round(loaded_at - started, 2),
        "vacuum_analyze_seconds": round(analysed - loaded_at, 2),
        "sizes": relation_sizes(),
    }


def relation_sizes() -> dict:
    from django.db import connection

    from tracking.models import Checkpoint, Shipment
    from tracking.statuses import FINAL

    table = Shipment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT pg_total_relation_size(%s), pg_relation_size(%s), pg_indexes_size(%s),
                   pg_relation_size('shipment_stall_watch'),
                   pg_relation_size('shipment_late_watch'),
                   pg_total_relation_size(%s)
            """,
            [table, table, table, Checkpoint._meta.db_table],
        )
        total, heap, indexes, stall, late, checkpoints = cursor.fetchone()
        cursor.execute(
            f"""
            SELECT count(*) FILTER (WHERE stalled_since IS NULL AND status <> ALL(%s)),
                   count(*) FILTER (WHERE late_since IS NULL AND status <> ALL(%s))
            FROM {table}
            """,  # noqa: S608 - the table name comes from the model
            [sorted(FINAL), sorted(FINAL)],
        )
        stall_rows, late_rows = cursor.fetchone()
    return {
        "shipment_total_bytes": total,
        "shipment_heap_bytes": heap,
        "shipment_indexes_bytes": indexes,
        "stall_watch_index_bytes": stall,
        "late_watch_index_bytes": late,
        "stall_watch_rows": stall_rows,
        "late_watch_rows": late_rows,
        "checkpoint_total_bytes": checkpoints,
    }


# --- sweeps -----------------------------------------------------------------------------------


def is_sweep_update(sql: str) -> bool:
    from tracking.models import Shipment

    head = sql.lstrip()[:200]
    return head.upper().startswith("UPDATE") and Shipment._meta.db_table in head


class Instrument:
    """An execute_wrapper: counts the queries, times the sweep's UPDATE statement and, apart,
    all the other statements (the time spent waiting on PostgreSQL for the emails)."""

    def __init__(self):
        self.queries = 0
        self.update_seconds = 0.0
        self.other_sql_seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        self.queries += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            if is_sweep_update(sql):
                self.update_seconds += elapsed
            else:
                self.other_sql_seconds += elapsed


def timed(function, now: datetime.datetime) -> dict:
    from django.db import connection

    instrument = Instrument()
    with connection.execute_wrapper(instrument):
        started = time.perf_counter()
        flagged = function(now=now)
        seconds = time.perf_counter() - started
    return {
        "flagged": flagged,
        "seconds": round(seconds, 4),
        "update_seconds": round(instrument.update_seconds, 4),
        "notify_seconds": round(seconds - instrument.update_seconds, 4),
        # Of notify_seconds, the time inside the other statements' execute (the rest: Python).
        "notify_sql_seconds": round(instrument.other_sql_seconds, 4),
        "queries": instrument.queries,
    }


def capture(function, now: datetime.datetime) -> Captured:
    """The UPDATE statement `function` sends, with its parameters; nothing is run."""
    from django.db import connection

    def wrapper(execute, sql, params, many, context):
        if is_sweep_update(sql):
            raise Captured(sql, params)
        return execute(sql, params, many, context)

    try:
        with connection.execute_wrapper(wrapper):
            function(now=now)
    except Captured as captured:
        return captured
    raise BenchError(f"{function.__name__} sent no UPDATE of the shipments")


def explain(sql: str, params) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the statement, in a transaction rolled back."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        plan = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
    return plan


def plan_summary(plan: list[str], index: str) -> dict:
    """The node lines (with their conditions), the execution time, and the index's use."""
    kept = (
        "->",
        "Heap Blocks",
        "Index Cond",
        "Recheck Cond",
        "Filter",
        "Rows Removed",
        "Execution Time",
        "SubPlan",
    )
    lines = [plan[0]] + [line for line in plan[1:] if any(k in line for k in kept)]
    # The whole statement's buffer traffic: the first "Buffers:" line, under the top node.
    if buffers := next((line for line in plan if "Buffers: shared" in line), None):
        lines.insert(1, buffers)
    execution = next((line for line in plan if "Execution Time" in line), "")
    return {
        "index": index,
        "uses_index": any(index in line for line in plan),
        "execution_ms": float(execution.split(":")[1].split()[0]) if execution else math.nan,
        "node_lines": lines,
        "plan": plan,
    }


def explain_sweeps(now: datetime.datetime) -> dict:
    from django.db import connection

    from storefront_settings.models import ShipmentPolicy
    from tracking.services import watch

    stalled = capture(watch.flag_stalled, now)
    late = capture(watch.flag_late, now)
    result = {
        "stalled": plan_summary(explain(stalled.sql, stalled.params), "shipment_stall_watch"),
        "late": plan_summary(explain(late.sql, late.params), "shipment_late_watch"),
    }
    # What-if: the same UPDATE with one more bound, implied by the one it has (no storefront
    # waits fewer days than the smallest stalled_days), but one the index can range-scan on.
    marker = "RETURNING s.id"
    if marker in stalled.sql:
        default = ShipmentPolicy._meta.get_field("stalled_days").default
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT LEAST(MIN(stalled_days), %s) FROM {ShipmentPolicy._meta.db_table}",  # noqa: S608
                [default],
            )
            (fewest_days,) = cursor.fetchone()
        variant = stalled.sql.replace(
            marker, f"AND s.last_news_at < %s - make_interval(days => %s)\n{marker}"
        )
        plan = explain(variant, [*stalled.params, now, fewest_days])
        result["stalled_what_if"] = {
            "extra_condition": f"AND s.last_news_at < T - make_interval(days => {fewest_days})",
            **plan_summary(plan, "shipment_stall_watch"),
        }
    return result


def arm(plan: Plan, now: datetime.datetime) -> None:
    """Back to the state before the sweep at T: the arranged parcels unflagged, their messages
    gone, the tables vacuumed (untimed)."""
    from django.db import connection

    from notifications.models import Message
    from tracking.models import Shipment

    table = Shipment._meta.db_table
    stalled = [i + 1 for i in plan.newly_stalled]
    late = [i + 1 for i in plan.newly_late]
    keys = [f"shipment:{pk}:stalled" for pk in stalled] + [f"shipment:{pk}:delay" for pk in late]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET stalled_since = NULL WHERE id = ANY(%s)", [stalled])  # noqa: S608
        cursor.execute(f"UPDATE {table} SET late_since = NULL WHERE id = ANY(%s)", [late])  # noqa: S608
        cursor.execute(
            f"DELETE FROM {Message._meta.db_table} WHERE idempotency_key = ANY(%s)",  # noqa: S608
            [keys],
        )
        cursor.execute(f"VACUUM {table}")
        cursor.execute(f"VACUUM {Message._meta.db_table}")


def check_round(plan: Plan, now: datetime.datetime, outcome: dict) -> None:
    from django.db import connection

    from notifications.models import Message
    from tracking.models import Shipment

    problems = []
    for name in ("stalled", "late"):
        if outcome[name]["flagged"] != plan.due:
            problems.append(f"flag_{name} flagged {outcome[name]['flagged']}, expected {plan.due}")
        if outcome[f"{name}_idle"]["flagged"]:
            problems.append(f"flag_{name} flagged {outcome[f'{name}_idle']['flagged']} again")
    table = Shipment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT array_agg(id) FILTER (WHERE stalled_since = %s),"  # noqa: S608
            f" array_agg(id) FILTER (WHERE late_since = %s) FROM {table}",
            [now, now],
        )
        stalled, late = (set(ids or ()) for ids in cursor.fetchone())
        cursor.execute(
            f"SELECT template, status, count(*) FROM {Message._meta.db_table}"  # noqa: S608
            " GROUP BY template, status"
        )
        messages = {(template, status): n for template, status, n in cursor.fetchall()}
    if stalled != {i + 1 for i in plan.newly_stalled}:
        problems.append(f"{len(stalled)} parcels stalled at T, not the {plan.due} arranged")
    if late != {i + 1 for i in plan.newly_late}:
        problems.append(f"{len(late)} parcels late at T, not the {plan.due} arranged")
    expected = {
        ("shipment_stalled", Message.Status.SCHEDULED): plan.due,
        ("shipment_delay", Message.Status.SCHEDULED): plan.due,
    }
    if messages != expected:
        problems.append(f"messages {messages}, expected {expected}")
    if problems:
        raise BenchError("; ".join(problems))


def run_sweeps(plan: Plan, now: datetime.datetime, rounds: int, warmup: int) -> list[dict]:
    from tracking.services import watch

    measured = []
    for round_number in range(warmup + rounds):
        arm(plan, now)
        outcome = {
            "stalled": timed(watch.flag_stalled, now),
            "late": timed(watch.flag_late, now),
            # Nothing due: the same sweep again, every arranged parcel flagged a moment ago.
            "stalled_idle": timed(watch.flag_stalled, now),
            "late_idle": timed(watch.flag_late, now),
        }
        check_round(plan, now, outcome)
        label = "warm-up" if round_number < warmup else f"round {round_number - warmup + 1}"
        log(
            f"sweeps, {label}: "
            + ", ".join(f"{k} {v['seconds']:.3f} s ({v['flagged']})" for k, v in outcome.items())
        )
        if round_number >= warmup:
            measured.append(outcome)
    return measured


def summarise_sweeps(measured: list[dict]) -> dict:
    summary = {}
    for name in ("stalled", "late", "stalled_idle", "late_idle"):
        calls = [r[name] for r in measured]
        summary[name] = {
            "flagged": calls[0]["flagged"],
            "median_seconds": statistics.median(c["seconds"] for c in calls),
            "max_seconds": max(c["seconds"] for c in calls),
            "median_update_seconds": statistics.median(c["update_seconds"] for c in calls),
            "max_update_seconds": max(c["update_seconds"] for c in calls),
            "median_notify_seconds": statistics.median(c["notify_seconds"] for c in calls),
            "max_notify_seconds": max(c["notify_seconds"] for c in calls),
            "median_notify_sql_seconds": statistics.median(c["notify_sql_seconds"] for c in calls),
            "queries": calls[0]["queries"],
        }
    return summary


# --- static files -----------------------------------------------------------------------------


def collect_static(static_root: Path) -> None:
    """What production's build does (the Dockerfile): collectstatic, here into a temporary
    STATIC_ROOT, since the buyer's pages need the manifest of the hashed file names (for
    bench/tracking_page.py and bench/overview.py)."""
    from django.conf import settings
    from django.core.management import call_command

    settings.STATIC_ROOT = str(static_root)
    call_command("collectstatic", interactive=False, verbosity=0)


# --- output -----------------------------------------------------------------------------------


def megabytes(n: int) -> str:
    return f"{n / 1024**2:.0f} MB"


def print_table(result: dict) -> None:
    machine, data = result["machine"], result["data"]
    sizes = data["sizes"]
    print(
        f"tracking watch benchmark: {data['shipments']:,} shipments across "
        f"{result['storefronts']} storefronts, sweep at T = {result['sweep_at']}, "
        f"{result['rounds']} rounds (+{result['warmup']} warm-up)"
    )
    common.print_machine(machine)
    print()
    print(
        f"Load: COPY of {data['shipments']:,} shipments {data['copy_shipments_seconds']:.1f} s, "
        f"with {data['checkpoints']:,} checkpoints {data['load_seconds']:.1f} s; "
        f"VACUUM ANALYZE {data['vacuum_analyze_seconds']:.1f} s"
    )
    print(
        f"tracking_shipment: {megabytes(sizes['shipment_total_bytes'])} in all "
        f"(heap {megabytes(sizes['shipment_heap_bytes'])}, indexes "
        f"{megabytes(sizes['shipment_indexes_bytes'])}); shipment_stall_watch "
        f"{megabytes(sizes['stall_watch_index_bytes'])} over {sizes['stall_watch_rows']:,} rows, "
        f"shipment_late_watch {megabytes(sizes['late_watch_index_bytes'])} over "
        f"{sizes['late_watch_rows']:,} rows; tracking_checkpoint "
        f"{megabytes(sizes['checkpoint_total_bytes'])}"
    )
    print()
    print(
        f"{'sweep':<26}  {'flagged':>7}  {'median s':>8}  {'max s':>7}  {'UPDATE med':>10}  "
        f"{'UPDATE max':>10}  {'emails med':>10}  {'emails max':>10}  {'of which SQL':>12}  "
        f"{'queries':>7}"
    )
    labels = {
        "stalled": "flag_stalled, steady",
        "late": "flag_late, steady",
        "stalled_idle": "flag_stalled, nothing due",
        "late_idle": "flag_late, nothing due",
    }
    for name, label in labels.items():
        s = result["sweeps"][name]
        print(
            f"{label:<26}  {s['flagged']:>7}  {s['median_seconds']:>8.3f}  "
            f"{s['max_seconds']:>7.3f}  {s['median_update_seconds']:>10.3f}  "
            f"{s['max_update_seconds']:>10.3f}  {s['median_notify_seconds']:>10.3f}  "
            f"{s['max_notify_seconds']:>10.3f}  {s['median_notify_sql_seconds']:>12.3f}  "
            f"{s['queries']:>7}"
        )
    steady = result["sweeps"]["stalled"]
    print(
        "(seconds per call; UPDATE: the one UPDATE … RETURNING; emails: the rest, loading the "
        "flagged parcels and scheduling one email each; of which SQL: the median time of "
        "that spent in its SQL statements; queries: SQL statements in one call, "
        f"{(steady['queries'] - 2) / max(steady['flagged'], 1):.1f} per flagged parcel)"
    )
    print()
    explained = result["explain"]
    for name in ("stalled", "late", "stalled_what_if"):
        if name not in explained:
            continue
        e = explained[name]
        title = {
            "stalled": "flag_stalled UPDATE",
            "late": "flag_late UPDATE",
            "stalled_what_if": f"What-if, flag_stalled UPDATE {e.get('extra_condition', '')}",
        }[name]
        used = "uses" if e["uses_index"] else "does NOT use"
        print(f"EXPLAIN ANALYZE {title}: {used} {e['index']}, {e['execution_ms']:.1f} ms")
        for line in e["node_lines"]:
            print(f"    {line[:150]}")


# --- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=1_000_000, help="shipments to load")
    parser.add_argument("--storefronts", type=int, default=100, help="storefronts to spread over")
    parser.add_argument("--rounds", type=int, default=5, help="timed sweep rounds")
    parser.add_argument("--warmup", type=int, default=1, help="untimed sweep rounds first")
    parser.add_argument("--sample", type=int, default=2000, help="parcels with checkpoints")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.shipments < 5000 or args.storefronts < 1 or args.sample < 1:
        parser.error("--shipments must be at least 5000, --storefronts and --sample at least 1")
    if args.rounds < 1 or args.warmup < 0:
        parser.error("--rounds must be at least 1, --warmup at least 0")

    load_average = os.getloadavg()
    try:
        data_dir, free = check_disk()
    except BenchError as error:
        print(f"benchmark refused: {error}", file=sys.stderr)
        return 1
    common.setup_django()

    now = sweep_time()
    log(f"{free / 1024**3:.0f} GB free under {data_dir}")
    try:
        with common.throwaway_database(BENCH_DATABASE, verbose=True):
            machine = common.machine_facts(load_average, shared_buffers=True)
            storefront_ids = create_storefronts(args.storefronts)
            plan = Plan(args.shipments, args.sample)
            log(f"loading {args.shipments:,} shipments (COPY)")
            data = load(plan, storefront_ids, now)
            log(
                f"loaded in {data['load_seconds']:.1f} s, "
                f"VACUUM ANALYZE {data['vacuum_analyze_seconds']:.1f} s"
            )
            explained = explain_sweeps(now)
            log(f"sweeps: {args.warmup} warm-up + {args.rounds} rounds, {plan.due} due each")
            measured = run_sweeps(plan, now, args.rounds, args.warmup)
    except BenchError as error:
        return common.fail(error)

    result = {
        "benchmark": "tracking.services.watch.flag_stalled/flag_late",
        "storefronts": args.storefronts,
        "sweep_at": now.isoformat(),
        "due_per_sweep": plan.due,
        "rounds": args.rounds,
        "warmup": args.warmup,
        "sample": len(plan.sample),
        "machine": machine,
        "data": data,
        "sweeps": summarise_sweeps(measured),
        "sweep_rounds": measured,
        "explain": explained,
    }
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print_table(result)

    return 0


if __name__ == "__main__":
    sys.exit(main())
