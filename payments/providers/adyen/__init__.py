"""Adyen: standard webhooks (notifications), a batch of HMAC-signed items a request.

- webhooks.py: verify each item's `hmacSignature`, parse an item into a PaymentSignal, the
  adapter (it answers Adyen's `[accepted]`);
- codes.py: Adyen's refusal reasons and event codes, mapped to our reasons;
- samples.py: Adyen items as Adyen sends them, signed (the test button).

Documentation: README.md, beside this file.
"""

import re

from django.utils.translation import gettext_lazy as _

from payments.providers.adyen import samples, webhooks
from storefront_settings.connections import Connection, Guide, SecretFormat

CONNECTION = Connection(
    key=webhooks.PROVIDER,
    label="Adyen",
    # The HMAC key is hex-encoded, 32 bytes or more.
    secret_format=SecretFormat(
        re.compile(r"(?:[0-9A-Fa-f]{2}){32,}"),
        "expected the hex-encoded HMAC key (64 hex digits or more)",
    ),
    guide=Guide(
        where=_(
            "In Adyen's Customer Area, open Developers → Webhooks → + Webhook → Standard "
            "webhook; paste this URL under Server configuration, method JSON."
        ),
        events=("AUTHORISATION", "CANCELLATION", "OFFER_CLOSED"),
        secret=_("Under Security, generate the HMAC key (hex) and copy it here."),
    ),
    adapter=webhooks.Adapter(),
    test_event=samples.test_event,
)
