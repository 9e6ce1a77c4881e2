"""The generic tracking format: our own, for a shop's system or a carrier it integrates,
signed with Standard Webhooks (docs/generic-tracking-webhooks.md).

- webhooks.py: verify the Standard Webhooks headers, parse a `shipment.updated` event into a
  TrackingSignal, the adapter;
- statuses.py: the format's statuses, which are our shipment statuses;
- samples.py: events in the format, signed (the test button, the tests).

Documentation: README.md, beside this file (for us); docs/generic-tracking-webhooks.md (for
senders).
"""

import re

from django.utils.translation import gettext_lazy as _

from storefront_settings.connections import Connection, Guide, SecretFormat
from tracking.providers.generic import samples, webhooks

CONNECTION = Connection(
    key=webhooks.PROVIDER,
    label=_("Generic (Standard Webhooks)"),
    # Standard Webhooks: "whsec_" then base64 of the key.
    secret_format=SecretFormat(
        re.compile(r"whsec_[A-Za-z0-9+/=]{16,}"),
        "expected 'whsec_' followed by the base64 signing key",
    ),
    guide=Guide(
        where=_(
            "For your own system or a carrier you integrate: POST each shipment update to this "
            "URL in the generic format (docs/generic-tracking-webhooks.md)."
        ),
        events=(webhooks.EVENT_TYPE,),
        secret=_(
            "Make a secret: whsec_ followed by the base64 of 24 or more random bytes; give it to "
            "your sender and enter it here."
        ),
    ),
    adapter=webhooks.Adapter(),
    test_event=samples.test_event,
)
