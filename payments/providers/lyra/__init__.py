"""Lyra's gateways: PayZen, Systempay (Banque Populaire, Caisse d'Epargne), Sogecommerce (Société
Générale) and Scellius (La Banque Postale), one platform under four names, through its Instant
Payment Notifications (IPN).

- webhooks.py: verify a REST IPN (kr-hash) or a form IPN (signature over the vads_ fields),
  parse either into a PaymentSignal, the adapter;
- codes.py: the CB network's authorization codes, REST's error codes, the form's result and
  risk codes and the statuses, mapped to our reasons;
- samples.py: IPNs as Lyra posts them, signed (the test button, the tests).

Documentation: README.md, beside this file.
"""

import re

from django.utils.translation import gettext_lazy as _

from payments.providers.lyra import samples, webhooks
from storefront_settings.connections import Connection, Guide, SecretFormat

CONNECTION = Connection(
    key=webhooks.PROVIDER,
    label="Lyra (PayZen, Systempay, Sogecommerce, Scellius)",
    # The REST API password (REST integration) or the form's key (form integration); a shop
    # that uses both gives both, as two secrets.
    secret_format=SecretFormat(
        re.compile(f"{webhooks.REST_PASSWORD.pattern}|{webhooks.FORM_KEY.pattern}"),
        "expected the REST API password (testpassword_… or prodpassword_…) or the form's "
        "16-character test or production key",
    ),
    guide=Guide(
        where=_(
            "In your PayZen, Systempay, Sogecommerce or Scellius Back Office (the Expert Back "
            "Office where there is one), open Settings → Notification rules. For each rule "
            "below: right-click, Manage the rule, paste this URL as the URL to notify in TEST "
            "and in PRODUCTION mode (under “Instant Payment Notification URL of the API form "
            "V1, V2” for the hosted payment page, under “REST API Instant Payment Notification "
            "URL” for the embedded form), tick Automatic retry in case of failure, save, then "
            "right-click and Enable the rule."
        ),
        events=(
            "Instant Payment Notification URL at the end of the payment",
            "Instant Payment Notification URL on cancellation",
            "Instant Payment Notification URL on batch authorization",
        ),
        secret=_(
            "Embedded form (REST): the test or production password under Settings → Shop → "
            "REST API keys. Hosted payment page (form): the test or production key under "
            "Settings → Shop → Keys. Add each one you use."
        ),
    ),
    adapter=webhooks.Adapter(),
    test_event=samples.test_event,
)
