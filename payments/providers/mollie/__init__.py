"""Mollie: payments (`tr_…`), through Mollie's classic webhooks, which name a payment and nothing
else; the worker fetches it from Mollie's API with the storefront's API key.

- webhooks.py: read the notified payment id, fetch the payment (and its customer when only the
  customer has the buyer's address), parse it into a PaymentSignal, the adapter;
- codes.py: Mollie's failure reasons, SEPA reason codes and statuses, mapped to our reasons;
- samples.py: notifications as Mollie posts them, payments and customers as its API answers
  (the test button, the tests, the benchmarks).

Documentation: README.md, beside this file; the merchant's page: docs/connections/mollie.md.
"""

import re

from django.utils.translation import gettext_lazy as _

from payments.providers.mollie import samples, webhooks
from storefront_settings.connections import Connection, Guide, SecretFormat

CONNECTION = Connection(
    key=webhooks.PROVIDER,
    label="Mollie",
    # The profile's API key (Dashboard → Developers → API keys): "live_" or "test_" and 30
    # letters and digits in Mollie's examples (test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM); Mollie's
    # PHP client refuses fewer than 30 (`/^(live|test)_\w{30,}$/`, mollie/mollie-api-php
    # MollieApiClient::setApiKey), its Python client checks `^(live|test)_\w+$`. An organisation
    # or OAuth access token (access_…) is not taken: it sees test payments only with a testmode
    # parameter, which a key does not need.
    secret_format=SecretFormat(
        re.compile(r"(?:live|test)_\w{30,}", re.ASCII),
        "expected a Mollie API key: 'live_' or 'test_' followed by 30 or more letters and digits",
    ),
    guide=Guide(
        where=_(
            "Mollie calls the webhook URL each payment is created with, and has no setting "
            "for it in its dashboard: your shop's Mollie module uses its own. Have your shop "
            "forward each call it gets from Mollie (the form field id=tr_…) to this URL, or "
            "give this URL as the webhookUrl of payments your own code creates."
        ),
        events=("paid", "failed", "canceled", "expired"),
        secret=_(
            "The API key of the website profile the payments are made on (Mollie Dashboard → "
            "Developers → API keys): the Live API key (live_…), and the Test API key (test_…) "
            "to try it out. We only read payments with it."
        ),
        test=_(
            "The test event shows that this URL answers. To test the whole path, add your "
            "Test API key here, make a payment in your shop's test mode and choose Failed, "
            "Canceled or Expired on Mollie's test checkout: the lost sale appears here within "
            "seconds, with its reason (a card payment of €1,007.00 fails with insufficient "
            "funds). Paying that order again, choosing Paid, marks the sale recovered."
        ),
    ),
    adapter=webhooks.Adapter(),
    test_event=samples.test_event,
)
