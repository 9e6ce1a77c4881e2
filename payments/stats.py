"""The daily statistics of lost sales (payments.models.DailyStat), kept current and rebuilt.

A sale adds to two kinds of bucket (storefront, local day, reason, currency):

- on the day of its latest failed attempt: one failed sale, its amount, and one of open /
  recovered / lost for its status now;
- on the day it was recovered: one recovery, the revenue that came back (the amount the
  success reported, else the sale's amount), and the same again when a recovery link was
  clicked first.

A sale counts from its first recorded attempt (`attempts > 0`): the row a failure inserts is
completed in the same transaction, and that is when it adds up.

Upkeep is differential: a service wraps its change of a locked sale in `upkeep()`, which takes
a `snapshot()` of the sale before it and adds after − before to the buckets (`record_change()`),
all in the service's transaction. Any change of reason, amount, currency, dates or status moves
the sale between buckets correctly, and `rebuild()` computes the same numbers from the sales
(tests/test_dashboard_overview.py checks both agree after a mix of events). Changing a
storefront's time zone moves its day boundaries: rebuild it then.
"""

from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from payments.models import DailyStat, LostSale
from storefront_settings.models import Storefront

FIELDS = (
    "failed_count",
    "failed_amount",
    "open_count",
    "recovered_count",
    "lost_count",
    "recoveries",
    "recovered_revenue",
    "recovered_after_click_count",
    "recovered_after_click_revenue",
)
_STATUS_FIELD = {
    LostSale.Status.OPEN: "open_count",
    LostSale.Status.RECOVERED: "recovered_count",
    LostSale.Status.LOST: "lost_count",
}

Contributions = Counter  # (day, reason, currency, field) → amount


def _day(moment: datetime, zone: ZoneInfo):
    return moment.astimezone(zone).date()


def snapshot(lost_sale: LostSale, zone: ZoneInfo) -> Contributions:
    """What this sale, as it is now, adds to the daily statistics."""
    found: Contributions = Counter()
    if not lost_sale.attempts:
        return found
    bucket = (_day(lost_sale.last_failed_at, zone), lost_sale.reason, lost_sale.currency)
    found[(*bucket, "failed_count")] += 1
    found[(*bucket, "failed_amount")] += lost_sale.amount or 0
    found[(*bucket, _STATUS_FIELD[lost_sale.status])] += 1
    if lost_sale.status == LostSale.Status.RECOVERED and lost_sale.recovered_at is not None:
        revenue = _recovered_revenue(lost_sale)
        bucket = (_day(lost_sale.recovered_at, zone), lost_sale.reason, lost_sale.currency)
        found[(*bucket, "recoveries")] += 1
        found[(*bucket, "recovered_revenue")] += revenue
        if lost_sale.recovered_after_click:
            found[(*bucket, "recovered_after_click_count")] += 1
            found[(*bucket, "recovered_after_click_revenue")] += revenue
    return found


def _recovered_revenue(lost_sale: LostSale) -> int:
    # A success that named no amount still paid the order: count the order's amount.
    if lost_sale.recovered_amount is not None:
        return lost_sale.recovered_amount
    return lost_sale.amount or 0


def record_change(*, storefront: Storefront, lost_sale: LostSale, before: Contributions) -> None:
    """Add the difference between the sale now and its `before` snapshot to the statistics.
    Call it in the transaction that saved the sale, with the sale's row still locked."""
    after = snapshot(lost_sale, storefront.zone)
    rows: dict[tuple, dict[str, int]] = defaultdict(dict)
    for key in after.keys() | before.keys():
        delta = after[key] - before[key]
        if delta:
            *bucket, field = key
            rows[tuple(bucket)][field] = delta
    if rows:
        _add(storefront, rows)


@contextmanager
def upkeep(*, storefront: Storefront, lost_sale: LostSale) -> Iterator[None]:
    """Around a change of `lost_sale` (locked, in the transaction that saves it): the sale's
    snapshot before the change, and the difference added to the statistics after it."""
    before = snapshot(lost_sale, storefront.zone)
    yield
    record_change(storefront=storefront, lost_sale=lost_sale, before=before)


def _add(storefront: Storefront, rows: dict[tuple, dict[str, int]]) -> None:
    """INSERT … ON CONFLICT DO UPDATE adding each row's numbers to its bucket."""
    table = DailyStat._meta.db_table
    columns = ", ".join(FIELDS)
    placeholders = ", ".join(["%s"] * (4 + len(FIELDS)))
    additions = ", ".join(f"{f} = {table}.{f} + EXCLUDED.{f}" for f in FIELDS)
    params = []
    values = []
    # In key order: two transactions touching the same buckets lock them in the same order.
    for (day, reason, currency), numbers in sorted(rows.items()):
        values.append(f"({placeholders})")
        params += [storefront.pk, day, reason, currency, *(numbers.get(f, 0) for f in FIELDS)]
    _lock(storefront, shared=True)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (storefront_id, day, reason, currency, {columns})
            VALUES {", ".join(values)}
            ON CONFLICT (storefront_id, day, reason, currency) DO UPDATE SET {additions}
            """,  # noqa: S608 - names come from the model, values are parameters
            params,
        )


def _lock(storefront: Storefront, *, shared: bool) -> None:
    # Upkeep takes this lock shared, rebuild exclusively: a rebuild waits for the transactions
    # adding their changes to commit, so it reads their sales, and a change made while it runs
    # adds its difference after it, on top of the rebuilt numbers.
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(hashtext(%s))", [f"daily-stats:{storefront.pk}"])


_REBUILD = """
WITH sales AS (
    SELECT * FROM {sales} WHERE storefront_id = %(storefront)s AND attempts > 0
), parts AS (
    SELECT (last_failed_at AT TIME ZONE %(zone)s)::date AS day, reason, currency,
           1 AS failed_count, COALESCE(amount, 0) AS failed_amount,
           (status = 'open')::int AS open_count, (status = 'recovered')::int AS recovered_count,
           (status = 'lost')::int AS lost_count,
           0 AS recoveries, 0 AS recovered_revenue,
           0 AS recovered_after_click_count, 0 AS recovered_after_click_revenue
    FROM sales
    UNION ALL
    SELECT (recovered_at AT TIME ZONE %(zone)s)::date, reason, currency, 0, 0, 0, 0, 0,
           1, COALESCE(recovered_amount, amount, 0),
           recovered_after_click::int,
           CASE WHEN recovered_after_click THEN COALESCE(recovered_amount, amount, 0) ELSE 0 END
    FROM sales WHERE status = 'recovered' AND recovered_at IS NOT NULL
)
INSERT INTO {stats} (storefront_id, day, reason, currency, {columns})
SELECT %(storefront)s, day, reason, currency, {sums}
FROM parts GROUP BY day, reason, currency
"""


@transaction.atomic
def rebuild(*, storefront: Storefront) -> int:
    """Recompute the storefront's daily statistics from its sales; returns the rows written.
    For ops, after a bulk load or a change of time zone; safe while events are processed."""
    _lock(storefront, shared=False)
    DailyStat.objects.for_storefront(storefront).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            _REBUILD.format(
                sales=LostSale._meta.db_table,
                stats=DailyStat._meta.db_table,
                columns=", ".join(FIELDS),
                sums=", ".join(f"SUM({f})" for f in FIELDS),
            ),
            {"storefront": storefront.pk, "zone": storefront.time_zone},
        )
        return cursor.rowcount
