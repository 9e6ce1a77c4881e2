"""Stripe: payment intents, charges and Checkout sessions, through Stripe's signed webhooks.

- webhooks.py: verify the `Stripe-Signature`, parse an event into a PaymentSignal, the adapter
  (Stripe Connect routing included);
- codes.py: Stripe's decline, error, outcome and cancellation codes, mapped to our reasons;
- samples.py: Stripe events as Stripe sends them, signed (the test button, the demo, the
  benchmarks).

Documentation: README.md, beside this file.
"""

import re

from django.utils.translation import gettext_lazy as _

from payments.providers.stripe import samples, webhooks
from storefront_settings.connections import Connection, Guide, SecretFormat

CONNECTION = Connection(
    key=webhooks.PROVIDER,
    label="Stripe",
    # "whsec_" then the key (Dashboard > Developers > Webhooks > the endpoint's Signing secret).
    secret_format=SecretFormat(
        re.compile(r"whsec_[A-Za-z0-9+/=]{16,}"),
        "expected 'whsec_' followed by the signing key",
    ),
    guide=Guide(
        where=_(
            "In the Stripe Dashboard, open Developers → Webhooks → Add endpoint, paste this URL "
            "as the endpoint URL and select the events below."
        ),
        events=tuple(webhooks.EVENT_TYPES),
        secret=_("The endpoint's Signing secret (whsec_…), shown on the endpoint's page."),
    ),
    adapter=webhooks.Adapter(),
    test_event=samples.test_event,
)
