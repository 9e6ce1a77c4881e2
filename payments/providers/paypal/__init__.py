"""PayPal: captures and uncaptured approvals, through PayPal's REST webhooks, verified by PayPal.

- webhooks.py: the edge (stores each event with its signature headers), parsing into a
  PaymentSignal, the adapter (the worker has PayPal verify the event, then applies it);
- client.py: PayPal's API as the worker calls it (OAuth token, verify-webhook-signature, the
  order), through inbound.remote;
- codes.py: PayPal's processor response codes, capture status reasons and event types, mapped
  to our reasons;
- samples.py: PayPal's events and API answers (the test button, the tests, the benchmarks).

Documentation: README.md, beside this file.
"""

from django.utils.translation import gettext_lazy as _

from payments.providers.paypal import client, samples, webhooks
from storefront_settings.connections import Connection, Guide, SecretFormat

CONNECTION = Connection(
    key=webhooks.PROVIDER,
    label="PayPal",
    secret_format=SecretFormat(
        client.SECRET,
        "expected <client id>:<client secret>:<webhook id>: the REST app's client id and "
        "secret (letters, digits, - and _) and the webhook's id (letters and digits), "
        "joined by colons",
    ),
    guide=Guide(
        where=_(
            "In the PayPal Developer Dashboard, open Apps & Credentials, choose your REST app "
            "(Live), then under Webhooks click Add webhook: paste this URL as the Webhook URL "
            "and select the events below."
        ),
        events=tuple(webhooks.EVENT_TYPES),
        secret=_(
            "The app's Client ID and Secret (on the app's page) and the Webhook ID of the webhook "
            "you added (in the app's list of webhooks), joined by colons: "
            "client id:secret:webhook id."
        ),
        test=_(
            "This test shows that the URL answers, nothing more: only PayPal can sign an event, "
            "and the events of PayPal's Webhooks simulator cannot be verified by PayPal's "
            "verify-webhook-signature API, which we ask about every event. To test the whole "
            "path, add a webhook with this URL to a Sandbox app, enter that app's Client ID and "
            "Secret with the webhook's ID, and make a real payment in PayPal's sandbox (a "
            "declined one for a lost sale)."
        ),
    ),
    adapter=webhooks.Adapter(),
    test_event=samples.test_event,
)
