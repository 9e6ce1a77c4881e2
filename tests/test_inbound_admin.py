import json

import pytest
from django.urls import reverse

from inbound.models import InboundEvent
from payments.models import LostSale
from payments.services import ingest
from tests.test_stripe_webhook import failed_event, post, sign

CHANGELIST = "admin:inbound_inboundevent_changelist"


@pytest.mark.django_db
def test_ops_find_events_and_replay_one(ops, client, make_tenant):
    tenant = make_tenant("Alpha", "whsec_alphaalphaalphaalpha")
    body = json.dumps(failed_event()).encode()
    post(client, tenant.storefront, body, sign(body, "whsec_alphaalphaalphaalpha"))
    event = InboundEvent.objects.for_storefront(tenant.storefront).get()
    ingest.process_inbound_event(event_id=event.pk)
    found = ops.get(
        reverse(CHANGELIST), {"q": "evt_1", "provider": "stripe", "status": "processed"}
    )
    assert [e.pk for e in found.context["cl"].result_list] == [event.pk]
    ops.post(reverse(CHANGELIST), {"action": "replay", "_selected_action": [event.pk]})
    event.refresh_from_db()
    assert event.status == "received"
    # Replaying from the stored body gives the same state.
    assert ingest.process_inbound_event(event_id=event.pk) == "processed"
    assert LostSale.objects.for_storefront(tenant.storefront).count() == 1
