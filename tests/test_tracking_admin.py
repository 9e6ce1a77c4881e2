import pytest
from django.urls import reverse

from tests.tracking_helpers import point, update
from tracking.services import ingest, shipments, watch
from tracking.statuses import ShipmentStatus as S


@pytest.mark.django_db
def test_ops_filter_shipments_and_see_the_timeline(ops, make_tenant):
    tenant = make_tenant("Aurora", "whsec_auroraauroraaurora")
    shipment = shipments.create_shipment(
        tenant.storefront,
        shipments.NewShipment(
            order_reference="ML-1", buyer_email="a@example.com", tracking_number="6A12345678901"
        ),
    )
    ingest.apply_signal(storefront=tenant.storefront, signal=update(point(S.IN_TRANSIT, 0)))
    watch.flag_stalled()
    changelist = reverse("admin:tracking_shipment_changelist")
    stalled = ops.get(changelist, {"stalled": "yes", "q": "aurora"})
    assert [s.pk for s in stalled.context["cl"].result_list] == [shipment.pk]
    assert ops.get(changelist, {"late": "yes"}).context["cl"].result_count == 0
    page = ops.get(reverse("admin:tracking_shipment_change", args=[shipment.pk]))
    assert page.status_code == 200
    assert "in transit" in page.content.decode()
