"""The shipments' filters, shared by the API's list (/api/v1/shipments/) and the dashboard's,
which extends this one with what a person types in a page."""

import django_filters

from tracking.carriers import Carrier
from tracking.models import Shipment
from tracking.statuses import ShipmentStatus


class ShipmentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ShipmentStatus.choices)
    carrier = django_filters.ChoiceFilter(choices=Carrier.choices)
    stalled = django_filters.BooleanFilter(
        field_name="stalled_since", lookup_expr="isnull", exclude=True
    )
    late = django_filters.BooleanFilter(field_name="late_since", lookup_expr="isnull", exclude=True)
    shipped_after = django_filters.IsoDateTimeFilter(field_name="shipped_at", lookup_expr="gte")
    shipped_before = django_filters.IsoDateTimeFilter(field_name="shipped_at", lookup_expr="lt")

    class Meta:
        model = Shipment
        fields = ["status", "carrier", "stalled", "late", "shipped_after", "shipped_before"]
