"""AfterShip: tracking webhooks for the carriers AfterShip follows.

- webhooks.py: verify the `aftership-hmac-sha256`, parse a tracking update into a
  TrackingSignal, the adapter;
- statuses.py: AfterShip's tags and subtags, mapped to our shipment statuses;
- samples.py: AfterShip events as AfterShip sends them, signed (the test button, the demo, the
  tests).

Documentation: README.md, beside this file.
"""

import re

from django.utils.translation import gettext_lazy as _

from storefront_settings.connections import Connection, Guide, SecretFormat
from tracking.providers.aftership import samples, webhooks

CONNECTION = Connection(
    key=webhooks.PROVIDER,
    label="AfterShip",
    # A printable string of the merchant's choosing.
    secret_format=SecretFormat(
        re.compile(r"[!-~]{8,}"),
        "expected at least 8 printable characters, no spaces",
    ),
    guide=Guide(
        where=_(
            "In AfterShip Tracking, open Settings → Webhooks, add this URL as the webhook URL "
            "and tick the updates below."
        ),
        events=("tracking_update", "edd_revise"),
        secret=_("The webhook secret shown on that page."),
    ),
    adapter=webhooks.Adapter(),
    test_event=samples.test_event,
)
