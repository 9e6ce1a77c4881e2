"""Dates for the history's rows: the services stamp "now" on what they insert (created_at,
received_at, alerts due at once…), and the history replays six weeks in seconds, so what each
event inserted is moved back to the event's time (Stamps).

The rows an event inserted are known by their ids, and moved in one statement per table.
"""

from datetime import datetime

from django.db import connection

from inbound.models import InboundEvent
from notifications.models import Message, MessageKind
from storefront_settings.models import AuditLog, Storefront

# Kinds of messages the services schedule "at once" (send_at = now): moved to the event's time.
SENT_AT_ONCE = (MessageKind.MERCHANT_FAILED_PAYMENT_ALERT, MessageKind.SHIPMENT_UPDATE)


class Stamps:
    """Moves what each event inserted back to the event's time.

    After each event, the newest id of each table the services insert into "now" is noted (one
    query); apply() then dates every range of ids to its event in one UPDATE per table."""

    TABLES = (Message, InboundEvent, AuditLog)

    def __init__(self, storefront: Storefront, after: datetime):
        self.storefront = storefront
        self.after = after
        self.last = self._newest()
        self.pending: list[tuple[tuple[int, ...], tuple[int, ...], datetime]] = []

    def _newest(self) -> tuple[int, ...]:
        with connection.cursor() as cursor:
            newest = ", ".join(
                f"(SELECT COALESCE(MAX(id), 0) FROM {model._meta.db_table})"  # noqa: S608
                for model in self.TABLES
            )
            # Table names come from the models.
            cursor.execute(f"SELECT {newest}")
            return tuple(cursor.fetchone())

    def mark(self, when: datetime) -> None:
        newest = self._newest()
        if newest != self.last:
            self.pending.append((self.last, newest, when))
            self.last = newest

    def apply(self) -> None:
        if not self.pending:
            return
        statements = {
            Message: """
                UPDATE {table} AS t SET created_at = v.at, updated_at = v.at,
                    send_at = CASE WHEN t.kind = ANY(%s) AND t.send_at >= %s
                                   THEN v.at ELSE t.send_at END,
                    next_attempt_at = CASE WHEN t.kind = ANY(%s) AND t.send_at >= %s
                                   THEN v.at ELSE t.next_attempt_at END
                FROM (VALUES {values}) AS v(lo, hi, at)
                WHERE t.id > v.lo AND t.id <= v.hi AND t.storefront_id = %s
            """,
            InboundEvent: """
                UPDATE {table} AS t SET received_at = v.at, enqueued_at = v.at,
                    processed_at = v.at + interval '0.3 seconds'
                FROM (VALUES {values}) AS v(lo, hi, at)
                WHERE t.id > v.lo AND t.id <= v.hi AND t.storefront_id = %s
            """,
            AuditLog: """
                UPDATE {table} AS t SET created_at = v.at
                FROM (VALUES {values}) AS v(lo, hi, at)
                WHERE t.id > v.lo AND t.id <= v.hi AND t.storefront_id = %s
            """,
        }
        with connection.cursor() as cursor:
            for index, model in enumerate(self.TABLES):
                ranges = [(lo[index], hi[index], at) for lo, hi, at in self.pending]
                ranges = [r for r in ranges if r[1] > r[0]]
                if not ranges:
                    continue
                values = ", ".join(["(%s::bigint, %s::bigint, %s::timestamptz)"] * len(ranges))
                params = [item for r in ranges for item in r]
                sql = statements[model].format(table=model._meta.db_table, values=values)
                if model is Message:
                    kinds = list(SENT_AT_ONCE)
                    params = [kinds, self.after, kinds, self.after, *params]
                cursor.execute(sql, [*params, self.storefront.pk])
        self.pending = []
