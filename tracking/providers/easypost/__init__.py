"""EasyPost: tracker webhooks for the carriers EasyPost follows.

- webhooks.py: verify the `X-Hmac-Signature`, parse a tracker event into a TrackingSignal, the
  adapter;
- statuses.py: EasyPost's status and status_detail values, mapped to our shipment statuses;
- samples.py: EasyPost events as EasyPost sends them, signed (the test button, the demo, the
  tests).

Documentation: README.md, beside this file.
"""

import re

from django.utils.translation import gettext_lazy as _

from storefront_settings.connections import Connection, Guide, SecretFormat
from tracking.providers.easypost import samples, webhooks

CONNECTION = Connection(
    key=webhooks.PROVIDER,
    label="EasyPost",
    # A printable string of the merchant's choosing.
    secret_format=SecretFormat(
        re.compile(r"[!-~]{8,}"),
        "expected at least 8 printable characters, no spaces",
    ),
    guide=Guide(
        where=_(
            "In the EasyPost Dashboard, open Account Settings → Webhooks → Add Webhook and "
            "paste this URL. EasyPost sends every event; we read the tracker events below."
        ),
        events=tuple(sorted(webhooks.EVENT_TYPES)),
        secret=_("The webhook secret you set on that webhook: enter the same value here."),
    ),
    adapter=webhooks.Adapter(),
    test_event=samples.test_event,
)
