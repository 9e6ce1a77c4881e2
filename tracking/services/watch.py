"""The beat watchers: parcels with no news for too long (stalled) and parcels past the date the
buyer was promised (late), flagged so the dashboard counts them, and the buyer told."""

from datetime import datetime

from django.db import connection
from django.db.models import Min
from django.utils import timezone

from storefront_settings.models import Milestone, ShipmentPolicy
from tracking.models import Shipment
from tracking.services import milestones
from tracking.statuses import FINAL


def flag_stalled(*, now: datetime | None = None) -> int:
    """Flag, in one statement, every moving parcel with no carrier news for its storefront's
    number of days; then tell each newly stalled parcel's buyer, once, per policy."""
    now = now or timezone.now()
    table = Shipment._meta.db_table
    policy = ShipmentPolicy._meta.db_table
    default_days = ShipmentPolicy._meta.get_field("stalled_days").default
    # No storefront waits less than the shortest setting: a bound the index can use, so the
    # sweep reads only parcels quiet for that long instead of every parcel in transit.
    shortest = ShipmentPolicy.unscoped.aggregate(days=Min("stalled_days"))["days"]
    shortest = min(default_days, shortest or default_days)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} AS s SET stalled_since = %s
            WHERE s.stalled_since IS NULL
              AND s.status <> ALL(%s)
              AND s.last_news_at < %s - make_interval(days => %s)
              AND s.last_news_at < %s - make_interval(days => COALESCE(
                  (SELECT p.stalled_days FROM {policy} p WHERE p.storefront_id = s.storefront_id),
                  %s))
            RETURNING s.id
            """,  # noqa: S608 - table names come from the models, values are parameters
            [now, sorted(FINAL), now, shortest, now, default_days],
        )
        flagged = [row[0] for row in cursor.fetchall()]
    _notify_flagged(flagged, Milestone.STALLED)
    return len(flagged)


def flag_late(*, now: datetime | None = None) -> int:
    """Flag, in one statement, every parcel not delivered by its promised date."""
    now = now or timezone.now()
    table = Shipment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} SET late_since = %s
            WHERE late_since IS NULL
              AND status <> ALL(%s)
              AND promised_delivery_date < %s
            RETURNING id
            """,  # noqa: S608 - the table name comes from the model, values are parameters
            [now, sorted(FINAL), now.date()],
        )
        flagged = [row[0] for row in cursor.fetchall()]
    _notify_flagged(flagged, Milestone.DELAY)
    return len(flagged)


def _notify_flagged(ids: list[int], milestone: Milestone) -> None:
    # Only the parcels flagged just now: the sweep itself never loops over all shipments.
    policies: dict[int, ShipmentPolicy] = {}
    for shipment in (
        Shipment.unscoped.select_related("storefront").filter(pk__in=ids).order_by("pk")
    ):
        if shipment.storefront_id not in policies:
            policies[shipment.storefront_id] = ShipmentPolicy.for_storefront(shipment.storefront)
        milestones.notify(shipment, milestone, policies[shipment.storefront_id])
