"""PayPlug: payments (card, Oney, installment plans) through PayPlug's notifications, which are not
signed: each names a payment, which the worker fetches from PayPlug's API with the storefront's
secret key (inbound.notified), and only that answer is trusted.

- webhooks.py: what a notification names, the fetch (payment, installment plan), the state
  fetched, parsing a fetched payment into a PaymentSignal, the adapter;
- codes.py: PayPlug's failure codes, mapped to our reasons;
- samples.py: notifications as PayPlug posts them and payments as its API answers them (the
  test button, the tests, the benchmarks).

Documentation: README.md, beside this file; the merchant's page: docs/connections/payplug.md.
"""

import re

from django.utils.translation import gettext_lazy as _

from payments.providers.payplug import samples, webhooks
from storefront_settings.connections import Connection, Guide, SecretFormat

CONNECTION = Connection(
    key=webhooks.PROVIDER,
    label="PayPlug",
    # The secret API key, live or test: "sk_live_" or "sk_test_" then letters and digits (24 and
    # 32 in PayPlug's examples, https://docs.payplug.com/api/apiref.html, Authentication).
    secret_format=SecretFormat(
        re.compile(r"sk_(?:live|test)_[A-Za-z0-9]{20,}"),
        "expected a PayPlug secret key: 'sk_live_' or 'sk_test_' followed by the key",
    ),
    guide=Guide(
        where=_(
            "PayPlug has no dashboard setting for this URL and no events to select: it notifies "
            "the notification_url your shop sends with each payment it creates. Your shop must "
            "send this URL there. PayPlug's own PrestaShop, WooCommerce and Magento modules send "
            "their own URL, with no setting to change it."
        ),
        events=tuple(webhooks.NOTIFIED),
        secret=_(
            "Your secret API key, from My account → API credentials in the PayPlug portal: "
            "sk_live_… for real payments, sk_test_… for test mode; both may be active at once. "
            "We only read payments with it."
        ),
        test=_(
            "This test shows only that the URL answers. To test the whole path, add your test "
            "key (sk_test_…) here, have your shop create a payment in PayPlug's test mode with "
            "this URL as its notification_url, and make it fail: cancel it on the payment page "
            "(if your shop then aborts the payment, as PayPlug's modules do). It appears in Lost "
            "sales within seconds. Pay the order again with the test card 4242 4242 4242 4242 "
            "(any future date and CVC): the sale shows as recovered."
        ),
    ),
    adapter=webhooks.Adapter(),
    test_event=samples.test_event,
)
